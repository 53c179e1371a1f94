"""What would settle the disagreement, and the camps: two figures drawn from the records."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from matplotlib.lines import Line2D

from model.figures._style import (
    HDI_LABEL,
    LABEL,
    LEGEND,
    OI,
    TICK,
    figure,
    no_data,
    plain,
    style,
    titles,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from model.camps import Camps
    from model.settle import Settler
    from priors import Defaults

CAMP_COLOURS = [OI["blue"], OI["orange"], OI["green"], OI["purple"], OI["vermillion"]]
_KIND = {
    "question": "question",
    "counts": "one more observation of the same size",
    "likelihood": "seen again, or not",
}


def _short(text: str, n: int = 48) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def settle(
    settlers: tuple[Settler, ...] | None, defaults: Defaults, texts: dict[str, str]
) -> Figure:
    """Each candidate observation's expected reduction in disagreement, with its interval.

    `texts` maps an item id to its text (shown instead of the id).
    """
    title = "What would settle it: expected reduction in disagreement"
    known = [s for s in settlers or () if s.vod is not None]
    if not known:
        fig, body = figure(8, 2.6)
        titles(fig, title)
        return no_data(fig, body, "No observation two or more members read: nothing to rank.")
    fig, body = figure(11, 0.62 * len(known) + 2.8)
    ax = body.add_subplot()
    y = np.arange(len(known))
    for i, s in enumerate(known):
        colour = OI["vermillion"] if s.polarising else OI["green"]
        lo, hi = s.vod.hdi
        ax.barh(i, s.vod.mean, color=colour, height=0.6, alpha=0.85)
        ax.plot([lo, hi], [i, i], color="black", linewidth=1.6)
    ax.axvline(0, color="black", linewidth=1)
    labels = [
        f"{plain(_short(texts.get(s.item, s.item)))}\n({_KIND.get(s.kind, s.kind)})" for s in known
    ]
    ax.set_yticks(y, labels, fontsize=TICK - 1)
    ax.set_ylim(len(known) - 0.5, -0.5)
    ax.set_xlabel(
        "expected fall in the members' mean pairwise divergence (Jensen–Shannon, bits)",
        fontsize=LABEL,
    )
    style(ax, grid="x")
    handles = [
        Line2D([], [], color=OI["green"], linewidth=8),
        Line2D([], [], color=OI["vermillion"], linewidth=8),
        Line2D([], [], color="black", linewidth=1.6),
    ]
    body.legend(
        handles,
        [
            "would bring members together",
            "polarising: members read it oppositely, it would drive them apart",
            f"{HDI_LABEL} over the group posterior",
        ],
        loc="outside upper center",
        ncols=2,
        fontsize=LEGEND,
        frameon=False,
    )
    titles(
        fig,
        title,
        "For each observation: today's mean divergence between members' posteriors minus its "
        "expected value once the outcome is known, each outcome weighted by the group's "
        "predictive probability of it. Larger = settles more.",
    )
    return fig


def camps(result_camps: Camps, defaults: Defaults) -> Figure:
    """A map of the members (two principal axes of their whole answers), coloured by camp."""
    title = f"Worldview camps: {result_camps.k} found"
    members = result_camps.members
    if not members:
        fig, body = figure(8, 2.6)
        titles(fig, title)
        return no_data(fig, body, "No members.")
    fig, body = figure(10, 7)
    ax = body.add_subplot()
    by_id = {c.id: c for c in result_camps.camps}
    for camp_id in sorted({m.camp for m in members}):
        pts = [m for m in members if m.camp == camp_id]
        colour = CAMP_COLOURS[(camp_id - 1) % len(CAMP_COLOURS)]
        label = by_id[camp_id].label if camp_id in by_id else f"camp {camp_id}"
        ax.scatter(
            [m.x for m in pts],
            [m.y for m in pts],
            s=[30 + 70 * m.p for m in pts],
            color=colour,
            edgecolor="white",
            alpha=0.9,
            label=f"camp {camp_id} ({len(pts)}): {plain(_short(label, 70))}",
            zorder=3,
        )
    ex, ey = (result_camps.axes_explained + (0.0, 0.0))[:2]
    qx, qy = (tuple(result_camps.axes_quantities) + ((), ()))[:2]
    ax.set_xlabel(
        f"axis 1 ({100 * ex:.0f} % of the spread; mostly {', '.join(qx[:2]) or '–'})",
        fontsize=LABEL,
    )
    ax.set_ylabel(f"axis 2 ({100 * ey:.0f} %; mostly {', '.join(qy[:2]) or '–'})", fontsize=LABEL)
    style(ax, grid="both")
    body.legend(loc="outside upper center", ncols=1, fontsize=LEGEND, frameon=False)
    titles(
        fig,
        title,
        "Each dot is a member, placed by the first two principal axes of their whole answer "
        "(credences as log-ratios, factors and readings on the logit scale); larger dots are "
        f"surer members of their camp. {result_camps.method}",
    )
    return fig
