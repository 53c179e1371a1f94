"""Figures draw what the result records hold: checked on a hand-made `Result`, without a fit.

Each analysis figure is drawn from `tests.model.result_fixtures.hand_made_result` and its
markers, bars and whiskers are compared with the hand-made numbers. One small fit remains,
for the real pipeline: `save_all` on a real analysis writes every figure in every format.
"""

import dataclasses
import math
from io import BytesIO
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.container import BarContainer, ErrorbarContainer
from matplotlib.figure import Figure

import model.figures
from model import figures
from model.analysis import analyse
from model.example import example_responses
from model.figures._style import dodge
from model.results import Agreement
from model.schema import validate_response
from model.trajectories import scenario_curves
from priors import SCENARIO_IDS
from tests.model.helpers import raw_response
from tests.model.result_fixtures import (
    COUNTS,
    MEMBERS,
    TERMS,
    UNDETECTED,
    hand_made_result,
    many_members,
)

ZERO_D = "Zed"  # stated 0 for D: prior log-odds(D : A) = -inf
ZERO_A = "Yara"  # stated 0 for A: prior log-odds(s : A) = +inf


def _yara(defaults, *, zero_reading: bool):
    raw = raw_response(ZERO_A, scen=(0.0, 0.3, 0.3, 0.4), p_scheming=None)
    if zero_reading:  # a reading of 0 for D as well: +inf prior, -inf evidence, NaN total
        raw["readings"]["no_collusion"]["D"] = 0.0
    return validate_response(raw, evidence=defaults.evidence, defaults=defaults)


@pytest.fixture(scope="module")
def result(defaults):
    return hand_made_result(defaults)


@pytest.fixture(scope="module")
def analysis(defaults, sampler):
    """A real fit, for the one test about the whole pipeline (stated zeros included)."""
    evidence = defaults.evidence
    responses = example_responses(n=6, defaults=defaults)
    zero_d = raw_response(ZERO_D, scen=(0.5, 0.3, 0.2, 0.0))
    responses.append(validate_response(zero_d, evidence=evidence, defaults=defaults))
    responses.append(_yara(defaults, zero_reading=False))
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


def _scatters(ax) -> list[PathCollection]:
    return [c for c in ax.collections if isinstance(c, PathCollection)]


def _errorbars(ax) -> list[ErrorbarContainer]:
    return [c for c in ax.containers if isinstance(c, ErrorbarContainer)]


def _marker(bar: ErrorbarContainer) -> tuple[np.ndarray, np.ndarray]:
    """The (x, y) of an error bar's markers."""
    line = bar.lines[0]
    return np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)


def _whisker_ends(bar: ErrorbarContainer) -> list[tuple[float, float]]:
    """Each whisker's two ends along its direction (x for xerr, y for yerr)."""
    (segments,) = [c.get_segments() for c in bar.lines[2]]
    vertical = bool(bar.has_yerr)
    return [tuple(sorted(float(p[int(vertical)]) for p in seg)) for seg in segments]


def _texts(fig: Figure) -> str:
    return " ".join(
        " ".join(t.get_text().split()) for t in fig.findobj(lambda a: hasattr(a, "get_text"))
    )


def _saves(fig: Figure, tmp_path, name: str) -> None:
    for fmt in figures.SAVE_FORMATS:
        path = tmp_path / f"{name}.{fmt}"
        fig.savefig(path, format=fmt)
        assert path.stat().st_size > 1000


# --- figures only draw ---------------------------------------------------------------------


def test_figure_code_computes_nothing():
    """The figures' source samples nothing, reads no fit and takes no means (issue: one source)."""
    forbidden = ("np.random", "default_rng", "arviz", "scipy", "idata", "analysis.fit", ".mean(")
    package = Path(model.figures.__file__).parent
    for path in package.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert [f for f in forbidden if f in text] == [], path.name


def test_dodge_is_deterministic_and_keeps_equal_values_apart():
    values = np.array([0.3, 0.3, 0.3, 0.9, np.nan, 0.31])
    side = dodge(values, near=0.02, step=0.05, limit=0.1)
    assert np.array_equal(side, dodge(values, near=0.02, step=0.05, limit=0.1))
    assert side.tolist() == pytest.approx([0.0, 0.05, -0.05, 0.0, 0.0, 0.1])
    assert np.abs(side).max() <= 0.1
    wrapped = dodge(np.zeros(6), near=0.02, step=0.05, limit=0.1)  # five slots, then again
    assert wrapped.tolist() == pytest.approx([0.0, 0.05, -0.05, 0.1, -0.1, 0.0])


# --- scenario curves (model.trajectories) and the trajectory figures -----------------------


