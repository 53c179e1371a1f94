"""Undetected misalignment per counts item: per scenario, per member and for the group."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from matplotlib.lines import Line2D

from model.figures._style import (
    HDI_LABEL,
    LABEL,
    LEGEND,
    OI,
    SCENARIO_COLOURS,
    TICK,
    dodge,
    figure,
    no_data,
    plain,
    scale_units,
    scenario_names,
    short,
    style,
    titles,
    whiskers,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from model.results import Result, Undetected
    from priors import Defaults

_TITLE = "Low detected misalignment says little about D when d_D is small"
_TITLE_TEXT = 70  # characters of the item's text in its panel's title (fits at 12 pt)


def _item_panel(ax: Axes, result: Result, item: Undetected) -> list[float]:
    """One counts item's rows; returns the smallest values drawn (for the shared x axis)."""
    ids = list(result.scenarios)
    for k, sid in enumerate(ids):
        colour = SCENARIO_COLOURS.get(sid, "0.4")
        stat = item.per_scenario[sid]
        ax.errorbar(
            stat.mean,
            k,
            xerr=whiskers([stat]),
            fmt="o",
            color=colour,
            markersize=9,
            capsize=5,
            linewidth=2,
        )
        ax.plot(item.detected_per_scenario[sid], k, "o", mfc="white", mec=colour, mew=2, ms=9)
    own = np.array([p.undetected[item.item] for p in result.participants], dtype=float)
    # the x axis is logarithmic by now: dots close on it stack vertically
    side = dodge(scale_units(ax, own), near=0.05, step=0.075, limit=0.15)
    ax.scatter(own, len(ids) + side, s=40, color="0.35", edgecolor="white", zorder=3)
    group = item.expected_given_evidence
    ax.errorbar(
        group.mean,
        len(ids) + 1,
        xerr=whiskers([group]),
        fmt="D",
        color="black",
        ms=8,
        capsize=5,
    )
    if item.observed_rate > 0:
        ax.axvline(item.observed_rate, color=OI["vermillion"], linestyle="--", linewidth=1.6)
        ax.annotate(
            f"observed detected rate {item.detected}/{item.episodes:,} = {item.observed_rate:.2g}",
            (item.observed_rate, -0.95),
            xytext=(5, 0),
            textcoords="offset points",
            fontsize=TICK - 1,
            color=OI["vermillion"],
            va="center",
        )
    ax.axhline(len(ids) - 0.5, color="0.7", linewidth=0.8)
    ax.set_title(plain(short(item.text, _TITLE_TEXT)), fontsize=LABEL, loc="left")
    style(ax, grid="x")
    return [
        *(item.per_scenario[s].hdi[0] for s in ids),
        *(v for v in own if v > 0),
        *item.detected_per_scenario.values(),
        group.hdi[0],
    ]


def undetected(result: Result, defaults: Defaults) -> Figure:
    """Undetected misalignment m_s(1 - d_s) per scenario, per member and for the group.

    Draws, per counts item of `result.undetected`: `per_scenario` (mean and HDI),
    `detected_per_scenario`, each member's `undetected` under their own posterior,
    `expected_given_evidence` and the `observed_rate`. Says so when there is no counts item.
    """
    ids = list(result.scenarios)
    if not result.undetected:
        fig, body = figure(8, 3)
        titles(fig, _TITLE)
        return no_data(fig, body, "No counts evidence in this group: nothing to show.")
    items = list(result.undetected.values())
    names = scenario_names(defaults, ids)
    row_labels = [
        *(f"{s} · {name}" for s, name in zip(ids, names, strict=True)),
        "each member, under their own posterior",
        "group, under the consensus posterior",
    ]
    fig, body = figure(11, 3.3 * len(items) + 2.4)
    axes = body.subplots(len(items), 1, sharex=True, squeeze=False)[:, 0]
    axes[0].set_xscale("log")
    lows, facts = [], []
    for ax, item in zip(axes, items, strict=True):
        lows += _item_panel(ax, result, item)
        ax.set_yticks(range(len(row_labels)), row_labels, fontsize=TICK)
        ax.set_ylim(len(row_labels) - 0.5, -1.4)
        if "D" in ids and "A" in ids:
            det, und = item.detected_per_scenario, item.per_scenario
            facts.append(
                f"{plain(short(item.text))}: expected detected rate {det['A']:.2g} under A and "
                f"{det['D']:.2g} under D, but undetected {und['A'].mean:.2g} vs "
                f"{und['D'].mean:.2g}."
            )
    low = 10.0 ** np.floor(np.log10(max(min(lows, default=1.0), 1e-8)))
    axes[0].set_xlim(low, 1)
    axes[-1].set_xlabel("rate per episode (log scale)", fontsize=LABEL)
    handles = [
        Line2D([], [], marker="o", linestyle="-", color="0.3", ms=8),
        Line2D([], [], marker="o", linestyle="", mfc="white", mec="0.3", mew=2, ms=8),
        Line2D([], [], marker="o", linestyle="", color="0.35", markeredgecolor="white", ms=8),
        Line2D([], [], marker="D", linestyle="-", color="black", ms=7),
    ]
    labels = [
        f"undetected m_s·(1 − d_s), typical reading: mean, {HDI_LABEL}",
        "expected detected rate m_s·d_s + (1 − m_s)·fa (mean)",
        "a member: Σ_s post_i(s)·m_s·(1 − d_is)",
        f"group: Σ_s consensus posterior(s)·m_s·(1 − d_s), {HDI_LABEL}",
    ]
    body.legend(
        handles, labels, loc="outside upper center", ncols=2, fontsize=LEGEND, frameon=False
    )
    caption = (
        "m_s: the scenario's misalignment rate today; d_s: detection sensitivity. "
        + " ".join(facts)
        + " Seeing few detections fits A and D alike when D's detection is believed small."
    )
    titles(fig, _TITLE, caption)
    return fig
