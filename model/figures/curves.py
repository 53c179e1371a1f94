"""The scenario curves: alignment against capability, four panels or one small sketch."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullFormatter, NullLocator

from model.figures._style import (
    LABEL,
    LEGEND,
    OI,
    TICK,
    capability_axis,
    figure,
    pct,
    style,
    titles,
)
from model.trajectories import ScenarioCurve, Trajectories, scenario_curves

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from priors import Defaults

_YSCALES = ("linear", "log")
_ROLE = {
    "actual": {"color": OI["black"], "linestyle": "-", "linewidth": 2.4},
    "observed": {"color": OI["sky"], "linestyle": "--", "linewidth": 2.4},
    "need": {"color": OI["vermillion"], "linestyle": ":", "linewidth": 2.6},
}
_ROLE_LABEL = {
    "actual": "actual",
    "observed": "observed (what monitoring shows)",
    "need": '"what we need"',
    "gap": "missed by monitoring (actual vs observed)",
}


def _check_weights(weights: Mapping[str, float], ids: list[str]) -> dict[str, float]:
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


def _panel(
    ax: Axes,
    curves: Trajectories,
    curve: ScenarioCurve,
    *,
    yscale: str,
    alpha: float = 1.0,
    linewidth_scale: float = 1.0,
) -> None:
    def y(rate: np.ndarray) -> np.ndarray:
        return 1.0 - rate if yscale == "linear" else rate

    x = curves.capability
    ax.fill_between(
        x,
        y(curve.actual),
        y(curve.observed),
        color="0.5",
        alpha=0.28 * alpha,
        linewidth=0,
        label=_ROLE_LABEL["gap"],
    )
    for role, values in (
        ("need", curves.need),
        ("observed", curve.observed),
        ("actual", curve.actual),
    ):
        line = dict(_ROLE[role])
        line["linewidth"] *= linewidth_scale
        ax.plot(x, y(values), alpha=alpha, label=_ROLE_LABEL[role], **line)
    if yscale == "log":
        ax.set_yscale("log")
        # A tick and grid line per decade only: the 2-9 minor ticks of six decades on four
        # panels made this figure take two seconds to draw (matplotlib's tick layout).
        ax.yaxis.set_major_locator(LogLocator(base=10.0, subs=(1.0,)))
        ax.yaxis.set_minor_locator(NullLocator())
        # As percentages, as on the Elicit page's sketches; plain text, where matplotlib's
        # 10^k labels are mathtext, whose parser a fresh worker process builds first.
        ax.yaxis.set_major_formatter(FuncFormatter(_percent))


def trajectories(
    defaults: Defaults,
    *,
    weights: Mapping[str, float] | None = None,
    factor_per_decade: float | None = None,
    yscale: str = "linear",
) -> Figure:
    """Actual, observed and needed alignment against capability, one panel per scenario.

    Parameters
    ----------
    defaults : Defaults
        The scenario curves and the "what we need" line (``priors.load_defaults()``), drawn
        as `model.trajectories.scenario_curves` computes them.
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
    if yscale not in _YSCALES:
        raise ValueError(f'yscale is {yscale!r}; give "linear" or "log"')
    ids = [s.id for s in defaults.scenarios]
    w = _check_weights(weights, ids) if weights is not None else None
    curves = scenario_curves(defaults, factor_per_decade=factor_per_decade)

    fig, body = figure(12, 8.6)
    axes = body.subplots(2, 2, sharex=True, sharey=True)
    top = max(w.values()) if w else 1.0
    for k, (ax, s) in enumerate(zip(axes.flat, defaults.scenarios, strict=True)):
        alpha = 1.0 if w is None else 0.35 + 0.65 * (w[s.id] / top if top > 0 else 0.0)
        curve = curves.scenarios[s.id]
        _panel(ax, curves, curve, yscale=yscale, alpha=alpha)
        title = f"{s.id} · {s.name}"
        if w is not None:
            title += f" — group posterior {pct(w[s.id])}"
        ax.set_title(title, fontsize=LABEL + 1, loc="left", alpha=max(alpha, 0.6))
        style(ax, grid="both")
        capability_axis(ax, label=k >= axes.shape[1])  # bottom row
        if yscale == "log":
            ax.text(
                0.02,
                0.97,
                f"at {curves.capability[-1]:,.0f}×: actual misalignment\n"
                f"= {curve.end_ratio:,.0f} × what we need",
                transform=ax.transAxes,
                ha="left",
                va="top",
                fontsize=TICK,
                alpha=max(alpha, 0.6),
                bbox={"facecolor": "white", "edgecolor": "0.8", "alpha": 0.85},
            )
    if yscale == "linear":
        axes[0, 0].set_ylim(0, 1.02)
        ylabel = "alignment (share of episodes)"
    else:
        lowest = min(
            curves.need.min(),
            *(min(c.actual.min(), c.observed.min()) for c in curves.scenarios.values()),
        )
        axes[0, 0].set_ylim(1.0, 10.0 ** np.floor(np.log10(lowest)))  # inverted: up is better
        ylabel = "misalignment rate, log scale (↑ more aligned)"
    body.supylabel(ylabel, fontsize=LABEL)

    handles, labels = axes[0, 0].get_legend_handles_labels()
    order = [labels.index(_ROLE_LABEL[k]) for k in ("actual", "observed", "need", "gap")]
    body.legend(
        [handles[i] for i in order],
        [labels[i] for i in order],
        loc="outside upper center",
        ncols=4,
        fontsize=LEGEND + 1,
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
        f"Observed: 1 − m·d, with m·d the misalignment monitoring detects (d its detection "
        f"sensitivity; false alarms left out). What we need: the tolerable "
        f"{axis_text}, falling ×{curves.factor_per_decade:g} per 10× capability from "
        f"{curves.tolerable_now:g} today. {view}"
    )
    if w is not None:
        caption += " Panels fade with the group's posterior weight."
    titles(fig, "Alignment as capability grows: four scenarios", caption)
    return fig


