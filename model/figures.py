"""Figures: each a function returning a matplotlib Figure.

Only the object-oriented API is used (``Figure(...)``, never pyplot), so figures can be
built in parallel threads of a web server. This module imports only the standard
library, NumPy, matplotlib and ArviZ at load time; the few model helpers it reuses are
imported inside the functions that need them.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import arviz as az
import numpy as np
from matplotlib.figure import Figure, SubFigure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from model.analysis import Analysis
    from priors import Defaults

HDI_PROB = 0.94
_HDI_LABEL = "94 % HDI"
SAVE_FORMATS = ("png", "svg", "pdf")
PNG_DPI = 150

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
_OI = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
}
SCENARIO_COLOURS = {"A": _OI["blue"], "B": _OI["orange"], "C": _OI["green"], "D": _OI["purple"]}
_TERM_COLOURS = [_OI["sky"], _OI["orange"], _OI["green"], _OI["purple"], _OI["vermillion"]]

_TITLE, _LABEL, _TICK, _LEGEND, _CAPTION = 15, 12, 11, 10, 10
_CAPTION_COLOUR = "0.25"


# --- shared helpers ----------------------------------------------------------------------


def _expit(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x)))


def _hdi(samples: np.ndarray) -> np.ndarray:
    """94 % HDI over the last axis (samples), shape (..., 2)."""
    return np.asarray(az.hdi(np.asarray(samples, dtype=float), prob=HDI_PROB))


def _draws(var) -> np.ndarray:
    """A posterior variable as a NumPy array with (chain, draw) flattened into the last axis."""
    arr = var.transpose("chain", "draw", ...).values
    flat = arr.reshape(-1, *arr.shape[2:])
    return np.moveaxis(flat, 0, -1)


def _posterior(analysis: Analysis):
    return analysis.fit.idata["posterior"]


def _scenario_ids(defaults: Defaults) -> list[str]:
    return [s.id for s in defaults.scenarios]


def _pct(p: float) -> str:
    if not np.isfinite(p):
        return "n/a"
    if 0 < p < 0.005:
        return "<1 %"
    return f"{100 * p:.0f} %"


def _plain(text: str) -> str:
    """User text drawn literally: a `$` would otherwise start matplotlib's mathtext."""
    return text.replace("$", r"\$")


MAX_ROWS = 40  # one-row-per-member figures show at most this many members


def _largest_rows(score: np.ndarray, max_rows: int = MAX_ROWS) -> np.ndarray:
    """Indices of the `max_rows` highest scores (all rows if fewer), in the original order."""
    if len(score) <= max_rows:
        return np.arange(len(score))
    return np.sort(np.argsort(-score, kind="stable")[:max_rows])


def _figure(width: float, height: float) -> tuple[Figure, SubFigure]:
    """A figure and the subfigure that holds the plots and their legend.

    The title and caption go on the figure, the legend on the subfigure: constrained
    layout then stacks title, legend, plots and caption without overlap.
    """
    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.subfigures(1, 1)


def _titles(fig: Figure, title: str, caption: str | None = None) -> None:
    """A bold title on top and a caption-like note under the plot, wrapped to the width."""
    fig.suptitle(title, fontsize=_TITLE, fontweight="bold")
    if caption:
        width_chars = int(fig.get_figwidth() * 12.5)
        text = "\n".join(textwrap.fill(p, width_chars) for p in caption.split("\n"))
        fig.supxlabel(text, fontsize=_CAPTION, color=_CAPTION_COLOUR, x=0.01, ha="left")


def _style(ax: Axes, *, grid: str | None = "y") -> None:
    ax.tick_params(labelsize=_TICK)
    ax.spines[["top", "right"]].set_visible(False)
    if grid:
        ax.grid(axis=grid, color="0.88", linewidth=0.8)
        ax.set_axisbelow(True)


def _capability_axis(ax: Axes, *, fontsize: float = _LABEL, label: bool = True) -> None:
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}×" if v >= 1 else f"{v:g}×"))
    ax.xaxis.set_minor_locator(NullLocator())
    if label:
        ax.set_xlabel("capability (× today)", fontsize=fontsize)


def _no_data(fig: Figure, body: SubFigure, message: str) -> Figure:
    ax = body.add_subplot()
    ax.set_axis_off()
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=_LABEL, wrap=True)
    return fig


# --- trajectories ------------------------------------------------------------------------

_YSCALES = ("linear", "log")
_ROLE = {
    "actual": {"color": _OI["black"], "linestyle": "-", "linewidth": 2.4},
    "observed": {"color": _OI["sky"], "linestyle": "--", "linewidth": 2.4},
    "need": {"color": _OI["vermillion"], "linestyle": ":", "linewidth": 2.6},
}
_ROLE_LABEL = {
    "actual": "actual",
    "observed": "observed (what monitoring shows)",
    "need": '"what we need"',
    "gap": "missed by monitoring (actual vs observed)",
}


def _check_yscale(yscale: str) -> None:
    if yscale not in _YSCALES:
        raise ValueError(f'yscale is {yscale!r}; give "linear" or "log"')


def _check_weights(weights: dict[str, float], ids: Sequence[str]) -> dict[str, float]:
    if set(weights) != set(ids):
        raise ValueError(
            f"weights have keys {sorted(weights)}; give one weight for each of {', '.join(ids)}"
        )
    vals = np.array([weights[s] for s in ids], dtype=float)
    if not np.all(np.isfinite(vals)) or np.any(vals < 0):
        raise ValueError("weights must be finite and non-negative (a posterior over A-D)")
    if abs(vals.sum() - 1.0) > 0.01:
        raise ValueError(f"weights sum to {vals.sum():.3g}; they must sum to 1 (a posterior)")
    return dict(zip(ids, vals.tolist(), strict=True))


