"""What would settle it (model/settle.py): constructed groups, no fit."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon
from scipy.special import expit, logit

from model.example import example_responses
from model.individual import (
    counts_rates,
    filled_readings,
    log_likelihoods,
    update,
    update_terms,
)
from model.schema import validate_response
from model.settle import (
    MAX_OUTCOMES,
    MAX_PAIRS,
    TOO_FEW,
    TOP_PAIRS,
    _compute,
    _count_table,
    double_crux,
    js_divergence,
    sample_pairs,
    settle_json,
    what_would_settle_it,
)
from model.stats import hdi
from priors import SCENARIO_IDS, parse_evidence

SETTLES, OPPOSITE, FLAT = "settles", "opposite", "flat"
QUESTIONS = parse_evidence(
    "".join(
        f'[[evidence]]\nid = "{q}"\nkind = "question"\ntext = "By 2028, {q}?"\n'
        for q in (SETTLES, OPPOSITE, FLAT)
    )
)
FOR_A = {"A": 0.9, "B": 0.5, "C": 0.5, "D": 0.1}
FOR_D = {"A": 0.1, "B": 0.5, "C": 0.5, "D": 0.9}


def _member(defaults, name, prior, readings, evidence):
    raw = {
        "participant": name,
        "scenarios": dict(zip(SCENARIO_IDS, prior, strict=True)),
        "factors": {},
        "p_scheming": None,
        "readings": readings,
    }
    return validate_response(raw, evidence=evidence, defaults=defaults)


def two_camps(defaults):
    """Three members for A, three for D. `settles`: everyone reads yes as 9 times likelier
    under A than under D; `opposite`: each camp reads yes as evidence for its own scenario;
    `flat`: each member gives one P(yes) for every scenario (0.2 to 0.7), so it tells them
    nothing."""
    priors = [
        (0.70, 0.10, 0.10, 0.10),
        (0.60, 0.20, 0.10, 0.10),
        (0.65, 0.10, 0.15, 0.10),
        (0.10, 0.10, 0.10, 0.70),
        (0.10, 0.20, 0.10, 0.60),
        (0.15, 0.10, 0.10, 0.65),
    ]
    members = []
    for i, prior in enumerate(priors):
        camp_a = i < 3
        flat = 0.2 + 0.1 * i
        readings = {
            SETTLES: FOR_A,
            OPPOSITE: FOR_A if camp_a else FOR_D,
            FLAT: dict.fromkeys(SCENARIO_IDS, flat),
        }
        name = f"{'a' if camp_a else 'd'}{i}"
        members.append(_member(defaults, name, prior, readings, QUESTIONS))
    return [update(r, evidence=QUESTIONS, defaults=defaults) for r in members]


def _consensus(updates, *, draws=400, seed=3):
    mean = np.mean([u.posterior for u in updates], axis=0)
    return np.random.default_rng(seed).dirichlet(mean * 60, size=draws)


def test_a_shared_reading_ranks_above_a_polarising_and_an_uninformative_question(defaults):
    """The done-when test of the issue."""
    ups = two_camps(defaults)
    ranked = what_would_settle_it(ups, QUESTIONS, defaults, _consensus(ups))
    by = {s.item: s for s in ranked}
    assert [s.item for s in ranked] == [SETTLES, FLAT, OPPOSITE]
    assert by[SETTLES].vod.mean > 0.01 and by[SETTLES].vod.hdi[0] > 0
    assert not by[SETTLES].polarising
    assert by[OPPOSITE].vod.mean < -0.01 and by[OPPOSITE].polarising
    assert abs(by[FLAT].vod.mean) < 1e-12 and max(map(abs, by[FLAT].vod.hdi)) < 1e-12
    assert not by[FLAT].polarising
    assert all(s.kind == "question" and s.answered == 6 for s in ranked)
    # Every pair across the camps is brought together most by the question both read alike.
    cross = {(p.a, p.b) for p in by[SETTLES].pairs}
    assert len(cross) == TOP_PAIRS and all(a[0] != b[0] for a, b in cross)
    assert by[OPPOSITE].pairs == () and by[FLAT].pairs == ()
    crux = double_crux(ups, QUESTIONS, defaults, _consensus(ups), "a0", "d3")
    assert crux is not None and crux.item == SETTLES and crux.vod > 0
    # Two members of one camp: every answer moves them alike or apart; no double crux.
    assert double_crux(ups, QUESTIONS, defaults, _consensus(ups), "a0", "a1") is None


def test_js_divergence_is_scipy_jensenshannon_squared_in_bits(rng):
    p = rng.dirichlet(np.ones(4), size=50)
    q = rng.dirichlet(np.ones(4) * 0.3, size=50)
    p[:5, 0], q[5:10, 3] = 0.0, 0.0  # stated zeros keep it finite
    p, q = p / p.sum(1, keepdims=True), q / q.sum(1, keepdims=True)
    expected = [jensenshannon(a, b, base=2) ** 2 for a, b in zip(p, q, strict=True)]
    np.testing.assert_allclose(js_divergence(p, q), expected, atol=1e-12)
    assert js_divergence(np.eye(4)[0], np.eye(4)[3]) == pytest.approx(1.0)  # the bound


MIXED = parse_evidence(
    """
