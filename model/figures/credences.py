"""The group's credences over A-D: members and consensus, the pools, before and after."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
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
    item_labels,
    pct,
    scenario_names,
    style,
    titles,
    whiskers,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from model.results import Result, Stat
    from priors import Defaults


def _kappa_text(result: Result) -> str:
    kappa = result.agreement.kappa
    if kappa is None:
        return f"κ is {result.agreement.reason}"
    lo, hi = kappa.hdi
    return f"posterior mean κ = {kappa.mean:.3g} ({HDI_LABEL} {lo:.3g}–{hi:.3g})"


def participants_vs_consensus(result: Result, defaults: Defaults) -> Figure:
    """Each member's credence in A-D beside the consensus μ and a new member's range.

    Draws `result.participants` (stated credences, ``.prior``), `result.consensus_prior`
    (mean and HDI), `result.new_member_credence` (its HDI is the band) and
    `result.agreement` (in the caption).
    """
    ids = list(result.scenarios)
    n = len(result.participants)
    fig, body = figure(10, 6.4)
    ax = body.add_subplot()
    for k, sid in enumerate(ids):
        colour = SCENARIO_COLOURS.get(sid, "0.4")
        lo, hi = result.new_member_credence[sid].hdi
        ax.vlines(k - 0.3, lo, hi, color=colour, linewidth=11, alpha=0.35)
        ax.hlines([lo, hi], k - 0.36, k - 0.24, color=colour, linewidth=1.5)
        stated = np.array([p.prior[sid] for p in result.participants])
        # dots at one credence stack sideways, around k - 0.035
        side = dodge(stated, near=0.02, step=0.035, limit=0.11)
        ax.scatter(
            k - 0.035 + side,
            stated,
            s=42,
            color=colour,
            edgecolor="white",
            linewidth=0.6,
            zorder=3,
        )
        mu = result.consensus_prior[sid]
        ax.errorbar(
            k + 0.2,
            mu.mean,
            yerr=whiskers([mu]),
            fmt="D",
            color="black",
            markersize=8,
            capsize=6,
            linewidth=2,
            zorder=4,
        )
    names = scenario_names(defaults, ids)
    ax.set_xticks(range(len(ids)), [f"{s}\n{name}" for s, name in zip(ids, names, strict=True)])
    ax.set_xlim(-0.6, len(ids) - 0.4)
    ax.set_ylim(0, 1)
    ax.set_ylabel("credence (probability)", fontsize=LABEL)
    style(ax)
    handles = [
        Line2D([], [], marker="o", linestyle="", color="0.45", markeredgecolor="white", ms=8),
        Line2D([], [], marker="D", linestyle="-", color="black", ms=7),
        Line2D([], [], color="0.45", alpha=0.35, linewidth=9),
    ]
    labels = [
        f"a member's stated credence (N = {n})",
        f"consensus μ: posterior mean, {HDI_LABEL}",
        f"a new member's credence: {HDI_LABEL} of Beta(κμ, κ(1−μ)) over posterior draws",
    ]
    body.legend(
        handles, labels, loc="outside upper center", ncols=2, fontsize=LEGEND, frameon=False
    )
    caption = (
        f"Hierarchical model: each member's credences are drawn around the consensus μ "
        f"(a Dirichlet whose agreement may differ by scenario). κ is the overall agreement: "
        f"{_kappa_text(result)}; larger κ means members agree more. "
        f"Dots at nearly the same credence are set side by side."
    )
    titles(fig, "Members' credences and the group consensus", caption)
    return fig


_POOLS = (
    ("linear", "linear pool (mean)", OI["sky"]),
    ("log", "log pool (normalised geometric mean)", OI["orange"]),
    ("median", "median pool (renormalised)", OI["green"]),
)


def _pool_panel(
    ax: Axes,
    ids: Sequence[str],
    labels: Sequence[str],
    pooled: Mapping[str, Mapping[str, float]],
    model: Mapping[str, Stat],
) -> None:
    width = 0.2
    x = np.arange(len(ids))
    for j, (key, label, colour) in enumerate(_POOLS):
        vals = np.array([pooled[key][s] for s in ids], dtype=float)
        pos = x + (j - 1.5) * width
        ax.bar(pos, np.nan_to_num(vals), width=width, color=colour, label=label)
        for p, v in zip(pos, vals, strict=True):
            if not np.isfinite(v) or v < 0.01:  # say what a bar too short to see holds
                text = "n/a" if not np.isfinite(v) else f"{v:.1g}"
                ax.text(p, 0.005, text, ha="center", va="bottom", fontsize=TICK - 2, rotation=90)
    stats = [model[s] for s in ids]
    ax.bar(
        x + 1.5 * width,
        [m.mean for m in stats],
        width=width,
        color="0.3",
        yerr=whiskers(stats),
        capsize=4,
        error_kw={"elinewidth": 1.6, "ecolor": "black"},
        label=f"model consensus: posterior mean, {HDI_LABEL}",
    )
    ax.set_xticks(x, labels, fontsize=TICK)
    style(ax)


def pools(result: Result, defaults: Defaults) -> Figure:
    """Classical pools beside the model's consensus, before and after the evidence.

    Draws `result.pools` (prior and posterior) beside `result.consensus_prior` and
    `result.consensus_posterior`.
    """
    ids = list(result.scenarios)
    names = scenario_names(defaults, ids)
    labels = [f"{s}\n{textwrap.fill(name, 14)}" for s, name in zip(ids, names, strict=True)]
    fig, body = figure(13, 6.4)
    left, right = body.subplots(1, 2, sharey=True)
    _pool_panel(left, ids, labels, result.pools.prior, result.consensus_prior)
    _pool_panel(right, ids, labels, result.pools.posterior, result.consensus_posterior)
    left.set_title(
        "Before the evidence\npools of stated credences · model: consensus μ",
        fontsize=LABEL,
        loc="left",
    )
    right.set_title(
        "After the evidence\npools of members' exact posteriors · model: consensus posterior",
        fontsize=LABEL,
        loc="left",
    )
    left.set_ylabel("probability", fontsize=LABEL)
    drawn = [
        *(
            v
            for table in (result.pools.prior, result.pools.posterior)
            for p in table.values()
            for v in p.values()
        ),
        *(
            st.hdi[1]
            for table in (result.consensus_prior, result.consensus_posterior)
            for st in table.values()
        ),
    ]
    top = max(1e-9, *(v for v in drawn if np.isfinite(v)))
    left.set_ylim(0, min(1.0, top * 1.12))
    handles, legend_labels = left.get_legend_handles_labels()
    body.legend(
        handles, legend_labels, loc="outside upper center", ncols=4, fontsize=LEGEND, frameon=False
    )
    caption = (
        "How much the group's answer depends on the pooling choice. The log pool reacts "
        "strongly to near-zero answers: one member's stated 0 sends a scenario to 0, and a "
        "few near-zero posteriors pull it far down (a bar too short to see is labelled with "
        "its value). The model's consensus posterior is softmax(log μ + Σ log L(typical "
        "reading)): the evidence read the way the typical member reads it."
    )
    titles(fig, "Pooling the group: classical pools and the model", caption)
    return fig


def prior_vs_posterior(result: Result, defaults: Defaults) -> Figure:
    """The consensus over A-D before (μ) and after the evidence, with their HDIs.

    Draws `result.consensus_prior` and `result.consensus_posterior`; the caption names
    `result.evidence`.
    """
    ids = list(result.scenarios)
    series = (
        ("consensus before the evidence (μ)", result.consensus_prior, OI["blue"], "o"),
        (
            "consensus after the evidence (consensus posterior)",
            result.consensus_posterior,
            OI["vermillion"],
            "s",
        ),
    )
    fig, body = figure(10, 6)
    ax = body.add_subplot()
    x = np.arange(len(ids))
    for j, (label, table, colour, marker) in enumerate(series):
        stats = [table[s] for s in ids]
        mean = [m.mean for m in stats]
        pos = x + (j - 0.5) * 0.3
        ax.errorbar(
            pos,
            mean,
            yerr=whiskers(stats),
            fmt=marker,
            color=colour,
            markersize=10,
            capsize=7,
            linewidth=2.4,
            label=f"{label}: posterior mean, {HDI_LABEL}",
        )
        for p, m in zip(pos, mean, strict=True):
            ax.annotate(
                pct(m),
                (p, m),
                xytext=(9, 0),
                textcoords="offset points",
                va="center",
                fontsize=TICK - 1,
                color=colour,
            )
    names = scenario_names(defaults, ids)
    ax.set_xticks(x, [f"{s}\n{name}" for s, name in zip(ids, names, strict=True)])
    ax.set_ylim(0, 1)
    ax.set_xlim(-0.6, len(ids) - 0.4)
    ax.set_ylabel("probability", fontsize=LABEL)
    style(ax)
    ax.legend(loc="upper right", fontsize=LEGEND, framealpha=0.9)
    evidence = "; ".join(item_labels(result).values()) or "none"
    caption = (
        "After = softmax(log μ + Σ_e log L_e(typical reading)): the consensus updated on the "
        f"group's evidence as the typical member reads it. Evidence: {evidence}."
    )
    titles(fig, "What the evidence does to the group consensus", caption)
    return fig
