"""The argument in a few sentences: the short summary at the top of the dashboard and report.

Only words around numbers the results already hold (`model.results.Result`); nothing is
computed here.
"""

from __future__ import annotations

from model.results import Result
from priors import SCENARIO_IDS, Defaults


def _pct(p: float) -> str:
    if p < 1e-4:
        return "< 0.01 %"
    return f"{100 * p:.0f} %" if p >= 0.01 else f"{100 * p:.2g} %"


def _short(text: str, n: int = 70) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def headline(result: Result, defaults: Defaults) -> tuple[str, ...]:
    """One sentence for each part of the argument.

    What the group believes, where it disagrees and why, what would settle it, its camps,
    and its meta-predictions (when known).
    """
    texts = {str(e["id"]): str(e["text"]) for e in result.evidence}
    out = []
    if result.fitted:
        post = result.consensus_posterior
        top = max(SCENARIO_IDS, key=lambda s: post[s].mean)
        parts = ", ".join(
            f"{s} {_pct(post[s].mean)} ({_pct(post[s].hdi[0])}–{_pct(post[s].hdi[1])})"
            for s in SCENARIO_IDS
        )
        out.append(
            f"What the group believes: after the evidence the consensus is {parts}; most weight "
            f"on {top} ({defaults.scenario(top).name})."
        )
    else:
        out.append(
            f"What the group believes: {result.n_participants} member(s) answered, too few for "
            "the group model; each member's own numbers and the pools are shown."
        )
    decisive = next((d for d in result.disagreement if d.log_odds_sd is not None), None)
    if decisive is not None:
        item, _, s = decisive.quantity.partition(":")
        name = (
            f"their reading of “{_short(texts[item])}” under {s}"
            if item in texts
            else decisive.quantity
        )
        out.append(
            f"Where it disagrees and why: the difference that decides most is {name}: it moves "
            f"members' log-odds by {decisive.log_odds_sd:.1f} nats (SD across members)."
        )
    settlers = [s for s in result.what_would_settle_it or () if s.vod is not None]
    if settlers:
        best = settlers[0]
        polar = [s for s in settlers if s.polarising]
        sentence = (
            f"What would settle it: “{_short(texts.get(best.item, best.item))}” is expected to "
            f"remove most disagreement ({best.vod.mean:+.3f} bits)"
        )
        if best.vod.mean <= 0:
            sentence = "What would settle it: no proposed observation is expected to bring the "
            sentence += "members together"
        if polar:
            sentence += f"; {len(polar)} would drive them apart (read oppositely)"
        out.append(sentence + ".")
    camps = result.camps
    if camps.k > 1:
        labels = "; ".join(f"{c.size} who {_short(c.label, 60)}" for c in camps.camps)
        out.append(f"Camps: {camps.k} worldview camps: {labels}.")
    else:
        out.append("Camps: one camp; the answers show no separate worldviews.")
    meta = result.meta_predictions
    if meta.reason is None and meta.surprisingly_popular:
        out.append(
            f"Meta-predictions: {meta.surprisingly_popular} is surprisingly popular (more "
            "credence than members predicted the group would give it)."
        )
    return tuple(out)