[[evidence]]
id = "small_counts"
kind = "counts"
text = "2 detected in 40 episodes"
detected = 2
episodes = 40
misalignment_rate = { A = 0.05, B = 0.2, C = 0.1, D = 0.3 }
false_alarm_rate = 0.01

[[evidence]]
id = "seen"
kind = "likelihood"
text = "an observation"

[[evidence]]
id = "future"
kind = "question"
text = "a future yes/no"
"""
)


def _random_group(defaults, evidence, n, rng, *, d_range=(0.05, 0.95)):
    out = []
    for i in range(n):
        prior = np.round(rng.dirichlet(np.ones(4)), 3)
        prior[0] += 1 - prior.sum()
        readings = {
            e.id: dict(zip(SCENARIO_IDS, np.round(rng.uniform(*d_range, 4), 3), strict=True))
            for e in evidence
        }
        out.append(_member(defaults, f"m{i}", prior.tolist(), readings, evidence))
    return [update(r, evidence=evidence, defaults=defaults) for r in out]


def _brute_force(ups, item, e, defaults, c):
    """VoD per consensus draw by loops: every outcome, every pair, scipy's JS."""
    if item.kind == "counts":
        m, fa = counts_rates(item, defaults)
        outcomes = range(item.episodes + 1)

        def lik(u, o):
            return stats.binom.pmf(o, item.episodes, m * u.readings[e] + (1 - m) * fa)
    else:
        outcomes = (True, False)

        def lik(u, o):
            return u.readings[e] if o else 1 - u.readings[e]

    def js(p, q):  # written out: half the KL divergence of each from their average, bits
        m = (p + q) / 2
        return (stats.entropy(p, m, base=2) + stats.entropy(q, m, base=2)) / 2

    def mean_js(posts):
        return np.mean([js(p, q) for p, q in itertools.combinations(posts, 2)])

    d_now = mean_js([u.posterior for u in ups])
    vod = np.full(len(c), d_now)
    for o in outcomes:
        group = np.mean([lik(u, o) for u in ups], axis=0)
        posts = []
        for u in ups:
            w = u.posterior * lik(u, o)
            posts.append(w / w.sum() if w.sum() > 0 else u.posterior)
        vod -= (c @ group) * mean_js(posts)
    return vod


def test_the_vectorised_value_equals_a_brute_force_over_outcomes_and_pairs(defaults, rng):
    ups = _random_group(defaults, MIXED, 6, rng)
    c = rng.dirichlet(np.ones(4) * 5, size=9)
    ranked = {s.item: s for s in what_would_settle_it(ups, MIXED, defaults, c)}
    for e, item in enumerate(MIXED):
        brute = _brute_force(ups, item, e, defaults, c)
        got = ranked[item.id].vod
        assert got.mean == pytest.approx(brute.mean(), abs=1e-12), item.id
        assert got.hdi == pytest.approx(hdi(brute), abs=1e-12), item.id
    for item in ("seen", "future"):  # the group's predictive P(yes) at the consensus mean
        e = [x.id for x in MIXED].index(item)
        expected = c.mean(0) @ np.mean([u.readings[e] for u in ups], axis=0)
        assert ranked[item].p_yes == pytest.approx(expected, abs=1e-12)
    assert ranked["small_counts"].p_yes is None


