"""The crux figure: each member's log-odds gap to the consensus, split by prior and evidence."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from matplotlib.lines import Line2D

from model.figures._style import (
    LABEL,
    LEGEND,
    TERM_COLOURS,
    TICK,
    figure,
    item_labels,
    largest_rows,
    plain,
    style,
    titles,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from model.results import Result
    from priors import Defaults


def _infinite_parts(
    ax: Axes,
    gaps: np.ndarray,
    terms: tuple[str, ...],
    labels: dict[str, str],
    colours: dict[str, str],
    xlim: tuple[float, float],
    arrow_len: float,
) -> None:
    """Arrows to the axis edge for ±∞ parts (a stated 0), a note for undefined ones."""
    xmin, xmax = xlim
    for i, row in enumerate(gaps):
        bad = [t for t in range(row.size) if not np.isfinite(row[t])]
        for j, t in enumerate(bad):
            yy = i + (j - (len(bad) - 1) / 2) * 0.3
            if np.isnan(row[t]):
                ax.text(
                    xmax,
                    yy,
                    f"{labels.get(terms[t], terms[t])}: undefined (0 on both sides)",
                    ha="right",
                    va="center",
                    fontsize=TICK - 2,
                    color="0.3",
                )
                continue
            edge, sign = (xmax, 1) if row[t] > 0 else (xmin, -1)
            ax.annotate(
                f"{'+' if sign > 0 else '−'}∞: ruled out (stated 0)",
                xy=(edge, yy),
                xytext=(edge - sign * arrow_len, yy),
                ha="right" if sign > 0 else "left",
                va="center",
                fontsize=TICK - 1,
                color="black",
                arrowprops={"arrowstyle": "-|>", "color": colours[terms[t]], "lw": 2.5},
            )


def crux(result: Result, defaults: Defaults, *, versus: str = "D", reference: str = "A") -> Figure:
    """Each member's posterior log-odds gap to the consensus, split by prior and evidence.

    Draws `result.cruxes[versus]`: one stacked bar per member, a part per term (`gaps`),
    and the whole gap (`totals`) as a diamond. With more than `MAX_ROWS` members, the
    furthest from the consensus are shown.

    Parameters
    ----------
    result : Result
    defaults : Defaults
        Unused; every figure takes it, so the registry calls them all alike.
    versus : str
        The scenario compared against `reference`.
    reference : str
        The reference scenario (default A).

    Raises
    ------
    ValueError
        If `versus` or `reference` is not a scenario, or they are the same.
    """
    table = (result.cruxes_against or {}).get(reference) or (
        result.cruxes if reference == "A" else {}
    )
    if versus not in table:
        raise ValueError(
            f"versus is {versus!r} and reference {reference!r}; give two different scenarios "
            f"of {', '.join(result.scenarios)}"
        )
    crux_ = table[versus]
    terms = crux_.terms
    totals = crux_.totals
    n_all = len(crux_.participants)
    keep = largest_rows(np.where(np.isfinite(totals), np.abs(totals), np.inf))
    gaps, totals = crux_.gaps[keep], totals[keep]
    names = [plain(crux_.participants[i]) for i in keep]
    items = item_labels(result)  # evidence items by their text, never their ids
    n = len(names)

    # Bars stack outward from 0: positive parts to the right, negative to the left.
    finite = np.where(np.isfinite(gaps), gaps, 0.0)
    pos_ext = np.clip(finite, 0, None).sum(1)
    neg_ext = np.clip(finite, None, 0).sum(1)
    lo, hi = min(0.0, neg_ext.min(initial=0.0)), max(0.0, pos_ext.max(initial=0.0))
    span = max(hi - lo, 1.0)
    has_pos_inf = bool(np.any(np.isposinf(gaps)) or np.any(np.isnan(gaps)))
    has_neg_inf = bool(np.any(np.isneginf(gaps)))
    xmin = lo - span * (0.05 + 0.22 * has_neg_inf)
    xmax = hi + span * (0.05 + 0.22 * has_pos_inf)

    fig, body = figure(11, 0.42 * n + 3.4)
    ax = body.add_subplot()
    y = np.arange(n)
    pos_left, neg_left = np.zeros(n), np.zeros(n)
    colours = {}
    for t, term in enumerate(terms):
        colour = "0.55" if term == "prior" else TERM_COLOURS[(t - 1) % len(TERM_COLOURS)]
        colours[term] = colour
        part = finite[:, t]
        left = np.where(part >= 0, pos_left, neg_left)
        label = (
            "prior (stated credences)" if term == "prior" else f"evidence: {items.get(term, term)}"
        )
        ax.barh(y, part, left=left, height=0.62, color=colour, label=label)
        pos_left += np.clip(part, 0, None)
        neg_left += np.clip(part, None, 0)
    _infinite_parts(ax, gaps, terms, items, colours, (xmin, xmax), 0.16 * span)
    for i, total in enumerate(totals):
        if np.isfinite(total):
            ax.plot(total, i, "D", color="black", markersize=7, zorder=4)
        elif np.isnan(total):
            ax.text(
                neg_ext[i] - 0.01 * span,
                i,
                "total undefined (+∞ and −∞)",
                ha="right",
                va="center",
                fontsize=TICK - 1,
                color="0.3",
            )
        else:
            ax.plot(
                xmax if total > 0 else xmin,
                i,
                ">" if total > 0 else "<",
                color="black",
                markersize=8,
                clip_on=False,
                zorder=4,
            )
    ax.axvline(0, color="black", linewidth=1)
    ax.set_xlim(xmin, xmax)
    ax.set_yticks(y, names, fontsize=TICK)
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_xlabel(
        f"member's log-odds({versus} : {reference}) − consensus's, in nats "
        f"(← favours {reference} more · favours {versus} more →)",
        fontsize=LABEL,
    )
    style(ax, grid="x")
    handles, labels = ax.get_legend_handles_labels()
    handles.append(Line2D([], [], marker="D", linestyle="", color="black", ms=7))
    labels.append("total gap (sum of the parts)")
    body.legend(
        handles,
        labels,
        loc="outside upper center",
        ncols=min(len(labels), 4 if max(map(len, labels)) <= 30 else 2),  # item texts are long
        fontsize=LEGEND,
        frameon=False,
    )
    caption = (
        f"Each member's posterior log-odds of {versus} against {reference} splits exactly into "
        "a prior "
        f"part and one part per evidence item; each part is shown minus the consensus's "
        f"(posterior mean of the model's log_odds), so the bars add up to the gap (◆). "
        f"1 nat = ×2.7 in odds, 2.3 nats = ×10. ±∞: the member stated a probability of 0."
    )
    if n < n_all:
        caption += f" Shown: the {n} of {n_all} members furthest from the consensus."
    titles(fig, f"Where members part from the consensus: {versus} versus {reference}", caption)
    return fig
