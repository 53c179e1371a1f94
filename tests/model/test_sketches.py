"""The scenario sketches tell each scenario's story, on the log axis the debate used.

Each 10x of capability needs the tolerable misalignment rate to fall by a factor, so the
sketches draw the misalignment rate on a log axis: A's actual rate falls with what we need,
a bounded gap above it, and what monitoring detects tracks it; B's rise is visible; C's
detected rate keeps falling while its actual rate rises; D's detected rate is far below its
actual one from today. The stories are checked as properties of the default curves, both as
the loader gives them and as `model.trajectories` computes them, and the sketch is checked
to draw exactly those curves, readably.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Text

from model.figures import scenario_sketch
from model.figures.curves import SKETCH_SIZE
from model.trajectories import HIDDEN, scenario_curves
from priors import SCENARIO_IDS


@pytest.fixture(scope="module")
def curves(defaults):
    return scenario_curves(defaults)


def _lines(fig):
    """The sketch's (need, observed, actual) y data, in the order `_panel` draws them."""
    (ax,) = fig.axes
    return [np.asarray(line.get_ydata(), float) for line in ax.get_lines()]


# --- the curves tell the stories (model.trajectories, default priors) ------------------------


def test_curve_quantities_reference_values(defaults, curves):
    """A today: m = 0.005, d = 0.6, so observed (detected) = 0.003 and actual / observed
    = 1 / 0.6; the need today is 0.01, so actual / need = 0.5. At 10 000×, m = 3e-6 against
    a need of 1e-6: 3×. D today: actual / observed = 1 / d = 1 / 0.01 = 100 ≥ HIDDEN, and
    stays so: hidden from 1×.
    """
    a, d = curves.scenarios["A"], curves.scenarios["D"]
    assert a.observed[0] == pytest.approx(0.003)
    assert a.hidden_ratio[0] == pytest.approx(1 / 0.6)
    assert a.need_ratio[0] == pytest.approx(0.5)
    assert a.need_ratio[-1] == pytest.approx(a.end_ratio) == pytest.approx(3.0)
    assert d.hidden_ratio[0] == pytest.approx(100.0)
    assert d.hidden_from == 1.0
    assert HIDDEN == 3.0


def test_each_story_from_the_loaded_curves(defaults):
    """Each story's shape, straight from the loader's curves (m and d interpolated on a fine
    grid of x = log10 capability, the need falling by its factor per decade), observed = m·d:

    A: alignment rises and a gap to what we need remains, bounded (within 5x from 10x on);
    B: what monitoring detects rises; C: what it detects keeps falling while the actual rate
    rises; D: the actual rate is far above what is detected from today on.
    """
    x = np.linspace(defaults.log_capability[0], defaults.log_capability[-1], 2001)
    need = defaults.tolerable(x)
    curves = defaults.curves(x)
    m = {s: curves[s]["misalignment"] for s in SCENARIO_IDS}
    observed = {s: m[s] * curves[s]["detection"] for s in SCENARIO_IDS}

    ratio = m["A"] / need
    later = x >= 1
    assert np.all(np.diff(m["A"]) < 0)
    assert np.all((ratio[later] > 1) & (ratio[later] < 5))  # a gap remains, bounded
    assert np.all(np.diff(observed["B"]) > 0) and np.all(np.diff(m["B"]) > 0)
    assert np.all(np.diff(observed["C"]) < 0) and np.all(np.diff(m["C"]) > 0)
    assert np.all(m["D"] / observed["D"] > 30)


def test_a_observation_tracks_actual_and_a_bounded_gap_to_what_we_need_remains(curves):
    """A: actual and observed stay within 2x of each other everywhere; from 10x on the
    actual rate stays above what we need by a bounded factor, the smallest of the four."""
    a = curves.scenarios["A"]
    assert np.all((a.hidden_ratio > 0.5) & (a.hidden_ratio < 2.0))
    assert a.hidden_from is None
    assert np.all(np.diff(a.actual) < 0)  # alignment rises with capability
    later = curves.capability >= 10
    assert np.all((a.need_ratio[later] > 1) & (a.need_ratio[later] < 5))
    for other in ("B", "C", "D"):
        assert np.all(a.need_ratio <= curves.scenarios[other].need_ratio + 1e-12), other


