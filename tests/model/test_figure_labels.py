"""What the figures name and how: large groups capped, odd names literal, evidence by text.

On a hand-made `Result`: a figure with a row per member shows at most `MAX_ROWS` members
and says so; a name with dollar signs never reaches matplotlib's math parser; and evidence
items are named by their text (shortened where room is short), never by their ids.
"""

import dataclasses
from io import BytesIO
from types import SimpleNamespace

import pytest

from model import figures
from tests.model.figure_helpers import _texts
from tests.model.result_fixtures import COUNTS, MEMBERS, UNDETECTED, hand_made_result, many_members


@pytest.fixture(scope="module")
def result(defaults):
    return hand_made_result(defaults)


# --- many members, odd names ---------------------------------------------------------------


def test_one_row_per_member_figures_cap_large_groups(defaults):
    """With 45 members, crux shows the 40 furthest from the consensus and says so."""
    big = hand_made_result(defaults, many_members(45))
    fig = figures.crux(big, defaults)
    ax = fig.subfigs[0].axes[0]
    assert len(ax.get_yticklabels()) == figures.MAX_ROWS
    assert [t.get_text() for t in ax.get_yticklabels()] == [f"m{i:02d}" for i in range(5, 45)]
    assert "40 of 45 members" in _texts(fig)
    fig = figures.scheming_coherence(big, defaults)
    assert "40 of 45 members" in _texts(fig)
    names = [t.get_text() for t in fig.axes[0].get_yticklabels()][: figures.MAX_ROWS]
    assert sum(name.endswith("⚠") for name in names) == 30  # every member with a note


def test_names_with_dollar_signs_are_drawn_literally(result, defaults, tmp_path):
    """A name like '$\\foo{$' must not reach matplotlib's math parser."""
    odd = [dataclasses.replace(m, name=f"$\\foo{{$ {i}") for i, m in enumerate(MEMBERS)]
    renamed = hand_made_result(defaults, tuple(odd))
    for fn in (figures.crux, figures.scheming_coherence):
        fig = fn(renamed, defaults)
        fig.savefig(tmp_path / "x.png")
        assert fig.axes[0].get_yticklabels()[0].get_text().startswith(r"\$\foo{\$ 0")


# --- evidence items by their text, never their ids ------------------------------------------

LONG = "Monitors flagged three covert sabotage attempts in a thousand agentic coding episodes"


def _with_long_counts_text(result):
    """The hand-made result with the counts item's text longer than a label may be."""
    evidence = tuple(dict(e, text=LONG) if e["id"] == COUNTS else e for e in result.evidence)
    item = dataclasses.replace(UNDETECTED, text=LONG)
    return dataclasses.replace(result, evidence=evidence, undetected={COUNTS: item})


_ITEM_FIGURES = (
    "participants_vs_consensus",
    "pools",
    "factor_spread",
    "prior_vs_posterior",
    "crux",
    "undetected",
    "scheming_coherence",
)


@pytest.mark.parametrize("name", _ITEM_FIGURES)
def test_figures_name_evidence_items_by_their_text_not_their_id(result, defaults, name):
    """No evidence id (monitoring_counts, no_collusion) in any label, title, legend or caption."""
    fig = figures.FIGURES[name](
        SimpleNamespace(result=_with_long_counts_text(result), defaults=defaults)
    )
    text = _texts(fig)
    for item in result.evidence:
        assert item["id"] not in text, item["id"]


def test_crux_legend_and_undetected_show_the_shortened_text(result, defaults):
    """Legends and captions: 40 characters with "…"; a panel title has room for more."""
    long = _with_long_counts_text(result)
    short = "Monitors flagged three covert sabotage…"
    assert len(short) <= 40
    crux = figures.crux(long, defaults)
    (box,) = crux.subfigs[0].legends
    crux.savefig(BytesIO(), format="png")  # lays the figure out
    inside = crux.bbox
    edges = box.get_window_extent()
    assert inside.x0 <= edges.x0 and edges.x1 <= inside.x1  # long labels: fewer columns
    legend = [t.get_text() for t in box.get_texts()]
    assert legend[:3] == [
        "prior (stated credences)",
        f"evidence: {short}",
        "evidence: No collusion seen",
    ]
    undetected = figures.undetected(long, defaults)
    title = "Monitors flagged three covert sabotage attempts in a thousand agentic…"
    assert undetected.axes[0].get_title(loc="left") == title  # 70 characters in a title
    assert f"{short}: expected detected rate" in _texts(undetected)
    caption = figures.prior_vs_posterior(long, defaults).get_supxlabel()
    assert f"Evidence: {short}; No collusion seen." in " ".join(caption.split())
