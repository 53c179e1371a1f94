"""Worldview camps: recovery from simulated groups, reference values and independent checks."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats
from scipy.special import comb, expit, logit

from model.camps import (
    CREDENCE_FLOOR,
    MIN_CAMP,
    MIN_MEMBERS,
    PROB_CLIP,
    camps_json,
    find_camps,
)
from model.camps.features import _features
from model.camps.mixture import _Data, _e_step, _Mixture
from model.example import example_responses
from model.schema import GroupData, quantity_columns, to_group_data
from priors import SCENARIO_IDS

SIGNAL = "monitoring_counts:D"

BASE = {
    "non_corrigibility": 0.3,
    "misaligned_goals": 0.4,
    "evades_guardrails": 0.5,
    "strategic_reasoning": 0.6,
    "p_scheming": 0.08,
    "monitoring_counts:A": 0.6,
    "monitoring_counts:B": 0.6,
    "monitoring_counts:C": 0.6,
    "monitoring_counts:D": 0.1,
    "no_collusion:A": 0.9,
    "no_collusion:B": 0.8,
    "no_collusion:C": 0.85,
    "no_collusion:D": 0.5,
}
"""Typical answers of the simulated members (the common distribution's centres)."""


def adjusted_rand_index(a, b) -> float:
    """Hubert & Arabie (1985), from the contingency table n_ij with row sums a_i, column sums b_j.

    ARI = (Σ C(n_ij, 2) − E) / (½ (Σ C(a_i, 2) + Σ C(b_j, 2)) − E),
    E = Σ C(a_i, 2) · Σ C(b_j, 2) / C(n, 2).
    """
    _, ai = np.unique(np.asarray(a), return_inverse=True)
    _, bi = np.unique(np.asarray(b), return_inverse=True)
    table = np.zeros((ai.max() + 1, bi.max() + 1))
    np.add.at(table, (ai, bi), 1)
    pairs = comb(table, 2).sum()
    rows, cols = comb(table.sum(axis=1), 2).sum(), comb(table.sum(axis=0), 2).sum()
    expected = rows * cols / comb(len(ai), 2)
    top = (rows + cols) / 2
    return 1.0 if top == expected else float((pairs - expected) / (top - expected))


def _round_credences(p: np.ndarray) -> np.ndarray:
    """Whole percents summing to 100 (largest remainder), as the form does."""
    raw = p * 100
    out = np.floor(raw)
    short = (100 - out.sum(axis=1)).astype(int)
    order = np.argsort(out - raw, axis=1)
    for i, s in enumerate(short):
        out[i, order[i, :s]] += 1
    return out / 100


def simulate(
    rng: np.random.Generator,
    defaults,
    sizes: list[int],
    *,
    centres: list[dict[str, float]] | None = None,
    credences: list[list[float]] | None = None,
    missing: float = 0.0,
) -> tuple[GroupData, np.ndarray]:
    """A group in camps of `sizes`, and each member's camp (the construction).

    Every answer is logit-normal around `BASE` (SD 0.6 on the logit scale) except that camp c
    answers the quantities in ``centres[c]`` around those values (SD 0.3). Credences are
    Dirichlet(30 · credences[c]), or Dirichlet(8, 6, 4, 2) for every camp when `credences` is
    None, rounded to whole percents; other answers are rounded to 0.001. Each answer other than
    a credence is left blank with probability `missing`.
    """
    n = sum(sizes)
    camp = np.repeat(np.arange(len(sizes)), sizes)
    columns = quantity_columns(defaults.evidence, defaults)
    centre = np.tile(logit([BASE[c] for c in columns]), (n, 1))
    sd = np.full((n, len(columns)), 0.6)
    for c, over in enumerate(centres or []):
        for q, p in over.items():
            centre[camp == c, columns.index(q)] = logit(p)
            sd[camp == c, columns.index(q)] = 0.3
    values = np.round(expit(centre + sd * rng.standard_normal(centre.shape)), 3)
    values[rng.random(values.shape) < missing] = np.nan
    if credences is None:
        cred = rng.dirichlet([8, 6, 4, 2], size=n)
    else:
        cred = np.array([rng.dirichlet(30 * np.asarray(credences[c])) for c in camp])
    return (
        GroupData(
            [f"m{i}" for i in range(n)],
            _round_credences(cred),
            columns,
            values,
            tuple(defaults.evidence),
        ),
        camp,
    )


def _labels(camps) -> np.ndarray:
    return np.array([m.camp for m in camps.members])


def test_adjusted_rand_index_reference_values():
    """[0,0,1,1] vs [0,0,1,2]: Σ C(n_ij,2) = 1, rows 1 + 1 = 2, columns 1, E = 2 · 1 / 6,
    ARI = (1 − 1/3) / (3/2 − 1/3) = 4/7. [0,0,0,1,1,1] vs [0,0,1,1,2,2]: pairs 2, rows 6,
    columns 3, E = 18/15 = 1.2, ARI = 0.8 / 3.3."""
    assert adjusted_rand_index([0, 0, 1, 1], [0, 0, 1, 2]) == pytest.approx(4 / 7)
    assert adjusted_rand_index([0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 2, 2]) == pytest.approx(0.8 / 3.3)
    assert adjusted_rand_index([0, 0, 1, 1, 2], [5, 5, 3, 3, 4]) == 1.0


def test_two_camps_differing_in_one_reading(rng, defaults):
    """Half the group reads the monitoring item's sensitivity under D around 20 %, half around
    2 %; every other answer comes from one common distribution."""
    data, truth = simulate(rng, defaults, [20, 20], centres=[{SIGNAL: 0.20}, {SIGNAL: 0.02}])
    camps = find_camps(data)
    assert camps.k == 2
    assert adjusted_rand_index(truth, _labels(camps)) >= 0.8
    for camp in camps.camps:
        top = camp.distinguishing[0]
        assert top.quantity == SIGNAL
        assert abs(top.d) > 3 * max(abs(d.d) for d in camp.distinguishing[1:])
        assert camp.label.startswith(f"reads {SIGNAL} ")
    high = max(camps.camps, key=lambda c: c.distinguishing[0].camp_mean).distinguishing[0]
    assert high.camp_mean == pytest.approx(0.2, abs=0.05)
    assert high.rest_mean == pytest.approx(0.02, abs=0.01)
    assert high.d > 0
    assert SIGNAL not in {g.quantity for g in camps.common_ground}
    assert camps.reason is None


def test_homogeneous_group_is_one_camp(rng, defaults):
    data, _ = simulate(rng, defaults, [40])
    camps = find_camps(data)
    assert camps.k == 1
    assert "one standard error" in camps.reason
    assert [(c.id, c.size, c.distinguishing) for c in camps.camps] == [(1, 40, ())]
    assert camps.common_ground == ()
    assert {(m.camp, m.p) for m in camps.members} == {(1, 1.0)}
    assert [(s.k, s.factors) for s in camps.scores] == [
        (1, 0),
        (1, 2),
        (2, 0),
        (3, 0),
        (4, 0),
        (5, 0),
    ]


def test_three_clear_camps(rng, defaults):
    """Three camps of 15 that differ in their credences and in two factors."""
    data, truth = simulate(
        rng,
        defaults,
        [15, 15, 15],
        credences=[[0.7, 0.15, 0.1, 0.05], [0.3, 0.3, 0.3, 0.1], [0.05, 0.1, 0.35, 0.5]],
        centres=[
            {"misaligned_goals": 0.15, "p_scheming": 0.02},
            {"misaligned_goals": 0.4, "p_scheming": 0.1},
            {"misaligned_goals": 0.75, "p_scheming": 0.4},
        ],
    )
    camps = find_camps(data)
    assert camps.k == 3
    assert adjusted_rand_index(truth, _labels(camps)) >= 0.8
    assert sorted(c.size for c in camps.camps) == [15, 15, 15]


@pytest.mark.parametrize("n", range(1, MIN_MEMBERS))
def test_small_group_is_one_camp_with_a_reason(rng, defaults, n):
    data, _ = simulate(rng, defaults, [n])
    camps = find_camps(data)
    assert camps.k == 1
    assert camps.reason == (
        f"one camp: {n} member{'s' if n != 1 else ''}, too few to split "
        f"({MIN_MEMBERS} or more are needed)"
    )
    assert [m.participant for m in camps.members] == data.participants
    assert camps.scores == ()
    assert camps_json(camps)["method"].endswith("(6 or more are needed)")


@pytest.mark.parametrize("seed", range(8))
def test_no_camp_has_fewer_than_two_members(defaults, seed):
    """Random groups of 6 to 60 in random camps, some of a single outlying member, with
    missing answers: every camp found has at least two members, and the records agree."""
    rng = np.random.default_rng(seed)
    k = int(rng.integers(1, 5))
    sizes = [int(s) for s in rng.integers(1, 16, size=k)]
    sizes[0] = max(sizes[0], MIN_MEMBERS - sum(sizes[1:]))
    centres = [{q: float(rng.uniform(0.02, 0.98)) for q in BASE} for _ in sizes]
    data, _ = simulate(rng, defaults, sizes, centres=centres, missing=0.1)
    camps = find_camps(data, seed=seed)
    labels = _labels(camps)
    assert min(c.size for c in camps.camps) >= MIN_CAMP
    assert [c.id for c in camps.camps] == list(range(1, camps.k + 1))
    assert [c.size for c in camps.camps] == sorted((c.size for c in camps.camps), reverse=True)
    assert [c.size for c in camps.camps] == np.bincount(labels)[1:].tolist()
    assert all(1 / camps.k - 1e-12 <= m.p <= 1.0 for m in camps.members)
    assert camps.k == len(camps.camps)
    chosen = next(s for s in camps.scores if s.k == camps.k)
    assert chosen.admissible and chosen.smallest >= MIN_CAMP


def test_missing_answers_are_handled(rng, defaults):
    """The two-camp group with a tenth of the answers blank and one member who left every
    optional answer blank."""
    data, truth = simulate(
        rng, defaults, [20, 20], centres=[{SIGNAL: 0.20}, {SIGNAL: 0.02}], missing=0.1
    )
    data.values[7] = np.nan
    camps = find_camps(data)
    assert camps.k == 2
    answered = ~np.isnan(data.values[:, data.columns.index(SIGNAL)])
    assert adjusted_rand_index(truth[answered], _labels(camps)[answered]) >= 0.8
    assert all(c.distinguishing[0].quantity == SIGNAL for c in camps.camps)
    # The blank member is placed by their credences alone: less sure than those who answered.
    blank = camps.members[7]
    sure = np.median([m.p for m, a in zip(camps.members, answered, strict=True) if a])
    assert blank.camp in (1, 2) and 0.5 <= blank.p < sure


def test_features_reference_values(defaults):
    """Credences (0.5, 0.5, 0, 0): a stated 0 floored at 0.005, so the logs are (log 0.5,
    log 0.5, log 0.005, log 0.005) and the clr is ±(log 0.5 − log 0.005)/2 = ±log(100)/2.
    Answers 0 and 1 clip to 0.005 and 0.995 before the logit. Each feature is standardised
    over the members who answered it; a constant one (credence C of the second group) and one
    answered once are dropped."""
    columns = quantity_columns(defaults.evidence, defaults)
    cred = np.array([[0.5, 0.5, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25], [0.4, 0.3, 0.2, 0.1]])
    values = np.full((3, len(columns)), np.nan)
    values[:, 0] = [0.0, 1.0, 0.5]  # non_corrigibility
    values[0, 1] = 0.3  # misaligned_goals: one answer only
    data = GroupData(["a", "b", "c"], cred, columns, values, tuple(defaults.evidence))
    feats = _features(data)
    assert feats.names == [f"credence:{s}" for s in SCENARIO_IDS] + ["non_corrigibility"]
    half = np.log(100) / 2
    clr = np.log(np.maximum(cred, CREDENCE_FLOOR))
    clr -= clr.mean(axis=1, keepdims=True)
    assert clr[0] == pytest.approx([half, half, -half, -half])
    np.testing.assert_allclose(feats.z[:, :4], stats.zscore(clr, axis=0))
    raw = logit(np.array([PROB_CLIP, 1 - PROB_CLIP, 0.5]))
    np.testing.assert_allclose(feats.z[:, 4], stats.zscore(raw))
    assert feats.mask.all()
    np.testing.assert_allclose(feats.probs[:, 4], [0.0, 1.0, 0.5])
    # The mixture's credences: ilr by Helmert contrasts, e.g. the first is (clr_A − clr_B)/√2.
    helmert = np.array(
        [
            [1, -1, 0, 0] / np.sqrt(2),
            [1, 1, -2, 0] / np.sqrt(6),
            [1, 1, 1, -3] / np.sqrt(12),
        ]
    )
    ilr = clr @ helmert.T
    keep = ilr.std(axis=0) > 1e-9  # credence A and B are equal in two of three rows, not all
    np.testing.assert_allclose(feats.mix_z[:, :3], stats.zscore(ilr[:, keep], axis=0))
    np.testing.assert_allclose(feats.mix_z[:, 3], stats.zscore(raw))


@pytest.mark.parametrize("factors", [0, 2])
def test_density_matches_scipy(rng, factors):
    """log π_k + log N(x_O | μ_kO, Σ_OO) with Σ = ΛΛᵀ + Ψ over each member's answered set O,
    by scipy.stats.multivariate_normal; and the factors' posterior, (I + ΛᵀΨ⁻¹Λ)⁻¹ and
    (I + ΛᵀΨ⁻¹Λ)⁻¹ΛᵀΨ⁻¹(x − μ), on O."""
    n, j, b, k = 9, 5, 2, 3
    z = rng.normal(size=(n, j))
    mask = (rng.random((n, j)) > 0.3).astype(float)
    mask[0] = 0.0  # a member with no answer at all: density 1, log density 0
    mix = _Mixture(
        rng.normal(size=(b, k, j)),
        rng.normal(size=(b, j, factors)),
        rng.uniform(0.2, 2.0, size=(b, j)),
        np.log(rng.dirichlet(np.ones(k), size=b)),
    )
    est = _e_step(_Data.of(z, mask), mix)
    for bb in range(b):
        cov = mix.load[bb] @ mix.load[bb].T + np.diag(mix.psi[bb])
        for i in range(n):
            o = mask[i] > 0
            lam, prec = mix.load[bb][o], np.diag(1 / mix.psi[bb][o])
            post = np.linalg.inv(np.eye(factors) + lam.T @ prec @ lam)
            np.testing.assert_allclose(est.fcov[bb, i], post)
            for kk in range(k):
                want = mix.logw[bb, kk]
                if o.any():
                    want += stats.multivariate_normal(
                        mix.means[bb, kk, o], cov[np.ix_(o, o)]
                    ).logpdf(z[i, o])
                assert est.dens[bb, kk, i] == pytest.approx(want, rel=1e-10)
                mean = post @ lam.T @ prec @ (z[i, o] - mix.means[bb, kk, o])
                np.testing.assert_allclose(est.fmean[bb, kk, i], mean, atol=1e-12)


def test_one_camp_score_is_brute_force_leave_one_out(rng, defaults):
    """At 8 members the score is leave-one-out. For one camp with a diagonal covariance: per
    feature, the mean of the other members' answers with 0.01 pseudo-member at 0, and the
    variance (SS + 1)/(n + 1) about it; the held-out member's log density is the sum over the
    features they answered."""
    data, _ = simulate(rng, defaults, [8], missing=0.15)
    feats = _features(data)
    z = np.where(feats.mix_mask > 0, feats.mix_z, np.nan)
    total = 0.0
    for i in range(8):
        others = np.delete(z, i, axis=0)
        count = (~np.isnan(others)).sum(axis=0)
        mean = np.nansum(others, axis=0) / (count + 0.01)
        var = (np.nansum((others - mean) ** 2, axis=0) + 1) / (count + 1)
        answered = ~np.isnan(z[i])
        total += stats.norm.logpdf(z[i][answered], mean[answered], np.sqrt(var[answered])).sum()
    one = next(s for s in find_camps(data).scores if (s.k, s.factors) == (1, 0))
    assert one.entropy == 0.0
    assert one.elpd == pytest.approx(total, rel=1e-10)
    assert one.score == one.elpd


def test_answers_that_move_together_are_one_camp(rng, defaults):
    """One homogeneous group whose four factors and P(scheming) correlate 0.6 on the logit
    scale (one common component): a spread along an axis, not camps."""
    data, _ = simulate(rng, defaults, [60])
    columns = [*defaults.factor_ids, "p_scheming"]
    idx = [data.columns.index(c) for c in columns]
    common = rng.standard_normal((60, 1))
    latent = np.sqrt(0.6) * common + np.sqrt(0.4) * rng.standard_normal((60, len(idx)))
    data.values[:, idx] = np.round(expit(logit([BASE[c] for c in columns]) + 0.6 * latent), 3)
    camps = find_camps(data)
    assert camps.k == 1
    assert camps.reason.startswith("one camp: no split")


def test_map_is_the_first_two_principal_components(rng, defaults):
    """Independent check: |x|, |y| against the SVD of the centred features (missing at 0)."""
    data, _ = simulate(rng, defaults, [20, 20], centres=[{SIGNAL: 0.2}, {SIGNAL: 0.02}])
    camps = find_camps(data)
    feats = _features(data)
    zc = feats.z - feats.z.mean(axis=0)
    u, s, _ = np.linalg.svd(zc, full_matrices=False)
    xy = np.array([[m.x, m.y] for m in camps.members])
    np.testing.assert_allclose(np.abs(xy), np.abs(u[:, :2] * s[:2]), atol=1e-9)
    assert camps.axes_explained == pytest.approx(tuple(s[:2] ** 2 / (s**2).sum()))
    assert all(len(q) == 3 for q in camps.axes_quantities)


def test_same_seed_same_camps(rng, defaults):
    data, _ = simulate(rng, defaults, [12, 12, 12], centres=[{SIGNAL: 0.3}, {}, {SIGNAL: 0.01}])
    assert find_camps(data, seed=3) == find_camps(data, seed=3)


def test_camps_json_shape(rng, defaults):
    data, _ = simulate(rng, defaults, [20, 20], centres=[{SIGNAL: 0.20}, {SIGNAL: 0.02}])
    out = camps_json(find_camps(data))
    json.dumps(out, allow_nan=False)
    assert set(out) == {"k", "method", "members", "camps", "common_ground"}
    assert set(out["members"][0]) == {"participant", "camp", "p"}
    assert set(out["camps"][0]) == {"id", "size", "label", "distinguishing"}
    assert set(out["camps"][0]["distinguishing"][0]) == {"quantity", "camp_mean", "rest_mean"}
    assert all(set(g) == {"quantity", "mean"} for g in out["common_ground"])
    assert len(out["members"]) == 40 and out["k"] == 2


def test_example_group_recovers_its_worldviews(defaults):
    """The shipped example draws members from four worldviews, 10 each at 40 members."""
    responses = example_responses(n=40)
    data = to_group_data(responses, evidence=defaults.evidence, defaults=defaults)
    camps = find_camps(data)
    views = [r.rationale.split(")")[0] for r in responses]
    assert camps.k == 4
    assert adjusted_rand_index(views, _labels(camps)) >= 0.8


def test_a_hundred_members_in_two_camps(rng, defaults):
    """Its time is a benchmark's row (benchmarks/bench_parts.py), not asserted here."""
    data, _ = simulate(rng, defaults, [50, 50], centres=[{SIGNAL: 0.2}, {SIGNAL: 0.02}])
    assert find_camps(data).k == 2


@pytest.mark.slow
def test_ten_thousand_members_are_fitted_on_a_subsample_and_all_assigned(rng, defaults):
    """Bounded time by construction (a subsample of 2,000); the time itself is a benchmark's
    row (benchmarks/bench_parts.py), not asserted here."""
    data, truth = simulate(
        rng, defaults, [5000, 5000], centres=[{SIGNAL: 0.2}, {SIGNAL: 0.02}], missing=0.05
    )
    camps = find_camps(data)
    assert "subsample of 2,000 of 10,000" in camps.method
    assert len(camps.members) == 10_000
    assert min(c.size for c in camps.camps) >= MIN_CAMP
    assert camps.k >= 2
