"""Plain text and numbers for the pages: Markdown made literal, percentages and posterior summaries.

Pure functions, no Streamlit: every number they format was computed in `model/`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from model.results import Stat

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&^=\"'])")


def md_escape(text: str) -> str:
    """User or error text made literal for Markdown (no links, images, math, colours)."""
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", text).replace("\n", "  \n")
    # Bare addresses are linked by Markdown even when escaped around: break the pattern with
    # an escaped ":" (shown as ":") and "." after "www" (shown as ".").
    return text.replace("://", "\\://").replace("www.", "www\\.")


def percent(p: float | None) -> int | None:
    """A stored probability as the form's whole percentage (None stays None)."""
    return None if p is None else int(round(100 * p))


def probability(v: float | None) -> float | None:
    """A form percentage as a probability (None, no answer, stays None)."""
    return None if v is None else v / 100


def show_percent(p: float | None, *, digits: int = 0) -> str:
    """A probability for display ("–" for no answer; small values keep their digits).

    Below 0.01 % it says "< 0.01 %": the exact value is in the exports.
    """
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "–"
    if 0 < p < 1e-4:
        return "< 0.01 %"
    if 0 < p < 0.01:
        return f"{100 * p:.2g} %"
    return f"{100 * p:.{digits}f} %"


def show_number(x: float | None, *, digits: int = 2) -> str:
    """A plain number for display ("–" when unknown)."""
    if x is None or math.isnan(x):
        return "–"
    return f"{x:.{digits}f}"


def show_log_odds(x: float) -> str:
    """A log-odds term for display: signed, two decimals, ±∞ for a stated 0."""
    if math.isnan(x):
        return "undefined (0 against 0)"
    if math.isinf(x):
        return "+∞" if x > 0 else "−∞"
    return f"{x:+.2f}"


def show_stat(stat: Stat | None, *, as_percent: bool = True, reason: str | None = None) -> str:
    """A posterior summary as "mean [lo – hi]"; an unknown one (None) as its reason."""
    if stat is None:
        return reason or "unknown"
    lo, hi = stat.hdi
    if as_percent:
        return f"{show_percent(stat.mean)} [{show_percent(lo)} – {show_percent(hi)}]"
    return f"{stat.mean:.3g} [{lo:.3g} – {hi:.3g}]"


def rescaled_percentages(values: Sequence[float]) -> list[int] | None:
    """Whole percentages proportional to `values` that add up to exactly 100.

    Largest remainders get the leftover points; None when the values add up to 0.
    """
    total = float(sum(values))
    if total <= 0:
        return None
    raw = [100 * v / total for v in values]
    out = [math.floor(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda k: raw[k] - out[k], reverse=True)
    for k in order[: 100 - sum(out)]:
        out[k] += 1
    return out
