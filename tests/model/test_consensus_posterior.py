"""The consensus posterior as the group's predictive update, and a new member's posterior.

consensus posterior_s = mu_s prod_e E[L_es(d)] / sum_t mu_t prod_e E[L_et(d)], the expectation
over the group's readings d = expit(theta + tau Z) of that item and scenario. References are
independent: a fine trapezoid grid in u = logit d (spacing a small fraction of the narrowest
feature, so exact to rounding), scipy's adaptive quadrature, and a brute-force simulation of
new members with scipy's Dirichlet and the exact per-member update of model.individual.
Posteriors here are hand-made (no sampling): add_derived only reads the draws.
"""

import numpy as np
import pytest
import xarray as xr
from scipy import integrate, special, stats

from model.derived import (
    _counts_log_expectations,
    add_derived,
    counts_peak,
    new_member_posterior,
)
from model.individual import counts_rates, log_likelihoods, update_terms
from model.schema import GroupData, quantity_columns
from priors import CountsEvidence, LikelihoodEvidence
from priors.loader import QuestionEvidence


def grid_log_expectation(theta, tau, k, n, m, fa, *, times_one_minus_d=False):
    """log of int N(u; theta, tau) Binomial(k | n, m expit(u) + (1 - m) fa) du (times 1 - d).

    A coarse scan finds where the integrand is within e^-40 of its maximum; a trapezoid
    grid of 2 million points over that stretch (and 5 widths beyond) integrates it.
    """

    def log_f(u):
        p = m * special.expit(u) + (1 - m) * fa
        out = stats.norm.logpdf(u, theta, tau) + stats.binom.logpmf(k, n, p)
        return out + (special.log_expit(-u) if times_one_minus_d else 0.0)

    scan = np.linspace(theta - 40 * tau - 60, theta + 40 * tau + 60, 400_001)
    lf = log_f(scan)
    live = scan[lf > lf.max() - 40]
    lo, hi = live.min(), live.max()
    pad = 5 * max(hi - lo, 1e-3)
    u = np.linspace(lo - pad, hi + pad, 2_000_001)
    lf = log_f(u)
    return special.logsumexp(lf) + np.log(u[1] - u[0])


# (theta, tau) of the readings, (k, n) detected of episodes, (m, fa)
ORDINARY = [
    (0.3, 0.8, 3, 1000, 0.005, 0.0005),
    (-3.0, 1.5, 3, 1000, 0.2, 0.0005),
    (0.0, 0.3, 0, 1000, 0.5, 0.0),
    (2.0, 0.05, 30, 10_000, 0.01, 0.02),
    (-1.0, 1.2, 1, 5, 0.2, 0.0005),
    (-4.4, 5.0, 3, 1000, 0.2, 0.0005),  # a peak on a broad plateau (false alarms)
    (0.5, 12.0, 50, 100, 0.5, 0.0),
]
# many episodes: L far narrower than the readings' spread, or its mass far out in their tails
HARD = [
    (-4.4, 5.0, 3000, 10**6, 0.2, 0.0005),
    (0.3, 0.8, 300_000, 10**8, 0.005, 0.0005),
    (-3.0, 1.5, 300_000, 10**8, 0.5, 0.0),
    (2.0, 0.05, 0, 10**6, 0.5, 0.0),  # readings near 0.88, no detection in a million
    (0.3, 0.8, 300_000, 10**8, 0.01, 0.02),  # the count below what false alarms give
    (-6.0, 3.0, 50, 100, 0.5, 0.0),
]


@pytest.mark.parametrize(("case", "tol"), [(c, 1e-8) for c in ORDINARY] + [(c, 1e-4) for c in HARD])
def test_expected_binomial_likelihood_matches_a_fine_grid(case, tol):
    theta, tau, k, n, m, fa = case
    got_l, got_u = _counts_log_expectations(
        np.array([theta]), np.array([tau]), k, n, np.array([m]), np.array([fa])
    )
    assert got_l[0] == pytest.approx(grid_log_expectation(*case), abs=tol)
    expected_u = grid_log_expectation(*case, times_one_minus_d=True)
    assert got_u[0] == pytest.approx(expected_u, abs=tol)


def test_binomial_peak_and_width_match_the_likelihood():
    """At u_hat the log-likelihood is flat and its curvature is -1 / w^2 (finite differences)."""
    m, fa = np.array([0.005, 0.2, 0.5]), np.array([0.0005, 0.0005, 0.0])
    u_hat, width = counts_peak(3000, 10**6, m, fa)
    for u0, w, mm, ff in zip(u_hat, width, m, fa, strict=True):

        def log_l(u, mm=mm, ff=ff):
            return stats.binom.logpmf(3000, 10**6, mm * special.expit(u) + (1 - mm) * ff)

        h = 1e-3 * w
        assert (log_l(u0 + h) - log_l(u0 - h)) / (2 * h) == pytest.approx(0, abs=1e-3 / w)
        curv = (log_l(u0 + h) - 2 * log_l(u0) + log_l(u0 - h)) / h**2
        assert curv == pytest.approx(-1 / w**2, rel=1e-4)


