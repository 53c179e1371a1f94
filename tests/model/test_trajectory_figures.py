"""The scenario curves (`model.trajectories`) and the trajectory figures drawn from them.

The curves' values at today's and the largest capability; the trajectories figure, three
lines per scenario on a linear or an inverted log axis read as percentages, each panel
faded by its consensus posterior weight (the registry's weights), its bad arguments
refused; and the small scenario sketch the Elicit page shows.
"""

import math
from types import SimpleNamespace

import numpy as np
import pytest
from matplotlib.figure import Figure

from model import figures
from model.trajectories import scenario_curves
from priors import SCENARIO_IDS
from tests.model.result_fixtures import hand_made_result


@pytest.fixture(scope="module")
def result(defaults):
    return hand_made_result(defaults)


def _saves(fig: Figure, tmp_path, name: str) -> None:
    for fmt in figures.SAVE_FORMATS:
        path = tmp_path / f"{name}.{fmt}"
        fig.savefig(path, format=fmt)
        assert path.stat().st_size > 1000


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
