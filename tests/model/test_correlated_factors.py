"""The four factors' logits as a correlated normal (LKJ prior) and the scheming products.

References: scipy's multivariate t and the LKJ marginal (a correlation of an LKJ(eta)
matrix of size n is 2 Beta(b, b) - 1 with b = eta - 1 + n / 2), 4-D Gauss-Hermite with 16
nodes per axis and brute-force Monte Carlo for the products, and recovery of a simulated
group's correlation.
"""

import numpy as np
import pytest
import xarray as xr
from scipy import special, stats

from model.derived import _corr_cholesky, add_derived, consensus_of_products, logit_normal_moments
from model.disagreement import hdi
from model.example import example_responses
from model.group import _corr_scatter, _lkj_free_logp, _lkj_free_random
from model.schema import GroupData, quantity_columns, to_group_data


def correlation_matrix(free):
    chol = _corr_cholesky(np.asarray(free), 4)
    return chol @ np.swapaxes(chol, -1, -2)


def test_free_values_map_to_a_correlation_matrix_as_in_the_model():
    """derived's NumPy map and the model's PyTensor map give the same Cholesky factor."""
    import pytensor.tensor as pt

    from model.group import _corr_cholesky as graph_chol

    free = np.random.default_rng(0).normal(0, 1.5, 6)
    x = pt.vector("x")
    chol, _ = graph_chol(x, 4)
    np.testing.assert_allclose(chol.eval({x: free}), _corr_cholesky(free, 4), rtol=1e-12)
    r = correlation_matrix(free)
    np.testing.assert_allclose(np.diag(r), 1.0)
    assert np.all(np.linalg.eigvalsh(r) > 0)


def test_lkj_density_of_the_free_values_is_a_multivariate_t_per_row():
    """Row i of the free values (i - 1 of them, i from 2) is multivariate t with
    2 eta + n - i degrees of freedom and scale I / df: differences of the model's log
    density equal differences of scipy's."""
    import pytensor.tensor as pt

    eta, n = 2.0, 4
    x = pt.vector("x")
    logp = _lkj_free_logp(x, eta, n)
    rng = np.random.default_rng(1)
    rows = [np.arange(0, 1), np.arange(1, 3), np.arange(3, 6)]  # free values of rows 2, 3, 4

    def scipy_logp(v):
        total = 0.0
        for i, idx in zip((2, 3, 4), rows, strict=True):
            df = 2 * eta + n - i
            total += stats.multivariate_t.logpdf(
                v[idx], np.zeros(len(idx)), np.eye(len(idx)) / df, df
            )
        return total

    base = rng.normal(size=6)
    for _ in range(5):
        v = rng.normal(0, 2, 6)
        got = logp.eval({x: v}) - logp.eval({x: base})
        assert got == pytest.approx(scipy_logp(v) - scipy_logp(base), rel=1e-10)


def test_lkj_draws_have_the_lkj_marginal():
    """Kolmogorov-Smirnov against 2 Beta(3, 3) - 1 (eta = 2, n = 4) for every correlation."""
    free = _lkj_free_random(2.0, 4, np.random.default_rng(2), size=20_000)
    r = correlation_matrix(free)
    for i, j in zip(*np.tril_indices(4, -1), strict=True):
        p = stats.kstest((r[:, i, j] + 1) / 2, stats.beta(3, 3).cdf).pvalue
        assert p > 1e-3, (i, j, p)
    assert _corr_scatter(4).shape == (16, 6)


def gauss_hermite_product(theta, chol, nodes=16):
    """E prod_j expit(theta_j + (chol z)_j) by tensor Gauss-Hermite (16^4 nodes)."""
    x, w = np.polynomial.hermite.hermgauss(nodes)
    grids = np.meshgrid(*[np.sqrt(2) * x] * 4, indexing="ij")
    z = np.stack(grids, -1).reshape(-1, 4)
    weights = np.prod(np.stack(np.meshgrid(*[w / np.sqrt(np.pi)] * 4, indexing="ij"), -1), -1)
    return (special.expit(theta + z @ chol.T).prod(-1) * weights.ravel()).sum()