def make_data(defaults, evidence):
    cols = quantity_columns(evidence, defaults)
    return GroupData(
        ["a", "b"], np.full((2, 4), 0.25), cols, np.full((2, len(cols)), 0.3), evidence
    )


def fake_posterior(defaults, data, rng, draws=4):
    """A hand-made posterior of one chain: what add_derived reads, nothing else."""
    j = len(data.columns)
    post = xr.Dataset(
        {
            "mu": (("chain", "draw", "scenario"), rng.dirichlet([3, 2, 2, 1], (1, draws))),
            "kappa": (("chain", "draw"), rng.uniform(2, 30, (1, draws))),
            "theta": (("chain", "draw", "quantity"), rng.normal(-0.5, 1.5, (1, draws, j))),
            "tau": (("chain", "draw", "quantity"), rng.uniform(0.2, 2.5, (1, draws, j))),
            "factor_corr_free": (("chain", "draw", "pair"), rng.normal(0, 0.7, (1, draws, 6))),
            "credence_dispersion": (
                ("chain", "draw", "stick"),
                np.tile([0.5, -0.8, 0.3], (1, draws, 1)),
            ),
        },
        coords={"scenario": list("ABCD"), "quantity": data.columns},
    )
    return xr.DataTree.from_dict({"posterior": post})


def quad_expectation(f, theta, tau):
    """E f(expit(theta + tau Z)) by scipy's adaptive quadrature."""

    def g(z):
        return f(special.expit(theta + tau * z)) * stats.norm.pdf(z)

    return integrate.quad(g, -14, 14, epsabs=0, epsrel=1e-12, limit=400)[0]


@pytest.fixture
def evidence():
    return (
        CountsEvidence(id="counts", kind="counts", text="7 in 2000", detected=7, episodes=2000),
        LikelihoodEvidence(id="like", kind="likelihood", text="no collusion"),
        QuestionEvidence(id="ask", kind="question", text="will it?"),
    )


def test_consensus_posterior_log_odds_and_undetected_are_the_predictive_update(
    defaults, rng, evidence
):
    """Per draw, by adaptive quadrature: E[L] for each item and scenario (binomial for the
    counts item, d itself for the likelihood item, 1 for the question), then
    mu_s prod_e E[L_es] normalised; log-odds terms log(mu_s / mu_A) and log(E[L_es] /
    E[L_eA]) that sum to the posterior's log-odds; undetected_s = m_s E[(1 - d) L] / E[L]
    and its expectation under the consensus posterior."""
    data = make_data(defaults, evidence)
    idata = add_derived(fake_posterior(defaults, data, rng), data, defaults=defaults)
    post = idata["posterior"]
    m, fa = counts_rates(evidence[0], defaults)
    cols = {c: i for i, c in enumerate(data.columns)}
    for draw in range(post.sizes["draw"]):
        mu = post["mu"].values[0, draw]
        theta, tau = post["theta"].values[0, draw], post["tau"].values[0, draw]
        e_l, e_u = np.ones((3, 4)), np.zeros(4)
        for s, sid in enumerate("ABCD"):
            th, ta = theta[cols[f"counts:{sid}"]], tau[cols[f"counts:{sid}"]]

            def lik(d, s=s):
                return stats.binom.pmf(7, 2000, m[s] * d + (1 - m[s]) * fa[s])

            e_l[0, s] = quad_expectation(lik, th, ta)
            e_u[s] = quad_expectation(lambda d, lik=lik: (1 - d) * lik(d), th, ta)
            e_l[1, s] = quad_expectation(
                lambda d: d, theta[cols[f"like:{sid}"]], tau[cols[f"like:{sid}"]]
            )
        w = mu * e_l.prod(axis=0)
        expected = w / w.sum()
        np.testing.assert_allclose(post["consensus_posterior"].values[0, draw], expected, rtol=1e-8)
        terms = post["log_odds"].values[0, draw]
        np.testing.assert_allclose(terms[0], np.log(mu[1:] / mu[0]), rtol=1e-12)
        np.testing.assert_allclose(terms[1:], np.log(e_l[:, 1:] / e_l[:, :1]), atol=1e-8)
        assert np.all(terms[3] == 0)  # the question updates nothing
        np.testing.assert_allclose(terms.sum(axis=0), np.log(expected[1:] / expected[0]), atol=1e-8)
        und = m * e_u / e_l[0]
        np.testing.assert_allclose(post["undetected"].values[0, draw, 0], und, rtol=1e-8)
        assert post["undetected_expected"].values[0, draw, 0] == pytest.approx(und @ expected)