def test_b_observed_misalignment_rises_and_is_seen(curves):
    """B: what monitoring detects rises more than tenfold, and stays within 2.5x of actual."""
    b = curves.scenarios["B"]
    assert np.all(np.diff(b.observed) > 0)
    assert b.observed[-1] / b.observed[0] > 10
    assert np.all(b.hidden_ratio < 2.5)
    assert b.hidden_from is None


def test_c_actual_and_observed_part_only_later(curves):
    """C: within 3x of each other up to 10x capability, then parting for good (100x+);
    what monitoring detects falls all along (observed alignment keeps rising)."""
    c = curves.scenarios["C"]
    early = curves.capability <= 10
    assert np.all(c.hidden_ratio[early] < HIDDEN)
    assert c.hidden_from is not None and c.hidden_from > 10
    assert np.all(np.diff(c.hidden_ratio) > 0)
    assert c.hidden_ratio[-1] > 100
    assert c.actual[-1] > 10 * c.actual[0]  # actual alignment falls
    assert np.all(np.diff(c.observed) < 0)


def test_d_observed_is_far_below_actual_from_today(curves):
    """D: monitoring detects under 1/30 of the misalignment from today on, and today D looks
    better than A to monitoring (observation looks fine)."""
    d = curves.scenarios["D"]
    assert d.hidden_from == curves.capability[0] == 1.0
    assert np.all(d.hidden_ratio > 30)
    assert d.observed[0] < curves.scenarios["A"].observed[0]


# --- the sketch draws those curves -----------------------------------------------------------


@pytest.mark.parametrize("sid", SCENARIO_IDS)
def test_log_sketch_draws_the_curves_of_model_trajectories(defaults, curves, sid):
    fig = scenario_sketch(defaults, sid)  # log is the default
    (ax,) = fig.axes
    assert ax.get_yscale() == "log" and ax.get_xscale() == "log"
    bottom, top = ax.get_ylim()
    assert bottom < top == 1.0  # up is more misalignment
    need, observed, actual = _lines(fig)
    curve = curves.scenarios[sid]
    assert np.allclose(actual, curve.actual)
    assert np.allclose(observed, curve.observed)
    assert np.allclose(need, curves.need)
    assert np.allclose(ax.get_lines()[0].get_xdata(), curves.capability)
    assert ax.get_title(loc="left") == f"{sid} · {defaults.scenario(sid).name}"


def test_the_four_log_sketches_share_one_range(defaults):
    """Side by side on the Elicit page, they must compare: one y range for all four."""
    limits = {scenario_sketch(defaults, s).axes[0].get_ylim() for s in SCENARIO_IDS}
    assert len(limits) == 1
    (bottom, _top) = limits.pop()
    assert bottom == pytest.approx(1e-6)  # the need line: 0.01 / 10^4


def test_factor_per_decade_moves_the_need_line(defaults):
    need, *_ = _lines(scenario_sketch(defaults, "A", factor_per_decade=3.0))
    expected = defaults.need.tolerable_now / 3.0 ** np.log10(scenario_curves(defaults).capability)
    assert np.allclose(need, expected)
    flat, *_ = _lines(scenario_sketch(defaults, "A", factor_per_decade=1.0))
    assert np.allclose(flat, defaults.need.tolerable_now)


@pytest.mark.parametrize("sid", SCENARIO_IDS)
def test_linear_sketch_draws_alignment(defaults, curves, sid):
    fig = scenario_sketch(defaults, sid, yscale="linear")
    (ax,) = fig.axes
    assert ax.get_yscale() == "linear"
    assert ax.get_ylim() == pytest.approx((0.0, 1.02))
    need, observed, actual = _lines(fig)
    assert np.allclose(actual, 1 - curves.scenarios[sid].actual)
    assert np.allclose(observed, 1 - curves.scenarios[sid].observed)
    assert np.allclose(need, 1 - curves.need)