def test_fri_weighting_is_the_geometric_mean_of_the_members_odds(defaults, rng):
    """For a yes/no question: P(yes) = expit(mean_i logit P_i(yes)), P_i(yes) = post_i · q_i,
    and vod_geometric = D_now − P(yes) D(yes) − P(no) D(no)."""
    ups = _random_group(defaults, MIXED, 5, rng)
    e = 2
    own = np.array([u.posterior @ u.readings[e] for u in ups])
    p_yes = expit(logit(own).mean())
    one = np.array([[1.0, 0.0, 0.0, 0.0]])
    brute = _brute_force(ups, MIXED[e], e, defaults, one)
    posts_yes = [u.posterior * u.readings[e] / (u.posterior @ u.readings[e]) for u in ups]
    posts_no = [
        u.posterior * (1 - u.readings[e]) / (u.posterior @ (1 - u.readings[e])) for u in ups
    ]

    def mean_js(posts):
        return np.mean([js_divergence(p, q) for p, q in itertools.combinations(posts, 2)])

    d_now = mean_js([u.posterior for u in ups])
    expected = d_now - p_yes * mean_js(posts_yes) - (1 - p_yes) * mean_js(posts_no)
    (got,) = [s for s in what_would_settle_it(ups, MIXED, defaults, one) if s.item == "future"]
    assert got.vod_geometric == pytest.approx(expected, abs=1e-12)
    assert got.vod.mean == pytest.approx(brute[0], abs=1e-12)
    assert got.vod.hdi == (got.vod.mean, got.vod.mean)  # one draw: a point value


LARGE_COUNTS = parse_evidence(
    """
[[evidence]]
id = "big"
kind = "counts"
text = "3 detected in 1000 episodes"
detected = 3
episodes = 1000
"""
)


@pytest.mark.parametrize(
    ("d_range", "tolerance"),
    [((0.01, 0.2), 1e-9), ((0.01, 0.99), 1e-3)],
    ids=["single counts", "bins"],
)
def test_counts_above_the_outcome_bound_against_all_1001_counts(defaults, rng, d_range, tolerance):
    """n = 1000, against enumerating every count. Readings up to 0.2: the counts any member
    and scenario can give (0 to about 100) are outcomes one by one and only the tails beyond
    1e-9 are lumped: equal. Readings up to 0.99 put D's counts near 200 and A's near 0: the
    outcomes are bins of counts, a coarser observation, so the value differs a little (about
    4e-5 bits here)."""
    ups = _random_group(defaults, LARGE_COUNTS, 4, rng, d_range=d_range)
    c = rng.dirichlet(np.ones(4) * 5, size=3)
    (got,) = what_would_settle_it(ups, LARGE_COUNTS, defaults, c)
    brute = _brute_force(ups, LARGE_COUNTS[0], 0, defaults, c)
    assert got.vod.mean == pytest.approx(brute.mean(), abs=tolerance)
    assert LARGE_COUNTS[0].episodes + 1 > MAX_OUTCOMES


@pytest.mark.parametrize("n", [250, 1000, 100_000])
def test_count_outcomes_are_exact_probabilities_of_a_partition(n, rng):
    """Every table row sums to 1 and each outcome's probability is the binomial mass of its
    counts (by scipy), whether single counts or bins (rates spread so widely at n = 100,000
    that the outcomes are bins of quantiles)."""
    rates = np.concatenate([[0.0, 1.0], rng.uniform(0.0005, 0.5, 30)])
    table = _count_table(n, rates)
    assert table.shape[1] <= MAX_OUTCOMES
    np.testing.assert_allclose(table.sum(axis=1), 1.0, atol=1e-9)
    if n == 1000:  # bins of the whole range: check each against the pmf summed
        k = np.arange(n + 1)
        pmf = stats.binom.pmf(k[None, :], n, rates[:, None])
        cdf = np.cumsum(pmf, axis=1)
        col = np.cumsum(table, axis=1)
        assert np.min(np.abs(col[:, :, None] - cdf[:, None, :]), axis=2).max() < 1e-9


def test_a_question_leaves_every_exact_update_and_log_odds_term_unchanged(defaults):
    question = parse_evidence(
        '[[evidence]]\nid = "q"\nkind = "question"\ntext = "t"\n'
        "default_likelihood = { A = 0.1, B = 0.2, C = 0.3, D = 0.9 }\n"
    )
    with_q = (question[0], *defaults.evidence)
    for before in example_responses(n=12, defaults=defaults):
        raw = before.to_dict()
        raw["readings"]["q"] = {"A": 0.05, "B": 0.5, "C": 0.6, "D": 0.99}
        after = validate_response(raw, evidence=with_q, defaults=defaults)
        u0 = update(before, evidence=defaults.evidence, defaults=defaults)
        u1 = update(after, evidence=with_q, defaults=defaults)
        assert np.array_equal(u0.posterior, u1.posterior)
        assert np.array_equal(u0.terms[0], u1.terms[0])  # prior
        assert np.array_equal(u0.terms[1:], u1.terms[2:])  # every evidence item's part
        assert np.array_equal(u1.terms[1], np.zeros(3))  # the question's part: nothing
        assert np.array_equal(u0.posterior_log_odds, u1.posterior_log_odds)
    # The consensus update (model.derived) goes through the same log-likelihoods.
    readings = np.random.default_rng(0).uniform(0.01, 0.99, (7, 3, 4))
    ll = log_likelihoods(readings, with_q, defaults)
    assert np.array_equal(ll[:, 0], np.zeros((7, 4)))
    log_mu = np.log(np.random.default_rng(1).dirichlet(np.ones(4), size=7))
    _, with_question = update_terms(log_mu, ll)
    _, without = update_terms(log_mu, ll[:, 1:])
    assert np.array_equal(with_question, without)


