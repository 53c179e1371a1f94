"""Figures: each returns a Figure with the data drawn, saves in every format, rejects bad input."""

import math
from types import SimpleNamespace

import numpy as np
import pytest
from matplotlib.collections import PathCollection
from matplotlib.container import BarContainer
from matplotlib.figure import Figure

from model import figures
from model.analysis import analyse
from model.example import example_responses
from model.schema import validate_response
from tests.model.helpers import raw_response

ZERO_D = "Zed"  # stated 0 for D: prior log-odds(D : A) = -inf
ZERO_A = "Yara"  # stated 0 for A and a reading of 0 for D: +inf prior, -inf evidence, NaN total


@pytest.fixture(scope="module")
def analysis(defaults, sampler):
    evidence = defaults.evidence
    responses = example_responses(n=6, defaults=defaults)
    zero_d = raw_response(ZERO_D, scen=(0.5, 0.3, 0.2, 0.0))
    zero_a = raw_response(ZERO_A, scen=(0.0, 0.3, 0.3, 0.4), p_scheming=None)
    zero_a["readings"]["no_collusion"]["D"] = 0.0
    for raw in (zero_d, zero_a):
        responses.append(validate_response(raw, evidence=evidence, defaults=defaults))
    return analyse(
        responses,
        evidence=evidence,
        defaults=defaults,
        sampler=sampler,
        draws=200,
        tune=200,
        chains=2,
        random_seed=0,
    )


def _scatter_sizes(ax) -> list[int]:
    return [len(c.get_offsets()) for c in ax.collections if isinstance(c, PathCollection)]


def _saves(fig: Figure, tmp_path, name: str) -> None:
    for fmt in figures.SAVE_FORMATS:
        path = tmp_path / f"{name}.{fmt}"
        fig.savefig(path, format=fmt)
        assert path.stat().st_size > 1000


# --- trajectories ------------------------------------------------------------------------


@pytest.mark.parametrize("yscale", ["linear", "log"])
def test_trajectories_draw_three_lines_per_scenario(defaults, yscale):
    fig = figures.trajectories(defaults, yscale=yscale)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 4
    for ax, s in zip(fig.axes, defaults.scenarios, strict=True):
        assert len(ax.get_lines()) == 3  # actual, observed, what we need
        assert ax.get_title(loc="left").startswith(f"{s.id} · {s.name}")
        assert ax.get_xscale() == "log"
        assert ax.get_yscale() == yscale


def test_trajectories_log_view_is_inverted_so_up_is_more_aligned(defaults):
    ax = figures.trajectories(defaults, yscale="log").axes[0]
    bottom, top = ax.get_ylim()
    assert bottom > top
    actual = ax.get_lines()[-1].get_ydata()
    m = defaults.curves(np.array([0.0]))["A"]["misalignment"][0]
    assert math.isclose(actual[0], m)  # the log view plots the misalignment rate itself


def test_trajectories_linear_view_plots_one_minus_the_rates(defaults):
    ax = figures.trajectories(defaults).axes[3]
    need, _, actual = (line.get_ydata() for line in ax.get_lines())
    m = defaults.scenario("D").misalignment_now
    assert math.isclose(actual[0], 1 - m)
    assert math.isclose(need[0], 1 - defaults.need.tolerable_now)


def test_trajectories_show_and_fade_by_weight(defaults):
    weights = {"A": 0.41, "B": 0.3, "C": 0.29, "D": 0.0}
    fig = figures.trajectories(defaults, weights=weights)
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert titles[0] == "A · Observed tracks actual — group posterior 41 %"
    assert titles[3].endswith("group posterior 0 %")
    alphas = [ax.get_lines()[-1].get_alpha() for ax in fig.axes]
    assert alphas[0] == pytest.approx(1.0)
    assert alphas[3] == pytest.approx(0.35)


def test_trajectories_factor_changes_the_need_line(defaults):
    flat = figures.trajectories(defaults, factor_per_decade=1.0, yscale="log").axes[0]
    need = flat.get_lines()[0].get_ydata()
    assert np.allclose(need, defaults.need.tolerable_now)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"yscale": "symlog"}, 'give "linear" or "log"'),
        ({"weights": {"A": 1.0}}, "one weight for each of A, B, C, D"),
        ({"weights": {"A": 0.5, "B": 0.5, "C": 0.5, "D": 0.5}}, "must sum to 1"),
        ({"weights": {"A": 1.5, "B": -0.5, "C": 0.0, "D": 0.0}}, "non-negative"),
        ({"factor_per_decade": 0.5}, "at least 1"),
    ],
)
def test_trajectories_reject_bad_arguments(defaults, kwargs, message):
    with pytest.raises(ValueError, match=message):
        figures.trajectories(defaults, **kwargs)


