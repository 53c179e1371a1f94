"""The factors of scheming and the direct P(scheming): members, consensus, a new member."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from model.figures._style import (
    HDI_LABEL,
    LABEL,
    LEGEND,
    OI,
    TICK,
    dodge,
    figure,
    scale_units,
    style,
    titles,
    whiskers,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from model.results import Result
    from priors import Defaults

_EDGE = 1e-4  # answers of 0 or 1 are drawn at the axis edge (open markers)
_FINE_TICKS = [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995]
_COARSE_TICKS = [1e-4, 1e-3, 0.01, 0.1, 0.5, 0.9, 0.99, 0.999, 0.9999]
_TICKS = sorted({*_FINE_TICKS, *_COARSE_TICKS})


def _limits(values: np.ndarray) -> tuple[float, float]:
    """Limits that show all `values` on a logit axis, in steps of the tick list."""
    v = np.clip(values[np.isfinite(values)], _EDGE, 1 - _EDGE)
    lo = max([t for t in _TICKS if t <= min(v.min(initial=0.5), 0.02)], default=_EDGE)
    hi = min([t for t in _TICKS if t >= max(v.max(initial=0.5), 0.98)], default=1 - _EDGE)
    return lo / 1.5, 1 - (1 - hi) / 1.5


def _probability_axis(ax: Axes, limits: tuple[float, float]) -> None:
    ax.set_xscale("logit")
    ax.set_xlim(*limits)
    narrow = limits[0] >= _FINE_TICKS[0] / 1.5 and limits[1] <= 1 - (1 - _FINE_TICKS[-1]) / 1.5
    ax.xaxis.set_major_locator(FixedLocator(_FINE_TICKS if narrow else _COARSE_TICKS))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlabel("probability (logit scale)", fontsize=LABEL)


def factor_spread(result: Result, defaults: Defaults) -> Figure:
    """Each factor of scheming and the direct P(scheming): members, consensus, new member.

    Draws, per entry of `result.factors` (the four factors in the order of `defaults`, then
    the direct question): the members' `answers`, the `consensus` (mean and HDI) and the
    HDI of `new_member` as a band.
    """
    rows = [result.factors[f] for f in (*defaults.factor_ids, defaults.direct.id)]
    n = result.n_participants
    answers = [np.array(f.answers, dtype=float) for f in rows]
    inside = np.concatenate([a[(a > 0) & (a < 1)] for a in answers])
    ends = [v for f in rows for v in (*f.consensus.hdi, *f.new_member.hdi)]
    limits = _limits(np.concatenate([inside, ends]))

    fig, body = figure(11, 0.95 * len(rows) + 2.8)
    ax = body.add_subplot()
    _probability_axis(ax, limits)
    span = np.ptp(scale_units(ax, limits))
    labels = []
    for row, (factor, stated) in enumerate(zip(rows, answers, strict=True)):
        lo, hi = factor.new_member.hdi
        ax.barh(row, hi - lo, left=lo, height=0.72, color=OI["blue"], alpha=0.15)
        # a stated 0 or 1 has no place on a logit axis: draw it at the edge, open
        edge = (stated <= 0) | (stated >= 1)
        shown = np.where(stated <= 0, limits[0], np.where(stated >= 1, limits[1], stated))
        y = row - 0.1 + dodge(scale_units(ax, shown), near=0.015 * span, step=0.07, limit=0.14)
        ax.scatter(shown[~edge], y[~edge], s=40, color=OI["blue"], edgecolor="white", zorder=3)
        ax.scatter(
            shown[edge],
            y[edge],
            s=40,
            facecolor="white",
            edgecolor=OI["blue"],
            zorder=3,
            clip_on=False,
        )
        for xv, yv, a in zip(shown[edge], y[edge], stated[edge], strict=True):
            ax.annotate(
                f"{a:g}",
                (xv, yv),
                xytext=(0, 7),
                textcoords="offset points",
                ha="center",
                fontsize=TICK - 2,
                color=OI["blue"],
                annotation_clip=False,
            )
        ax.errorbar(
            factor.consensus.mean,
            row + 0.24,
            xerr=whiskers([factor.consensus]),
            fmt="D",
            color="black",
            markersize=7,
            capsize=5,
            linewidth=2,
            zorder=4,
        )
        labels.append(f"{factor.name}\n(answered {factor.answered} of {n})")
    ax.axhline(len(rows) - 1.5, color="0.6", linewidth=0.8)
    ax.set_yticks(range(len(rows)), labels, fontsize=TICK)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    style(ax, grid="x")
    handles = [
        Line2D([], [], marker="o", linestyle="", color=OI["blue"], markeredgecolor="white", ms=8),
        Line2D([], [], marker="D", linestyle="-", color="black", ms=7),
        Patch(facecolor=OI["blue"], alpha=0.25),
    ]
    legend_labels = [
        "a member's answer (open: 0 or 1, drawn at the edge)",
        f"typical member expit(θ): posterior mean, {HDI_LABEL}",
        f"a new member's answer: {HDI_LABEL}, expit(θ + τ·z) over posterior draws",
    ]
    body.legend(
        handles,
        legend_labels,
        loc="outside upper center",
        ncols=2,
        fontsize=LEGEND,
        frameon=False,
    )
    caption = (
        "Scheming ≈ non-corrigibility × misaligned goals × evades guardrails × strategic "
        "reasoning. Each answer is modelled as logit f ~ Normal(θ, τ): θ the typical answer, τ "
        "the spread between members (a wide shaded band = the group disagrees). Unanswered "
        "items are missing data, not zeros."
    )
    titles(fig, "Factors of scheming: how far apart the group is", caption)
    return fig
