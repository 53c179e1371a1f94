"""What every figure shares: colours, type sizes, the figure frame, axes and dot placement."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure, SubFigure
from matplotlib.ticker import FuncFormatter, NullLocator

from model.results import HDI_PROB

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from model.results import Result, Stat
    from priors import Defaults

HDI_LABEL = f"{round(100 * HDI_PROB)} % HDI"

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
OI = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
}
SCENARIO_COLOURS = {"A": OI["blue"], "B": OI["orange"], "C": OI["green"], "D": OI["purple"]}
TERM_COLOURS = [OI["sky"], OI["orange"], OI["green"], OI["purple"], OI["vermillion"]]

TITLE, LABEL, TICK, LEGEND, CAPTION = 15, 12, 11, 10, 10
CAPTION_COLOUR = "0.25"

MAX_ROWS = 40
"""One-row-per-member figures show at most this many members."""


def scenario_names(defaults: Defaults, ids: Sequence[str]) -> list[str]:
    """The scenarios' names, in the order of `ids`."""
    return [defaults.scenario(s).name for s in ids]


def pct(p: float) -> str:
    """A probability in whole percent; "<1 %" for a small positive one, "n/a" if not finite."""
    if not np.isfinite(p):
        return "n/a"
    if 0 < p < 0.005:
        return "<1 %"
    return f"{100 * p:.0f} %"


def plain(text: str) -> str:
    """User text drawn literally: a `$` would otherwise start matplotlib's mathtext."""
    return text.replace("$", r"\$")


SHORT_TEXT = 40
"""Characters of an evidence item's text in a label, legend or caption (then "…")."""


def short(text: str, limit: int = SHORT_TEXT) -> str:
    """`text` on one line, cut to `limit` characters ending in "…" when longer."""
    one = " ".join(text.split())
    return one if len(one) <= limit else one[: limit - 1].rstrip() + "…"


def item_labels(result: Result, limit: int = SHORT_TEXT) -> dict[str, str]:
    """Each evidence item's text, shortened and drawn literally, by its id.

    Figures name an item by its text (`result.evidence`), never by its id; an id that is
    not in `result.evidence` is shown as it is.
    """
    return {str(e["id"]): plain(short(str(e["text"]), limit)) for e in result.evidence}


def largest_rows(score: np.ndarray, max_rows: int = MAX_ROWS) -> np.ndarray:
    """Indices of the `max_rows` highest scores (all rows if fewer), in the original order."""
    if len(score) <= max_rows:
        return np.arange(len(score))
    return np.sort(np.argsort(-score, kind="stable")[:max_rows])


def whiskers(stats: Sequence[Stat]) -> list[list[float]]:
    """Matplotlib's ``xerr``/``yerr`` for means with their HDIs: the distances to the ends."""
    return [[s.mean - s.hdi[0] for s in stats], [s.hdi[1] - s.mean for s in stats]]


def dodge(values: np.ndarray, *, near: float, step: float, limit: float) -> np.ndarray:
    """Sideways offsets for dots at `values`, so dots at nearly the same value stay apart.

    Deterministic (a beeswarm by rank): dots are visited in order of value; a dot within
    `near` of the first dot of its run takes the run's next slot, 0, +step, −step, +2·step,
    … out to ±`limit`, then the slots repeat. A non-finite value gets offset 0.

    Parameters
    ----------
    values : ndarray
        Positions along the value axis, in the axis's scale units (see `scale_units`).
    near : float
        Values closer than this share a run.
    step, limit : float
        Distance between slots and the largest offset, in the other axis's units.
    """
    values = np.asarray(values, dtype=float)
    half = max(int(limit // step), 0)
    slots = np.array([0.0, *(s * k for k in range(1, half + 1) for s in (1, -1))]) * step
    out = np.zeros(values.shape)
    start, rank = -np.inf, 0
    for i in np.argsort(values, kind="stable"):
        if not np.isfinite(values[i]):
            continue
        if values[i] - start > near:
            start, rank = values[i], 0
        out[i] = slots[rank % slots.size]
        rank += 1
    return out


def scale_units(ax: Axes, values: np.ndarray, *, axis: str = "x") -> np.ndarray:
    """`values` in the units of the axis's scale (log, logit, linear): what the eye sees."""
    scale = (ax.xaxis if axis == "x" else ax.yaxis).get_transform()
    return np.asarray(scale.transform(np.asarray(values, dtype=float)), dtype=float)


def figure(width: float, height: float) -> tuple[Figure, SubFigure]:
    """A figure and the subfigure that holds the plots and their legend.

    The title and caption go on the figure, the legend on the subfigure: constrained
    layout then stacks title, legend, plots and caption without overlap.
    """
    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.subfigures(1, 1)


def titles(fig: Figure, title: str, caption: str | None = None) -> None:
    """A bold title on top and a caption-like note under the plot, wrapped to the width."""
    fig.suptitle(title, fontsize=TITLE, fontweight="bold")
    if caption:
        width_chars = int(fig.get_figwidth() * 12.5)
        text = "\n".join(textwrap.fill(p, width_chars) for p in caption.split("\n"))
        fig.supxlabel(text, fontsize=CAPTION, color=CAPTION_COLOUR, x=0.01, ha="left")


def style(ax: Axes, *, grid: str | None = "y") -> None:
    """Tick sizes, no top or right spine, a light grid behind the data."""
    ax.tick_params(labelsize=TICK)
    ax.spines[["top", "right"]].set_visible(False)
    if grid:
        ax.grid(axis=grid, color="0.88", linewidth=0.8)
        ax.set_axisbelow(True)


def capability_axis(ax: Axes, *, fontsize: float = LABEL, label: bool = True) -> None:
    """A log x axis of capability, ticks as multiples of today ("10×")."""
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}×" if v >= 1 else f"{v:g}×"))
    ax.xaxis.set_minor_locator(NullLocator())
    if label:
        ax.set_xlabel("capability (× today)", fontsize=fontsize)


def no_data(fig: Figure, body: SubFigure, message: str) -> Figure:
    """`fig` with `message` in place of a plot."""
    ax = body.add_subplot()
    ax.set_axis_off()
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=LABEL, wrap=True)
    return fig