def test_scenario_curves_reference_values(defaults):
    """At today's capability: actual = m, observed = m·d (what monitoring detects), need =
    tolerable now.

    At the largest capability (x = 4, 10 000×) scenario A has m = 3e-6 and the need is
    0.01 · 10^-4 = 1e-6 (priors/scenarios.toml): actual = 3 × what we need.
    """
    curves = scenario_curves(defaults)
    a = defaults.scenario("A")
    assert curves.capability[0] == pytest.approx(1.0)
    assert curves.capability[-1] == pytest.approx(1e4)
    assert curves.scenarios["A"].actual[0] == pytest.approx(a.misalignment_now)
    expected = a.misalignment_now * a.detection_now
    assert curves.scenarios["A"].observed[0] == pytest.approx(expected)
    assert curves.need[0] == pytest.approx(defaults.need.tolerable_now)
    assert curves.scenarios["A"].end_ratio == pytest.approx(3.0)
    flat = scenario_curves(defaults, factor_per_decade=1.0)
    assert flat.scenarios["A"].end_ratio == pytest.approx(3e-4)  # 3e-6 / 0.01
    with pytest.raises(ValueError, match="at least 1"):
        scenario_curves(defaults, factor_per_decade=0.5)


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


def test_trajectories_log_view_reads_as_percentages_as_the_sketches_do(defaults):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = figures.trajectories(defaults, yscale="log")
    FigureCanvasAgg(fig).draw()
    ax = fig.axes[0]
    assert ax.get_ylim() == pytest.approx((1.0, 1e-6))
    shown = [
        t.get_text() for t in ax.get_yticklabels() if 1e-6 * 0.999 <= t.get_position()[1] <= 1.001
    ]
    # a decade at a time from 10^-6 (the need line's end) up to a rate of 1
    assert shown == ["0.0001 %", "0.001 %", "0.01 %", "0.1 %", "1 %", "10 %", "100 %"]


def test_trajectories_log_view_states_the_end_ratio_of_the_curves(defaults):
    fig = figures.trajectories(defaults, yscale="log")
    curves = scenario_curves(defaults)
    for ax, s in zip(fig.axes, defaults.scenarios, strict=True):
        (note,) = ax.texts
        ratio = curves.scenarios[s.id].end_ratio
        assert note.get_text().endswith(f"= {ratio:,.0f} × what we need")
    assert fig.axes[0].texts[0].get_text().startswith("at 10,000×")


def test_trajectories_draw_the_curves_of_model_trajectories(defaults):
    ax = figures.trajectories(defaults).axes[3]
    need, observed, actual = (line.get_ydata() for line in ax.get_lines())
    curves = scenario_curves(defaults)
    assert np.allclose(actual, 1 - curves.scenarios["D"].actual)
    assert np.allclose(observed, 1 - curves.scenarios["D"].observed)
    assert np.allclose(need, 1 - curves.need)
    assert math.isclose(actual[0], 1 - defaults.scenario("D").misalignment_now)
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


def test_registry_weights_trajectories_by_the_consensus_posterior(result, defaults):
    fake = SimpleNamespace(result=result, defaults=defaults)
    weights = figures.consensus_weights(result)
    assert weights == {s: result.consensus_posterior[s].mean for s in SCENARIO_IDS}
    for name in ("trajectories", "trajectories_log"):
        title = figures.FIGURES[name](fake).axes[0].get_title(loc="left")
        assert title.endswith("group posterior 48 %")  # consensus posterior of A: 0.48


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


# --- registry and export -------------------------------------------------------------------


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
        "meta_predictions",
        "what_would_settle_it",
        "camps",
    }


def test_registry_draws_every_figure_from_the_records(result, defaults, tmp_path):
    """No fit needed: each entry reads `analysis.result` and `analysis.defaults` only."""
    fake = SimpleNamespace(result=result, defaults=defaults)
    for name, make in figures.FIGURES.items():
        fig = make(fake)
        assert isinstance(fig, Figure)
        fig.savefig(tmp_path / f"{name}.png")


def test_save_all_writes_every_figure_in_every_format(analysis, tmp_path):
    """The real pipeline: every figure of a fitted group, its stated zeros included, saves."""
    paths = figures.save_all(analysis, tmp_path / "out")
    assert len(paths) == len(figures.FIGURES) * 3
    assert {p.name for p in paths} == {
        f"{name}.{fmt}" for name in figures.FIGURES for fmt in figures.SAVE_FORMATS
    }
    assert all(p.exists() and p.stat().st_size > 1000 for p in paths)
    weighted = figures.FIGURES["trajectories"](analysis)
    assert "group posterior" in weighted.axes[0].get_title(loc="left")


def test_a_member_with_zeros_on_both_sides_can_be_analysed(defaults):
    """+inf (a stated 0 for A) meets -inf (a reading of 0 for D): undefined, not a warning."""
    from model.individual import update

    u = update(_yara(defaults, zero_reading=True), evidence=defaults.evidence, defaults=defaults)
    assert np.isnan(u.posterior_log_odds[2])