def test_consensus_posterior_is_not_the_median_reading_plugged_in(defaults, evidence):
    """A group split on D's detection: readings' logits N(-2, 2^2) (median d 0.12, many near
    0, some near 1). The predictive update averages the binomial likelihood over them; the
    old plug-in of the median reading differs by far more than quadrature error."""
    data = make_data(defaults, evidence[:1])
    draws = fake_posterior(defaults, data, np.random.default_rng(0), draws=1)
    post = draws["posterior"].to_dataset()
    post["theta"][...] = -2.0
    post["tau"][...] = 2.0
    post["mu"][...] = 0.25
    draws["posterior"] = xr.DataTree(post)
    got = add_derived(draws, data, defaults=defaults)["posterior"]["consensus_posterior"]
    plug_in = log_likelihoods(np.full((1, 4), special.expit(-2.0)), evidence[:1], defaults)
    _, plugged = update_terms(np.log(np.full(4, 0.25)), plug_in)
    assert np.abs(got.values[0, 0] - plugged).max() > 0.05


ORDER = [0, 3, 1, 2]  # the credence model's sticks: A, then D, then B; C takes the rest


def stick_shapes_by_hand(mu, kappa, eps):
    """Beta shapes of the sticks, written out here (not model.credence_model's code)."""
    a = [kappa * np.exp(eps[k]) * mu[ORDER[k]] for k in range(3)]
    b = [kappa * np.exp(eps[k]) * mu[ORDER[k + 1 :]].sum() for k in range(3)]
    return np.array(a), np.array(b)


def brute_new_member(mu, kappa, eps, theta, tau, data, defaults, rng, members):
    """Simulated members, each updated exactly by model.individual (no shared code): their
    credences from scipy's Beta sticks, or scipy's Dirichlet when eps is 0."""
    cols = np.array([[data.columns.index(f"{e.id}:{s}") for s in "ABCD"] for e in data.evidence])
    if not np.any(eps):
        pi = stats.dirichlet.rvs(mu * kappa, size=members, random_state=rng)
    else:
        a, b = stick_shapes_by_hand(mu, kappa, eps)
        v = stats.beta.rvs(a, b, size=(members, 3), random_state=rng)
        pi = np.empty((members, 4))
        left = np.ones(members)
        for k in range(3):
            pi[:, ORDER[k]] = left * v[:, k]
            left = left * (1 - v[:, k])
        pi[:, ORDER[3]] = left
    readings = special.expit(theta[cols] + tau[cols] * rng.standard_normal((members, *cols.shape)))
    with np.errstate(divide="ignore"):
        _, posts = update_terms(np.log(pi), log_likelihoods(readings, data.evidence, defaults))
    return posts.mean(axis=0)


def test_new_member_posterior_matches_a_brute_force_simulation(defaults, rng, evidence):
    data = make_data(defaults, evidence)
    post = fake_posterior(defaults, data, rng, draws=3)["posterior"]
    mu, kappa, theta, tau = (post[v].values[0] for v in ("mu", "kappa", "theta", "tau"))
    eps = [np.array([0.5, -0.8, 0.3]), np.zeros(3), np.array([-1.0, 0.2, 0.8])]
    shapes = [stick_shapes_by_hand(mu[i], kappa[i], eps[i]) for i in range(3)]
    a, b = (np.array([s[j] for s in shapes]) for j in (0, 1))
    got = new_member_posterior(
        a, b, theta, tau, data, defaults, np.random.default_rng(1), members=40_000
    )
    for draw in range(3):
        expected = brute_new_member(
            mu[draw],
            kappa[draw],
            eps[draw],
            theta[draw],
            tau[draw],
            data,
            defaults,
            np.random.default_rng(2),
            200_000,
        )
        # Monte Carlo: SD of a member's posterior <= 0.5, so SE <= 0.5 / sqrt(40000) = 0.0025
        np.testing.assert_allclose(got[draw], expected, atol=0.012)


def test_add_derived_new_member_posterior_averages_out_to_the_expectation(defaults, evidence):
    """The same draw repeated 400 times: add_derived's 128 members per draw average (over
    51,200 members) to the brute-force expectation; and its seed makes it reproducible."""
    data = make_data(defaults, evidence)
    one = fake_posterior(defaults, data, np.random.default_rng(3), draws=1)["posterior"]
    post = one.to_dataset().isel(draw=[0] * 400).assign_coords(draw=np.arange(400))
    idata = xr.DataTree.from_dict({"posterior": post})
    first = add_derived(idata.copy(), data, defaults=defaults, random_seed=5)["posterior"]
    again = add_derived(idata.copy(), data, defaults=defaults, random_seed=5)["posterior"]
    got = first["new_member_posterior"].values[0]
    np.testing.assert_array_equal(got, again["new_member_posterior"].values[0])
    mu, kappa, theta, tau = (one[v].values[0, 0] for v in ("mu", "kappa", "theta", "tau"))
    eps = one["credence_dispersion"].values[0, 0]
    expected = brute_new_member(
        mu, kappa, eps, theta, tau, data, defaults, np.random.default_rng(4), 200_000
    )
    np.testing.assert_allclose(got.mean(axis=0), expected, atol=0.01)
    assert np.allclose(got.sum(axis=-1), 1.0)
