"""Posterior summaries: the mean and the 94 % highest-density interval of draws."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HDI_PROB = 0.94
"""Probability mass of every interval the results report."""


def hdi(samples: np.ndarray, prob: float = HDI_PROB) -> tuple[float, float]:
    """Narrowest interval holding `prob` of the samples (all chains and draws pooled)."""
    import arviz as az  # heavy: loaded only when a fit is summarised

    lo, hi = az.hdi(np.asarray(samples, dtype=float).ravel(), prob=prob)
    return float(lo), float(hi)


@dataclass(frozen=True)
class Stat:
    """A posterior summary: the mean and the 94 % HDI over all chains and draws."""

    mean: float
    hdi: tuple[float, float]

    @classmethod
    def of(cls, samples: np.ndarray) -> Stat:
        """Summarise posterior draws (any shape; all of them pooled)."""
        return cls(float(np.mean(samples)), hdi(samples))
