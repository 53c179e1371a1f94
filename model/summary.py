"""summary.json: the group's numbers in one documented, JSON-serialisable dict."""

from __future__ import annotations

import math
from typing import Any

import arviz as az
import numpy as np

from model.analysis import Analysis
from model.disagreement import hdi, spread_ranking
from model.individual import coherence, scheming_product, undetected
from priors import SCENARIO_IDS

UNKNOWN_SPREAD = "unknown: fewer than two answers"


SCHEMING_LABELS = {
    "product_of_consensus": "product of the consensus factors",
    "consensus_of_products": "consensus of members' products",
    "new_member": "a new member's product",
    "direct_typical": "direct P(scheming), typical member",
    "direct_new_member": "direct P(scheming), a new member",
}
"""Plain names of the summary's ``scheming`` entries, for tables."""


def _num(x: float) -> float | str | None:
    """A JSON-safe number: infinities as the strings "inf"/"-inf", NaN (undefined) as None."""
    x = float(x)
    if math.isnan(x):
        return None
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def _stat(samples: np.ndarray) -> dict[str, Any]:
    lo, hi = hdi(samples)
    return {"mean": float(np.mean(samples)), "hdi": [lo, hi]}


def _diagnostics(analysis: Analysis) -> dict[str, Any]:
    idata = analysis.fit.idata
    names = [
        "mu",
        "kappa",
        "theta",
        "tau",
        "consensus_posterior",
        "typical",
        "spread",
        "scheming_product_of_consensus",
        "scheming_consensus_of_products",
    ]
    rhat = az.rhat(idata, var_names=names)
    ess = az.ess(idata, var_names=names, method="bulk")
    post = idata["posterior"]
    return {
        "max_rhat": max(float(np.nanmax(rhat[v].values)) for v in names),
        "min_ess_bulk": min(float(np.nanmin(ess[v].values)) for v in names),
        "divergences": int(idata["sample_stats"]["diverging"].sum()),
        "chains": int(post.sizes["chain"]),
        "draws": int(post.sizes["draw"]),
        "seconds": round(analysis.fit.seconds, 3),
    }


def summarize(analysis: Analysis) -> dict[str, Any]:
    """The summary documented in the README (means are posterior means, hdi the 94 % HDI)."""
    post = analysis.fit.idata["posterior"]
    data = analysis.data
    n = data.n
    cols = data.columns
    factor_ids = analysis.defaults.factor_ids
    answered = (~np.isnan(data.values)).sum(axis=0)

    def per_scenario(var: str) -> dict[str, Any]:
        v = post[var].values
        return {s: _stat(v[..., k]) for k, s in enumerate(SCENARIO_IDS)}

    factors = {}
    for f in factor_ids:
        j = cols.index(f)
        spread = _stat(post["tau"].values[..., j]) if answered[j] >= 2 else UNKNOWN_SPREAD
        factors[f] = {
            "consensus": _stat(post["typical"].values[..., j]),
            "spread": spread,
            "answered": int(answered[j]),
        }

    pools_prior = analysis.prior_pools()
    pools_post = analysis.posterior_pools()
    fpools = analysis.factor_pools()
    fnames = [*factor_ids, analysis.defaults.direct.id]

    participants = []
    for r, u in zip(analysis.responses, analysis.updates, strict=True):
        log_odds = {}
        for k, s in enumerate(SCENARIO_IDS[1:]):
            row = {"prior": _num(u.terms[0, k])}
            row |= {e.id: _num(u.terms[1 + m, k]) for m, e in enumerate(analysis.evidence)}
            row["posterior"] = _num(u.posterior_log_odds[k])
            log_odds[s] = row
        coh = coherence(r)
        participants.append(
            {
                "id": r.participant,
                "prior": dict(zip(SCENARIO_IDS, u.prior.tolist(), strict=True)),
                "posterior": dict(zip(SCENARIO_IDS, u.posterior.tolist(), strict=True)),
                "scheming_product": scheming_product(r),
                "p_scheming": r.p_scheming,
                "coherence_notes": list(coh.notes),
                "undetected": {
                    x.evidence_id: x.expected
                    for x in undetected(u, analysis.evidence, analysis.defaults)
                },
                "log_odds": log_odds,
            }
        )

    agreement = {"kappa": _stat(post["kappa"].values) if n >= 2 else UNKNOWN_SPREAD}
    out: dict[str, Any] = {
        "n_participants": n,
        "scenarios": list(SCENARIO_IDS),
        "evidence": [e.model_dump() for e in analysis.evidence],
        "consensus_prior": per_scenario("mu"),
        "agreement": agreement,
        "consensus_posterior": per_scenario("consensus_posterior"),
        "consensus_log_odds": {
            s: {
                t: _stat(post["log_odds"].sel(term=t, versus=s).values)
                for t in post["log_odds"].coords["term"].values.tolist()
            }
            for s in SCENARIO_IDS[1:]
        },
        "factors": factors,
        "scheming": {
            "product_of_consensus": _stat(post["scheming_product_of_consensus"].values),
            "consensus_of_products": _stat(post["scheming_consensus_of_products"].values),
            "new_member": _stat(post["scheming_new_member"].values),
            "direct_typical": _stat(post["typical"].values[..., cols.index(fnames[-1])]),
            "direct_new_member": _stat(post["direct_new_member"].values),
        },
        "pools": {
            "prior": {
                k: dict(zip(SCENARIO_IDS, map(_num, v), strict=True))
                for k, v in pools_prior.items()
            },
            "posterior": {
                k: dict(zip(SCENARIO_IDS, map(_num, v), strict=True)) for k, v in pools_post.items()
            },
            "factors": {k: dict(zip(fnames, map(_num, v), strict=True)) for k, v in fpools.items()},
        },
        "participants": participants,
        "disagreement": [
            {
                "quantity": s.quantity,
                "spread": {"mean": s.mean, "hdi": list(s.hdi)} if s.known else UNKNOWN_SPREAD,
                "answered": s.answered,
            }
            for s in spread_ranking(analysis)
        ],
        "diagnostics": _diagnostics(analysis),
    }
    if "undetected" in post:
        out["undetected"] = {
            item: {
                "per_scenario": {
                    s: _stat(post["undetected"].sel(counts_item=item, scenario=s).values)
                    for s in SCENARIO_IDS
                },
                "expected_given_evidence": _stat(
                    post["undetected_expected"].sel(counts_item=item).values
                ),
            }
            for item in post["undetected"].coords["counts_item"].values.tolist()
        }
    return out
