"""Meta-predictions: actual against predicted support per scenario, and the surprise."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from matplotlib.lines import Line2D

from model.figures._style import (
    LABEL,
    LEGEND,
    SCENARIO_COLOURS,
    TICK,
    figure,
    no_data,
    scenario_names,
    style,
    titles,
)
from model.meta import CAVEAT, INTERVAL_PROB

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from model.meta import MetaPredictions
    from priors import Defaults

TITLE = "What will the group say? Actual and predicted support"


def _points(x: float) -> str:
    """A difference of probabilities in whole percentage points, signed; 0 without a sign."""
    rounded = round(100 * x)
    return f"{rounded:+d}" if rounded else "0"


def meta_predictions(meta: MetaPredictions, defaults: Defaults) -> Figure:
    """Actual against predicted mean credence per scenario, and the surprise with its interval.

    Draws `meta.actual_mean` (filled) and `meta.predicted_mean` (open) per scenario, joined
    by a line; beside them `meta.surprise` with `meta.surprise_interval`, the surprisingly
    popular scenario marked. With too few answers (`meta.reason`) it draws nothing and only
    says so, with the count.
    """
    if not meta.known:
        fig, body = figure(9, 2.6)
        titles(fig, TITLE)
        return no_data(
            fig,
            body,
            f"{meta.answered} member(s) said what they expect the group to say: {meta.reason}.",
        )
    ids = list(meta.actual_mean)
    names = scenario_names(defaults, ids)
    rows = np.arange(len(ids))
    fig, body = figure(11, 1.0 * len(ids) + 3.2)
    left, right = body.subplots(1, 2, sharey=True, width_ratios=[1.25, 1])
    for k, s in enumerate(ids):
        colour = SCENARIO_COLOURS.get(s, "0.4")
        actual, predicted = meta.actual_mean[s], meta.predicted_mean[s]
        left.plot([predicted, actual], [k, k], color="0.75", linewidth=2.5, zorder=1)
        left.plot(predicted, k, "o", ms=10, mfc="white", mec=colour, mew=2, zorder=2)
        left.plot(actual, k, "o", ms=10, color=colour, zorder=3)
        surprise = meta.surprise[s]
        lo, hi = meta.surprise_interval[s]
        popular = s == meta.surprisingly_popular
        right.errorbar(
            surprise,
            k,
            xerr=[[surprise - lo], [hi - surprise]],
            fmt="D" if popular else "o",
            color=colour,
            ms=10 if popular else 8,
            capsize=5,
            linewidth=2,
        )
        right.annotate(
            f"{_points(surprise)} points",
            (hi, k),
            xytext=(6, 0),
            textcoords="offset points",
            va="center",
            fontsize=TICK - 1,
            fontweight="bold" if popular else "normal",
            color=colour,
        )
    left.set_yticks(rows, [f"{s} · {name}" for s, name in zip(ids, names, strict=True)])
    left.tick_params(axis="y", labelsize=TICK)
    for s, tick in zip(ids, left.get_yticklabels(), strict=True):
        if s == meta.surprisingly_popular:
            tick.set_fontweight("bold")
    left.set_ylim(len(ids) - 0.5, -0.5)
    left.set_xlim(0, 1)
    left.xaxis.set_major_formatter(lambda v, _: f"{100 * v:.0f} %")
    left.set_xlabel("mean credence", fontsize=LABEL)
    style(left, grid="x")
    lows = [lo for lo, _ in meta.surprise_interval.values()]
    highs = [hi for _, hi in meta.surprise_interval.values()]
    reach = max(0.05, *(abs(v) for v in (*lows, *highs)))
    right.set_xlim(-1.15 * reach, 1.6 * reach)  # room on the right for the labels
    right.axvline(0, color="0.4", linewidth=1)
    right.xaxis.set_major_formatter(lambda v, _: _points(v))
    popular = meta.surprisingly_popular
    right.set_title(
        f"{popular} is surprisingly popular" if popular else "No single scenario stands out",
        fontsize=LABEL,
        fontweight="bold",
        color=SCENARIO_COLOURS.get(popular, "0.2") if popular else "0.2",
    )
    right.set_xlabel("surprise: actual − predicted (points)", fontsize=LABEL)
    style(right, grid="x")
    handles = [
        Line2D([], [], marker="o", linestyle="", color="0.3", ms=9),
        Line2D([], [], marker="o", linestyle="", mfc="white", mec="0.3", mew=2, ms=9),
        Line2D([], [], marker="o", linestyle="-", color="0.3", ms=7),
    ]
    labels = [
        "actual: members' mean credence",
        "predicted: members' mean forecast of the group",
        f"surprise, {round(100 * INTERVAL_PROB)} % bootstrap interval",
    ]
    body.legend(
        handles, labels, loc="outside upper center", ncols=3, fontsize=LEGEND, frameon=False
    )
    if meta.surprisingly_popular is not None:
        s = meta.surprisingly_popular
        finding = (
            f"{s} is surprisingly popular: {100 * meta.actual_mean[s]:.0f} % actual against "
            f"{100 * meta.predicted_mean[s]:.0f} % predicted; it comes out on top in "
            f"{100 * meta.surprisingly_popular_share:.0f} % of resamples."
        )
    else:
        finding = f"No single scenario is surprisingly popular: {meta.tie_reason}."
    caption = (
        f"{meta.answered} members who answered both questions; intervals by "
        f"{meta.uncertainty}. {finding} {CAVEAT}"
    )
    titles(fig, TITLE, caption)
    return fig