SKETCH_SIZE = (3.2, 2.2)
"""The scenario sketch's size in inches (the Elicit page shows four side by side)."""
SKETCH_FONT = {"title": 9, "label": 8, "tick": 7, "legend": 7}
"""The sketch's type sizes in points; none is below 7, so every label stays readable."""


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _percent(v: float, _pos: object = None) -> str:
    """A rate of 10^k as a percentage: 100 %, 1 %, 0.0001 %, then 10⁻⁵ %, 10⁻⁶ % and so on."""
    exponent = round(np.log10(v)) + 2  # of the percentage
    if exponent >= -4:
        return f"{100 * v:.6g} %"
    return f"10{str(exponent).translate(_SUPERSCRIPT)} %"


def _sketch_log_axis(ax: Axes, curves: Trajectories) -> None:
    """A log y axis of the misalignment rate, shared by all four sketches (up = worse)."""
    lowest = min(
        curves.need.min(),
        *(min(c.actual.min(), c.observed.min()) for c in curves.scenarios.values()),
    )
    low = int(np.floor(np.log10(lowest)))
    ax.set_yscale("log")
    ax.set_ylim(10.0**low, 1.0)
    step = max(1, int(np.ceil(-low / 4)))  # at most five labels, so they never crowd
    ax.yaxis.set_major_locator(FixedLocator([10.0**k for k in range(0, low - 1, -step)]))
    ax.yaxis.set_minor_locator(FixedLocator([10.0**k for k in range(0, low - 1, -1)]))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.yaxis.set_major_formatter(FuncFormatter(_percent))


def scenario_sketch(
    defaults: Defaults,
    scenario_id: str,
    *,
    yscale: str = "log",
    factor_per_decade: float | None = None,
) -> Figure:
    """A small (3.2 x 2.2 in) sketch of one scenario against capability.

    Parameters
    ----------
    defaults : Defaults
        The scenario curves (``priors.load_defaults()``), drawn as
        `model.trajectories.scenario_curves` computes them.
    scenario_id : str
        One of the scenarios' ids (A-D).
    yscale : {"log", "linear"}
        "log" (the default): the misalignment rate on a log axis, as the debate these
        scenarios come from drew it: each 10x of capability needs the tolerable rate to
        fall by `factor_per_decade`, so the gap to "what we need", a rise in what monitoring
        sees and misalignment it misses each show at their true size. The range is the same
        for all four scenarios, so sketches side by side compare. "linear": alignment
        (1 - misalignment rate) in [0, 1], where those gaps look small.
    factor_per_decade : float, optional
        How much the tolerable rate falls per 10x capability (default from ``priors/``).

    Raises
    ------
    ValueError
        For an unknown `scenario_id` or `yscale`, or a `factor_per_decade` below 1.
    """
    ids = [s.id for s in defaults.scenarios]
    if scenario_id not in ids:
        raise ValueError(f"unknown scenario {scenario_id!r}; give one of {', '.join(ids)}")
    if yscale not in _YSCALES:
        raise ValueError(f'yscale is {yscale!r}; give "log" or "linear"')
    curves = scenario_curves(defaults, factor_per_decade=factor_per_decade)
    s = defaults.scenario(scenario_id)
    fig, body = figure(*SKETCH_SIZE)
    ax = body.add_subplot()
    _panel(ax, curves, curves.scenarios[scenario_id], yscale=yscale, linewidth_scale=0.6)
    if yscale == "log":
        _sketch_log_axis(ax, curves)
        ylabel = "misalignment rate (log)"
    else:
        ax.set_ylim(0, 1.02)
        ylabel = "alignment"
    ax.set_title(f"{s.id} · {s.name}", fontsize=SKETCH_FONT["title"], loc="left")
    ax.set_ylabel(ylabel, fontsize=SKETCH_FONT["label"])
    capability_axis(ax, fontsize=SKETCH_FONT["label"])
    ax.tick_params(labelsize=SKETCH_FONT["tick"])
    ax.spines[["top", "right"]].set_visible(False)
    handles, labels = ax.get_legend_handles_labels()
    order = [labels.index(_ROLE_LABEL[k]) for k in ("actual", "observed", "need")]
    # below the plot, not on it: inside, some scenario or factor would put a curve under it
    body.legend(
        [handles[i] for i in order],
        ["actual", "observed", "what we need"],
        fontsize=SKETCH_FONT["legend"],
        loc="outside lower center",
        ncols=3,
        frameon=False,
        handlelength=2.2,
        columnspacing=1.2,
    )
    return fig
