"""Do the scheming answers cohere: factor product, direct P(scheming), credence in D."""

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
    largest_rows,
    plain,
    style,
    titles,
    whiskers,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from model.results import Result
    from priors import Defaults

_KINDS = (
    ("product", "product of the four factors", "o", OI["blue"]),
    ("direct", "direct P(scheming)", "s", OI["orange"]),
    ("credence_d", "credence in D (already scheming)", "^", OI["purple"]),
)


def _member_row(ax: Axes, i: int, row: np.ndarray, edge: float) -> None:
    """One member's answers on row `i`: a stated 0 open at the left `edge`, a blank left out."""
    shown = np.where(row > 0, row, edge)
    ok = np.isfinite(row)
    if ok.sum() > 1:
        ax.plot([shown[ok].min(), shown[ok].max()], [i, i], color="0.75", linewidth=2, zorder=1)
    for j, (_, _, marker, colour) in enumerate(_KINDS):
        if not ok[j]:
            continue
        zero = row[j] == 0
        ax.plot(
            shown[j],
            i,
            marker,
            ms=9,
            mfc="white" if zero else colour,
            mec=colour,
            mew=1.8,
            linestyle="",
            zorder=3,
        )
        if zero:
            ax.annotate(
                "0",
                (shown[j], i),
                xytext=(0, 8),
                textcoords="offset points",
                ha="center",
                fontsize=TICK - 2,
                color=colour,
            )


def scheming_coherence(result: Result, defaults: Defaults) -> Figure:
    """Per member: factor product, direct P(scheming) and credence in D, on a log axis.

    Draws each member's `coherence` (product, direct, credence_d; a ⚠ where it has
    notes) and, for the group, `result.scheming` (product of the consensus factors, the
    typical member's direct answer, the consensus of members' products) and `result.mu_d`.
    With more than `MAX_ROWS` members, those with the most notes are shown.

    Parameters
    ----------
    result : Result
    defaults : Defaults
        Unused; every figure takes it, so the registry calls them all alike.
    """
    members = result.participants
    n_all = len(members)
    keep = largest_rows(np.array([len(p.coherence.notes) for p in members], dtype=float))
    checks = [members[i].coherence for i in keep]
    names = [plain(members[i].id) for i in keep]
    n = len(checks)
    values = np.array(
        [[np.nan if getattr(c, k) is None else getattr(c, k) for k, *_ in _KINDS] for c in checks],
        dtype=float,
    ).reshape(n, len(_KINDS))
    scheming = result.scheming
    group = (
        ("product", scheming.product_of_consensus, "o", OI["blue"]),
        ("direct", scheming.direct_typical, "s", OI["orange"]),
        ("credence_d", result.mu_d, "^", OI["purple"]),
        ("consensus_of_products", scheming.consensus_of_products, "o", OI["blue"]),
    )
    positive = values[np.isfinite(values) & (values > 0)]
    lows = [positive.min(initial=1.0), *(stat.hdi[0] for _, stat, *_ in group)]
    low = 10.0 ** np.floor(np.log10(max(min(lows), 1e-6)))

    fig, body = figure(11, 0.42 * (n + 2) + 3.4)
    ax = body.add_subplot()
    for i in range(n):
        _member_row(ax, i, values[i], low * 1.15)
    gy = n + 0.6
    for r, (key, stat, marker, colour) in enumerate(group):
        yy = gy + (1 if key == "consensus_of_products" else 0) + (r - 1) * 0.16 * (r < 3)
        ax.errorbar(
            stat.mean,
            yy,
            xerr=whiskers([stat]),
            fmt=marker,
            color=colour,
            mfc=colour if key != "consensus_of_products" else "white",
            mew=1.8,
            ms=8,
            capsize=4,
            linewidth=1.6,
        )
    ax.axhline(n - 0.2, color="0.6", linewidth=0.8)
    labels = [f"{name}  ⚠" if c.notes else name for name, c in zip(names, checks, strict=True)]
    labels += ["group (typical member)", "group: consensus of\nmembers' products"]
    ax.set_yticks([*range(n), gy, gy + 1], labels, fontsize=TICK)
    for tick, c in zip(ax.get_yticklabels()[:n], checks, strict=True):
        if c.notes:
            tick.set_color(OI["vermillion"])
    ax.set_ylim(gy + 1.6, -0.6)
    ax.set_xscale("log")
    ax.set_xlim(low, 1.0)
    ax.set_xlabel("probability (log scale)", fontsize=LABEL)
    style(ax, grid="x")
    handles = [Line2D([], [], marker=mk, linestyle="", color=col, ms=8) for _, _, mk, col in _KINDS]
    labels = [label for _, label, *_ in _KINDS]
    handles.append(Line2D([], [], marker="o", linestyle="-", color=OI["blue"], mfc="white", ms=8))
    labels.append(f"group rows: posterior mean, {HDI_LABEL}")
    body.legend(
        handles, labels, loc="outside upper center", ncols=2, fontsize=LEGEND, frameon=False
    )
    caption = (
        "D (models already scheme covertly) implies scheming, so the factor product and the "
        "direct P(scheming) should each be at least the credence in D. ⚠ (red name): product "
        "and direct answer differ 3× or more, or one is 3× or more below the credence in D, or "
        "three factors are high while the fourth keeps the product low. Open markers at the "
        "left edge: a stated 0; a missing marker: unanswered. Group rows: the product of the "
        "consensus factors (filled) and the consensus of members' products (open) differ; "
        "that difference is informative."
    )
    if n < n_all:
        caption += f" Shown: {n} of {n_all} members, those with the most flags first."
    titles(fig, "Do the scheming answers cohere?", caption)
    return fig
