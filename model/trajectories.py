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


@dataclass(frozen=True)
class ScenarioCurve:
    """One scenario's misalignment rates along the capability grid.

    Attributes
    ----------
    actual : ndarray
        The real misalignment rate m(c).
    observed : ndarray
        The rate monitoring flags, m·d + (1 − m)·fa (d detection, fa false alarms).
    end_ratio : float
        Actual misalignment over the tolerable rate at the largest capability: "at 10 000×,
        actual = N × what we need".
    """

    actual: np.ndarray
    observed: np.ndarray
    end_ratio: float


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
    curves = {}
    for sid, c in defaults.curves(x).items():
        m, d, fa = c["misalignment"], c["detection"], c["false_alarm"]
        curves[sid] = ScenarioCurve(
            actual=m,
            observed=m * d + (1.0 - m) * fa,
            end_ratio=float(m[-1] / need[-1]),
        )
    c = defaults.need.factor_per_decade if factor_per_decade is None else factor_per_decade
    return Trajectories(
        capability=10.0**x,
        need=need,
        scenarios=curves,
        factor_per_decade=float(c),
        tolerable_now=float(defaults.need.tolerable_now),
    )