def test_a_member_without_a_reading_is_left_out_of_that_question(defaults, rng):
    ups = two_camps(defaults)
    blank = _member(
        defaults, "blank", (0.25,) * 4, {SETTLES: FOR_A, OPPOSITE: FOR_A, FLAT: {}}, QUESTIONS
    )
    u = update(blank, evidence=QUESTIONS, defaults=defaults)
    readings, defaulted = filled_readings(blank, QUESTIONS, defaults)
    assert np.isnan(readings[2]).all() and defaulted[2].all()
    c = _consensus(ups)
    by = {s.item: s for s in what_would_settle_it([*ups, u], QUESTIONS, defaults, c)}
    alone = {s.item: s for s in what_would_settle_it(ups, QUESTIONS, defaults, c)}
    assert by[FLAT].answered == 6 and by[SETTLES].answered == 7
    assert by[FLAT].vod.mean == pytest.approx(alone[FLAT].vod.mean, abs=1e-15)
    assert by[FLAT].d_now == pytest.approx(alone[FLAT].d_now, abs=1e-15)
    # fewer than two readers: no value, a reason, last
    few = what_would_settle_it([ups[0], u], QUESTIONS, defaults, c)
    assert few[-1].item == FLAT and few[-1].vod is None and few[-1].reason == TOO_FEW
    assert settle_json(few)[-1]["vod"] == TOO_FEW


def test_stated_zeros_and_ones_keep_every_value_finite(defaults):
    """A member certain of yes under every scenario holds 'no' impossible: after 'no' they
    keep their posterior, and nothing becomes NaN."""
    ups = two_camps(defaults)
    sure = _member(
        defaults,
        "sure",
        (1.0, 0.0, 0.0, 0.0),
        {SETTLES: dict.fromkeys(SCENARIO_IDS, 1.0), OPPOSITE: FOR_D, FLAT: FOR_A},
        QUESTIONS,
    )
    ups.append(update(sure, evidence=QUESTIONS, defaults=defaults))
    for s in what_would_settle_it(ups, QUESTIONS, defaults, _consensus(ups)):
        assert np.isfinite([s.vod.mean, *s.vod.hdi, s.d_now]).all()
        assert s.vod_geometric is None or np.isfinite(s.vod_geometric)


def test_the_pairs_mean_is_the_value_and_the_json_has_the_summary_shape(defaults, rng):
    """With one consensus draw the VoD is the mean over pairs of each pair's own value."""
    ups = _random_group(defaults, MIXED, 7, rng)
    c = rng.dirichlet(np.ones(4) * 5, size=1)
    ranked = what_would_settle_it(ups, MIXED, defaults, c)
    pairs = sample_pairs(len(ups))
    *_, values = _compute(ups, MIXED, defaults, c, pairs, np.arange(len(ups)))
    for item, v in zip(MIXED, values, strict=True):
        (s,) = [s for s in ranked if s.item == item.id]
        assert v.pair_vod.mean() == pytest.approx(s.vod.mean, abs=1e-12)
    means = [s.vod.mean for s in ranked]
    assert means == sorted(means, reverse=True)
    out = json.loads(json.dumps(settle_json(ranked)))
    for entry, s in zip(out, ranked, strict=True):
        assert set(entry) == {"item", "kind", "vod", "p_yes", "polarising", "pairs"}
        assert set(entry["vod"]) == {"mean", "hdi"} and len(entry["vod"]["hdi"]) == 2
        assert entry["item"] == s.item and entry["polarising"] == s.polarising
        assert all(set(p) == {"a", "b", "vod"} for p in entry["pairs"])
        assert len(entry["pairs"]) <= TOP_PAIRS
    # Each pair's own value, summed over the pairs listed by every candidate, never repeats a
    # pair: a pair has one double crux.
    listed = [(p.a, p.b) for s in ranked for p in s.pairs]
    assert len(listed) == len(set(listed))
    for s in ranked:
        for p in s.pairs:
            crux = double_crux(ups, MIXED, defaults, c, p.a, p.b)
            assert crux.item == s.item and crux.vod == pytest.approx(p.vod, abs=1e-12)


