"""The censored-zero term of the credence model in the far tail (log CDF of a Beta at eps).

The reference is adaptive quadrature of the Beta density in log space, independent of the
continued fraction the model uses: with t = x e^-s,
I_x(a, b) = x^a / B(a, b) * int_0^inf exp(-a s + (b - 1) log1p(-x e^-s)) ds,
integrated after dividing by the integrand's maximum, so nothing underflows however small
I_x is (it reaches exp(-53000) at kappa_max). Where scipy's betainc does not underflow the
reference agrees with it to 3e-11.
"""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pymc.logprob.utils import replace_rvs_by_values
from scipy import integrate, special, stats

from model.group import _log_beta_cdf, build_model
from tests.model.test_group import make_group

EPS = 0.005  # hyperpriors.toml: credences.zero_threshold


def log_beta_cdf_quad(a: float, b: float, x: float) -> float:
    """log I_x(a, b) by adaptive quadrature in log space (see the module docstring)."""

    def h(s):
        return -a * s + (b - 1) * np.log1p(-x * np.exp(-s))

    # h is concave with its maximum where x e^-s / (1 - x e^-s) = a / (b - 1), or at s = 0
    s_top = max(0.0, np.log(x * (1 + a / (b - 1)) * (b - 1) / a)) if b > 1 else 0.0
    top = h(s_top)

    def f(s):
        return np.exp(h(s) - top)

    kw = {"epsabs": 0.0, "epsrel": 1e-13, "limit": 400}
    left = integrate.quad(f, 0.0, s_top, **kw)[0] if s_top > 0 else 0.0
    right = integrate.quad(f, s_top, np.inf, **kw)[0]
    return a * np.log(x) + top + np.log(left + right) - special.betaln(a, b)


def test_quadrature_reference_agrees_with_scipy_where_betainc_does_not_underflow():
    for a in np.geomspace(1e-3, 1e4, 15):
        for b in np.geomspace(1e-3, 1e4, 15):
            cdf = special.betainc(a, b, EPS)
            if cdf > 1e-280:
                assert log_beta_cdf_quad(a, b, EPS) == pytest.approx(np.log(cdf), abs=1e-9)


@pytest.fixture(scope="module")
def log_cdf_and_grad():
    a, b = pt.vector("a"), pt.vector("b")
    out = _log_beta_cdf(a, b, EPS)
    return pytensor.function([a, b], [out, *pytensor.grad(out.sum(), [a, b])])


def test_log_beta_cdf_matches_quadrature_far_into_the_tail(log_cdf_and_grad):
    """a, b from 1e-3 to 1e4 (kappa_max): log I_eps(a, b) from about -53000 to 0."""
    grid_a, grid_b = np.meshgrid(np.geomspace(1e-3, 1e4, 24), np.geomspace(1e-3, 1e4, 24))
    a, b = grid_a.ravel(), grid_b.ravel()
    value, grad_a, grad_b = log_cdf_and_grad(a, b)
    expected = np.array([log_beta_cdf_quad(x, y, EPS) for x, y in zip(a, b, strict=True)])
    assert expected.min() < -50_000  # betainc is 0 there: the old floor held it at -708
    np.testing.assert_allclose(value, expected, rtol=1e-10, atol=1e-9)
    assert np.isfinite(grad_a).all() and np.isfinite(grad_b).all()


def test_log_beta_cdf_is_smooth_where_the_two_methods_meet(log_cdf_and_grad):
    """With b = 5000 the switch (a + b) eps / (a + 1) = 0.2 is at a = 4960 / 39 = 127.2.
    Across it the value matches quadrature and the gradient matches central differences of
    the quadrature reference, so NUTS sees one smooth function."""
    a = np.linspace(126.7, 127.7, 11)
    b = np.full_like(a, 5000.0)
    value, grad_a, grad_b = log_cdf_and_grad(a, b)
    ref = np.array([log_beta_cdf_quad(x, 5000.0, EPS) for x in a])
    np.testing.assert_allclose(value, ref, rtol=1e-10)
    # steps large enough that the reference's 1e-11 error stays below 1e-8 in the quotient
    ha, hb = 1e-3, 0.05

    def ref_at(x, y):
        return log_beta_cdf_quad(x, y, EPS)

    num_a = [(ref_at(x + ha, 5000.0) - ref_at(x - ha, 5000.0)) / (2 * ha) for x in a]
    num_b = [(ref_at(x, 5000.0 + hb) - ref_at(x, 5000.0 - hb)) / (2 * hb) for x in a]
    np.testing.assert_allclose(grad_a, num_a, rtol=1e-6)
    np.testing.assert_allclose(grad_b, num_b, rtol=1e-6)


