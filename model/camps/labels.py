"""Describing camps: what sets each apart, its label, the common ground and the 2-D map."""

from __future__ import annotations

import numpy as np

from model.camps.features import _Features
from model.camps.records import CommonGround, Distinguishing

TOP = 3
"""Quantities listed per camp in `distinguishing`."""
LABEL_SECOND_D = 0.8
"""A camp's label names its second quantity when that |d| is at least this."""
COMMON_GROUND_D = 0.3
"""Common ground: every camp's mean within this many overall SDs of the overall mean."""

_MAP_TOP = 3  # quantities named per map axis


def _pct(p: float) -> str:
    """A probability in percent for a label: whole percents from 10 %, two digits below."""
    x = 100.0 * p
    if x >= 9.5:
        return f"{x:.0f} %"
    if x < 0.01:
        return "< 0.01 %"
    return np.format_float_positional(x, precision=2, fractional=False, trim="-") + " %"


def _phrase(item: Distinguishing) -> str:
    more = item.camp_mean >= item.rest_mean
    vs = f"({_pct(item.camp_mean)} vs {_pct(item.rest_mean)})"
    if item.quantity.startswith("credence:"):
        scenario = item.quantity.split(":", 1)[1]
        return f"{'more' if more else 'less'} credence in {scenario} {vs}"
    verb = "reads" if ":" in item.quantity else "rates"
    return f"{verb} {item.quantity} {'higher' if more else 'lower'} {vs}"


def _label(items: tuple[Distinguishing, ...]) -> str:
    if not items:
        return "the whole group"
    shown = [items[0]]
    if len(items) > 1 and abs(items[1].d) >= LABEL_SECOND_D:
        shown.append(items[1])
    return "; ".join(_phrase(i) for i in shown)


def _nanmean(x: np.ndarray, axis: int = 0) -> np.ndarray:
    count = (~np.isnan(x)).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, np.nansum(x, axis=axis) / np.maximum(count, 1), np.nan)


def _distinguishing(feats: _Features, inside: np.ndarray) -> tuple[Distinguishing, ...]:
    """The `TOP` quantities with the largest |d| between the camp and the rest."""
    zz = np.where(feats.mask > 0, feats.z, np.nan)
    a, b = zz[inside], zz[~inside]
    na, nb = (~np.isnan(a)).sum(axis=0), (~np.isnan(b)).sum(axis=0)
    ma, mb = _nanmean(a), _nanmean(b)
    with np.errstate(invalid="ignore", divide="ignore"):
        ss = np.nansum((a - ma) ** 2, axis=0) + np.nansum((b - mb) ** 2, axis=0)
        # Pooled SD with na + nb - 2 degrees of freedom; the overall SD (1) without any.
        pooled = np.where(na + nb >= 3, np.sqrt(ss / np.maximum(na + nb - 2, 1)), 1.0)
        diff = ma - mb
        d = np.where(diff == 0, 0.0, diff / pooled)
    d = np.where((na > 0) & (nb > 0), d, np.nan)
    pa, pb = _nanmean(feats.probs[inside]), _nanmean(feats.probs[~inside])
    valid = np.flatnonzero(~np.isnan(d))
    order = valid[np.argsort(-np.abs(d[valid]), kind="stable")][:TOP]
    return tuple(
        Distinguishing(feats.names[j], float(pa[j]), float(pb[j]), float(d[j])) for j in order
    )


def _common_ground(feats: _Features, hard: np.ndarray, k: int) -> tuple[CommonGround, ...]:
    """Quantities on which every camp's mean is within `COMMON_GROUND_D` of the overall mean."""
    if k < 2:
        return ()
    zz = np.where(feats.mask > 0, feats.z, np.nan)
    overall = _nanmean(zz)
    gaps = np.array([np.abs(_nanmean(zz[hard == c]) - overall) for c in range(k)])
    gap = np.where(np.isnan(gaps), np.inf, gaps).max(axis=0)
    mean = _nanmean(feats.probs)
    order = [int(j) for j in np.argsort(gap, kind="stable") if gap[j] <= COMMON_GROUND_D]
    return tuple(CommonGround(feats.names[j], float(mean[j]), float(gap[j])) for j in order)


def _map(feats: _Features) -> tuple[np.ndarray, tuple[float, float], tuple[tuple[str, ...], ...]]:
    """First two principal components: scores (N, 2), variance shares, top quantities.

    From the eigenvectors of the J x J cross-product of the centred features (cheaper than an
    SVD of the N x J matrix at large N, and the same axes).
    """
    n, j = feats.z.shape
    scores = np.zeros((n, 2))
    if j == 0 or n < 2:
        return scores, (0.0, 0.0), ((), ())
    zc = feats.z - feats.z.mean(axis=0)
    eigval, eigvec = np.linalg.eigh(zc.T @ zc)
    eigval, eigvec = np.maximum(eigval[::-1], 0.0), eigvec[:, ::-1]
    total = float(eigval.sum())
    shares, tops = [0.0, 0.0], [(), ()]
    for a in range(min(2, j)):
        v = eigvec[:, a]
        v = v if v[np.argmax(np.abs(v))] >= 0 else -v
        scores[:, a] = zc @ v
        shares[a] = float(eigval[a] / total) if total > 0 else 0.0
        tops[a] = tuple(feats.names[t] for t in np.argsort(-np.abs(v), kind="stable")[:_MAP_TOP])
    return scores, (shares[0], shares[1]), (tops[0], tops[1])