def _trajectory_rates(
    defaults: Defaults, factor_per_decade: float | None
) -> tuple[np.ndarray, dict[str, dict[str, np.ndarray]], np.ndarray]:
    """Capability grid (x 10^) and, per scenario, actual and observed misalignment; the need."""
    x = np.linspace(defaults.log_capability[0], defaults.log_capability[-1], 200)
    need = defaults.tolerable(x, factor_per_decade=factor_per_decade)
    rates = {}
    for sid, c in defaults.curves(x).items():
        m, d, fa = c["misalignment"], c["detection"], c["false_alarm"]
        rates[sid] = {"actual": m, "observed": m * d + (1.0 - m) * fa}
    return 10.0**x, rates, need


def _trajectory_panel(
    ax: Axes,
    capability: np.ndarray,
    rates: dict[str, np.ndarray],
    need: np.ndarray,
    *,
    yscale: str,
    alpha: float = 1.0,
    linewidth_scale: float = 1.0,
) -> None:
    def y(rate: np.ndarray) -> np.ndarray:
        return 1.0 - rate if yscale == "linear" else rate

    ax.fill_between(
        capability,
        y(rates["actual"]),
        y(rates["observed"]),
        color="0.5",
        alpha=0.28 * alpha,
        linewidth=0,
        label=_ROLE_LABEL["gap"],
    )
    for role, values in (("need", need), ("observed", rates["observed"])):
        style = dict(_ROLE[role])
        style["linewidth"] *= linewidth_scale
        ax.plot(capability, y(values), alpha=alpha, label=_ROLE_LABEL[role], **style)
    style = dict(_ROLE["actual"])
    style["linewidth"] *= linewidth_scale
    ax.plot(capability, y(rates["actual"]), alpha=alpha, label=_ROLE_LABEL["actual"], **style)
    if yscale == "log":
        ax.set_yscale("log")


def trajectories(
    defaults: Defaults,
    *,
    weights: dict[str, float] | None = None,
    factor_per_decade: float | None = None,
    yscale: str = "linear",
) -> Figure:
    """Actual, observed and needed alignment against capability, one panel per scenario.

    Parameters
    ----------
    defaults : Defaults
        The scenario curves and the "what we need" line (``priors.load_defaults()``).
    weights : dict, optional
        The group's posterior over A-D; shown in each panel's title, and panels fade
        with their weight (opacity from 0.35 for weight 0 to 1 for the largest).
    factor_per_decade : float, optional
        How much the tolerable misalignment rate falls per 10x capability (default from
        ``priors/``).
    yscale : {"linear", "log"}
        "linear": alignment in [0, 1]. "log": the misalignment rate 1 - alignment on a
        log axis, inverted so that up is still more aligned; there the gap to "what we
        need" shows its true size.

    Raises
    ------
    ValueError
        For an unknown `yscale`, bad `weights` or a `factor_per_decade` below 1.
    """
    _check_yscale(yscale)
    ids = _scenario_ids(defaults)
    w = _check_weights(weights, ids) if weights is not None else None
    capability, rates, need = _trajectory_rates(defaults, factor_per_decade)
    c = defaults.need.factor_per_decade if factor_per_decade is None else factor_per_decade

    fig, body = _figure(12, 8.6)
    axes = body.subplots(2, 2, sharex=True, sharey=True)
    top = max(w.values()) if w else 1.0
    for k, (ax, s) in enumerate(zip(axes.flat, defaults.scenarios, strict=True)):
        alpha = 1.0 if w is None else 0.35 + 0.65 * (w[s.id] / top if top > 0 else 0.0)
        _trajectory_panel(ax, capability, rates[s.id], need, yscale=yscale, alpha=alpha)
        title = f"{s.id} · {s.name}"
        if w is not None:
            title += f" — group posterior {_pct(w[s.id])}"
        ax.set_title(title, fontsize=_LABEL + 1, loc="left", alpha=max(alpha, 0.6))
        _style(ax, grid="both")
        _capability_axis(ax, label=k >= axes.shape[1])  # bottom row
        if yscale == "log":
            ratio = rates[s.id]["actual"][-1] / need[-1]
            ax.text(
                0.02,
                0.97,
                f"at {capability[-1]:,.0f}×: actual misalignment\n= {ratio:,.0f} × what we need",
                transform=ax.transAxes,
                ha="left",
                va="top",
                fontsize=_TICK,
                alpha=max(alpha, 0.6),
                bbox={"facecolor": "white", "edgecolor": "0.8", "alpha": 0.85},
            )
    if yscale == "linear":
        axes[0, 0].set_ylim(0, 1.02)
        ylabel = "alignment (share of episodes)"
    else:
        everything = np.concatenate([need, *(r[k] for r in rates.values() for k in r)])
        low = 10.0 ** np.floor(np.log10(everything.min()))
        axes[0, 0].set_ylim(1.0, low)  # inverted: up is a lower misalignment rate
        ylabel = "misalignment rate, log scale (↑ more aligned)"
    body.supylabel(ylabel, fontsize=_LABEL)

    handles, labels = axes[0, 0].get_legend_handles_labels()
    order = [labels.index(_ROLE_LABEL[k]) for k in ("actual", "observed", "need", "gap")]
    body.legend(
        [handles[i] for i in order],
        [labels[i] for i in order],
        loc="outside upper center",
        ncols=4,
        fontsize=_LEGEND + 1,
        frameon=False,
    )
    if yscale == "linear":
        view = "Linear axis: the gap to what we need looks small; the log view shows its true size."
        axis_text = "alignment = 1 − misalignment rate"
    else:
        view = (
            "Log axis of the misalignment rate, inverted so up is still more aligned: here the "
            "gap to what we need shows its true size."
        )
        axis_text = "misalignment rate"
    caption = (
        f"Default curves (priors/). Actual: 1 − m(c), the model's real misalignment rate m. "
        f"Observed: 1 − (m·d + (1 − m)·fa), the share of episodes monitoring does not flag "
        f"(d detection sensitivity, fa false-alarm rate). What we need: the tolerable "
        f"{axis_text}, falling ×{c:g} per 10× capability from "
        f"{defaults.need.tolerable_now:g} today. {view}"
    )
    if w is not None:
        caption += " Panels fade with the group's posterior weight."
    _titles(fig, "Alignment as capability grows: four scenarios", caption)
    return fig


