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
