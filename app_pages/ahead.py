"""The report's figures that a dashboard does not show, drawn ahead in the background.

When a dashboard's run starts on a fit, the figures its report would have to draw itself (the
log trajectories behind their toggle, the meta-predictions figure before five forecasts) are
drawn ahead: after `DELAY_SECONDS`, unless a newer fit was asked for meanwhile (a burst of
submissions to a Live dashboard draws only the last fit's), in worker processes at a lower
priority (`model.figures.draw_pngs`), once per fit and process. "Make the report" then only
assembles it. A report asked for before its figures' drawing began draws them itself (and
the drawing is dropped); one asked for while they are drawn waits for them.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field

from model import Analysis
from model import figures as figs
from model.figures import SCREEN_MAX_PX

DELAY_SECONDS = 4.0  # after a fit, before drawing: a member's submission and refits go first
NICE = 10  # the drawing workers' niceness
WAIT_SECONDS = 10.0  # the report waits this long for a drawing under way, then draws
KEEP = 8  # fits whose figures are kept


@dataclass
class _Job:
    analysis: Analysis | None
    names: tuple[str, ...]
    due: float
    state: str = "waiting"  # then "drawing", or "dropped"
    future: Future[dict[str, bytes]] = field(default_factory=Future)


_jobs: OrderedDict[tuple, _Job] = OrderedDict()
_newest: tuple | None = None
_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None


def draw_ahead(ident: tuple, analysis: Analysis, names: Sequence[str]) -> bool:
    """Ask for figures `names` of `analysis` (the fit `ident` names) to be drawn ahead.

    Returns whether they were asked for now: not for no names, nor twice for one fit (unless
    its drawing was dropped).
    """
    global _newest, _pool
    with _lock:
        if not names or (ident in _jobs and _jobs[ident].state != "dropped"):
            return False
        _jobs[ident] = _Job(analysis, tuple(names), time.monotonic() + DELAY_SECONDS)
        _newest = ident
        while len(_jobs) > KEEP:
            _, old = _jobs.popitem(last=False)
            _drop(old)
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cruxboard-ahead")
        _pool.submit(_run, ident)
        return True


def drawn_ahead(ident: tuple) -> dict[str, bytes]:
    """The figures of fit `ident` drawn ahead, by name (each ``FIGURES[name](analysis)``).

    Waits for a drawing under way (at most `WAIT_SECONDS`); a drawing not yet begun is
    dropped, and none is returned: the caller draws them now.
    """
    with _lock:
        job = _jobs.get(ident)
        if job is None:
            return {}
        if job.state == "waiting":
            _drop(job)
    try:
        return job.future.result(timeout=WAIT_SECONDS)
    except FutureTimeout:  # a busy machine: the caller draws them itself
        return {}


def _drop(job: _Job) -> None:
    if job.state == "waiting":
        job.state, job.analysis = "dropped", None
        job.future.set_result({})


def _run(ident: tuple) -> None:
    while True:
        with _lock:
            job = _jobs.get(ident)
            if job is None or job.state != "waiting":
                return
            if ident != _newest:  # a newer fit was asked for: draw that one instead
                _drop(job)
                return
            wait = job.due - time.monotonic()
            if wait <= 0:
                job.state, analysis = "drawing", job.analysis
                job.analysis = None
                break
        time.sleep(min(wait, 0.5))
    try:
        pngs = figs.draw_pngs(analysis, job.names, max_width_px=SCREEN_MAX_PX, nice=NICE)
    except Exception:  # a figure that cannot be drawn: the report draws the rest and names it
        pngs = {}
    job.future.set_result(pngs)
