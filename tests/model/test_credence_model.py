"""The credence model's sticks: the Dirichlet when eps = 0, their moments and draws, and that
the model fits the shipped example's spreads (the check one kappa failed)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from model.analysis import analyse
from model.credence_model import (
    credence_moments,
    draw_credences,
    draw_log_credences,
    stick_fractions,
    stick_shapes,
)
from model.example import example_responses
from model.ppc import spread_checks

ORDER = [0, 3, 1, 2]  # A, then D's share of what A leaves, then B's of B and C


def test_with_no_dispersion_the_sticks_are_the_dirichlet(rng):
    """Dirichlet(kappa mu) density = product of the sticks' Beta densities times the
    Jacobian of credences -> sticks, prod_k 1 / (what is left before stick k), by scipy."""
    for _ in range(20):
        mu, kappa = rng.dirichlet(np.ones(4)), rng.uniform(0.5, 50)
        pi = rng.dirichlet(np.ones(4))
        a, b = stick_shapes(mu, np.array(kappa), np.zeros(3))
        v = stick_fractions(pi[None])[0]
        left = 1 - np.concatenate([[0], np.cumsum(pi[ORDER])[:2]])
        by_sticks = stats.beta.logpdf(v, a, b).sum() - np.log(left).sum()
        assert by_sticks == pytest.approx(stats.dirichlet.logpdf(pi, kappa * mu), rel=1e-10)


def test_stick_fractions_mark_zeros_ones_and_unobserved_sticks():
    v = stick_fractions(
        np.array([[0.5, 0.5, 0, 0], [0, 0, 0, 1], [0.2, 0.3, 0.4, 0.1], [1, 0, 0, 0]])
    )
    np.testing.assert_array_equal(v[0], [0.5, 0.0, 1.0])  # D 0; B takes what is left
    np.testing.assert_array_equal(v[1], [0.0, 1.0, np.nan])  # D takes all; B, C not observed
    np.testing.assert_allclose(v[2], [0.2, 0.1 / 0.8, 0.3 / 0.7])
    np.testing.assert_array_equal(v[3], [1.0, np.nan, np.nan])


def test_moments_and_draws_agree_with_monte_carlo(rng):
    mu = np.array([0.35, 0.2, 0.25, 0.2])
    a, b = stick_shapes(mu, np.array(6.0), np.array([-0.7, 0.9, -0.2]))
    mean, sd = credence_moments(a, b)
    x = draw_credences(a, b, rng, (400_000,))
    np.testing.assert_allclose(x.sum(axis=1), 1.0)
    np.testing.assert_allclose(mean, mu, atol=1e-12)  # the mean is mu whatever eps is
    np.testing.assert_allclose(x.mean(axis=0), mu, atol=2e-3)
    np.testing.assert_allclose(x.std(axis=0), sd, atol=2e-3)
    logs = draw_log_credences(a, b, rng, (400_000,))
    np.testing.assert_allclose(np.exp(logs).sum(axis=1), 1.0, atol=1e-9)
    np.testing.assert_allclose(np.exp(logs).std(axis=0), sd, atol=2e-3)
    # a dispersion makes the spreads differ from the Dirichlet's with the same kappa
    _, sd0 = credence_moments(*stick_shapes(mu, np.array(6.0), np.zeros(3)))
    assert np.abs(sd - sd0).max() > 0.02


def test_log_draws_stay_finite_for_tiny_shapes(rng):
    a, b = np.array([1e-4, 2.0, 1e-3]), np.array([3.0, 1e-4, 0.5])
    logs = draw_log_credences(a, b, rng, (1000,))
    assert np.isfinite(logs).all() and (logs < -50).any()


@pytest.mark.slow
def test_the_shipped_example_spreads_pass_the_predictive_check(defaults, sampler):
    """One kappa gave credence A a predictive SD of 0.12-0.26 against the members' 0.27
    (p = 0.005, flagged); with a stick per scenario no credence is flagged."""
    a = analyse(example_responses(), evidence=defaults.evidence, sampler=sampler, random_seed=11)
    checks = spread_checks(a, seed=0)
    credence = {q: c for q, c in checks.items() if q.startswith("credence:")}
    assert len(credence) == 4 and not any(c.misfit for c in credence.values()), credence
