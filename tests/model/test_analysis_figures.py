"""The analysis figures draw what the result records hold: checked on a hand-made `Result`.

Each figure (credences and pools, factors, crux, undetected, scheming coherence) is drawn
from `tests.model.result_fixtures.hand_made_result`, without a fit, and its markers, bars
and whiskers are compared with the hand-made numbers, stated 0s and 1s, unanswered
questions and undefined values included.
"""

import dataclasses
import math

import numpy as np
import pytest
from matplotlib.collections import LineCollection
from matplotlib.container import BarContainer

from model import figures
from model.results import Agreement
from priors import SCENARIO_IDS
from tests.model.figure_helpers import _errorbars, _marker, _scatters, _texts, _whisker_ends
from tests.model.result_fixtures import COUNTS, MEMBERS, TERMS, UNDETECTED, hand_made_result


@pytest.fixture(scope="module")
def result(defaults):
    return hand_made_result(defaults)


# --- credences -----------------------------------------------------------------------------


def test_participants_vs_consensus_draws_members_consensus_and_band(result, defaults):
    fig = figures.participants_vs_consensus(result, defaults)
    (ax,) = fig.axes
    dots = _scatters(ax)
    assert [len(c.get_offsets()) for c in dots] == [len(MEMBERS)] * 4
    for k, (c, s) in enumerate(zip(dots, SCENARIO_IDS, strict=True)):
        assert c.get_offsets()[:, 1].tolist() == [p.prior[s] for p in result.participants]
        assert np.all(np.abs(c.get_offsets()[:, 0] - k) < 0.2)
    bars = _errorbars(ax)
    assert len(bars) == 4  # one consensus error bar per scenario
    for bar, s in zip(bars, SCENARIO_IDS, strict=True):
        assert _marker(bar)[1][0] == result.consensus_prior[s].mean
        assert _whisker_ends(bar) == [pytest.approx(result.consensus_prior[s].hdi)]
    bands = [
        c for c in ax.collections if isinstance(c, LineCollection) and c.get_linewidth()[0] == 11
    ]
    ends = [tuple(p[1] for p in c.get_segments()[0]) for c in bands]
    assert ends == [result.new_member_credence[s].hdi for s in SCENARIO_IDS]
    assert "κ = 6 (94 % HDI 2–11)" in _texts(fig)


def test_participants_vs_consensus_sets_equal_credences_side_by_side(result, defaults):
    """Ada and Cy both stated 0.3 for B: their dots get different x, the same each time."""
    xs = [
        _scatters(figures.participants_vs_consensus(result, defaults).axes[0])[1].get_offsets()[
            :, 0
        ]
        for _ in range(2)
    ]
    assert np.array_equal(xs[0], xs[1])
    assert xs[0][0] != xs[0][2]


def test_participants_vs_consensus_says_why_agreement_is_unknown(result, defaults):
    alone = dataclasses.replace(
        result, agreement=Agreement(None, "unknown: fewer than two answers")
    )
    fig = figures.participants_vs_consensus(alone, defaults)
    assert "κ is unknown: fewer than two answers" in _texts(fig)


def test_pools_draws_three_pools_and_the_model_before_and_after(result, defaults):
    fig = figures.pools(result, defaults)
    assert len(fig.axes) == 2
    for ax, pooled, model_ in zip(
        fig.axes,
        (result.pools.prior, result.pools.posterior),
        (result.consensus_prior, result.consensus_posterior),
        strict=True,
    ):
        bars = [c for c in ax.containers if isinstance(c, BarContainer)]
        assert len(bars) == 4 and all(len(b) == 4 for b in bars)
        for bar, key in zip(bars, ("linear", "log", "median"), strict=False):
            assert [p.get_height() for p in bar] == [pooled[key][s] for s in SCENARIO_IDS]
        assert [p.get_height() for p in bars[3]] == [model_[s].mean for s in SCENARIO_IDS]
        (whiskers,) = bars[3].errorbar.lines[2]
        ends = [tuple(sorted(p[1] for p in seg)) for seg in whiskers.get_segments()]
        assert ends == [pytest.approx(model_[s].hdi) for s in SCENARIO_IDS]
    assert "log pool reacts strongly to near-zero" in fig.get_supxlabel()
    # Cy's stated 0 for D sends the log pool of D to 0, and the figure says so
    assert any(t.get_text() == "0" for t in fig.axes[0].texts)


def test_pools_label_an_undefined_pool(result, defaults):
    nan = {s: math.nan for s in SCENARIO_IDS}
    undefined = dataclasses.replace(
        result.pools, posterior={**result.pools.posterior, "median": nan}
    )
    fig = figures.pools(dataclasses.replace(result, pools=undefined), defaults)
    assert [t.get_text() for t in fig.axes[1].texts].count("n/a") == 4