def scenario_sketch(
    defaults: Defaults, scenario_id: str, *, factor_per_decade: float | None = None
) -> Figure:
    """A small (3.2 x 2.2 in) alignment-vs-capability sketch of one scenario.

    Raises
    ------
    ValueError
        For an unknown `scenario_id` or a `factor_per_decade` below 1.
    """
    ids = _scenario_ids(defaults)
    if scenario_id not in ids:
        raise ValueError(f"unknown scenario {scenario_id!r}; give one of {', '.join(ids)}")
    capability, rates, need = _trajectory_rates(defaults, factor_per_decade)
    s = defaults.scenario(scenario_id)
    fig, body = _figure(3.2, 2.2)
    ax = body.add_subplot()
    _trajectory_panel(
        ax, capability, rates[scenario_id], need, yscale="linear", linewidth_scale=0.6
    )
    ax.set_ylim(0, 1.02)
    ax.set_title(f"{s.id} · {s.name}", fontsize=9, loc="left")
    ax.set_ylabel("alignment", fontsize=8)
    _capability_axis(ax, fontsize=8)
    ax.tick_params(labelsize=7)
    ax.spines[["top", "right"]].set_visible(False)
    handles, labels = ax.get_legend_handles_labels()
    order = [labels.index(_ROLE_LABEL[k]) for k in ("actual", "observed", "need")]
    ax.legend(
        [handles[i] for i in order],
        ["actual", "observed", "what we need"],
        fontsize=6.5,
        loc="lower left",
        frameon=False,
        handlelength=2.2,
    )
    return fig


# --- credences and pools -----------------------------------------------------------------


def participants_vs_consensus(analysis: Analysis) -> Figure:
    """Each member's credence in A-D beside the consensus μ and a new member's range."""
    ids = _scenario_ids(analysis.defaults)
    post = _posterior(analysis)
    mu = _draws(post["mu"])  # (4, S)
    kappa = _draws(post["kappa"])  # (S,)
    cred = analysis.data.credences
    n = cred.shape[0]
    rng = np.random.default_rng(0)
    # A new member's credence: Beta(κμ_s, κ(1-μ_s)) is the Dirichlet's marginal; four
    # predictive draws per posterior draw mix it over the posterior.
    new = rng.beta(
        (kappa * mu)[..., None], (kappa * (1 - mu))[..., None], size=(*mu.shape, 4)
    ).reshape(len(ids), -1)
    band = _hdi(new)
    mu_mean, mu_hdi = mu.mean(-1), _hdi(mu)
    kappa_hdi = _hdi(kappa)

    fig, body = _figure(10, 6.4)
    ax = body.add_subplot()
    for k, sid in enumerate(ids):
        colour = SCENARIO_COLOURS.get(sid, "0.4")
        ax.vlines(k - 0.3, band[k, 0], band[k, 1], color=colour, linewidth=11, alpha=0.35)
        ax.hlines(band[k, :], k - 0.36, k - 0.24, color=colour, linewidth=1.5)
        jitter = rng.uniform(-0.15, 0.08, n)
        ax.scatter(
            k + jitter,
            cred[:, k],
            s=42,
            color=colour,
            edgecolor="white",
            linewidth=0.6,
            zorder=3,
        )
        ax.errorbar(
            k + 0.2,
            mu_mean[k],
            yerr=[[mu_mean[k] - mu_hdi[k, 0]], [mu_hdi[k, 1] - mu_mean[k]]],
            fmt="D",
            color="black",
            markersize=8,
            capsize=6,
            linewidth=2,
            zorder=4,
        )
    ax.set_xticks(range(len(ids)), [f"{s.id}\n{s.name}" for s in analysis.defaults.scenarios])
    ax.set_xlim(-0.6, len(ids) - 0.4)
    ax.set_ylim(0, 1)
    ax.set_ylabel("credence (probability)", fontsize=_LABEL)
    _style(ax)
    handles = [
        Line2D([], [], marker="o", linestyle="", color="0.45", markeredgecolor="white", ms=8),
        Line2D([], [], marker="D", linestyle="-", color="black", ms=7),
        Line2D([], [], color="0.45", alpha=0.35, linewidth=9),
    ]
    labels = [
        f"a member's stated credence (N = {n})",
        f"consensus μ: posterior mean, {_HDI_LABEL}",
        f"a new member's credence: {_HDI_LABEL} of Beta(κμ, κ(1−μ)) over posterior draws",
    ]
    body.legend(
        handles, labels, loc="outside upper center", ncols=2, fontsize=_LEGEND, frameon=False
    )
    caption = (
        f"Hierarchical model: each member's credences ~ Dirichlet(κ·μ). μ is the consensus, "
        f"κ the agreement: posterior mean κ = {kappa.mean():.3g} "
        f"({_HDI_LABEL} {kappa_hdi[0]:.3g}–{kappa_hdi[1]:.3g}); larger κ means members "
        f"agree more. Dots are jittered sideways only."
    )
    _titles(fig, "Members' credences and the group consensus", caption)
    return fig


