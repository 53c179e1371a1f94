"""Drawing the report's unshown figures ahead (`app_pages.ahead`): when, what, and dropping.

`model.figures.draw_pngs` is replaced by a recorder here (its own test draws real figures
in worker processes: tests/model/test_figures.py); what is checked is the scheduling.
"""

from __future__ import annotations

import threading
import time

import pytest

from app_pages import ahead


class _Calls(list):
    gate: threading.Event


@pytest.fixture
def drawn(monkeypatch):
    """The calls of `draw_pngs` as (analysis, names, nice); each returns b"png:<name>"."""
    calls = _Calls()
    gate = threading.Event()
    gate.set()

    def draw_pngs(analysis, names, *, max_width_px, nice):
        calls.append((analysis, tuple(names), nice))
        gate.wait(30)
        if "broken" in names:
            raise ValueError("cannot be drawn")
        return {n: f"png:{n}".encode() for n in names}

    monkeypatch.setattr(ahead.figs, "draw_pngs", draw_pngs)
    monkeypatch.setattr(ahead, "_jobs", type(ahead._jobs)())
    monkeypatch.setattr(ahead, "_newest", None)
    monkeypatch.setattr(ahead, "DELAY_SECONDS", 0.2)
    calls.gate = gate
    return calls


def _settle(ident) -> None:
    ahead._jobs[ident].future.result(timeout=30)


def test_the_unshown_figures_are_drawn_once_per_fit_after_the_delay(drawn):
    start = time.monotonic()
    assert ahead.draw_ahead(("k1", 100), "analysis-1", ("trajectories_log", "meta_predictions"))
    assert not ahead.draw_ahead(("k1", 100), "analysis-1", ("trajectories_log",))  # once
    assert not ahead.draw_ahead(("k2", 100), "analysis-2", ())  # nothing to draw
    _settle(("k1", 100))
    assert time.monotonic() - start >= ahead.DELAY_SECONDS
    assert drawn == [("analysis-1", ("trajectories_log", "meta_predictions"), ahead.NICE)]
    assert ahead.NICE > 0
    assert ahead.drawn_ahead(("k1", 100)) == {
        "trajectories_log": b"png:trajectories_log",
        "meta_predictions": b"png:meta_predictions",
    }
    assert ahead.drawn_ahead(("k1", 1000)) == {}  # another number of draws: another fit
    assert ahead._jobs[("k1", 100)].analysis is None  # the analysis is not held once drawn


def test_a_newer_fit_asked_for_before_the_delay_is_drawn_instead(drawn):
    """A burst of submissions to a Live dashboard: only the last fit's figures are drawn."""
    for k in range(3):
        assert ahead.draw_ahead((f"k{k}", 100), f"analysis-{k}", ("trajectories_log",))
    _settle(("k2", 100))
    assert drawn == [("analysis-2", ("trajectories_log",), ahead.NICE)]
    assert ahead.drawn_ahead(("k0", 100)) == {} and ahead.drawn_ahead(("k1", 100)) == {}
    assert ahead.drawn_ahead(("k2", 100)) == {"trajectories_log": b"png:trajectories_log"}
    # a dropped fit's page asking again is drawn then
    assert ahead.draw_ahead(("k0", 100), "analysis-0", ("trajectories_log",))
    _settle(("k0", 100))
    assert drawn[-1] == ("analysis-0", ("trajectories_log",), ahead.NICE)


def test_a_report_before_the_drawing_began_draws_itself_and_drops_it(drawn, monkeypatch):
    monkeypatch.setattr(ahead, "DELAY_SECONDS", 30.0)
    ahead.draw_ahead(("k1", 100), "analysis-1", ("trajectories_log",))
    start = time.monotonic()
    assert ahead.drawn_ahead(("k1", 100)) == {}  # without waiting for the delay
    assert time.monotonic() - start < 5
    assert ahead._jobs[("k1", 100)].state == "dropped"
    time.sleep(0.7)  # the worker wakes (every 0.5 s at most) and draws nothing
    assert drawn == []


def test_a_report_during_the_drawing_waits_for_it(drawn):
    drawn.gate.clear()  # the drawing starts and holds
    ahead.draw_ahead(("k1", 100), "analysis-1", ("trajectories_log",))
    deadline = time.monotonic() + 30
    while not drawn and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ahead._jobs[("k1", 100)].state == "drawing"
    threading.Timer(0.3, drawn.gate.set).start()
    assert ahead.drawn_ahead(("k1", 100)) == {"trajectories_log": b"png:trajectories_log"}


def test_a_figure_that_cannot_be_drawn_leaves_the_report_to_draw_them(drawn):
    ahead.draw_ahead(("k1", 100), "analysis-1", ("trajectories_log", "broken"))
    _settle(("k1", 100))
    assert ahead.drawn_ahead(("k1", 100)) == {}


def test_only_the_last_fits_are_kept(drawn, monkeypatch):
    monkeypatch.setattr(ahead, "DELAY_SECONDS", 0.0)
    for k in range(ahead.KEEP + 3):
        ahead.draw_ahead((f"k{k}", 100), f"analysis-{k}", ("trajectories_log",))
        _settle((f"k{k}", 100))
    assert list(ahead._jobs) == [(f"k{k}", 100) for k in range(3, ahead.KEEP + 3)]
