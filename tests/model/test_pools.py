import numpy as np
import pytest
from scipy import special, stats

from model.pools import binary_pools, log_pool, scenario_pools

P = np.array([[0.4, 0.3, 0.2, 0.1], [0.7, 0.1, 0.1, 0.1], [0.1, 0.2, 0.3, 0.4]])


def test_scenario_pools_against_independent_computations():
    pools = scenario_pools(P)
    np.testing.assert_allclose(pools["linear"], P.mean(axis=0))
    g = stats.gmean(P, axis=0)
    np.testing.assert_allclose(pools["log"], g / g.sum())
    med = np.array([0.4, 0.2, 0.2, 0.1])
    np.testing.assert_allclose(pools["median"], med / med.sum())
    for v in pools.values():
        assert v.sum() == pytest.approx(1.0)


def test_log_pool_reference_value():
    """Two people, (0.5, 0.5, 0, 0) and (0.25, 0.25, 0.25, 0.25): geometric means
    (sqrt(0.125), sqrt(0.125), 0, 0) normalise to (0.5, 0.5, 0, 0): a single stated 0
    removes a scenario from the log pool."""
    out = log_pool(np.array([[0.5, 0.5, 0, 0], [0.25, 0.25, 0.25, 0.25]]))
    np.testing.assert_allclose(out, [0.5, 0.5, 0.0, 0.0])
    undefined = log_pool(np.array([[1.0, 0, 0, 0], [0, 1.0, 0, 0], [0, 0, 1.0, 0], [0, 0, 0, 1.0]]))
    assert np.isnan(undefined).all()


def test_binary_pools_against_scipy_and_reference_values():
    """Column 0: p = (0.1, 0.2, 0.4); mean logit = (-2.197225 - 1.386294 - 0.405465)/3
    = -1.329661, so GMO = expit(-1.329661) = 0.209215 and extremized with d = 1.5:
    expit(-1.994492) = 0.119782."""
    x = np.array([[0.1, 0.5], [0.2, np.nan], [0.4, 0.7]])
    pools = binary_pools(x)
    assert pools["geometric_mean_odds"][0] == pytest.approx(0.209215, abs=1e-6)
    assert pools["extremized"][0] == pytest.approx(0.119782, abs=1e-6)
    mean_logit = np.nanmean(special.logit(x), axis=0)
    np.testing.assert_allclose(pools["geometric_mean_odds"], special.expit(mean_logit))
    np.testing.assert_allclose(pools["extremized"], special.expit(1.5 * mean_logit))
    np.testing.assert_allclose(pools["linear"], [0.7 / 3, 0.6])
    np.testing.assert_allclose(pools["median"], [0.2, 0.6])


def test_binary_pools_with_nobody_answering_are_nan_not_zero():
    x = np.array([[0.1, np.nan], [0.2, np.nan]])
    for v in binary_pools(x).values():
        assert np.isnan(v[1]) and np.isfinite(v[0])


def test_extremizing_needs_two_answers_reference_values():
    """Extremized odds are (product of the N answers' odds)^(d / N) with d = 1.5, only for
    N >= 2. Column 0, one answer 0.2 (odds 1/4): the pool is 0.2 itself, not
    (1/4)^1.5 = 1/8, i.e. 1/9 = 0.111. Column 1, answers 0.2 and 0.4 (odds 1/4 and 2/3):
    (1/6)^0.75 = 6^-0.75 = 0.260847, so p = 0.260847 / 1.260847 = 0.206882."""
    x = np.array([[0.2, 0.2], [np.nan, 0.4]])
    out = binary_pools(x)["extremized"]
    assert out[0] == pytest.approx(0.2, rel=1e-12)
    odds = 6**-0.75
    assert out[1] == pytest.approx(odds / (1 + odds), rel=1e-12)
    assert out[1] == pytest.approx(0.206882, abs=1e-6)


@pytest.mark.parametrize("answer", [0.0, 0.03, 0.5, 0.97, 1.0])
def test_every_pool_of_one_answer_is_that_answer(answer):
    """One member (or one answer in a column among blanks): nothing to pool."""
    col = np.array([[answer], [np.nan], [np.nan]])
    for name, v in binary_pools(col).items():
        assert v[0] == pytest.approx(answer, rel=1e-12, abs=0), name
    for name, v in binary_pools(col[:1]).items():
        assert v[0] == pytest.approx(answer, rel=1e-12, abs=0), name


def test_every_scenario_pool_of_one_member_is_that_members_credences():
    for row in (P[:1], np.array([[0.5, 0.5, 0.0, 0.0]])):
        for name, v in scenario_pools(row).items():
            np.testing.assert_allclose(v, row[0], rtol=1e-12, atol=0, err_msg=name)