def test_scenario_sketch_is_small_and_checks_the_id(defaults, tmp_path):
    fig = figures.scenario_sketch(defaults, "C", factor_per_decade=3.0)
    assert tuple(fig.get_size_inches()) == pytest.approx((3.2, 2.2))
    (ax,) = fig.axes
    assert len(ax.get_lines()) == 3
    assert ax.get_title(loc="left") == "C · Hidden divergence later"
    _saves(fig, tmp_path, "sketch")
    with pytest.raises(ValueError, match="unknown scenario 'E'; give one of A, B, C, D"):
        figures.scenario_sketch(defaults, "E")


# --- analysis figures --------------------------------------------------------------------


def test_participants_vs_consensus_draws_n_dots_per_scenario(analysis):
    fig = figures.participants_vs_consensus(analysis)
    (ax,) = fig.axes
    assert _scatter_sizes(ax) == [analysis.data.n] * 4
    dots = [c.get_offsets()[:, 1] for c in ax.collections if isinstance(c, PathCollection)]
    assert np.allclose(np.array(dots).T, analysis.data.credences)
    assert len(ax.containers) == 4  # one consensus error bar per scenario


def test_pools_draws_three_pools_and_the_model_before_and_after(analysis):
    fig = figures.pools(analysis)
    assert len(fig.axes) == 2
    for ax, pooled in zip(
        fig.axes, (analysis.prior_pools(), analysis.posterior_pools()), strict=True
    ):
        bars = [c for c in ax.containers if isinstance(c, BarContainer)]
        assert len(bars) == 4 and all(len(b) == 4 for b in bars)
        heights = [p.get_height() for p in bars[0]]
        assert np.allclose(heights, pooled["linear"])
    assert "log pool reacts strongly to near-zero" in fig.get_supxlabel()
    # Zed's stated 0 for D sends the log pool of D to 0, and the figure says so
    assert analysis.prior_pools()["log"][3] == 0
    assert any(t.get_text() == "0" for t in fig.axes[0].texts)


def test_factor_spread_one_row_per_factor_and_the_direct_question(analysis, defaults):
    fig = figures.factor_spread(analysis)
    (ax,) = fig.axes
    rows = len(defaults.factor_ids) + 1
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == rows
    assert labels[-1].startswith("Direct P(scheming)")
    n = analysis.data.n
    answered = sum(r.p_scheming is not None for r in analysis.responses)
    assert answered < n  # unanswered is missing, not drawn as 0
    assert f"(answered {answered} of {n})" in labels[-1]
    assert ax.get_xscale() == "logit"
    sizes = _scatter_sizes(ax)  # filled and open (0 or 1) dots per row
    assert sum(sizes) == np.isfinite(analysis.data.values[:, :rows]).sum()


def test_prior_vs_posterior_has_two_series_of_four(analysis):
    (ax,) = figures.prior_vs_posterior(analysis).axes
    assert len(ax.containers) == 2
    means = ax.containers[1].lines[0].get_ydata()
    cp = analysis.fit.idata["posterior"]["consensus_posterior"].mean(("chain", "draw")).values
    assert np.allclose(means, cp)


def test_crux_one_bar_per_participant_per_term(analysis):
    fig = figures.crux(analysis, versus="C")
    (ax,) = fig.axes
    n_terms = 1 + len(analysis.evidence)
    assert len(ax.containers) == n_terms
    assert all(len(c) == analysis.data.n for c in ax.containers)
    assert [t.get_text() for t in ax.get_yticklabels()] == analysis.data.participants


def test_crux_parts_are_the_gap_to_the_consensus(analysis):
    (ax,) = figures.crux(analysis, versus="D").axes
    consensus = (
        analysis.fit.idata["posterior"]["log_odds"].sel(versus="D").mean(("chain", "draw")).values
    )
    i = 0  # the first example member stated no 0
    expected = analysis.updates[i].terms[:, 2] - consensus
    widths = [c.patches[i].get_width() for c in ax.containers]
    assert np.allclose(widths, expected)


def test_crux_shows_a_stated_zero_as_infinite(analysis):
    fig = figures.crux(analysis, versus="D")
    (ax,) = fig.axes
    texts = [t.get_text() for t in ax.texts]
    assert texts.count("−∞ (stated 0)") == 2  # Zed's prior and Yara's no_collusion reading
    assert texts.count("+∞ (stated 0)") == 1  # Yara's prior
    xmin, xmax = ax.get_xlim()
    tips = [t.xy[0] for t in ax.texts if "(stated 0)" in t.get_text()]
    assert set(tips) == {xmin, xmax}  # arrows end at the axis edges


