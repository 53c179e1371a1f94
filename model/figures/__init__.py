"""Figures: each a function from the group's result records to a matplotlib Figure.

A figure draws what `model.results` holds (and the scenario curves of
`model.trajectories`); it computes no statistic, samples nothing and never reads the fit.
May import the standard library, NumPy, matplotlib, `model.results`, `model.trajectories`
and priors/ (for names); never ArviZ, SciPy, PyMC, the fit or Streamlit. Only the
object-oriented API is used (``Figure(...)``, never pyplot), so figures can be built in
parallel threads of a web server.

Each analysis figure is ``name(result, defaults, ...)``; `FIGURES` calls them all on an
`Analysis`, and `save_all` writes them.
"""

from __future__ import annotations

import io
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

from model.figures._style import MAX_ROWS, SCENARIO_COLOURS, figure, no_data, titles
from model.figures.argument import camps, settle
from model.figures.coherence import scheming_coherence
from model.figures.credences import participants_vs_consensus, pools, prior_vs_posterior
from model.figures.curves import scenario_sketch, trajectories
from model.figures.detection import undetected
from model.figures.factors import factor_spread
from model.figures.gaps import crux
from model.figures.meta import meta_predictions
from model.results import HDI_PROB

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from model.analysis import Analysis
    from model.results import Result
    from priors import Defaults

__all__ = [
    "FIGURES",
    "HDI_PROB",
    "DESCRIPTIONS",
    "MAX_ROWS",
    "PNG_DPI",
    "SAVE_FORMATS",
    "SCREEN_MAX_PX",
    "SCENARIO_COLOURS",
    "camps",
    "consensus_weights",
    "crux",
    "draw_pngs",
    "factor_spread",
    "figure_bytes",
    "meta_predictions",
    "participants_vs_consensus",
    "png_dpi",
    "pools",
    "prior_vs_posterior",
    "save_all",
    "scenario_sketch",
    "scheming_coherence",
    "settle",
    "start_workers",
    "trajectories",
    "undetected",
]

SAVE_FORMATS = ("png", "svg", "pdf")
PNG_DPI = 150
"""Resolution of PNG files (the exports)."""

SCREEN_MAX_PX = 1460
"""The widest a figure is drawn for a screen: the dashboard's images (Streamlit's widest
content; it re-encodes a wider image) and the report's (its page is at most 1120 px wide).
A figure wider than this at `PNG_DPI` is drawn at a lower resolution (12 in at 122 dpi);
that also draws it faster (fewer pixels to fill and encode)."""


def png_dpi(fig: Figure, max_width_px: int | None = None) -> float:
    """The resolution to draw `fig` at: `PNG_DPI`, lowered to fit `max_width_px` if given."""
    if max_width_px is None:
        return PNG_DPI
    return min(PNG_DPI, max_width_px / fig.get_figwidth())


def consensus_weights(result: Result) -> dict[str, float] | None:
    """The consensus posterior's means over A-D: the `weights` of `trajectories`.

    None when the group model was not fitted.
    """
    if result.consensus_posterior is None:
        return None
    return {s: stat.mean for s, stat in result.consensus_posterior.items()}


def item_texts(result: Result) -> dict[str, str]:
    """Each evidence item's text by its id (figures show the text, files keep the id)."""
    return {str(e["id"]): str(e["text"]) for e in result.evidence}


def not_fitted(result: Result, title: str) -> Figure:
    """In place of a figure of the group model: why the model was not fitted."""
    fig, body = figure(8, 2.6)
    titles(fig, title)
    return no_data(
        fig,
        body,
        f"The group model is {result.group_model}: each member's own numbers and the pools "
        "are shown instead.",
    )


def _fitted_only(draw: Callable[[Result, Defaults], Figure], title: str):
    def make(a: Analysis) -> Figure:
        if not a.result.fitted:
            return not_fitted(a.result, title)
        return draw(a.result, a.defaults)

    return make


FIGURES: dict[str, Callable[[Analysis], Figure]] = {
    "trajectories": lambda a: trajectories(a.defaults, weights=consensus_weights(a.result)),
    "trajectories_log": lambda a: trajectories(
        a.defaults, weights=consensus_weights(a.result), yscale="log"
    ),
    "participants_vs_consensus": _fitted_only(
        participants_vs_consensus, "Members' credences and the group consensus"
    ),
    "pools": _fitted_only(pools, "Pooling the group: classical pools and the model"),
    "factor_spread": _fitted_only(factor_spread, "Factors of scheming"),
    "prior_vs_posterior": _fitted_only(prior_vs_posterior, "What the evidence does"),
    "crux": _fitted_only(crux, "Where members part from the consensus"),
    "undetected": _fitted_only(undetected, "Undetected misalignment"),
    "scheming_coherence": _fitted_only(scheming_coherence, "Do the scheming answers cohere?"),
    "meta_predictions": lambda a: meta_predictions(a.result.meta_predictions, a.defaults),
    "what_would_settle_it": lambda a: settle(
        a.result.what_would_settle_it, a.defaults, item_texts(a.result)
    ),
    "camps": lambda a: camps(a.result.camps, a.defaults),
}
"""Every analysis figure by file name, each called on an `Analysis`."""

