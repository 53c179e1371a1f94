import math

import numpy as np
import pytest

from model.example import example_responses
from model.individual import (
    coherence,
    log_likelihoods,
    rising_factors_warning,
    scheming_product,
    undetected,
    update,
    update_all,
)
from model.schema import validate_response
from priors import parse_evidence
from tests.model.helpers import raw_response

LIKELIHOOD_ONLY = parse_evidence(
    '[[evidence]]\nid = "obs"\nkind = "likelihood"\ntext = "t"\n'
    "default_likelihood = { A = 0.9, B = 0.8, C = 0.85, D = 0.5 }\n"
)


def resp(defaults, evidence=None, **kw):
    evidence = defaults.evidence if evidence is None else evidence
    return validate_response(raw_response(**kw), evidence=evidence, defaults=defaults)


def test_reference_value_single_likelihood_item(defaults):
    """prior (0.4, 0.3, 0.2, 0.1), P(obs|s) = (0.9, 0.8, 0.85, 0.5):
    unnormalised posterior (0.36, 0.24, 0.17, 0.05), total 0.82, so
    posterior = (0.439024, 0.292683, 0.207317, 0.060976); log-odds D:A prior
    log(0.1/0.4) = -1.386294, evidence log(0.5/0.9) = -0.587787."""
    r = resp(defaults, LIKELIHOOD_ONLY, readings={"obs": {"A": 0.9, "B": 0.8, "C": 0.85, "D": 0.5}})
    u = update(r, evidence=LIKELIHOOD_ONLY, defaults=defaults)
    np.testing.assert_allclose(u.posterior, [0.439024, 0.292683, 0.207317, 0.060976], atol=1e-6)
    assert u.terms[0, 2] == pytest.approx(-1.386294, abs=1e-6)
    assert u.terms[1, 2] == pytest.approx(-0.587787, abs=1e-6)


def test_counts_likelihood_matches_the_binomial_written_out(defaults):
    """Independent: C(n, k) p^k (1-p)^(n-k) with p = m d + (1 - m) fa, by math.comb."""
    item = defaults.evidence[0]
    d = np.array([0.6, 0.5, 0.3, 0.01])
    ll = log_likelihoods(np.stack([d, np.ones(4)]), defaults.evidence, defaults)[0]
    for k, s in enumerate("ABCD"):
        sc = defaults.scenario(s)
        p = sc.misalignment_now * d[k] + (1 - sc.misalignment_now) * sc.false_alarm_rate
        n, x = item.episodes, item.detected
        expected = math.log(math.comb(n, x)) + x * math.log(p) + (n - x) * math.log1p(-p)
        assert ll[k] == pytest.approx(expected, rel=1e-10)


def test_posterior_equals_brute_force_bayes_and_terms_add_up(defaults, rng):
    for _ in range(20):
        scen = rng.dirichlet(np.ones(4))
        scen = np.round(scen, 4)
        scen[0] = 1 - scen[1:].sum()
        d = rng.uniform(0.001, 0.99, 4).round(3)
        lk = rng.uniform(0.01, 0.99, 4).round(3)
        readings = {
            "monitoring_counts": dict(zip("ABCD", d, strict=True)),
            "no_collusion": dict(zip("ABCD", lk, strict=True)),
        }
        r = resp(defaults, scen=tuple(scen), readings=readings)
        u = update(r, evidence=defaults.evidence, defaults=defaults)
        # brute force in probability space with scipy-free arithmetic
        item = defaults.evidence[0]
        like = []
        for k, s in enumerate("ABCD"):
            sc = defaults.scenario(s)
            p = sc.misalignment_now * d[k] + (1 - sc.misalignment_now) * sc.false_alarm_rate
            like.append(p**item.detected * (1 - p) ** (item.episodes - item.detected) * lk[k])
        joint = np.asarray(scen) * np.asarray(like)
        np.testing.assert_allclose(u.posterior, joint / joint.sum(), rtol=1e-9)
        np.testing.assert_allclose(
            u.posterior_log_odds, np.log(u.posterior[1:] / u.posterior[0]), rtol=1e-9
        )


def test_stated_zero_stays_zero_and_its_log_odds_are_infinite(defaults):
    r = resp(defaults, scen=(0.5, 0.5, 0.0, 0.0))
    u = update(r, evidence=defaults.evidence, defaults=defaults)
    assert u.posterior[2] == 0 and u.posterior[3] == 0
    assert u.terms[0, 1] == -np.inf and u.posterior_log_odds[2] == -np.inf
    r = resp(defaults, scen=(0.0, 0.5, 0.5, 0.0))
    u = update(r, evidence=defaults.evidence, defaults=defaults)
    assert u.terms[0, 0] == np.inf  # B against a stated-0 A
    assert np.isnan(u.terms[0, 2])  # D against A: both stated 0, undefined


def test_unanswered_reading_uses_the_reference_default(defaults):
    r = resp(defaults, readings={"no_collusion": {"A": 0.9}})
    u = update(r, evidence=defaults.evidence, defaults=defaults)
    assert u.defaulted[0].all() and not u.defaulted[1, 0] and u.defaulted[1, 1:].all()
    assert u.readings[0, 3] == defaults.scenario("D").detection_now
    assert u.readings[1, 3] == defaults.evidence[1].default_likelihood["D"]


def _impossible(defaults):
    """All credence on A, whose likelihood for the observation is 0."""
    return resp(
        defaults,
        LIKELIHOOD_ONLY,
        scen=(1.0, 0.0, 0.0, 0.0),
        readings={"obs": {"A": 0.0, "B": 0.5, "C": 0.5, "D": 0.5}},
    )