@pytest.mark.parametrize("versus", ["A", "E", "d"])
def test_crux_rejects_an_unknown_scenario(analysis, versus):
    with pytest.raises(ValueError, match="give one of B, C, D"):
        figures.crux(analysis, versus=versus)


def test_undetected_rows_and_members(analysis):
    fig = figures.undetected(analysis)
    (ax,) = fig.axes  # one counts item in the default evidence
    assert ax.get_xscale() == "log"
    assert _scatter_sizes(ax) == [analysis.data.n]
    assert len(ax.containers) == 4 + 1  # A-D with HDIs, and the group
    und = analysis.fit.idata["posterior"]["undetected"].mean(("chain", "draw")).values[0]
    drawn = [c.lines[0].get_xdata()[0] for c in ax.containers[:4]]
    assert np.allclose(drawn, und)
    assert "says little about D" in fig.get_suptitle()


def test_scheming_coherence_marks_every_answer(analysis):
    fig = figures.scheming_coherence(analysis)
    (ax,) = fig.axes
    assert ax.get_xscale() == "log"
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == analysis.data.n + 2  # members, then two group rows
    markers = [
        line
        for line in ax.get_lines()
        if line.get_marker() in ("o", "s", "^") and len(line.get_xdata()) == 1
    ]
    answered = sum(
        (r.p_scheming is not None) + 2 for r in analysis.responses
    )  # product and D always given here
    assert len(markers) - 4 == answered  # the group rows add four


# --- registry and export -----------------------------------------------------------------


def test_registry_names_every_analysis_figure():
    assert set(figures.FIGURES) == {
        "trajectories",
        "trajectories_log",
        "participants_vs_consensus",
        "pools",
        "factor_spread",
        "prior_vs_posterior",
        "crux",
        "undetected",
        "scheming_coherence",
    }


def test_save_all_writes_every_figure_in_every_format(analysis, tmp_path):
    """Covers the saving of every analysis figure, the stated zeros of the fixture included."""
    paths = figures.save_all(analysis, tmp_path / "out")
    assert len(paths) == len(figures.FIGURES) * 3
    assert {p.suffix for p in paths} == {".png", ".svg", ".pdf"}
    assert all(p.exists() and p.stat().st_size > 1000 for p in paths)
    weighted = figures.FIGURES["trajectories"](analysis)
    assert "group posterior" in weighted.axes[0].get_title(loc="left")


def test_save_all_rejects_an_unknown_format(analysis, tmp_path):
    with pytest.raises(ValueError, match="give some of png, svg, pdf"):
        figures.save_all(analysis, tmp_path, formats=("png", "jpeg"))


def test_undetected_says_so_when_there_is_no_counts_item(analysis):
    posterior = analysis.fit.idata["posterior"].to_dataset()
    without = SimpleNamespace(
        fit=SimpleNamespace(idata={"posterior": posterior.drop_vars(["undetected"])}),
        defaults=analysis.defaults,
    )
    fig = figures.undetected(without)
    assert "No counts evidence" in fig.axes[0].texts[0].get_text()


def test_one_row_per_member_figures_cap_large_groups(defaults, sampler):
    """With 45 members, crux shows the 40 furthest from the consensus and says so."""
    big = analyse(
        example_responses(n=45, defaults=defaults),
        evidence=defaults.evidence,
        defaults=defaults,
        sampler=sampler,
        draws=100,
        tune=100,
        chains=2,
        random_seed=1,
    )
    fig = figures.crux(big)
    ax = fig.subfigs[0].axes[0]
    assert len(ax.get_yticklabels()) == figures.MAX_ROWS
    assert any("40 of 45 members" in " ".join(t.get_text().split()) for t in fig.texts)
    fig = figures.scheming_coherence(big)
    assert any("40 of 45 members" in " ".join(t.get_text().split()) for t in fig.texts)


def test_names_with_dollar_signs_are_drawn_literally(analysis, tmp_path):
    """A name like '$\\foo{$' must not reach matplotlib's math parser."""
    import dataclasses

    from model.schema import Response

    odd = [
        dataclasses.replace(r, participant=f"$\\foo{{$ {i}")
        for i, r in enumerate(analysis.responses)
    ]
    updates = [
        dataclasses.replace(u, participant=r.participant)
        for u, r in zip(analysis.updates, odd, strict=True)
    ]
    assert all(isinstance(r, Response) for r in odd)
    renamed = dataclasses.replace(analysis, responses=odd, updates=updates)
    for fn in (figures.crux, figures.scheming_coherence):
        fn(renamed).savefig(tmp_path / "x.png")