DESCRIPTIONS = {
    "trajectories": "Alignment against capability in the four scenarios, each panel faded by "
    "the group's posterior weight on it.",
    "trajectories_log": "The same trajectories with the misalignment rate on a log axis, where "
    "the gap to what we need shows its true size.",
    "participants_vs_consensus": "Each member's credence in A to D beside the consensus μ and "
    "the range a new member's credence would fall in.",
    "pools": "The classical pools beside the model's consensus, before and after the evidence: "
    "how much the answer depends on the pooling choice.",
    "factor_spread": "Each factor of scheming: the members' answers, the typical member and "
    "the range of a new member's answer.",
    "prior_vs_posterior": "The group's consensus before the evidence (μ) and after it.",
    "crux": "Each member's log-odds gap to the consensus, split exactly into the prior part and "
    "each evidence item's part.",
    "undetected": "The misalignment monitoring would miss under each scenario, per member and "
    "for the group.",
    "scheming_coherence": "Per member: the factor product, the direct P(scheming) and the "
    "credence in D, which should cohere.",
    "meta_predictions": "Each scenario's actual support beside the support members predicted: "
    "the surprisingly popular scenario gets more than predicted.",
    "what_would_settle_it": "How much each proposed observation is expected to reduce the "
    "members' disagreement; red ones would drive them apart.",
    "camps": "The members on a map of their whole answers, coloured by worldview camp.",
}
"""One sentence per figure saying what it shows (the dashboard's caption and alt text)."""

# Fixed metadata, and for SVG a fixed salt for the ids it gives clip paths and markers (random
# without one), so the same analysis exports byte-stable SVG and PDF files.
_METADATA = {"svg": {"Date": None}, "pdf": {"CreationDate": None}, "png": {}}
_SVG_RC = {"svg.hashsalt": "cruxboard"}  # set only around an SVG's save (rcParams are global)
# zlib level 1 instead of Pillow's 6: PNG encoding was about a tenth of a figure's cost; the
# files are about 10 % larger.
_PIL_KWARGS = {"png": {"pil_kwargs": {"compress_level": 1}}, "svg": {}, "pdf": {}}


class _Drawn:
    """What a figure reads of an `Analysis` (its result and defaults), sent to a worker."""

    def __init__(self, result: Result, defaults: Defaults):
        self.result, self.defaults = result, defaults


_job: _Drawn | None = None  # a worker's analysis, set once per worker by `_start_job`
_job_args: tuple[Path | None, tuple[str, ...], int | None] | None = None


CALLER_CHECK_SECONDS = 1.0  # how often a worker checks that the process it draws for lives


def _start_job(
    drawn: _Drawn,
    out_dir: Path | None,
    formats: tuple[str, ...],
    max_width_px: int | None,
    nice: int = 0,
    caller: int | None = None,
) -> None:
    global _job, _job_args
    _job, _job_args = drawn, (out_dir, formats, max_width_px)
    if nice:
        os.nice(nice)
    if caller is not None:
        threading.Thread(target=_exit_without, args=(caller,), daemon=True).start()


def _gone(pid: int) -> bool:
    """Whether process `pid` has ended (a zombie, ended but not yet reaped, counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def _exit_without(caller: int) -> None:
    """A worker's watch: exit once the process whose pool it serves has ended.

    A pool's workers wait on a queue whose writing end they hold themselves, so when the
    caller is killed with its pool open (a server stopped while it draws ahead), nothing
    tells them: they, and the server they were forked from, would stay for good (about
    130 MB each).
    """
    while not _gone(caller):
        time.sleep(CALLER_CHECK_SECONDS)
    os._exit(1)


def _save_one(
    analysis: Analysis | _Drawn,
    name: str,
    out_dir: Path,
    formats,
    max_width_px: int | None = None,
) -> list[Path]:
    fig = FIGURES[name](analysis)
    paths = []
    for fmt in formats:
        path = out_dir / f"{name}.{fmt}"
        _savefig(fig, path, fmt, max_width_px)
        paths.append(path)
    return paths


def _savefig(fig: Figure, target, fmt: str, max_width_px: int | None) -> None:
    """`fig` saved as `fmt` to a path or file: the one way every figure's file or bytes are made."""
    from matplotlib import rc_context

    # rc_context copies and restores every rcParam: only an SVG needs it, not each page image
    with rc_context(_SVG_RC) if fmt == "svg" else nullcontext():
        fig.savefig(
            target,
            format=fmt,
            dpi=png_dpi(fig, max_width_px) if fmt == "png" else "figure",
            metadata=_METADATA[fmt],
            **_PIL_KWARGS[fmt],
        )