_POOLS = (
    ("linear", "linear pool (mean)", _OI["sky"]),
    ("log", "log pool (normalised geometric mean)", _OI["orange"]),
    ("median", "median pool (renormalised)", _OI["green"]),
)


def _pool_panel(
    ax: Axes, names: Sequence[str], pools: dict[str, np.ndarray], model: np.ndarray
) -> None:
    width = 0.2
    x = np.arange(len(names))
    for j, (key, label, colour) in enumerate(_POOLS):
        vals = np.asarray(pools[key], dtype=float)
        pos = x + (j - 1.5) * width
        ax.bar(pos, np.nan_to_num(vals), width=width, color=colour, label=label)
        for p, v in zip(pos, vals, strict=True):
            if not np.isfinite(v) or v < 0.01:  # say what a bar too short to see holds
                text = "n/a" if not np.isfinite(v) else f"{v:.1g}"
                ax.text(p, 0.005, text, ha="center", va="bottom", fontsize=_TICK - 2, rotation=90)
    mean, hdi = model.mean(-1), _hdi(model)
    ax.bar(
        x + 1.5 * width,
        mean,
        width=width,
        color="0.3",
        yerr=[mean - hdi[:, 0], hdi[:, 1] - mean],
        capsize=4,
        error_kw={"elinewidth": 1.6, "ecolor": "black"},
        label=f"model consensus: posterior mean, {_HDI_LABEL}",
    )
    ax.set_xticks(x, names, fontsize=_TICK)
    _style(ax)


def pools(analysis: Analysis) -> Figure:
    """Classical pools beside the model's consensus, before and after the evidence."""
    names = [f"{s.id}\n{textwrap.fill(s.name, 14)}" for s in analysis.defaults.scenarios]
    post = _posterior(analysis)
    prior_pools, posterior_pools = analysis.prior_pools(), analysis.posterior_pools()
    fig, body = _figure(13, 6.4)
    left, right = body.subplots(1, 2, sharey=True)
    _pool_panel(left, names, prior_pools, _draws(post["mu"]))
    _pool_panel(right, names, posterior_pools, _draws(post["consensus_posterior"]))
    left.set_title(
        "Before the evidence\npools of stated credences · model: consensus μ",
        fontsize=_LABEL,
        loc="left",
    )
    right.set_title(
        "After the evidence\npools of members' exact posteriors · model: consensus posterior",
        fontsize=_LABEL,
        loc="left",
    )
    left.set_ylabel("probability", fontsize=_LABEL)
    top = max(
        1e-9,
        *(np.nanmax(p) for d in (prior_pools, posterior_pools) for p in d.values()),
        float(_hdi(_draws(post["mu"])).max()),
        float(_hdi(_draws(post["consensus_posterior"])).max()),
    )
    left.set_ylim(0, min(1.0, top * 1.12))
    handles, labels = left.get_legend_handles_labels()
    body.legend(
        handles, labels, loc="outside upper center", ncols=4, fontsize=_LEGEND, frameon=False
    )
    lowest = {k: float(np.nanmin(v)) for k, v in posterior_pools.items()}
    caption = (
        "How much the group's answer depends on the pooling choice. The log pool reacts "
        "strongly to near-zero answers: one member's stated 0 sends a scenario to 0, and a "
        f"few near-zero posteriors pull it far down (smallest log-pool value after the "
        f"evidence: {lowest['log']:.2g}). The model's consensus posterior is softmax(log μ + "
        "Σ log L(typical reading)): the evidence read the way the typical member reads it."
    )
    _titles(fig, "Pooling the group: classical pools and the model", caption)
    return fig


# --- factors of scheming -----------------------------------------------------------------

_LOGIT_EDGE = 1e-4  # answers of 0 or 1 are drawn here (open markers)
_LOGIT_FINE = [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995]
_LOGIT_COARSE = [1e-4, 1e-3, 0.01, 0.1, 0.5, 0.9, 0.99, 0.999, 0.9999]
_LOGIT_TICKS = sorted({*_LOGIT_FINE, *_LOGIT_COARSE})


def _logit_limits(values: np.ndarray) -> tuple[float, float]:
    """Limits that show all `values` on a logit axis, in steps of the tick list."""
    v = np.clip(values[np.isfinite(values)], _LOGIT_EDGE, 1 - _LOGIT_EDGE)
    lo = max([t for t in _LOGIT_TICKS if t <= min(v.min(initial=0.5), 0.02)], default=_LOGIT_EDGE)
    hi = min(
        [t for t in _LOGIT_TICKS if t >= max(v.max(initial=0.5), 0.98)], default=1 - _LOGIT_EDGE
    )
    return lo / 1.5, 1 - (1 - hi) / 1.5


def _logit_axis(ax: Axes, limits: tuple[float, float]) -> None:
    ax.set_xscale("logit")
    ax.set_xlim(*limits)
    narrow = limits[0] >= _LOGIT_FINE[0] / 1.5 and limits[1] <= 1 - (1 - _LOGIT_FINE[-1]) / 1.5
    ax.xaxis.set_major_locator(FixedLocator(_LOGIT_FINE if narrow else _LOGIT_COARSE))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlabel("probability (logit scale)", fontsize=_LABEL)