def test_prior_vs_posterior_has_two_series_of_four(result, defaults):
    fig = figures.prior_vs_posterior(result, defaults)
    (ax,) = fig.axes
    before, after = _errorbars(ax)
    for bar, table in ((before, result.consensus_prior), (after, result.consensus_posterior)):
        assert _marker(bar)[1].tolist() == [table[s].mean for s in SCENARIO_IDS]
        assert _whisker_ends(bar) == [pytest.approx(table[s].hdi) for s in SCENARIO_IDS]
    assert [t.get_text() for t in ax.texts][4:] == ["48 %", "30 %", "15 %", "7 %"]
    assert r"($2 a run)" in fig.get_supxlabel().replace("\\", "")
    assert r"\$2" in fig.get_supxlabel()  # evidence text drawn literally


# --- factors -------------------------------------------------------------------------------


def test_factor_spread_one_row_per_factor_and_the_direct_question(result, defaults):
    fig = figures.factor_spread(result, defaults)
    (ax,) = fig.axes
    rows = [*defaults.factor_ids, defaults.direct.id]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == len(rows)
    assert labels[-1] == "Direct P(scheming)\n(answered 2 of 3)"  # unanswered is missing, not 0
    assert labels[2] == "Evades guardrails\n(answered 2 of 3)"
    assert ax.get_xscale() == "logit"
    dots = sum(len(c.get_offsets()) for c in _scatters(ax))  # filled and open (0 or 1) dots
    assert dots == sum(result.factors[f].answered for f in rows) == 13
    for row, (bar, f) in enumerate(zip(_errorbars(ax), rows, strict=True)):
        factor = result.factors[f]
        x, y = _marker(bar)
        assert (x[0], y[0]) == (factor.consensus.mean, row + 0.24)
        assert _whisker_ends(bar) == [pytest.approx(factor.consensus.hdi)]
    band = ax.patches[0]  # the first row's new-member band
    lo, hi = result.factors[rows[0]].new_member.hdi
    assert (band.get_x(), band.get_x() + band.get_width()) == pytest.approx((lo, hi))


def test_factor_spread_draws_a_stated_0_or_1_open_at_the_edge(result, defaults):
    (ax,) = figures.factor_spread(result, defaults).axes
    xmin, xmax = ax.get_xlim()
    annotated = {(t.get_text(), t.xy[0]) for t in ax.texts}
    assert annotated == {("0", xmin), ("1", xmax)}  # Cy's 0, Ben's 1


def test_factor_spread_sets_equal_answers_apart(result, defaults):
    """Ada and Ben both answered 0.5 to "evades guardrails": the same x, different y."""
    (ax,) = figures.factor_spread(result, defaults).axes
    row = [c.get_offsets() for c in _scatters(ax) if len(c.get_offsets())][4]  # third row
    assert row[:, 0].tolist() == [0.5, 0.5]
    assert row[0, 1] != row[1, 1]


# --- crux ----------------------------------------------------------------------------------


def test_crux_one_bar_per_member_per_term(result, defaults):
    fig = figures.crux(result, defaults, versus="C")
    (ax,) = fig.axes
    assert len(ax.containers) == len(TERMS)
    assert all(len(c) == len(MEMBERS) for c in ax.containers)
    assert [t.get_text() for t in ax.get_yticklabels()] == [m.name for m in MEMBERS]


def test_crux_bars_are_the_gaps_and_the_diamonds_the_totals(result, defaults):
    (ax,) = figures.crux(result, defaults, versus="C").axes
    gaps = result.cruxes["C"].gaps
    widths = np.array([[p.get_width() for p in c.patches] for c in ax.containers]).T
    assert np.allclose(widths, gaps, rtol=0, atol=1e-12)
    diamonds = [line for line in ax.get_lines() if line.get_marker() == "D"]
    assert [line.get_xdata()[0] for line in diamonds] == pytest.approx(
        result.cruxes["C"].totals.tolist()
    )


def test_crux_shows_a_stated_zero_as_infinite(result, defaults):
    """Cy stated 0 for D: the prior part is −∞, an arrow to the left edge, and so is the total."""
    (ax,) = figures.crux(result, defaults, versus="D").axes
    arrows = [t for t in ax.texts if "(stated 0)" in t.get_text()]
    assert [t.get_text() for t in arrows] == ["−∞: ruled out (stated 0)"]
    xmin, _ = ax.get_xlim()
    assert arrows[0].xy == (xmin, 2)
    assert [t.get_width() for t in ax.containers[0]][2] == 0  # no finite bar for it
    (left,) = [line for line in ax.get_lines() if line.get_marker() == "<"]
    assert (left.get_xdata()[0], left.get_ydata()[0]) == (xmin, 2)