NO_DISPERSION = np.zeros(3)  # eps = 0: the sticks are the Dirichlet(kappa mu)


def credence_log_density(model):
    """The credences' log-likelihood potential as a function of (mu, log kappa, eps)."""
    mu, log_kappa, eps = pt.vector("mu"), pt.scalar("log_kappa"), pt.vector("eps")
    (pot,) = [p for p in model.potentials if p.name == "credences_loglik"]
    values = {model["mu"]: mu, model["log_kappa"]: log_kappa, model["credence_dispersion"]: eps}
    (out,) = replace_rvs_by_values([pot], rvs_to_values=values, rvs_to_transforms={})
    f = pytensor.function([mu, log_kappa, eps], out, on_unused_input="ignore")
    return lambda mu, log_kappa, eps=NO_DISPERSION: f(mu, log_kappa, eps)


ORDER = [0, 3, 1, 2]  # the sticks break A, then D, then B (C takes the rest)


def reference_credence_log_density(credences, mu, kappa, eps=NO_DISPERSION):
    """Row by row, stick by stick (order A, D, B, C): a stick inside (0, 1) by
    scipy.stats.beta.logpdf, a stated 0 by log I_eps(a, b) and a stick that takes all that
    is left by log I_eps(b, a), both by quadrature; sticks after that are not observed."""
    total = 0.0
    for row in np.asarray(credences)[:, ORDER]:
        for k in range(3):
            left = row[k:].sum()
            if left == 0:
                break
            a = kappa * np.exp(eps[k]) * mu[ORDER[k]]
            b = kappa * np.exp(eps[k]) * mu[ORDER[k + 1 :]].sum()
            if row[k] == 0:
                total += log_beta_cdf_quad(a, b, EPS)
            elif row[k] == left:
                total += log_beta_cdf_quad(b, a, EPS)
            else:
                total += stats.beta.logpdf(row[k] / left, a, b)
    return total


def test_credence_log_density_matches_the_reference_up_to_kappa_max(defaults, rng):
    cred = np.array(
        [[0.4, 0.3, 0.2, 0.1], [0.5, 0.5, 0, 0], [0.9, 0, 0.1, 0], [1, 0, 0, 0], [0, 0.2, 0.3, 0.5]]
        + [[0.25, 0.25, 0.3, 0.2]] * 3
    )
    f = credence_log_density(build_model(make_group(defaults, cred), defaults=defaults))
    kappa_max = defaults.hyperpriors.credences.kappa_max
    for log_kappa in np.linspace(-2.0, np.log(kappa_max), 9):
        for mu in (np.array([0.4, 0.3, 0.2, 0.1]), rng.dirichlet(np.ones(4))):
            for eps in (np.zeros(3), np.array([0.6, -0.9, 0.3])):
                expected = reference_credence_log_density(cred, mu, np.exp(log_kappa), eps)
                got = f(mu, log_kappa, eps)
                assert got == pytest.approx(expected, rel=1e-10, abs=1e-8), log_kappa


@pytest.fixture(scope="module")
def dissent_group(defaults):
    """200 members answering (0.4, 0.3, 0.2, 0.1) and one answering (0.5, 0.5, 0, 0)."""
    return make_group(defaults, [[0.4, 0.3, 0.2, 0.1]] * 200 + [[0.5, 0.5, 0.0, 0.0]])


def test_one_dissenting_zero_makes_no_spurious_mode_at_large_kappa(defaults, dissent_group):
    """The exact censored term of the dissenter at log kappa = 9.2 is -9725 (quadrature); a
    floor at log(tiny) = -708 made the log density 570 nats higher there than at the true
    mode (about 5.7). Profile over log kappa at mu = the majority's answer."""
    f = credence_log_density(build_model(dissent_group, defaults=defaults))
    mu = np.array([0.4, 0.3, 0.2, 0.1])
    assert log_beta_cdf_quad(0.3 * np.exp(9.2), 0.7 * np.exp(9.2), EPS) == pytest.approx(
        -9725.44, abs=0.01
    )
    grid = np.linspace(3.0, np.log(defaults.hyperpriors.credences.kappa_max), 200)
    dens = np.array([f(mu, k) for k in grid])
    assert 5.0 < grid[dens.argmax()] < 6.5
    assert f(mu, 9.2) < f(mu, 5.7) - 5000


def test_sampler_stays_at_the_true_agreement_with_one_dissenting_zero(sampler, dissent_group):
    res = sampler.fit(dissent_group, draws=200, tune=300, chains=2, random_seed=5)
    log_kappa = np.log(res.idata["posterior"]["kappa"].values)
    assert 5.0 < log_kappa.mean() < 6.5
    assert log_kappa.max() < 7.0
