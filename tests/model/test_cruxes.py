"""Cruxes that add up: rows measured from the shown consensus, any reference, pairs, zeros."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from model.analysis import analyse
from model.cruxes import pair_crux
from model.example import example_responses
from model.individual import counts_rates, update
from model.schema import validate_response
from priors import SCENARIO_IDS
from tests.model.helpers import raw_response


@pytest.fixture(scope="module")
def analysis(sampler, defaults):
    """The shipped example (12 members) plus one who ruled D out and one who left readings."""
    responses = example_responses(n=12, seed=7)
    extra = [
        raw_response("Zero", (0.7, 0.2, 0.1, 0.0)),
        raw_response("Blank", (0.4, 0.3, 0.2, 0.1), readings={}),
    ]
    responses += [
        validate_response(r, evidence=defaults.evidence, defaults=defaults) for r in extra
    ]
    return analyse(
        responses,
        evidence=defaults.evidence,
        defaults=defaults,
        sampler=sampler,
        draws=200,
        tune=200,
        random_seed=2,
    )


def test_rows_add_up_to_the_gap_to_the_consensus_posterior(analysis):
    post = analysis.fit.idata["posterior"]["consensus_posterior"].values.reshape(-1, 4)
    for reference in SCENARIO_IDS:
        for versus, c in analysis.result.cruxes_against[reference].items():
            s, r = SCENARIO_IDS.index(versus), SCENARIO_IDS.index(reference)
            # the reference total is the consensus posterior's log-odds, per draw
            with np.errstate(divide="ignore"):
                total = np.log(post[:, s]) - np.log(post[:, r])
            assert c.consensus_total.mean == pytest.approx(total.mean(), abs=1e-6)
            for i, u in enumerate(analysis.updates):
                if c.ruled_out[i]:
                    continue
                member = np.log(u.posterior[s]) - np.log(u.posterior[r])
                assert c.totals[i] == pytest.approx(member - c.consensus_total.mean, abs=1e-6)


def test_any_reference_is_the_same_split_seen_from_another_scenario(analysis):
    a, c_ref = analysis.result.cruxes_against["A"], analysis.result.cruxes_against["C"]
    # log-odds(D : C) = log-odds(D : A) - log-odds(C : A), part by part
    np.testing.assert_allclose(c_ref["D"].gaps, a["D"].gaps - a["C"].gaps, atol=1e-9)
    assert analysis.result.cruxes is analysis.result.cruxes_against["A"]


def test_a_stated_zero_is_ruled_out_and_defaults_are_marked(analysis):
    crux = analysis.result.cruxes_against["A"]["D"]
    zero = crux.participants.index("Zero")
    assert crux.ruled_out[zero] == "ruled out D (stated 0)"
    assert crux.ruled_out[crux.participants.index("Ada")] is None
    blank = crux.participants.index("Blank")
    assert crux.defaulted[blank, 1:].all() and not crux.defaulted[blank, 0]
    assert not crux.defaulted[crux.participants.index("Ada")].any()


def test_a_member_who_answers_the_shown_consensus_has_rows_near_zero(analysis, defaults):
    """Credences with the consensus's prior log-odds and readings whose likelihood ratios
    equal the consensus's evidence parts: every row of their crux is (near) zero."""
    crux = analysis.result.cruxes_against["A"]
    prior = np.exp([0.0, *(crux[s].consensus[0].mean for s in SCENARIO_IDS[1:])])
    readings = {}
    for t, item_id in enumerate(crux["B"].terms[1:], start=1):
        item = next(e for e in analysis.evidence if e.id == item_id)
        target = np.array([0.0, *(crux[s].consensus[t].mean for s in SCENARIO_IDS[1:])])
        if item.kind == "likelihood":
            d = 0.9 * np.exp(target - target.max())
        else:  # counts: invert the binomial likelihood on a fine grid of sensitivities
            m, fa = counts_rates(item, defaults)
            grid = np.linspace(0.005, 0.995, 20_000)
            best = None
            for d_a in grid[::200]:
                base = stats.binom.logpmf(
                    item.detected, item.episodes, m[0] * d_a + (1 - m[0]) * fa[0]
                )
                ds = [d_a]
                err = 0.0
                for k in range(1, 4):
                    ll = stats.binom.logpmf(
                        item.detected, item.episodes, m[k] * grid + (1 - m[k]) * fa[k]
                    )
                    j = int(np.argmin(np.abs(ll - base - target[k])))
                    ds.append(grid[j])
                    err = max(err, abs(ll[j] - base - target[k]))
                if best is None or err < best[0]:
                    best = (err, ds)
            d = np.array(best[1])
        readings[item_id] = dict(zip(SCENARIO_IDS, map(float, d), strict=True))
    raw = raw_response("Consensus", tuple(prior / prior.sum()), readings=readings)
    me = update(
        validate_response(raw, evidence=analysis.evidence, defaults=defaults),
        evidence=analysis.evidence,
        defaults=defaults,
    )
    for s in SCENARIO_IDS[1:]:
        k = SCENARIO_IDS.index(s) - 1
        for t in range(len(crux[s].terms)):
            gap = me.terms[t, k] - crux[s].consensus[t].mean
            assert abs(gap) < 0.05, (s, crux[s].terms[t], gap)


def test_a_pair_has_its_gap_row_and_the_rows_add_up(analysis):
    p = pair_crux(analysis.result.cruxes_against, "Ada", "Zero", versus="D", reference="B")
    assert p.gap == pytest.approx(sum(p.parts)) or np.isinf(p.gap)
    assert p.ruled_out == "Zero: ruled out D (stated 0)"
    q = pair_crux(analysis.result.cruxes_against, "Ada", "Bo", versus="C", reference="A")
    ada, bo = (analysis.updates[analysis.data.participants.index(n)] for n in ("Ada", "Bo"))
    assert q.gap == pytest.approx(ada.posterior_log_odds[1] - bo.posterior_log_odds[1])
    assert q.parts == pytest.approx(tuple(ada.terms[:, 1] - bo.terms[:, 1]))