def test_crux_shows_undefined_parts_and_totals(result, defaults):
    """+∞ prior and −∞ evidence make the total undefined; NaN (0 on both sides) is said so."""
    gaps = np.array([[math.inf, -math.inf, 0.1], [0.2, math.nan, 0.1], [0.1, 0.1, 0.1]])
    odd = dataclasses.replace(result.cruxes["D"], gaps=gaps)
    fig = figures.crux(dataclasses.replace(result, cruxes={**result.cruxes, "D": odd}), defaults)
    (ax,) = fig.axes
    texts = [t.get_text() for t in ax.texts]
    assert texts.count("+∞: ruled out (stated 0)") == 1
    assert texts.count("−∞: ruled out (stated 0)") == 1
    assert "total undefined (+∞ and −∞)" in texts
    assert r"3 detected in 1000 episodes (\$2 a run): undefined (0 on both sides)" in texts
    xmin, xmax = ax.get_xlim()
    tips = {t.xy[0] for t in ax.texts if "(stated 0)" in t.get_text()}
    assert tips == {xmin, xmax}  # arrows end at the axis edges


@pytest.mark.parametrize("versus", ["A", "E", "d"])
def test_crux_rejects_an_unknown_scenario(result, defaults, versus):
    with pytest.raises(ValueError, match="give two different scenarios of A, B, C, D"):
        figures.crux(result, defaults, versus=versus)


# --- undetected ----------------------------------------------------------------------------


def test_undetected_rows_and_members(result, defaults):
    fig = figures.undetected(result, defaults)
    (ax,) = fig.axes  # one counts item
    assert ax.get_xscale() == "log"
    (members,) = _scatters(ax)
    assert members.get_offsets()[:, 0].tolist() == [m.undetected for m in MEMBERS]
    bars = _errorbars(ax)
    assert len(bars) == 4 + 1  # A-D with HDIs, and the group
    for k, (bar, s) in enumerate(zip(bars[:4], SCENARIO_IDS, strict=True)):
        assert (_marker(bar)[0][0], _marker(bar)[1][0]) == (UNDETECTED.per_scenario[s].mean, k)
        assert _whisker_ends(bar) == [pytest.approx(UNDETECTED.per_scenario[s].hdi)]
    group = UNDETECTED.expected_given_evidence
    assert _marker(bars[4])[0][0] == group.mean
    assert _whisker_ends(bars[4]) == [pytest.approx(group.hdi)]
    detected = [
        line.get_xdata()[0] for line in ax.get_lines() if line.get_markerfacecolor() == "white"
    ]
    assert detected == [UNDETECTED.detected_per_scenario[s] for s in SCENARIO_IDS]
    observed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert observed[0].get_xdata()[0] == UNDETECTED.observed_rate
    assert "observed detected rate 3/1,000 = 0.003" in _texts(fig)
    assert ax.get_title(loc="left") == r"3 detected in 1000 episodes (\$2 a run)"
    assert "says little about D" in fig.get_suptitle()


def test_undetected_draws_one_panel_per_counts_item(result, defaults):
    second = dataclasses.replace(UNDETECTED, item="more_counts", text="more")
    members = tuple(
        dataclasses.replace(p, undetected={**p.undetected, "more_counts": 0.01})
        for p in result.participants
    )
    two = dataclasses.replace(
        result, undetected={COUNTS: UNDETECTED, "more_counts": second}, participants=members
    )
    fig = figures.undetected(two, defaults)
    assert [ax.get_title(loc="left") for ax in fig.axes] == [
        r"3 detected in 1000 episodes (\$2 a run)",
        "more",
    ]


def test_undetected_says_so_when_there_is_no_counts_item(result, defaults):
    fig = figures.undetected(dataclasses.replace(result, undetected=None), defaults)
    assert "No counts evidence" in fig.axes[0].texts[0].get_text()


# --- coherence -----------------------------------------------------------------------------


def test_scheming_coherence_marks_every_answer(result, defaults):
    fig = figures.scheming_coherence(result, defaults)
    (ax,) = fig.axes
    assert ax.get_xscale() == "log"
    ticks = ax.get_yticklabels()
    labels = [t.get_text() for t in ticks]
    assert labels[:3] == ["Ada", "Ben  ⚠", "Cy"]  # members, then two group rows
    assert len(labels) == len(MEMBERS) + 2
    assert ticks[1].get_color() != ticks[0].get_color()  # a note: the name in red
    markers = [
        line
        for line in ax.get_lines()
        if line.get_marker() in ("o", "s", "^") and len(line.get_xdata()) == 1
    ]
    answered = sum(
        (m.product is not None) + (m.factors[-1] is not None) + 1 for m in MEMBERS
    )  # product, direct, credence in D (always given)
    assert len(markers) - 4 == answered == 7  # the group rows add four
    assert [t.get_text() for t in ax.texts] == ["0"]  # Cy's stated 0 for D, at the edge


def test_scheming_coherence_group_rows_read_the_records(result, defaults):
    (ax,) = figures.scheming_coherence(result, defaults).axes
    stats = (
        result.scheming.product_of_consensus,
        result.scheming.direct_typical,
        result.mu_d,
        result.scheming.consensus_of_products,
    )
    bars = _errorbars(ax)
    assert [_marker(b)[0][0] for b in bars] == [s.mean for s in stats]
    assert [_whisker_ends(b)[0] for b in bars] == [pytest.approx(s.hdi) for s in stats]