def factor_spread(analysis: Analysis) -> Figure:
    """Each factor of scheming and the direct P(scheming): members, consensus, new member."""
    defaults = analysis.defaults
    post = _posterior(analysis)
    qids = [*defaults.factor_ids, defaults.direct.id]
    names = [f.name for f in defaults.factors] + ["Direct P(scheming)"]
    columns = list(analysis.data.columns)
    n = analysis.data.n
    rng = np.random.default_rng(0)

    rows = []
    for qid in qids:
        answers = analysis.data.values[:, columns.index(qid)]
        theta = _draws(post["theta"].sel(quantity=qid))
        tau = _draws(post["tau"].sel(quantity=qid))
        new = _expit(theta[:, None] + tau[:, None] * rng.standard_normal((theta.size, 4)))
        typical = _expit(theta)
        rows.append((answers[np.isfinite(answers)], typical, _hdi(typical), _hdi(new.ravel())))
    answered = np.concatenate([r[0][(r[0] > 0) & (r[0] < 1)] for r in rows])
    limits = _logit_limits(np.concatenate([answered, *(np.r_[r[2], r[3]] for r in rows)]))

    fig, body = _figure(11, 0.95 * len(qids) + 2.8)
    ax = body.add_subplot()
    labels = []
    for row, (name, (answers, typical, t_hdi, band)) in enumerate(zip(names, rows, strict=True)):
        ax.barh(row, band[1] - band[0], left=band[0], height=0.72, color=_OI["blue"], alpha=0.15)
        # a stated 0 or 1 has no place on a logit axis: draw it at the edge, open
        edge = (answers <= 0) | (answers >= 1)
        shown = np.where(answers <= 0, limits[0], np.where(answers >= 1, limits[1], answers))
        y = row - 0.1 + rng.uniform(-0.14, 0.14, answers.size)
        ax.scatter(shown[~edge], y[~edge], s=40, color=_OI["blue"], edgecolor="white", zorder=3)
        ax.scatter(
            shown[edge],
            y[edge],
            s=40,
            facecolor="white",
            edgecolor=_OI["blue"],
            zorder=3,
            clip_on=False,
        )
        for xv, yv, a in zip(shown[edge], y[edge], answers[edge], strict=True):
            ax.annotate(
                f"{a:g}",
                (xv, yv),
                xytext=(0, 7),
                textcoords="offset points",
                ha="center",
                fontsize=_TICK - 2,
                color=_OI["blue"],
                annotation_clip=False,
            )
        mean = typical.mean()
        ax.errorbar(
            mean,
            row + 0.24,
            xerr=[[mean - t_hdi[0]], [t_hdi[1] - mean]],
            fmt="D",
            color="black",
            markersize=7,
            capsize=5,
            linewidth=2,
            zorder=4,
        )
        labels.append(f"{name}\n(answered {answers.size} of {n})")
    ax.axhline(len(qids) - 1.5, color="0.6", linewidth=0.8)
    ax.set_yticks(range(len(qids)), labels, fontsize=_TICK)
    ax.set_ylim(len(qids) - 0.5, -0.5)
    _logit_axis(ax, limits)
    _style(ax, grid="x")
    handles = [
        Line2D([], [], marker="o", linestyle="", color=_OI["blue"], markeredgecolor="white", ms=8),
        Line2D([], [], marker="D", linestyle="-", color="black", ms=7),
        Patch(facecolor=_OI["blue"], alpha=0.25),
    ]
    legend_labels = [
        "a member's answer (open: 0 or 1, drawn at the edge)",
        f"typical member expit(θ): posterior mean, {_HDI_LABEL}",
        f"a new member's answer: {_HDI_LABEL}, expit(θ + τ·z) over posterior draws",
    ]
    body.legend(
        handles,
        legend_labels,
        loc="outside upper center",
        ncols=2,
        fontsize=_LEGEND,
        frameon=False,
    )
    caption = (
        "Scheming ≈ non-corrigibility × misaligned goals × evades guardrails × strategic "
        "reasoning. Each answer is modelled as logit f ~ Normal(θ, τ): θ the typical answer, τ "
        "the spread between members (a wide shaded band = the group disagrees). Unanswered "
        "items are missing data, not zeros."
    )
    _titles(fig, "Factors of scheming: how far apart the group is", caption)
    return fig


def prior_vs_posterior(analysis: Analysis) -> Figure:
    """The consensus over A-D before (μ) and after the evidence, with 94 % HDIs."""
    ids = _scenario_ids(analysis.defaults)
    post = _posterior(analysis)
    series = (
        ("consensus before the evidence (μ)", _draws(post["mu"]), _OI["blue"], "o"),
        (
            "consensus after the evidence (consensus posterior)",
            _draws(post["consensus_posterior"]),
            _OI["vermillion"],
            "s",
        ),
    )
    fig, body = _figure(10, 6)
    ax = body.add_subplot()
    x = np.arange(len(ids))
    for j, (label, draws, colour, marker) in enumerate(series):
        mean, hdi = draws.mean(-1), _hdi(draws)
        pos = x + (j - 0.5) * 0.3
        ax.errorbar(
            pos,
            mean,
            yerr=[mean - hdi[:, 0], hdi[:, 1] - mean],
            fmt=marker,
            color=colour,
            markersize=10,
            capsize=7,
            linewidth=2.4,
            label=f"{label}: posterior mean, {_HDI_LABEL}",
        )
        for p, m in zip(pos, mean, strict=True):
            ax.annotate(
                _pct(m),
                (p, m),
                xytext=(9, 0),
                textcoords="offset points",
                va="center",
                fontsize=_TICK - 1,
                color=colour,
            )
    ax.set_xticks(x, [f"{s.id}\n{s.name}" for s in analysis.defaults.scenarios])
    ax.set_ylim(0, 1)
    ax.set_xlim(-0.6, len(ids) - 0.4)
    ax.set_ylabel("probability", fontsize=_LABEL)
    _style(ax)
    ax.legend(loc="upper right", fontsize=_LEGEND, framealpha=0.9)
    evidence = "; ".join(f"{e.id}: {_plain(e.text)}" for e in analysis.evidence) or "none"
    caption = (
        "After = softmax(log μ + Σ_e log L_e(typical reading)): the consensus updated on the "
        f"group's evidence as the typical member reads it. Evidence: {evidence}."
    )
    _titles(fig, "What the evidence does to the group consensus", caption)
    return fig