def test_log_ticks_read_as_percentages(defaults):
    def labels(factor):
        fig = scenario_sketch(defaults, "B", factor_per_decade=factor)
        FigureCanvasAgg(fig).draw()
        return [t.get_text() for t in fig.axes[0].get_yticklabels() if t.get_text()]

    assert labels(None) == ["100 %", "1 %", "0.01 %", "0.0001 %"]
    assert labels(100.0) == ["100 %", "0.1 %", "0.0001 %", "10⁻⁷ %"]  # 1e-10 at the bottom


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"yscale": "symlog"}, 'give "log" or "linear"'),
        ({"factor_per_decade": 0.5}, "at least 1"),
    ],
)
def test_sketch_rejects_bad_arguments(defaults, kwargs, message):
    with pytest.raises(ValueError, match=message):
        scenario_sketch(defaults, "A", **kwargs)


# --- readable at its size --------------------------------------------------------------------


def _in_view(ax, ticks, axis: int) -> list[Text]:
    """The tick labels matplotlib draws: those inside the axis's limits."""
    lo, hi = sorted(ax.get_xlim() if axis == 0 else ax.get_ylim())
    return [t for t in ticks if t.get_text() and lo <= t.get_position()[axis] <= hi]


def _drawn_texts(fig) -> list[Text]:
    """Every text the sketch shows: title, axis labels, tick labels in view, the legend."""
    (ax,) = fig.axes
    ticks = {id(t) for t in (*ax.get_xticklabels(), *ax.get_yticklabels())}
    others = [
        t
        for t in fig.findobj(Text)
        if t.get_visible() and t.get_text().strip() and id(t) not in ticks
    ]
    return others + _in_view(ax, ax.get_xticklabels(), 0) + _in_view(ax, ax.get_yticklabels(), 1)


@pytest.mark.parametrize("yscale", ["log", "linear"])
@pytest.mark.parametrize("factor", [None, 1.0, 3.0, 1e6])
@pytest.mark.parametrize("sid", SCENARIO_IDS)
def test_every_label_is_readable(defaults, sid, yscale, factor):
    """At 3.2 x 2.2 in: no text under 7 pt, all of it inside the figure, no tick labels on
    top of each other, and the legend clear of the plot (it sits below it)."""
    fig = scenario_sketch(defaults, sid, yscale=yscale, factor_per_decade=factor)
    assert tuple(fig.get_size_inches()) == pytest.approx(SKETCH_SIZE)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    texts = _drawn_texts(fig)
    assert len(texts) >= 10  # title, two axis labels, ticks, three legend entries
    page = fig.bbox
    for t in texts:
        assert t.get_fontsize() >= 7, t.get_text()
        box = t.get_window_extent(renderer)
        assert page.x0 - 1 <= box.x0 and box.x1 <= page.x1 + 1, t.get_text()
        assert page.y0 - 1 <= box.y0 and box.y1 <= page.y1 + 1, t.get_text()
    (ax,) = fig.axes
    for ticks in (_in_view(ax, ax.get_xticklabels(), 0), _in_view(ax, ax.get_yticklabels(), 1)):
        boxes = [t.get_window_extent(renderer) for t in ticks]
        assert len(boxes) >= 2
        for i, one in enumerate(boxes):
            assert not any(one.overlaps(other) for other in boxes[i + 1 :])
    (legend,) = fig.subfigs[0].legends
    assert not legend.get_window_extent(renderer).overlaps(ax.get_window_extent(renderer))
    assert [t.get_text() for t in legend.get_texts()] == ["actual", "observed", "what we need"]


def test_sketches_are_written_for_a_look(defaults, tmp_path):
    """The four default sketches save as PNG at the page's resolution."""
    for sid in SCENARIO_IDS:
        path = tmp_path / f"sketch_{sid}.png"
        scenario_sketch(defaults, sid).savefig(path, dpi=150)
        assert path.stat().st_size > 5000
    assert math.isclose(SKETCH_SIZE[0] / SKETCH_SIZE[1], 3.2 / 2.2)
