"""Typed results (model/results.py) and summary.json written from them (model/summary.py).

Three kinds of check: summary.json equals the documented summary as the project computed it
before the results became typed (the old dict code, kept below verbatim as the reference);
every summarised number equals an independent computation from the posterior draws (a
sort-based HDI, closed forms); and the records hold floats, never text for numbers.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats
from scipy.special import expit

from model.analysis import analyse
from model.example import example_responses
from model.individual import coherence, scheming_product, undetected
from model.results import FEWER_THAN_TWO, Result, Stat
from model.summary import summary_json
from priors import SCENARIO_IDS, parse_evidence
from tests.model.helpers import raw_response

HDI = 0.94


def _hdi_by_sorting(x: np.ndarray, prob: float = HDI) -> tuple[float, float]:
    """The narrowest interval holding ceil(prob n) sorted draws (independent of ArviZ)."""
    x = np.sort(np.asarray(x, float).ravel())
    k = int(np.floor(prob * x.size))
    widths = x[k:] - x[: x.size - k]
    i = int(np.argmin(widths))
    return float(x[i]), float(x[i + k])


@pytest.fixture(scope="module")
def analysis(sampler, defaults):
    responses = example_responses(n=12, seed=7)
    return analyse(
        responses,
        evidence=defaults.evidence,
        defaults=defaults,
        sampler=sampler,
        draws=150,
        tune=150,
        random_seed=5,
    )


# --- the reference: summarize() as it was before the results became typed -----------------


def _ref_num(x):
    x = float(x)
    if math.isnan(x):
        return None
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def _ref_stat(samples, hdi):
    lo, hi = hdi(samples)
    return {"mean": float(np.mean(samples)), "hdi": [lo, hi]}


def _reference_summary(analysis, hdi):
    """The documented summary, computed from the posterior the way the old code did."""
    post = analysis.fit.idata["posterior"]
    data = analysis.data
    n = data.n
    cols = data.columns
    factor_ids = analysis.defaults.factor_ids
    answered = (~np.isnan(data.values)).sum(axis=0)
    unknown = "unknown: fewer than two answers"

    def stat(x):
        return _ref_stat(x, hdi)

    factors = {}
    for f in factor_ids:
        j = cols.index(f)
        factors[f] = {
            "consensus": stat(post["typical"].values[..., j]),
            "spread": stat(post["tau"].values[..., j]) if answered[j] >= 2 else unknown,
            "answered": int(answered[j]),
        }
    fnames = [*factor_ids, analysis.defaults.direct.id]
    participants = []
    for r, u in zip(analysis.responses, analysis.updates, strict=True):
        log_odds = {}
        for k, s in enumerate(SCENARIO_IDS[1:]):
            row = {"prior": _ref_num(u.terms[0, k])}
            row |= {e.id: _ref_num(u.terms[1 + m, k]) for m, e in enumerate(analysis.evidence)}
            row["posterior"] = _ref_num(u.posterior_log_odds[k])
            log_odds[s] = row
        participants.append(
            {
                "id": r.participant,
                "prior": dict(zip(SCENARIO_IDS, u.prior.tolist(), strict=True)),
                "posterior": dict(zip(SCENARIO_IDS, u.posterior.tolist(), strict=True)),
                "scheming_product": scheming_product(r),
                "p_scheming": r.p_scheming,
                # issue 10: notes in the files name the member (third person)
                "coherence_notes": [n.text(r.participant) for n in coherence(r).records],
                "undetected": {
                    x.evidence_id: x.expected
                    for x in undetected(u, analysis.evidence, analysis.defaults)
                },
                "log_odds": log_odds,
            }
        )
    spreads = []
    cs = post["credence_spread"].values
    for k, s in enumerate(SCENARIO_IDS):
        spreads.append((f"credence:{s}", cs[..., k], n))
    sp = post["spread"].values
    for j, col in enumerate(cols):
        spreads.append((col, sp[..., j], int(answered[j])))
    spreads.sort(key=lambda q: (q[2] < 2, -float(q[1].mean())))

    def pools(d, keys):
        return {k: dict(zip(keys, map(_ref_num, v), strict=True)) for k, v in d.items()}

    out = {
        "n_participants": n,
        "scenarios": list(SCENARIO_IDS),
        "evidence": [e.model_dump() for e in analysis.evidence],
        "group_model": "fitted",  # added with the rule that fewer than three are not fitted
        "consensus_prior": {s: stat(post["mu"].values[..., k]) for k, s in enumerate(SCENARIO_IDS)},
        "agreement": {"kappa": stat(post["kappa"].values) if n >= 2 else unknown},
        "consensus_posterior": {
            s: stat(post["consensus_posterior"].values[..., k]) for k, s in enumerate(SCENARIO_IDS)
        },
        "consensus_log_odds": {
            s: {
                t: stat(post["log_odds"].sel(term=t, versus=s).values)
                for t in post["log_odds"].coords["term"].values.tolist()
            }
            for s in SCENARIO_IDS[1:]
        },
        "new_member_posterior": {
            s: stat(post["new_member_posterior"].values[..., k]) for k, s in enumerate(SCENARIO_IDS)
        },
        "factors": factors,
        "factor_correlation": [
            {"a": a, "b": b, **stat(post["factor_correlation"].values[..., i, j])}
            for i, a in enumerate(analysis.defaults.factor_ids)
            for j, b in enumerate(analysis.defaults.factor_ids)
            if i < j
        ],
        "scheming": {
            "product_of_consensus": stat(post["scheming_product_of_consensus"].values),
            "consensus_of_products": stat(post["scheming_consensus_of_products"].values),
            "new_member": stat(post["scheming_new_member"].values),
            "direct_typical": stat(post["typical"].values[..., cols.index(fnames[-1])]),
            "direct_new_member": stat(post["direct_new_member"].values),
        },
        "pools": {
            "prior": pools(analysis.prior_pools(), SCENARIO_IDS),
            "posterior": pools(analysis.posterior_pools(), SCENARIO_IDS),
            "factors": pools(analysis.factor_pools(), fnames),
        },
        "participants": participants,
        "disagreement": [
            {
                "quantity": q,
                "spread": stat(x) if a >= 2 else unknown,
                "answered": a,
            }
            for q, x, a in spreads
        ],
    }
    if "undetected" in post:
        out["undetected"] = {
            item: {
                "per_scenario": {
                    s: stat(post["undetected"].sel(counts_item=item, scenario=s).values)
                    for s in SCENARIO_IDS
                },
                "expected_given_evidence": stat(
                    post["undetected_expected"].sel(counts_item=item).values
                ),
            }
            for item in post["undetected"].coords["counts_item"].values.tolist()
        }
    return out


def test_summary_json_is_the_documented_summary(analysis):
    from model.results import hdi

    got = summary_json(analysis.result)
    # added since, each tested in its own file: test_meta, test_settle, test_camps
    for added in ("meta_predictions", "what_would_settle_it", "camps"):
        got.pop(added)
    diagnostics = got.pop("diagnostics")
    assert set(diagnostics) == {
        "max_rhat",
        "min_ess_bulk",
        "divergences",
        "chains",
        "draws",
        "seconds",
        "target_accept",
    }
    want = _reference_summary(analysis, hdi)
    # The disagreement list is now ordered by the decision measure and has more fields
    # (tested below); its model spreads are as documented.
    got_spreads = {d["quantity"]: (d["spread"], d["answered"]) for d in got.pop("disagreement")}
    want_spreads = {d["quantity"]: (d["spread"], d["answered"]) for d in want.pop("disagreement")}
    assert json.dumps(got_spreads, sort_keys=True) == json.dumps(want_spreads, sort_keys=True)
    assert json.dumps(got, sort_keys=False) == json.dumps(want, sort_keys=False)


def test_every_interval_is_the_narrowest_94_percent_of_the_draws(analysis):
    post = analysis.fit.idata["posterior"]
    r = analysis.result
    mu = post["mu"].values
    for k, s in enumerate(SCENARIO_IDS):
        assert r.consensus_prior[s].mean == pytest.approx(mu[..., k].mean(), rel=1e-12)
        lo, hi = _hdi_by_sorting(mu[..., k])
        assert r.consensus_prior[s].hdi == pytest.approx((lo, hi), abs=2e-3)
    kappa = post["kappa"].values
    assert r.agreement.kappa.hdi == pytest.approx(_hdi_by_sorting(kappa), rel=2e-2)


def _credences_by_hand(post, rng, *, thin, per_draw):
    """Members' credences (draws, per_draw, 4) from the posterior's sticks, with scipy: stick
    k (A, then D, then B) ~ Beta(kappa e^eps_k mu_(k), kappa e^eps_k (sum of mu after k))."""
    order = [0, 3, 1, 2]
    mu = post["mu"].values.reshape(-1, 4)[::thin]
    kappa = post["kappa"].values.reshape(-1)[::thin]
    eps = post["credence_dispersion"].values.reshape(-1, 3)[::thin]
    out = np.empty((len(mu), per_draw, 4))
    left = np.ones((len(mu), per_draw))
    for k in range(3):
        scale = kappa * np.exp(eps[:, k])
        a, b = scale * mu[:, order[k]], scale * mu[:, order[k + 1 :]].sum(axis=1)
        v = stats.beta.rvs(a[:, None], b[:, None], size=left.shape, random_state=rng)
        out[..., order[k]] = left * v
        left = left * (1 - v)
    out[..., order[3]] = left
    return out


def test_spreads_follow_their_closed_forms(analysis):
    """Credence SD per draw against scipy's Beta sticks drawn by hand; answers' SD by
    brute-force Monte Carlo."""
    post = analysis.fit.idata["posterior"]
    by_q = {d.quantity: d for d in analysis.result.disagreement}
    sims = _credences_by_hand(post, np.random.default_rng(7), thin=25, per_draw=20_000)
    model_sd = post["credence_spread"].values.reshape(-1, 4)[::25]
    assert np.max(np.abs(sims.std(axis=1) - model_sd)) < 0.006
    for k, s in enumerate(SCENARIO_IDS):
        spread = post["credence_spread"].values[..., k]
        assert by_q[f"credence:{s}"].spread.mean == pytest.approx(spread.mean(), rel=1e-9)
    # expit(theta + tau Z): SD by 20 000 normal draws per posterior draw on a thinned set
    theta = post["theta"].values.reshape(-1, post["theta"].shape[-1])[::25]
    tau = post["tau"].values.reshape(-1, post["tau"].shape[-1])[::25]
    spread = post["spread"].values.reshape(-1, post["spread"].shape[-1])[::25]
    z = np.random.default_rng(1).standard_normal(20_000)
    mc = expit(theta[..., None] + tau[..., None] * z).std(axis=-1)
    assert np.max(np.abs(mc - spread)) < 0.01


def test_disagreement_is_ordered_by_how_much_it_moves_the_log_odds(analysis, defaults):
    """The decision measure recomputed member by member with scipy, and the order it gives."""
    from scipy import stats

    from model.individual import counts_rates

    entries = analysis.result.disagreement
    measures = [d.log_odds_sd for d in entries if d.log_odds_sd is not None]
    assert measures == sorted(measures, reverse=True)
    by_q = {d.quantity: d for d in entries}
    item = next(e for e in analysis.evidence if e.id == "monitoring_counts")
    m, fa = counts_rates(item, defaults)
    terms, stated = [], []
    for r in analysis.responses:
        d = r.readings["monitoring_counts"]["D"]
        if d is None:
            continue
        d = min(max(d, 0.005), 0.995)
        stated.append(r.readings["monitoring_counts"]["D"])
        terms.append(
            stats.binom.logpmf(item.detected, item.episodes, m[3] * d + (1 - m[3]) * fa[3])
        )
    q = by_q["monitoring_counts:D"]
    assert q.log_odds_sd == pytest.approx(np.std(terms, ddof=1), rel=1e-12)
    assert q.observed_sd == pytest.approx(np.std(stated, ddof=1), rel=1e-12)
    credence_a = [
        max(r.scenarios["A"] / sum(r.scenarios.values()), 0.005) for r in analysis.responses
    ]
    assert by_q["credence:A"].log_odds_sd == pytest.approx(np.std(np.log(credence_a), ddof=1))
    # the audit's case: the sensitivity under D, 1-5 % for most, decides far more than any
    # credence, though its spread in probability units is small
    assert entries[0].quantity == "monitoring_counts:D"
    assert entries[0].observed_sd < by_q["credence:A"].observed_sd


def test_new_member_bands_match_their_predictive_distributions(analysis):
    """A new member's credence: the credence model's sticks mixed over the posterior."""
    post = analysis.fit.idata["posterior"]
    mu = post["mu"].values.reshape(-1, 4)
    sims = _credences_by_hand(post, np.random.default_rng(99), thin=1, per_draw=50)
    for k, s in enumerate(SCENARIO_IDS):
        ref = _hdi_by_sorting(sims[..., k])
        got = analysis.result.new_member_credence[s]
        assert got.mean == pytest.approx(mu[:, k].mean(), abs=0.02)  # E[Beta] = mu
        assert got.hdi == pytest.approx(ref, abs=0.03)


def test_cruxes_are_member_terms_minus_the_consensus_terms(analysis):
    post = analysis.fit.idata["posterior"]
    consensus = post["log_odds"].mean(("chain", "draw"))
    for s, crux in analysis.result.cruxes.items():
        k = SCENARIO_IDS.index(s) - 1
        for i, u in enumerate(analysis.updates):
            for t, term in enumerate(crux.terms):
                want = u.terms[t, k] - float(consensus.sel(term=term, versus=s))
                got = crux.gaps[i, t]
                assert got == want or (np.isnan(got) and np.isnan(want))


_EVIDENCE = (
    '[[evidence]]\nid = "seen"\nkind = "likelihood"\ntext = "x"\n'
    "default_likelihood = {A = 0.5, B = 0.5, C = 0.5, D = 0.5}\n"
)


def test_records_hold_floats_and_reasons_never_text_for_numbers(sampler, defaults):
    """A stated 0 for D gives a float -inf; a factor one member answered has no spread."""
    from model.schema import validate_response

    evidence = parse_evidence(_EVIDENCE)
    factors = {
        "non_corrigibility": None,
        "misaligned_goals": 0.4,
        "evades_guardrails": 0.5,
        "strategic_reasoning": 0.6,
    }
    raws = [
        raw_response("Ada", (0.5, 0.3, 0.2, 0.0), readings={}),
        raw_response("Bo", (0.4, 0.3, 0.2, 0.1), readings={}, factors=factors),
        raw_response("Cy", (0.3, 0.3, 0.2, 0.2), readings={}, factors=factors),
    ]
    group = [validate_response(r, evidence=evidence, defaults=defaults) for r in raws]
    a = analyse(
        group,
        evidence=evidence,
        defaults=defaults,
        sampler=sampler,
        draws=50,
        tune=50,
        random_seed=1,
    )
    r: Result = a.result
    assert r.fitted and r.group_model == "fitted"
    f = r.factors["non_corrigibility"]
    assert f.answered == 1 and f.spread is None and f.spread_reason == FEWER_THAN_TWO
    assert isinstance(r.agreement.kappa, Stat)
    lo = r.participants[0].log_odds["D"]
    assert lo["prior"] == -math.inf and isinstance(lo["prior"], float)
    assert r.participants[0].defaulted == ((True, True, True, True),)
    js = summary_json(r)
    assert js["participants"][0]["log_odds"]["D"]["prior"] == "-inf"
    assert js["factors"]["non_corrigibility"]["spread"] == FEWER_THAN_TWO


@pytest.mark.parametrize("n", [1, 2])
def test_fewer_than_three_members_are_not_fitted_and_pools_never_extremize_one(n, defaults):
    """One or two members: no group model (its consensus would be the hyperprior), the pools
    stand alone, and for one member every pool is that member's answer."""
    from model.schema import validate_response

    evidence = parse_evidence(_EVIDENCE)
    raws = [
        raw_response("Ada", (0.75, 0.13, 0.07, 0.05), readings={}, p_scheming=0.021),
        raw_response("Bo", (0.4, 0.3, 0.2, 0.1), readings={}, p_scheming=0.2),
    ][:n]
    group = [validate_response(x, evidence=evidence, defaults=defaults) for x in raws]
    a = analyse(group, evidence=evidence, defaults=defaults, random_seed=1)
    r = a.result
    assert a.fit is None and not r.fitted
    assert r.group_model == "not fitted: fewer than 3 members"
    assert r.consensus_prior is None and r.consensus_posterior is None and r.scheming is None
    js = summary_json(r)
    assert js["group_model"] == "not fitted: fewer than 3 members"
    # the members' own spread is still given; the model's is not
    assert all(d["spread"] == "not fitted: fewer than 3 members" for d in js["disagreement"])
    for key in (
        "consensus_prior",
        "consensus_posterior",
        "new_member_posterior",
        "agreement",
        "factors",
        "factor_correlation",
        "scheming",
        "diagnostics",
    ):
        assert js[key] is None
    if n == 1:
        for pool in ("linear", "log", "median"):
            stated = dict(zip("ABCD", (0.75, 0.13, 0.07, 0.05), strict=True))
            assert r.pools.prior[pool] == pytest.approx(stated)
        for pool in ("linear", "geometric_mean_odds", "extremized", "median"):
            assert r.pools.factors[pool]["p_scheming"] == pytest.approx(0.021)
    else:
        # geometric mean of odds of 0.021 and 0.2, extremized by d = 1.5: a closed form
        lo = (math.log(0.021 / 0.979) + math.log(0.2 / 0.8)) / 2
        assert r.pools.factors["extremized"]["p_scheming"] == pytest.approx(
            1 / (1 + math.exp(-1.5 * lo))
        )


def test_fewer_than_three_members_import_no_sampler(tmp_path):
    """Small groups need no PyMC at all: analysing one member loads none of it."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from model.analysis import analyse\n"
        "from model.example import example_responses\n"
        "from priors import load_defaults\n"
        "d = load_defaults()\n"
        "a = analyse(example_responses(n=12, seed=7)[:2], evidence=d.evidence, defaults=d)\n"
        "assert a.result.group_model.startswith('not fitted')\n"
        "print(sorted(m for m in ('pymc', 'pytensor', 'nutpie') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