# --- disagreement ------------------------------------------------------------------------

_VERSUS = ("B", "C", "D")


def crux(analysis: Analysis, *, versus: str = "D") -> Figure:
    """Each member's posterior log-odds gap to the consensus, split by prior and evidence.

    Parameters
    ----------
    analysis : Analysis
    versus : {"B", "C", "D"}
        The scenario compared against A.

    Raises
    ------
    ValueError
        If `versus` is not one of B, C, D.
    """
    if versus not in _VERSUS:
        raise ValueError(f"versus is {versus!r}; give one of B, C, D (each is compared with A)")
    post = _posterior(analysis)
    lo_var = post["log_odds"].sel(versus=versus)
    terms = [str(t) for t in lo_var["term"].values]
    consensus = lo_var.mean(("chain", "draw")).transpose("term").values  # (T,)
    k = list(post["log_odds"]["versus"].values).index(versus)
    with np.errstate(invalid="ignore"):
        gaps = np.array([u.terms[:, k] - consensus for u in analysis.updates])  # (N, T)
        totals = gaps.sum(axis=1)
    names = [_plain(u.participant) for u in analysis.updates]
    n_all = len(names)
    keep = _largest_rows(np.where(np.isfinite(totals), np.abs(totals), np.inf))
    gaps, totals, names = gaps[keep], totals[keep], [names[i] for i in keep]
    n, n_terms = gaps.shape

    finite = np.where(np.isfinite(gaps), gaps, 0.0)
    pos_ext = np.clip(finite, 0, None).sum(1)
    neg_ext = np.clip(finite, None, 0).sum(1)
    lo, hi = min(0.0, neg_ext.min(initial=0.0)), max(0.0, pos_ext.max(initial=0.0))
    span = max(hi - lo, 1.0)
    has_pos_inf = bool(np.any(np.isposinf(gaps)) or np.any(np.isnan(gaps)))
    has_neg_inf = bool(np.any(np.isneginf(gaps)))
    xmin = lo - span * (0.05 + 0.22 * has_neg_inf)
    xmax = hi + span * (0.05 + 0.22 * has_pos_inf)

    fig, body = _figure(11, 0.42 * n + 3.4)
    ax = body.add_subplot()
    y = np.arange(n)
    pos_left, neg_left = np.zeros(n), np.zeros(n)
    colours = {}
    for t, term in enumerate(terms):
        colour = "0.55" if term == "prior" else _TERM_COLOURS[(t - 1) % len(_TERM_COLOURS)]
        colours[term] = colour
        part = finite[:, t]
        left = np.where(part >= 0, pos_left, neg_left)
        label = "prior (stated credences)" if term == "prior" else f"evidence: {term}"
        ax.barh(y, part, left=left, height=0.62, color=colour, label=label)
        pos_left += np.clip(part, 0, None)
        neg_left += np.clip(part, None, 0)

    arrow_len = 0.16 * span
    for i in range(n):
        bad = [t for t in range(n_terms) if not np.isfinite(gaps[i, t])]
        for j, t in enumerate(bad):
            yy = i + (j - (len(bad) - 1) / 2) * 0.3
            value = gaps[i, t]
            if np.isnan(value):
                ax.text(
                    xmax,
                    yy,
                    f"{terms[t]}: undefined (0 on both sides)",
                    ha="right",
                    va="center",
                    fontsize=_TICK - 2,
                    color="0.3",
                )
                continue
            edge, sign = (xmax, 1) if value > 0 else (xmin, -1)
            ax.annotate(
                f"{'+' if sign > 0 else '−'}∞ (stated 0)",
                xy=(edge, yy),
                xytext=(edge - sign * arrow_len, yy),
                ha="right" if sign > 0 else "left",
                va="center",
                fontsize=_TICK - 1,
                color="black",
                arrowprops={"arrowstyle": "-|>", "color": colours[terms[t]], "lw": 2.5},
            )
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
                fontsize=_TICK - 1,
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
    ax.set_yticks(y, names, fontsize=_TICK)
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_xlabel(
        f"member's log-odds({versus} : A) − consensus's, in nats "
        f"(← favours A more · favours {versus} more →)",
        fontsize=_LABEL,
    )
    _style(ax, grid="x")
    handles, labels = ax.get_legend_handles_labels()
    handles.append(Line2D([], [], marker="D", linestyle="", color="black", ms=7))
    labels.append("total gap (sum of the parts)")
    body.legend(
        handles,
        labels,
        loc="outside upper center",
        ncols=min(len(labels), 4),
        fontsize=_LEGEND,
        frameon=False,
    )
    caption = (
        f"Each member's posterior log-odds of {versus} against A splits exactly into a prior "
        f"part and one part per evidence item; each part is shown minus the consensus's "
        f"(posterior mean of the model's log_odds), so the bars add up to the gap (◆). "
        f"1 nat = ×2.7 in odds, 2.3 nats = ×10. ±∞: the member stated a probability of 0."
    )
    if n < n_all:
        caption += f" Shown: the {n} of {n_all} members furthest from the consensus."
    _titles(fig, f"Where members part from the consensus: {versus} versus A", caption)
    return fig