def test_impossible_evidence_is_a_clear_error(defaults):
    with pytest.raises(ValueError, match="impossible under every scenario"):
        update(_impossible(defaults), evidence=LIKELIHOOD_ONLY, defaults=defaults)


def test_update_all_equals_updating_each_member_alone(defaults):
    """A member's update does not depend on who else is in the batch (defaults, stated zeros).

    `update` (one member) is checked against brute-force Bayes above.
    """
    responses = example_responses(n=40, seed=3, defaults=defaults) + [
        resp(defaults, scen=(0.0, 0.5, 0.5, 0.0)),
        resp(defaults, readings={"no_collusion": {"A": 0.9}}),
    ]
    together = update_all(responses, evidence=defaults.evidence, defaults=defaults)
    assert len(together) == len(responses)
    for r, u in zip(responses, together, strict=True):
        alone = update(r, evidence=defaults.evidence, defaults=defaults)
        assert u.participant == alone.participant
        for field in ("prior", "posterior", "readings", "defaulted", "log_lik", "terms"):
            np.testing.assert_allclose(getattr(u, field), getattr(alone, field), rtol=1e-12)
    assert update_all([], evidence=defaults.evidence, defaults=defaults) == []


def test_update_all_refuses_impossible_evidence_as_update_does(defaults):
    fine = resp(
        defaults, LIKELIHOOD_ONLY, readings={"obs": {"A": 0.5, "B": 0.5, "C": 0.5, "D": 0.5}}
    )
    with pytest.raises(ValueError, match="impossible under every scenario"):
        update_all([fine, _impossible(defaults)], evidence=LIKELIHOOD_ONLY, defaults=defaults)


def test_low_detected_misalignment_barely_separates_a_from_d_when_d_d_is_small(defaults):
    """The debate's key point: 3 detections in 1000 episodes. If monitoring catches
    only 1 % of D's misaligned actions, D predicts 0.2*0.01 + 0.8*0.0005 = 0.0024 flagged,
    close to A's 0.005*0.6 + 0.995*0.0005 = 0.0034975: the likelihood ratio D:A is near 1.
    If it caught 50 %, D predicts 0.1004 and 3/1000 all but rules D out."""

    def lr_d_vs_a(d_d):
        rd = {"A": 0.6, "B": 0.6, "C": 0.6, "D": d_d}
        r = resp(defaults, readings={"monitoring_counts": rd})
        return update(r, evidence=defaults.evidence, defaults=defaults).terms[1, 2]

    assert abs(lr_d_vs_a(0.01)) < 0.5  # |log LR| < 0.5: barely moves
    assert lr_d_vs_a(0.5) < -50  # overwhelming: odds below e^-50


def test_scheming_product_and_coherence_notes(defaults):
    r = resp(defaults, scen=(0.4, 0.3, 0.28, 0.02), p_scheming=0.05)
    assert scheming_product(r) == pytest.approx(0.3 * 0.4 * 0.5 * 0.6)
    c = coherence(r)
    assert c.product == pytest.approx(0.036) and c.direct == 0.05 and c.notes == ()

    # the helper's default credence in D, 0.1, is above both answers: flagged twice
    assert [n.kind for n in coherence(resp(defaults)).records] == [
        "product_below_d",
        "direct_below_d",
    ]

    r = resp(defaults, scen=(0.4, 0.3, 0.28, 0.02), p_scheming=0.5)
    assert any("multiply to 3.6 %" in n for n in coherence(r).notes)

    r = resp(defaults, scen=(0.2, 0.2, 0.2, 0.4), p_scheming=0.4)
    notes = coherence(r).notes
    assert any(n.startswith("Your factor product is 3.6 %, below") for n in notes)
    assert not any(n.startswith("Your direct P(scheming)") for n in notes)

    warn = resp(
        defaults,
        factors={
            "non_corrigibility": 0.8,
            "misaligned_goals": 0.7,
            "evades_guardrails": 0.9,
            "strategic_reasoning": 0.05,
        },
        p_scheming=0.03,
    )
    assert any("Warning sign" in n and "strategic_reasoning" in n for n in coherence(warn).notes)

    no_product = resp(defaults, factors={"misaligned_goals": 0.3})
    assert scheming_product(no_product) is None


def test_rising_factors_warning_across_revisions(defaults):
    before = resp(
        defaults,
        factors={
            "non_corrigibility": 0.3,
            "misaligned_goals": 0.3,
            "evades_guardrails": 0.3,
            "strategic_reasoning": 0.5,
        },
    )
    after = resp(
        defaults,
        factors={
            "non_corrigibility": 0.5,
            "misaligned_goals": 0.5,
            "evades_guardrails": 0.5,
            "strategic_reasoning": 0.12,
        },
    )
    assert "Three factors rose" in rising_factors_warning(before, after)
    assert rising_factors_warning(before, before) is None


def test_undetected_misalignment_per_scenario_and_expected(defaults):
    r = resp(defaults)
    u = update(r, evidence=defaults.evidence, defaults=defaults)
    [und] = undetected(u, defaults.evidence, defaults)
    m = np.array([defaults.scenario(s).misalignment_now for s in "ABCD"])
    np.testing.assert_allclose(und.per_scenario, m * (1 - np.array([0.6, 0.6, 0.6, 0.01])))
    assert und.expected == pytest.approx(float(u.posterior @ und.per_scenario))
