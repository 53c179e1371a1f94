"""summary.json: the group's results (`model.results`) written as one documented JSON dict.

This is the only place results become JSON. Infinite values are written as the strings
"inf"/"-inf" and undefined ones (NaN) as null, as the README documents; an unknown spread
is written as its reason.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from model.camps import camps_json
from model.meta import meta_json
from model.results import SCHEMING_LABELS, Result, Stat
from model.settle import settle_json

if TYPE_CHECKING:
    from model.analysis import Analysis

__all__ = ["SCHEMING_LABELS", "summarize", "summary_json", "summary_text"]


def _num(x: float | None) -> float | str | None:
    """A JSON-safe number: infinities as the strings "inf"/"-inf", NaN (undefined) as None."""
    if x is None:
        return None
    x = float(x)
    if math.isnan(x):
        return None
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def _stat(stat: Stat) -> dict[str, Any]:
    return {"mean": stat.mean, "hdi": list(stat.hdi)}


def _stat_or_reason(stat: Stat | None, reason: str | None) -> dict[str, Any] | str:
    return _stat(stat) if stat is not None else str(reason)


def _table(values: Mapping[str, Mapping[str, float]]) -> dict[str, dict[str, Any]]:
    return {k: {q: _num(v) for q, v in row.items()} for k, row in values.items()}


def _stats(stats: Mapping[str, Stat] | None) -> dict[str, Any] | None:
    return None if stats is None else {k: _stat(v) for k, v in stats.items()}


def summary_json(result: Result) -> dict[str, Any]:
    """The summary documented in the README (means are posterior means, hdi the 94 % HDI).

    When the group model was not fitted (`group_model` says why) its fields are null.
    """
    fitted = result.fitted
    out: dict[str, Any] = {
        "n_participants": result.n_participants,
        "scenarios": list(result.scenarios),
        "evidence": [dict(e) for e in result.evidence],
        "group_model": result.group_model,
        "consensus_prior": _stats(result.consensus_prior),
        "agreement": {"kappa": _stat_or_reason(result.agreement.kappa, result.agreement.reason)}
        if fitted
        else None,
        "consensus_posterior": _stats(result.consensus_posterior),
        "consensus_log_odds": {
            s: {t: _stat(v) for t, v in terms.items()}
            for s, terms in result.consensus_log_odds.items()
        }
        if result.consensus_log_odds is not None
        else None,
        "new_member_posterior": _stats(result.new_member_posterior),
        "factors": {
            f: {
                "consensus": _stat(v.consensus),
                "spread": _stat_or_reason(v.spread, v.spread_reason),
                "answered": v.answered,
            }
            for f, v in result.factors.items()
            if not v.direct
        }
        if result.factors is not None
        else None,
        "factor_correlation": [
            {"a": c.a, "b": c.b, **_stat(c.correlation)} for c in result.factor_correlation
        ]
        if result.factor_correlation is not None
        else None,
        "scheming": {k: _stat(v) for k, v in result.scheming.items()}
        if result.scheming is not None
        else None,
        "pools": {
            "prior": _table(result.pools.prior),
            "posterior": _table(result.pools.posterior),
            "factors": _table(result.pools.factors),
        },
        "participants": [
            {
                "id": p.id,
                "prior": dict(p.prior),
                "posterior": dict(p.posterior),
                "scheming_product": p.scheming_product,
                "p_scheming": p.p_scheming,
                "coherence_notes": list(p.coherence.notes),
                "undetected": dict(p.undetected),
                "log_odds": _table(p.log_odds),
            }
            for p in result.participants
        ],
        "disagreement": [
            {
                "quantity": d.quantity,
                "spread": _stat_or_reason(d.spread, d.reason),
                "answered": d.answered,
                "moves": d.moves,
                "log_odds_sd": _num(d.log_odds_sd),
                "observed_sd": _num(d.observed_sd),
                "logit_sd": _num(d.logit_sd),
                "ppc_p": _num(d.ppc_p),
                "misfit": d.misfit,
            }
            for d in result.disagreement
        ],
        "diagnostics": dataclasses.asdict(result.diagnostics)
        if result.diagnostics is not None
        else None,
    }
    out["meta_predictions"] = meta_json(result.meta_predictions)
    out["what_would_settle_it"] = (
        None if result.what_would_settle_it is None else settle_json(result.what_would_settle_it)
    )
    out["camps"] = camps_json(result.camps)
    if result.undetected is not None:
        out["undetected"] = {
            item: {
                "per_scenario": {s: _stat(v) for s, v in u.per_scenario.items()},
                "expected_given_evidence": _stat(u.expected_given_evidence),
            }
            for item, u in result.undetected.items()
        }
    return out


def summarize(analysis: Analysis) -> dict[str, Any]:
    """``summary_json(analysis.result)``: the summary of a fitted group."""
    return summary_json(analysis.result)


def summary_text(result: Result) -> str:
    """summary.json's text, as the command line writes it and the dashboard exports it."""
    return json.dumps(summary_json(result), indent=1)