def undetected(analysis: Analysis) -> Figure:
    """Undetected misalignment m_s(1 - d_s) per scenario, per member and for the group."""
    from model.individual import counts_rates
    from model.individual import undetected as member_undetected

    post = _posterior(analysis)
    defaults = analysis.defaults
    ids = _scenario_ids(defaults)
    title = "Low detected misalignment says little about D when d_D is small"
    if "undetected" not in post:
        fig, body = _figure(8, 3)
        _titles(fig, title)
        return _no_data(fig, body, "No counts evidence in this group: nothing to show.")
    items = [str(c) for c in post["counts_item"].values]
    by_id = {e.id: e for e in analysis.evidence}
    member = [member_undetected(u, analysis.evidence, defaults) for u in analysis.updates]

    row_labels = [
        *(f"{s.id} · {s.name}" for s in defaults.scenarios),
        "each member, under their own posterior",
        "group, under the consensus posterior",
    ]
    fig, body = _figure(11, 3.3 * len(items) + 2.4)
    axes = np.atleast_1d(body.subplots(len(items), 1, sharex=True, squeeze=False)[:, 0])
    rng = np.random.default_rng(0)
    facts = []
    lows = []
    for ax, item_id in zip(axes, items, strict=True):
        item = by_id[item_id]
        und = _draws(post["undetected"].sel(counts_item=item_id))  # (4, S)
        d = _draws(post["typical"].sel(quantity=[f"{item_id}:{s}" for s in ids]))  # (4, S)
        m, fa = counts_rates(item, defaults)
        detected = (m[:, None] * d + (1 - m[:, None]) * fa[:, None]).mean(-1)
        mean, hdi = und.mean(-1), _hdi(und)
        for k, sid in enumerate(ids):
            colour = SCENARIO_COLOURS.get(sid, "0.4")
            ax.errorbar(
                mean[k],
                k,
                xerr=[[mean[k] - hdi[k, 0]], [hdi[k, 1] - mean[k]]],
                fmt="o",
                color=colour,
                markersize=9,
                capsize=5,
                linewidth=2,
            )
            ax.plot(detected[k], k, "o", mfc="white", mec=colour, mew=2, markersize=9)
        own = np.array(
            [next(x for x in rows if x.evidence_id == item_id).expected for rows in member]
        )
        ax.scatter(
            own,
            len(ids) + rng.uniform(-0.15, 0.15, own.size),
            s=40,
            color="0.35",
            edgecolor="white",
            zorder=3,
        )
        g = _draws(post["undetected_expected"].sel(counts_item=item_id))
        gm, (g0, g1) = g.mean(), _hdi(g)
        ax.errorbar(
            gm, len(ids) + 1, xerr=[[gm - g0], [g1 - gm]], fmt="D", color="black", ms=8, capsize=5
        )
        rate = item.detected / item.episodes
        if rate > 0:
            ax.axvline(rate, color=_OI["vermillion"], linestyle="--", linewidth=1.6)
            ax.annotate(
                f"observed detected rate {item.detected}/{item.episodes:,} = {rate:.2g}",
                (rate, -0.95),
                xytext=(5, 0),
                textcoords="offset points",
                fontsize=_TICK - 1,
                color=_OI["vermillion"],
                va="center",
            )
        ax.axhline(len(ids) - 0.5, color="0.7", linewidth=0.8)
        ax.set_yticks(range(len(row_labels)), row_labels, fontsize=_TICK)
        ax.set_ylim(len(row_labels) - 0.5, -1.4)
        ax.set_title(f"{item_id}: {_plain(item.text)}", fontsize=_LABEL, loc="left")
        _style(ax, grid="x")
        lows += [hdi.min(), own[own > 0].min(initial=1.0), detected.min(), g0]
        if "D" in ids and "A" in ids:
            a, dd = ids.index("A"), ids.index("D")
            facts.append(
                f"{item_id}: expected detected rate {detected[a]:.2g} under A and "
                f"{detected[dd]:.2g} under D, but undetected {mean[a]:.2g} vs {mean[dd]:.2g}."
            )
    axes[0].set_xscale("log")
    low = 10.0 ** np.floor(np.log10(max(min(lows), 1e-8)))
    axes[0].set_xlim(low, 1)
    axes[-1].set_xlabel("rate per episode (log scale)", fontsize=_LABEL)
    handles = [
        Line2D([], [], marker="o", linestyle="-", color="0.3", ms=8),
        Line2D([], [], marker="o", linestyle="", mfc="white", mec="0.3", mew=2, ms=8),
        Line2D([], [], marker="o", linestyle="", color="0.35", markeredgecolor="white", ms=8),
        Line2D([], [], marker="D", linestyle="-", color="black", ms=7),
    ]
    labels = [
        f"undetected m_s·(1 − d_s), typical reading: mean, {_HDI_LABEL}",
        "expected detected rate m_s·d_s + (1 − m_s)·fa (mean)",
        "a member: Σ_s post_i(s)·m_s·(1 − d_is)",
        f"group: Σ_s consensus posterior(s)·m_s·(1 − d_s), {_HDI_LABEL}",
    ]
    body.legend(
        handles, labels, loc="outside upper center", ncols=2, fontsize=_LEGEND, frameon=False
    )
    caption = (
        "m_s: the scenario's misalignment rate today; d_s: detection sensitivity. "
        + " ".join(facts)
        + " Seeing few detections fits A and D alike when D's detection is believed small."
    )
    _titles(fig, title, caption)
    return fig