def figure_bytes(fig: Figure, fmt: str, *, max_width_px: int | None = None) -> bytes:
    """One figure as PNG, SVG or PDF bytes, as `save_all` writes its files.

    `max_width_px` lowers a PNG's resolution so it is at most that wide (for a page, which
    would otherwise scale a wide image down itself, at some cost); see `png_dpi`.

    Raises
    ------
    ValueError
        For a format other than png, svg or pdf.
    """
    if fmt not in SAVE_FORMATS:
        raise ValueError(f"unknown figure format {fmt!r}; give one of {', '.join(SAVE_FORMATS)}")
    buf = io.BytesIO()
    _savefig(fig, buf, fmt, max_width_px)
    return buf.getvalue()


def _save_in_job(name: str) -> list[Path]:
    return _save_one(_job, name, *_job_args)


def _png_in_job(name: str) -> tuple[str, bytes]:
    return name, figure_bytes(FIGURES[name](_job), "png", max_width_px=_job_args[2])


def _pool_context():
    import multiprocessing

    # forkserver: workers fork from a clean single-threaded server that has already
    # imported the figures (never from the caller, which may hold sampler or web threads).
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["model.figures"])
    return ctx


def start_workers() -> None:
    """Start the server `save_all(..., workers=n)` forks its workers from, in the background.

    Optional: call it early (the command line does, before sampling) so that importing
    matplotlib there overlaps other work; otherwise the first `save_all` with workers
    starts it.
    """
    from multiprocessing import forkserver

    _pool_context()
    forkserver.ensure_running()


def _known(names: Iterable[str]) -> list[str]:
    """`names` in the order of `FIGURES`; a name not in it is refused (ValueError)."""
    wanted = set(names)
    unknown = sorted(wanted - set(FIGURES))
    if unknown:
        raise ValueError(f"unknown figure(s) {unknown}; give some of {', '.join(FIGURES)}")
    return [n for n in FIGURES if n in wanted]


def save_all(
    analysis: Analysis,
    out_dir: Path,
    *,
    formats: Sequence[str] = SAVE_FORMATS,
    workers: int = 1,
    names: Sequence[str] | None = None,
    max_width_px: int | None = None,
) -> list[Path]:
    """Write every figure of `FIGURES` (or those in `names`) in each format to `out_dir`.

    Returns the paths, in the order of `FIGURES`. Files are named ``<figure>.<format>``;
    PNG at 150 dpi, or lower for a figure wider than `max_width_px` at 150 dpi (the report
    passes `SCREEN_MAX_PX`). `out_dir` is created if needed.
    With `workers` > 1 the figures are drawn in that many worker processes (matplotlib's
    drawing holds the GIL, so threads would not help); the files are the same. As with any
    start method but fork, each worker first imports the caller's main script unless it was
    started with ``python -m`` (so a script must keep its work under
    ``if __name__ == "__main__"``); under Streamlit that is the app's script.

    Raises
    ------
    ValueError
        For a format other than png, svg or pdf, or a name not in `FIGURES`.
    """
    formats = tuple(formats)
    bad = [f for f in formats if f not in SAVE_FORMATS]
    if bad or not formats:
        raise ValueError(
            f"unknown format(s) {bad or 'none given'}; give some of {', '.join(SAVE_FORMATS)}"
        )
    names = _known(FIGURES if names is None else names)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if not names:
        return []
    if workers <= 1:
        return [
            p for name in names for p in _save_one(analysis, name, out_dir, formats, max_width_px)
        ]
    from concurrent.futures import ProcessPoolExecutor

    drawn = _Drawn(analysis.result, analysis.defaults)
    with ProcessPoolExecutor(
        max_workers=min(workers, len(names)),
        mp_context=_pool_context(),
        initializer=_start_job,
        initargs=(drawn, out_dir, formats, max_width_px, 0, os.getpid()),
    ) as pool:
        return [p for paths in pool.map(_save_in_job, names) for p in paths]


def draw_pngs(
    analysis: Analysis,
    names: Sequence[str],
    *,
    workers: int = 2,
    max_width_px: int | None = None,
    nice: int = 0,
) -> dict[str, bytes]:
    """The figures `names` as PNG bytes (as `save_all` writes them), drawn in worker processes.

    Always in at most `workers` worker processes, at least one, even for one figure: a
    caller that must not spend its own process's time drawing (a web server, whose threads
    share one interpreter lock) gets nothing drawn in it. `nice` lowers the workers'
    priority (see ``os.nice``), for drawing ahead of a request. Raises what a figure raises.
    """
    names = _known(names)
    if not names:
        return {}
    from concurrent.futures import ProcessPoolExecutor

    drawn = _Drawn(analysis.result, analysis.defaults)
    with ProcessPoolExecutor(
        max_workers=max(1, min(workers, len(names))),
        mp_context=_pool_context(),
        initializer=_start_job,
        initargs=(drawn, None, ("png",), max_width_px, nice, os.getpid()),
    ) as pool:
        return dict(pool.map(_png_in_job, names))
