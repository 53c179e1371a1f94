"""Camp features: members' answers as a standardised matrix (log-ratio credences, logits)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logit

from model.schema import GroupData
from priors import SCENARIO_IDS

CREDENCE_FLOOR = 0.005
"""A stated credence of 0 is floored here before the log ratio: half the form's 1 % step."""
PROB_CLIP = 0.005
"""Factors, P(scheming) and readings are clipped to [PROB_CLIP, 1 − PROB_CLIP] before logit."""


@dataclass(frozen=True)
class _Features:
    names: list[str]  # quantity names of the kept features (clr credences, logit answers)
    z: np.ndarray  # (N, J) standardised, 0 where missing
    mask: np.ndarray  # (N, J) float, 1 where answered
    probs: np.ndarray  # (N, J) stated probabilities, NaN where missing
    mix_z: np.ndarray  # (N, J') the mixture's features: ilr credences, logit answers
    mix_mask: np.ndarray  # (N, J')


def _helmert(d: int) -> np.ndarray:
    """Orthonormal contrasts (d − 1, d): row i compares part i + 1 with the parts before it."""
    out = np.zeros((d - 1, d))
    for i in range(1, d):
        out[i - 1, :i] = 1.0
        out[i - 1, i] = -float(i)
        out[i - 1] /= np.sqrt(i * (i + 1))
    return out


def _standardise(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Columns centred and scaled over their answers: (z with 0 where missing, mask, kept).

    Columns with fewer than two answers, or constant (SD below 1e-9), are dropped.
    """
    answered = ~np.isnan(raw)
    count = answered.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nansum(raw, axis=0) / count
        sd = np.sqrt(np.nansum((raw - mean) ** 2, axis=0) / count)
    keep = (count >= 2) & (sd > 1e-9)
    mask = answered[:, keep]
    z = np.where(mask, (raw[:, keep] - mean[keep]) / sd[keep], 0.0)
    return z, mask.astype(float), keep


def _features(data: GroupData) -> _Features:
    """The standardised features (see the docstring of `model.camps`)."""
    cred = np.maximum(np.asarray(data.credences, dtype=float), CREDENCE_FLOOR)
    logc = np.log(cred)
    clr = logc - logc.mean(axis=1, keepdims=True)
    vals = np.asarray(data.values, dtype=float).reshape(data.n, -1)
    lgt = logit(np.clip(vals, PROB_CLIP, 1 - PROB_CLIP))  # NaN stays NaN
    z, mask, keep = _standardise(np.hstack([clr, lgt]))
    probs = np.hstack([np.asarray(data.credences, dtype=float), vals])
    names = [f"credence:{s}" for s in SCENARIO_IDS] + list(data.columns)
    mix_z, mix_mask, _ = _standardise(np.hstack([clr @ _helmert(len(SCENARIO_IDS)).T, lgt]))
    return _Features(
        names=[n for n, k in zip(names, keep, strict=True) if k],
        z=z,
        mask=mask,
        probs=probs[:, keep],
        mix_z=mix_z,
        mix_mask=mix_mask,
    )