def scheming_coherence(analysis: Analysis) -> Figure:
    """Per member: factor product, direct P(scheming) and credence in D, on a log axis."""
    from model.individual import coherence

    post = _posterior(analysis)
    defaults = analysis.defaults
    checks = [coherence(r) for r in analysis.responses]
    names = [_plain(r.participant) for r in analysis.responses]
    n_all = len(checks)
    keep = _largest_rows(np.array([len(c.notes) for c in checks], dtype=float))
    checks, names = [checks[i] for i in keep], [names[i] for i in keep]
    n = len(checks)
    kinds = (
        ("product", "product of the four factors", "o", _OI["blue"]),
        ("direct", "direct P(scheming)", "s", _OI["orange"]),
        ("credence_d", "credence in D (already scheming)", "^", _OI["purple"]),
    )
    values = np.array(
        [[np.nan if getattr(c, k) is None else getattr(c, k) for k, *_ in kinds] for c in checks]
    )
    group_rows = {
        "product": ("group: product of the consensus factors", "scheming_product_of_consensus"),
        "consensus_of_products": (
            "group: consensus of members' products",
            "scheming_consensus_of_products",
        ),
    }
    typical_direct = _draws(post["typical"].sel(quantity=defaults.direct.id))
    mu_d = _draws(post["mu"].sel(scenario="D"))
    group = {
        "product": _draws(post[group_rows["product"][1]]),
        "consensus_of_products": _draws(post[group_rows["consensus_of_products"][1]]),
    }
    positive = values[np.isfinite(values) & (values > 0)]
    lows = [positive.min(initial=1.0), *(_hdi(g)[0] for g in group.values())]
    lows += [_hdi(typical_direct)[0], _hdi(mu_d)[0]]
    low = 10.0 ** np.floor(np.log10(max(min(lows), 1e-6)))
    edge = low * 1.15

    fig, body = _figure(11, 0.42 * (n + 2) + 3.4)
    ax = body.add_subplot()
    for i in range(n):
        row = values[i]
        shown = np.where(row > 0, row, edge)
        ok = np.isfinite(row)
        if ok.sum() > 1:
            ax.plot([shown[ok].min(), shown[ok].max()], [i, i], color="0.75", linewidth=2, zorder=1)
        for j, (_, _, marker, colour) in enumerate(kinds):
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
                    fontsize=_TICK - 2,
                    color=colour,
                )
    gy = n + 0.6
    for r, (key, draws, marker, colour) in enumerate(
        (
            ("product", group["product"], "o", _OI["blue"]),
            ("direct", typical_direct, "s", _OI["orange"]),
            ("credence_d", mu_d, "^", _OI["purple"]),
            ("consensus_of_products", group["consensus_of_products"], "o", _OI["blue"]),
        )
    ):
        yy = gy + (1 if key == "consensus_of_products" else 0) + (r - 1) * 0.16 * (r < 3)
        mean, (h0, h1) = draws.mean(), _hdi(draws)
        ax.errorbar(
            mean,
            yy,
            xerr=[[mean - h0], [h1 - mean]],
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
    ax.set_yticks([*range(n), gy, gy + 1], labels, fontsize=_TICK)
    for tick, c in zip(ax.get_yticklabels()[:n], checks, strict=True):
        if c.notes:
            tick.set_color(_OI["vermillion"])
    ax.set_ylim(gy + 1.6, -0.6)
    ax.set_xscale("log")
    ax.set_xlim(low, 1.0)
    ax.set_xlabel("probability (log scale)", fontsize=_LABEL)
    _style(ax, grid="x")
    handles = [Line2D([], [], marker=mk, linestyle="", color=col, ms=8) for _, _, mk, col in kinds]
    labels = [label for _, label, *_ in kinds]
    handles.append(Line2D([], [], marker="o", linestyle="-", color=_OI["blue"], mfc="white", ms=8))
    labels.append(f"group rows: posterior mean, {_HDI_LABEL}")
    body.legend(
        handles, labels, loc="outside upper center", ncols=2, fontsize=_LEGEND, frameon=False
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
    _titles(fig, "Do the scheming answers cohere?", caption)
    return fig


# --- registry and export -----------------------------------------------------------------


def _consensus_weights(analysis: Analysis) -> dict[str, float]:
    post = _posterior(analysis)["consensus_posterior"].mean(("chain", "draw"))
    return {str(s): float(v) for s, v in zip(post["scenario"].values, post.values, strict=True)}


def _trajectories_weighted(analysis: Analysis) -> Figure:
    return trajectories(analysis.defaults, weights=_consensus_weights(analysis))


def _trajectories_weighted_log(analysis: Analysis) -> Figure:
    return trajectories(analysis.defaults, weights=_consensus_weights(analysis), yscale="log")


FIGURES: dict[str, Callable[[Analysis], Figure]] = {
    "trajectories": _trajectories_weighted,
    "trajectories_log": _trajectories_weighted_log,
    "participants_vs_consensus": participants_vs_consensus,
    "pools": pools,
    "factor_spread": factor_spread,
    "prior_vs_posterior": prior_vs_posterior,
    "crux": crux,
    "undetected": undetected,
    "scheming_coherence": scheming_coherence,
}

# Fixed metadata, so the same analysis exports byte-stable SVG and PDF files.
_METADATA = {"svg": {"Date": None}, "pdf": {"CreationDate": None}, "png": {}}


def save_all(
    analysis: Analysis, out_dir: Path, *, formats: Sequence[str] = SAVE_FORMATS
) -> list[Path]:
    """Write every figure of `FIGURES` in each format to `out_dir`; return the paths.

    Files are named ``<figure>.<format>``; PNG at 150 dpi. `out_dir` is created if needed.

    Raises
    ------
    ValueError
        For a format other than png, svg or pdf.
    """
    formats = tuple(formats)
    bad = [f for f in formats if f not in SAVE_FORMATS]
    if bad or not formats:
        raise ValueError(
            f"unknown format(s) {bad or 'none given'}; give some of {', '.join(SAVE_FORMATS)}"
        )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, make in FIGURES.items():
        fig = make(analysis)
        for fmt in formats:
            path = out_dir / f"{name}.{fmt}"
            fig.savefig(
                path,
                format=fmt,
                dpi=PNG_DPI if fmt == "png" else "figure",
                metadata=_METADATA[fmt],
            )
            paths.append(path)
    return paths
