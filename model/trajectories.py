"""The scenario curves: actual, observed and tolerable misalignment against capability.

Computed from the question data in priors/ (``Defaults``), not from a fit; the trajectory
figures draw them. Depends only on NumPy and priors/.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from priors import Defaults

POINTS = 200
"""Capability points on each curve, evenly spaced in log capability."""

HIDDEN = 3.0
"""Actual misalignment at least this many times what monitoring detects counts as hidden."""


@dataclass(frozen=True)
class ScenarioCurve:
    """One scenario's misalignment rates along the capability grid.

    Attributes
    ----------
    actual : ndarray
        The real misalignment rate m(c).
    observed : ndarray
        The misalignment monitoring detects, m·d (d the detection sensitivity): what evals
        and monitoring show of the model's misalignment. False alarms are left out: they
        are the monitor's noise, not the model's behaviour, and at a fixed rate they would
        hide a falling misalignment below them (the evidence's likelihood keeps them).
    end_ratio : float
        Actual misalignment over the tolerable rate at the largest capability: "at 10 000×,
        actual = N × what we need".
    need_ratio : ndarray
        Actual misalignment over the tolerable rate along the grid: the gap to "what we
        need" (above 1: more misalignment than we can tolerate). `end_ratio` is its last.
    hidden_ratio : ndarray
        Actual misalignment over what monitoring detects (1 / d), along the grid: near 1,
        observation tracks the truth; far above 1, most misalignment goes unseen.
    hidden_from : float or None
        The capability (× today) from which actual misalignment stays at least `HIDDEN`
        times what monitoring detects, to the end of the grid; None if it never does.
    """

    actual: np.ndarray
    observed: np.ndarray
    end_ratio: float
    need_ratio: np.ndarray
    hidden_ratio: np.ndarray
    hidden_from: float | None


@dataclass(frozen=True)
class Trajectories:
    """Every scenario's curves and the "what we need" line on one capability grid.

    Attributes
    ----------
    capability : ndarray
        Capability as a multiple of today's (10 ** log capability).
    need : ndarray
        The tolerable misalignment rate ("what we need").
    scenarios : dict
        Scenario id -> `ScenarioCurve`, in the order of ``defaults.scenarios``.
    factor_per_decade : float
        How much the tolerable rate falls per 10x capability.
    tolerable_now : float
        The tolerable rate today.
    """

    capability: np.ndarray
    need: np.ndarray
    scenarios: Mapping[str, ScenarioCurve]
    factor_per_decade: float
    tolerable_now: float


def _hidden_from(capability: np.ndarray, hidden_ratio: np.ndarray) -> float | None:
    """The first capability from which `hidden_ratio` stays at least `HIDDEN` to the end."""
    seen = np.flatnonzero(hidden_ratio < HIDDEN)
    if seen.size == 0:
        return float(capability[0])
    first = seen[-1] + 1
    return float(capability[first]) if first < capability.size else None


def scenario_curves(
    defaults: Defaults, *, factor_per_decade: float | None = None, points: int = POINTS
) -> Trajectories:
    """The scenario curves of `defaults` on `points` capabilities from the first to the last.

    Parameters
    ----------
    defaults : Defaults
        The scenario curves and the need line (``priors.load_defaults()``).
    factor_per_decade : float, optional
        How much the tolerable rate falls per 10x capability (default from priors/).
    points : int
        Points on each curve.

    Raises
    ------
    ValueError
        For a `factor_per_decade` below 1.
    """
    x = np.linspace(defaults.log_capability[0], defaults.log_capability[-1], points)
    need = defaults.tolerable(x, factor_per_decade=factor_per_decade)
    capability = 10.0**x
    curves = {}
    for sid, c in defaults.curves(x).items():
        m, d = c["misalignment"], c["detection"]
        observed = m * d
        hidden = m / observed
        curves[sid] = ScenarioCurve(
            actual=m,
            observed=observed,
            end_ratio=float(m[-1] / need[-1]),
            need_ratio=m / need,
            hidden_ratio=hidden,
            hidden_from=_hidden_from(capability, hidden),
        )
    c = defaults.need.factor_per_decade if factor_per_decade is None else factor_per_decade
    return Trajectories(
        capability=capability,
        need=need,
        scenarios=curves,
        factor_per_decade=float(c),
        tolerable_now=float(defaults.need.tolerable_now),
    )