CASES = [  # logit of the typical factor, spread tau, one correlation for every pair
    ([-1.0, -0.5, 0.0, 0.8], [0.5, 0.8, 1.0, 0.6], 0.0),
    ([-1.7, -1.2, -0.4, 0.2], [1.0, 1.2, 0.9, 1.5], 0.5),
    ([-0.8, -0.6, -0.3, 0.5], [1.5, 1.5, 2.0, 1.0], 0.9),
    ([-2.0, 0.0, 1.0, -1.0], [2.0, 0.3, 1.0, 1.8], -0.3),
]


@pytest.mark.parametrize(("theta", "tau", "r"), CASES)
def test_consensus_of_products_matches_quadrature_and_monte_carlo(theta, tau, r):
    """Within 1 % of 4-D Gauss-Hermite (itself within 1e-4 of 2 million Monte Carlo draws,
    checked here too): a few per cent of the quantity's posterior SD in practice."""
    theta, tau = np.array(theta), np.array(tau)
    corr = np.full((4, 4), r) + (1 - r) * np.eye(4)
    chol = tau[:, None] * np.linalg.cholesky(corr)
    expected = gauss_hermite_product(theta, chol)
    got = consensus_of_products(theta[None], chol[None])[0]
    assert got == pytest.approx(expected, rel=0.01)
    z = np.random.default_rng(3).standard_normal((2_000_000, 4))
    mc = special.expit(theta + z @ chol.T).prod(-1)
    assert mc.mean() == pytest.approx(expected, abs=4 * mc.std() / np.sqrt(len(mc)))
    if r == 0:  # independent factors: the product of the four logit-normal means
        means, _ = logit_normal_moments(theta, tau)
        assert got == pytest.approx(means.prod(), rel=0.01)


def make_posterior(theta_f, tau_f, free, draws=2000):
    """A hand-made posterior (one chain, the same draw repeated) and its group."""
    defaults_cols = 13
    theta = np.zeros(defaults_cols)
    tau = np.full(defaults_cols, 0.5)
    theta[:4], tau[:4] = theta_f, tau_f
    post = xr.Dataset(
        {
            "mu": (("chain", "draw", "scenario"), np.full((1, draws, 4), 0.25)),
            "kappa": (("chain", "draw"), np.full((1, draws), 10.0)),
            "theta": (("chain", "draw", "quantity"), np.tile(theta, (1, draws, 1))),
            "tau": (("chain", "draw", "quantity"), np.tile(tau, (1, draws, 1))),
            "factor_corr_free": (("chain", "draw", "pair"), np.tile(free, (1, draws, 1))),
            "credence_dispersion": (("chain", "draw", "stick"), np.zeros((1, draws, 3))),
        }
    )
    return xr.DataTree.from_dict({"posterior": post})


def test_products_in_add_derived_use_the_correlation(defaults):
    """With correlation 0.9 between every pair: the consensus of products is the correlated
    expectation (well above the independent one), and the new member's draws average to it."""
    theta, tau = np.array([-0.8, -0.6, -0.3, 0.5]), np.array([1.5, 1.5, 2.0, 1.0])
    corr = np.full((4, 4), 0.9) + 0.1 * np.eye(4)
    chol_r = np.linalg.cholesky(corr)
    free = (chol_r / np.diag(chol_r)[:, None])[np.tril_indices(4, -1)]  # invert the map
    np.testing.assert_allclose(correlation_matrix(free), corr, atol=1e-12)
    cols = quantity_columns(defaults.evidence, defaults)
    group = GroupData(["a"], np.full((1, 4), 0.25), cols, np.full((1, 13), 0.3), defaults.evidence)
    post = add_derived(make_posterior(theta, tau, free), group, defaults=defaults, random_seed=1)
    post = post["posterior"]
    expected = gauss_hermite_product(theta, tau[:, None] * chol_r)
    independent = logit_normal_moments(theta, tau)[0].prod()
    assert expected > 1.5 * independent
    got = post["scheming_consensus_of_products"].values
    assert np.allclose(got, got.flat[0]) and got.flat[0] == pytest.approx(expected, rel=0.01)
    new = post["scheming_new_member"].values.ravel()
    assert new.mean() == pytest.approx(expected, abs=4 * new.std() / np.sqrt(new.size))