def test_save_all_rejects_an_unknown_format(result, defaults, tmp_path):
    fake = SimpleNamespace(result=result, defaults=defaults)
    with pytest.raises(ValueError, match="give some of png, svg, pdf"):
        figures.save_all(fake, tmp_path, formats=("png", "jpeg"))
    with pytest.raises(ValueError, match="none given"):
        figures.save_all(fake, tmp_path, formats=())


def test_the_old_public_names_remain():
    for name in ("HDI_PROB", "PNG_DPI", "SAVE_FORMATS", "SCENARIO_COLOURS", "MAX_ROWS"):
        assert hasattr(figures, name)
    assert figures.HDI_PROB == 0.94 and figures.PNG_DPI == 150


def _png_width(data: bytes) -> int:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return int.from_bytes(data[16:20], "big")


def test_save_all_draws_the_figures_named_at_most_as_wide_as_asked(result, defaults, tmp_path):
    """The report's use: some figures only, PNG at most `max_width_px` wide, else 150 dpi."""
    fake = SimpleNamespace(result=result, defaults=defaults)
    names = ["meta_predictions", "trajectories"]  # 9 in and 12 in wide
    paths = figures.save_all(
        fake, tmp_path, formats=("png",), names=names, max_width_px=figures.SCREEN_MAX_PX
    )
    assert [p.stem for p in paths] == ["trajectories", "meta_predictions"]  # FIGURES' order
    assert {p.name for p in tmp_path.iterdir()} == {"trajectories.png", "meta_predictions.png"}
    for path in paths:
        inches = figures.FIGURES[path.stem](fake).get_figwidth()
        expected = min(inches * figures.PNG_DPI, figures.SCREEN_MAX_PX)
        assert abs(_png_width(path.read_bytes()) - expected) <= 1
    assert abs(_png_width(paths[0].read_bytes()) - figures.SCREEN_MAX_PX) <= 1  # 12 in: capped
    assert _png_width(paths[1].read_bytes()) == 9 * figures.PNG_DPI  # 9 in: 150 dpi
    # the exports: 150 dpi whatever the width
    full = figures.save_all(fake, tmp_path / "full", formats=("png",), names=["trajectories"])
    assert _png_width(full[0].read_bytes()) == 12 * figures.PNG_DPI
    with pytest.raises(ValueError, match="unknown figure"):
        figures.save_all(fake, tmp_path, formats=("png",), names=["trajectoriez"])
    assert figures.save_all(fake, tmp_path / "none", formats=("png",), names=[]) == []


def test_figure_bytes_are_what_save_all_writes(result, defaults, tmp_path):
    """The page's images, its downloads and the files: one way to save, the same bytes."""
    fake = SimpleNamespace(result=result, defaults=defaults)
    for width in (None, figures.SCREEN_MAX_PX):
        folder = tmp_path / str(width)
        paths = figures.save_all(
            fake, folder, formats=figures.SAVE_FORMATS, names=["pools"], max_width_px=width
        )
        fig = figures.FIGURES["pools"](fake)  # saved in save_all's order, as it saves one
        made = [figures.figure_bytes(fig, fmt, max_width_px=width) for fmt in figures.SAVE_FORMATS]
        assert [p.suffix[1:] for p in paths] == list(figures.SAVE_FORMATS)
        assert made == [p.read_bytes() for p in paths]
    # byte-stable: the same analysis, drawn again, saves the same SVG (its ids are salted)
    again = [figures.figure_bytes(figures.FIGURES["pools"](fake), "svg") for _ in range(2)]
    assert again[0] == again[1]
    with pytest.raises(ValueError, match="unknown figure format 'jpg'"):
        figures.figure_bytes(figures.FIGURES["pools"](fake), "jpg")


def test_draw_pngs_draws_in_worker_processes_what_save_all_writes(
    result, defaults, tmp_path, monkeypatch
):
    """Drawing ahead for the app's report: the same bytes, never drawn in the caller."""
    fake = SimpleNamespace(result=result, defaults=defaults)
    names = ["meta_predictions", "trajectories"]
    pngs = figures.draw_pngs(fake, names, max_width_px=figures.SCREEN_MAX_PX, nice=5)
    assert list(pngs) == ["trajectories", "meta_predictions"]  # FIGURES' order
    paths = figures.save_all(
        fake, tmp_path, formats=("png",), names=names, max_width_px=figures.SCREEN_MAX_PX
    )
    assert pngs == {p.stem: p.read_bytes() for p in paths}
    # one figure goes to a worker process too (its process imported the figures afresh, so
    # this caller's patched registry is not what draws it)
    monkeypatch.setitem(figures.FIGURES, "camps", lambda a: pytest.fail("drawn in the caller"))
    assert _png_width(figures.draw_pngs(fake, ["camps"])["camps"]) > 0
    with pytest.raises(ValueError, match="unknown figure"):
        figures.draw_pngs(fake, ["trajectoriez"])
    assert figures.draw_pngs(fake, []) == {}