def test_pairs_above_the_bound_are_sampled_distinct_and_seeded():
    for n in (64, 100, 1000, 10_000):
        pairs = sample_pairs(n, seed=5)
        assert pairs.shape == (min(MAX_PAIRS, n * (n - 1) // 2), 2)
        assert (pairs[:, 0] < pairs[:, 1]).all() and pairs.min() >= 0 and pairs.max() < n
        assert len({tuple(p) for p in pairs}) == len(pairs)
        assert np.array_equal(pairs, sample_pairs(n, seed=5))
    assert sample_pairs(63).shape == (63 * 62 // 2, 2)  # all pairs up to the bound
    # The index arithmetic: drawing all but one pair of 80 members gives every other pair.
    total = 80 * 79 // 2
    drawn = {tuple(p) for p in sample_pairs(80, max_pairs=total - 1, seed=1)}
    every = set(zip(*np.triu_indices(80, 1), strict=True))
    assert len(drawn) == total - 1 and drawn < every


def _camps(defaults, n, rng):
    """n members in two camps with noisy priors and readings of the three questions."""
    members = []
    for i in range(n):
        camp_a = i % 2 == 0
        base = np.array([0.7, 0.1, 0.1, 0.1] if camp_a else [0.1, 0.1, 0.1, 0.7])
        prior = np.round(rng.dirichlet(base * 20), 3)
        prior[np.argmax(prior)] += 1 - prior.sum()

        def noisy(r):
            v = np.clip(np.array([r[s] for s in SCENARIO_IDS]) + rng.normal(0, 0.05, 4), 0, 1)
            return dict(zip(SCENARIO_IDS, np.round(v, 2).tolist(), strict=True))

        readings = {
            SETTLES: noisy(FOR_A),
            OPPOSITE: noisy(FOR_A if camp_a else FOR_D),
            FLAT: dict.fromkeys(SCENARIO_IDS, round(float(rng.uniform(0.2, 0.8)), 2)),
        }
        members.append(_member(defaults, f"m{i}", prior.tolist(), readings, QUESTIONS))
    return [update(r, evidence=QUESTIONS, defaults=defaults) for r in members]


@pytest.mark.slow
def test_sampled_pairs_rank_a_large_group_as_the_exact_computation_does(defaults, rng):
    """400 members (79,800 pairs): 2,000 sampled pairs against all of them; and 10,000
    members sampled against all 499,500 pairs of a random 1,000 of them (which differs from
    the whole group by its own draw of members: about 0.003 bits here). Same order, values
    within 0.01 bits (the candidates are 0.03 bits or more apart)."""
    ups = _camps(defaults, 400, rng)
    c = _consensus(ups)
    sampled = what_would_settle_it(ups, QUESTIONS, defaults, c)
    exact = what_would_settle_it(ups, QUESTIONS, defaults, c, max_pairs=10**6)
    assert [s.item for s in sampled] == [s.item for s in exact] == [SETTLES, FLAT, OPPOSITE]
    for s, x in zip(sampled, exact, strict=True):
        assert s.vod.mean == pytest.approx(x.vod.mean, abs=0.01)
    big = _camps(defaults, 10_000, rng)
    c = _consensus(big)
    sampled = what_would_settle_it(big, QUESTIONS, defaults, c)
    pick = rng.choice(len(big), 1000, replace=False)
    sub = what_would_settle_it([big[k] for k in pick], QUESTIONS, defaults, c, max_pairs=10**6)
    assert [s.item for s in sampled] == [s.item for s in sub] == [SETTLES, FLAT, OPPOSITE]
    for s, x in zip(sampled, sub, strict=True):
        assert s.vod.mean == pytest.approx(x.vod.mean, abs=0.01)


def test_bad_arguments_say_what_to_give(defaults):
    ups = two_camps(defaults)
    for bad in (np.zeros((0, 4)), np.full((3, 4), np.nan), -np.ones((1, 4))):
        with pytest.raises(ValueError, match="consensus_draws must hold at least one draw"):
            what_would_settle_it(ups, QUESTIONS, defaults, bad)
    c = _consensus(ups)
    with pytest.raises(ValueError, match="no member 'nobody' in this group"):
        double_crux(ups, QUESTIONS, defaults, c, "a0", "nobody")
    with pytest.raises(ValueError, match="needs two different members"):
        double_crux(ups, QUESTIONS, defaults, c, "a0", "a0")