def simulate_correlated(defaults, rng, *, n, r, theta, tau, noise=0.1):
    """Members whose factor beliefs' logits correlate r in every pair, answered on the
    form's 1 % grid with elicitation noise; 10 % of the optional answers missing."""
    cols = quantity_columns(defaults.evidence, defaults)
    corr = np.full((4, 4), r) + (1 - r) * np.eye(4)
    belief = np.empty((n, len(cols)))
    belief[:, :4] = theta + rng.multivariate_normal(np.zeros(4), corr, size=n) * tau
    belief[:, 4:] = rng.normal(0.0, 1.0, (n, len(cols) - 4))
    values = np.round(special.expit(belief + noise * rng.standard_normal(belief.shape)), 2)
    values[rng.random(values.shape) < 0.1] = np.nan
    cred = rng.dirichlet([4, 3, 2, 1], size=n)
    return GroupData([f"p{i}" for i in range(n)], cred, cols, values, defaults.evidence)


def members_mean_product(group):
    f = group.values[:, :4]
    complete = ~np.isnan(f).any(axis=1)
    return f[complete].prod(axis=1).mean()


@pytest.mark.slow
def test_recovers_a_factor_correlation_of_0_8(defaults, sampler):
    """300 members, correlation 0.8 in every pair: every posterior correlation's 94 % HDI
    holds 0.8 (or misses by less than 0.05), the mean is within 0.1, and the consensus of
    members' products has the members' own mean product inside its HDI."""
    rng = np.random.default_rng(300)
    theta, tau = np.array([-1.0, -0.6, -0.2, 0.6]), np.array([1.0, 1.2, 0.8, 0.9])
    group = simulate_correlated(defaults, rng, n=300, r=0.8, theta=theta, tau=tau)
    res = sampler.fit(group, draws=1000, tune=1000, chains=4, random_seed=300)
    post = res.idata["posterior"]
    corr = post["factor_correlation"].values.reshape(-1, 4, 4)
    for i, j in zip(*np.tril_indices(4, -1), strict=True):
        lo, hi = hdi(corr[:, i, j])
        assert lo - 0.05 <= 0.8 <= hi + 0.05, (i, j, lo, hi)
        assert corr[:, i, j].mean() == pytest.approx(0.8, abs=0.1)
    lo, hi = hdi(post["scheming_consensus_of_products"].values.ravel())
    assert lo <= members_mean_product(group) <= hi
    assert int(res.idata["sample_stats"]["diverging"].sum()) <= 5


@pytest.mark.slow
def test_shipped_example_consensus_of_products_holds_the_members_mean_product(defaults, sampler):
    """The example group (`python -m model example`), seed 11: its factor logits correlate
    0.3-0.86; independent factors gave 0.072 (HDI 0.040-0.109), excluding the members'
    own mean product 0.120."""
    responses = example_responses(defaults=defaults)
    group = to_group_data(responses, evidence=defaults.evidence, defaults=defaults)
    res = sampler.fit(group, random_seed=11)
    post = res.idata["posterior"]
    lo, hi = hdi(post["scheming_consensus_of_products"].values.ravel())
    assert lo <= members_mean_product(group) <= hi
    corr = post["factor_correlation"].values.reshape(-1, 4, 4)
    assert corr[:, 0, 1].mean() > 0.3  # the strongest pair in the data (0.86)
