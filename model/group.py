"""The hierarchical group model (DESIGN §2): the one module that builds the PyMC graph.

pi_i: sticks V_k ~ Beta(kappa e^eps_k mu_(k),  credences over A-D, stick by stick
       kappa e^eps_k (mu after k))           (model.credence_model; eps = 0: Dirichlet)
logit f_i ~ MVN(theta_F, T R T + s^2 I)      the four factors, jointly: T = diag(tau_F),
                                             R ~ LKJ(lkj_eta) their correlation
logit q_ij ~ Normal(theta_j, sqrt(tau_j^2 + s^2))   direct P(scheming), readings
                                             (s: elicitation noise, priors/hyperpriors.toml)

The logit-normal blocks have no per-person latent variables: a stated probability is the
person's belief (logit ~ Normal(theta_j, tau_j), for the factors jointly with correlation
R) plus independent elicitation noise s, and the belief is integrated out (a normal with
the combined covariance), so the model keeps the same small number of parameters whatever
the group's size; s also keeps the posterior proper when everyone gives the same answer.
kappa is truncated at `kappa_max` for the same reason. The factors enter through sums per
pattern of which factors a member gave inside (0, 1) (`_factor_loglik`), exact for any
pattern of blanks. Exact 0 and 1 (and 0 credences) are censored: a stated 0 means "below
`zero_threshold`", never log(0), and never a clipped value (clipping biases kappa and mu);
its log probability is exact far into the tail, where betainc underflows
(`_log_beta_cdf`). A censored factor contributes its marginal censored term and ignores its
correlation with the member's other factors (an approximation: answers of exactly 0 or
100 % are rare, and the alternative, a multivariate normal CDF per member, breaks the
fixed-shape sums). Credences enter stick by stick: a stated 0 is a stick censored below
`zero_threshold` (its share of what the earlier scenarios left), a scenario that takes all
that is left (every later one stated 0) a stick censored above 1 - `zero_threshold`, and
sticks after it are not observed. Unanswered items are left out of the likelihood (missing
data). The evidence is never a likelihood term here: it enters only in the derived
quantities (model/derived.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from model.credence_model import N_STICKS, ORDER, stick_fractions
from model.schema import GroupData, reading_default
from priors import SCENARIO_IDS, Defaults, load_defaults


def _logit(p: float | np.ndarray) -> np.ndarray:
    return np.log(p) - np.log1p(-np.asarray(p))


KAPPA_FLOOR_LOG = -7.0  # kappa >= 0.0009: far below any group's agreement, never binding


# Where r = (a + b) x / (a + 1) <= 0.2 the continued fraction of I_x(a, b) is exact to
# 3e-11 after 8 steps (r < 1 is its region of fast convergence; deeper fractions made
# PyTensor's algebraic rewrites slow, seconds per compile). Above it betainc is used: there
# I_x(a, b) > exp(-202) whenever a + b <= 1e4 (kappa_max), far from underflow.
_CF_RATIO_MAX = 0.2
_CF_TERMS = 8


def _log_beta_cdf(a, b, x: float):
    """The log CDF of Beta(a, b) at x, log I_x(a, b), exact in the far lower tail.

    Where r = (a + b) x / (a + 1) <= 0.2 (x well below the bulk, including the tail where
    betainc underflows to 0):
    log I_x = a log x + b log1p(-x) - log a - betaln(a, b) - log CF, with CF the continued
    fraction 1 + d_1 / (1 + d_2 / (1 + ...)) (DLMF 8.17.22; Numerical Recipes' betacf) cut
    at 8 steps: within 1e-10 of adaptive quadrature for a, b in [1e-3, 1e4]
    (`tests/model/test_group_tail.py`). Elsewhere log(betainc). Both are exact to rounding
    where they meet, so the log density and its gradient are continuous for NUTS. Each
    branch is fed safe values where it is not used, so the unused one never puts inf or NaN
    into the gradient.
    """
    use_cf = (a + b) * x / (a + 1.0) <= _CF_RATIO_MAX
    a_cf, b_cf = pt.switch(use_cf, a, 1.0), pt.switch(use_cf, b, 1.0)
    cf = pt.ones_like(a_cf)
    for j in range(_CF_TERMS, 0, -1):
        m = j // 2
        if j % 2:
            d = -(a_cf + m) * (a_cf + b_cf + m) * x / ((a_cf + 2 * m) * (a_cf + 2 * m + 1))
        else:
            d = m * (b_cf - m) * x / ((a_cf + 2 * m - 1) * (a_cf + 2 * m))
        cf = 1.0 + d / cf
    log_tail = (
        a_cf * np.log(x)
        + b_cf * np.log1p(-x)
        - pt.log(a_cf)
        - (pt.gammaln(a_cf) + pt.gammaln(b_cf) - pt.gammaln(a_cf + b_cf))
        - pt.log(cf)
    )
    a_bi, b_bi = pt.switch(use_cf, 1.0, a), pt.switch(use_cf, 1.0, b)
    return pt.switch(use_cf, log_tail, pt.log(pt.betainc(a_bi, b_bi, x)))


def _factor_loglik(theta, cov, pat_n, pat_sum, pat_outer, patterns: np.ndarray):
    """Sum over members of log MVN(y_S | theta_S, cov_SS), S the factors they gave inside (0, 1).

    From fixed-shape sums per subset S (`model_inputs`): count n, sum of logit vectors s1 and
    of outer products S2 (all 0 outside S). With P the 0/1 mask of S, M = P cov P + (I - P)
    has det M = det cov_SS, and M^-1 is cov_SS^-1 on S x S; the sum over members of
    (y - theta)' cov_SS^-1 (y - theta) is tr(M^-1 A), A = S2 - s1 t' - t s1' + n t t', t = P theta
    (A is 0 outside S x S). Gaussian elimination of M, all subsets at once: pivot j adds
    log p_j to the log determinant and A_jj / p_j to the trace, then M <- M - g c' and
    A <- E A E' with c the pivot column, g = c / p_j, E = I - g e_j' (so tr(M^-1 A) =
    sum_j A_jj / p_j, the LDL' form). A few vectorised steps: writing the Cholesky factor out
    entry by entry made PyTensor's algebraic rewrites take 15 s per compile, and batched
    linear algebra was 3x slower per gradient.
    """
    k = patterns.shape[1]
    mask = pt.as_tensor(patterns)
    big_m = (
        mask[:, :, None] * mask[:, None, :] * cov[None] + np.eye(k) * (1.0 - patterns)[:, :, None]
    )
    t = mask * theta[None, :]
    a = (
        pat_outer
        - pat_sum[:, :, None] * t[:, None, :]
        - t[:, :, None] * pat_sum[:, None, :]
        + pat_n[:, None, None] * t[:, :, None] * t[:, None, :]
    )
    quad, logdet = 0.0, 0.0
    for j in range(k):
        piv, col, a_row, a_jj = big_m[:, j, j], big_m[:, :, j], a[:, j, :], a[:, j, j]
        quad += a_jj / piv
        logdet += pt.log(piv)
        if j < k - 1:
            g = col / piv[:, None]
            h = a_row - 0.5 * a_jj[:, None] * g  # E A E' = A - g h' - h g'
            big_m = big_m - g[:, :, None] * col[:, None, :]
            a = a - g[:, :, None] * h[:, None, :] - h[:, :, None] * g[:, None, :]
    size = patterns.sum(axis=1)
    return pt.sum(-0.5 * pat_n * (size * np.log(2 * np.pi) + logdet) - 0.5 * quad)


def _corr_scatter(n: int) -> np.ndarray:
    """0/1 matrix placing n(n-1)/2 free values in the strictly lower triangle, row by row."""
    rows, cols = np.tril_indices(n, -1)
    out = np.zeros((n * n, rows.size))
    out[rows * n + cols, np.arange(rows.size)] = 1.0
    return out


def _corr_cholesky(x, n: int):
    """Cholesky factor of a correlation matrix from n(n-1)/2 unconstrained values, and log L_ii.

    Row i of L is (x_i1, ..., x_i,i-1, 1) / sqrt(1 + |x_i|^2) (the map of PyMC's and
    TensorFlow Probability's CholeskyCorr transform).
    """
    lower = pt.dot(_corr_scatter(n), x).reshape((n, n))
    norm2 = 1.0 + (lower**2).sum(axis=-1)
    return (lower + np.eye(n)) / pt.sqrt(norm2)[:, None], -0.5 * pt.log(norm2)


def _lkj_free_logp(x, eta: float, n: int):
    """Log density of the free values x when R = L L' ~ LKJ(eta), up to a constant.

    The LKJ density of the Cholesky factor (Stan's lkj_corr_cholesky) is
    prod_i L_ii^(n - i + 2 eta - 2) (i from 1), and x -> row i of L has Jacobian
    L_ii^(i + 1): together each row contributes (2 eta + n - 1) log L_ii, so row i of x
    (i - 1 values) is multivariate t with 2 eta + n - i degrees of freedom and scale matrix
    I / df (`tests/model/test_correlated_factors.py` checks the correlations' LKJ marginal).
    Cheaper per gradient than PyMC's LKJCorr with its transform (about 3 vs 14 us here).
    """
    _, log_diag = _corr_cholesky(x, n)
    return (2.0 * eta + n - 1.0) * log_diag.sum()


def _lkj_free_random(eta: float, n: int, rng: np.random.Generator, size=None) -> np.ndarray:
    """Draws of the free values: for each row, z / sqrt(w), z ~ N(0, I), w ~ chi2(df)."""
    size = () if size is None else tuple(np.atleast_1d(size))
    rows, _ = np.tril_indices(n, -1)  # the row (from 0) of each free value
    w = rng.chisquare(2.0 * eta + n - 1.0 - np.arange(n), size=(*size, n))
    return rng.standard_normal((*size, rows.size)) / np.sqrt(w[..., rows])


@dataclass(frozen=True)
class ModelInputs:
    """Sufficient statistics of a group, held in pm.Data (fixed shapes whatever N is).

    The likelihood depends on the participants only through these sums, so it is exact
    and its cost does not grow with the size of the group.
    """

    stick_n: np.ndarray  # (3,) members whose stick k lies inside (0, 1)
    stick_logv: np.ndarray  # (3,) their sum of log V_k
    stick_log1mv: np.ndarray  # (3,) their sum of log(1 - V_k)
    stick_low: np.ndarray  # (3,) sticks of exactly 0 (a stated 0, censored below)
    stick_high: np.ndarray  # (3,) sticks of exactly 1 (every later scenario 0, censored above)
    col_n: np.ndarray  # (J,) interior answers per quantity
    col_mean: np.ndarray  # (J,) mean logit of the interior answers (0 if none)
    col_ss: np.ndarray  # (J,) sum of squared deviations from that mean
    col_low: np.ndarray  # (J,) answers of exactly 0 (censored below)
    col_high: np.ndarray  # (J,) answers of exactly 1 (censored above)
    fac_pat_n: np.ndarray  # (2^F,) members by which factors they answered inside (0, 1)
    fac_pat_sum: np.ndarray  # (2^F, F) sum of their factor logits (0 where not interior)
    fac_pat_outer: np.ndarray  # (2^F, F, F) sum of outer products of those logit vectors

    def as_data(self) -> dict[str, np.ndarray]:
        """The pm.Data values by name."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def factor_patterns(n_factors: int) -> np.ndarray:
    """Every subset of the factors as a 0/1 row: row k has factor j iff bit j of k is set."""
    return np.array([[(k >> j) & 1 for j in range(n_factors)] for k in range(2**n_factors)], float)


def model_inputs(data: GroupData, *, n_factors: int = 4) -> ModelInputs:
    """Sufficient statistics of `data`; NaN (no answer) counts nowhere.

    The first `n_factors` columns are the scheming factors (DESIGN §1.2: four of them).
    """
    sticks = stick_fractions(data.credences)
    inside = (sticks > 0) & (sticks < 1)
    safe = np.where(inside, sticks, 0.5)

    v = data.values
    answered = ~np.isnan(v)
    low = answered & (v <= 0.0)
    high = answered & (v >= 1.0)
    interior = answered & ~low & ~high
    y = np.where(interior, _logit(np.where(interior, v, 0.5)), 0.0)
    n = interior.sum(axis=0).astype(float)
    mean = np.divide(y.sum(axis=0), n, out=np.zeros_like(n), where=n > 0)
    ss = (np.where(interior, y - mean, 0.0) ** 2).sum(axis=0)

    # Factors: members grouped by which factors they gave inside (0, 1); per group the
    # count, the sum of their logit vectors and of outer products (0 outside the subset).
    fac_in = interior[:, :n_factors]
    fac_code = (fac_in * (1 << np.arange(n_factors))).sum(axis=1)
    fac_y = y[:, :n_factors]
    n_pat = 2**n_factors
    fac_pat_n = np.bincount(fac_code, minlength=n_pat).astype(float)
    fac_pat_sum = np.zeros((n_pat, n_factors))
    np.add.at(fac_pat_sum, fac_code, fac_y)
    fac_pat_outer = np.zeros((n_pat, n_factors, n_factors))
    np.add.at(fac_pat_outer, fac_code, fac_y[:, :, None] * fac_y[:, None, :])
    return ModelInputs(
        inside.sum(axis=0).astype(float),
        np.where(inside, np.log(safe), 0.0).sum(axis=0),
        np.where(inside, np.log1p(-safe), 0.0).sum(axis=0),
        (sticks == 0).sum(axis=0).astype(float),
        (sticks == 1).sum(axis=0).astype(float),
        n,
        mean,
        ss,
        low.sum(axis=0).astype(float),
        high.sum(axis=0).astype(float),
        fac_pat_n,
        fac_pat_sum,
        fac_pat_outer,
    )


def column_prior_means(data: GroupData, defaults: Defaults) -> np.ndarray:
    """Prior means of theta_j (logit scale): factor hyperprior, or the reading's default."""
    h = defaults.hyperpriors
    n_fixed = len(defaults.factor_ids) + 1
    means = [h.factors.theta_mean] * n_fixed
    for item in data.evidence:
        for s in SCENARIO_IDS:
            d = reading_default(item, s, defaults)
            means.append(0.0 if d is None else float(_logit(d)))
    return np.asarray(means)


def model_data(data: GroupData, defaults: Defaults) -> dict[str, np.ndarray]:
    """Everything the graph reads from pm.Data: sufficient statistics and column priors.

    Two groups with the same number of quantities share one compiled graph.
    """
    hyper = defaults.hyperpriors
    fixed = np.arange(len(data.columns)) < len(defaults.factor_ids) + 1
    eps = np.where(fixed, hyper.factors.zero_threshold, hyper.readings.zero_threshold)
    return {
        **model_inputs(data, n_factors=len(defaults.factor_ids)).as_data(),
        "theta_mean": column_prior_means(data, defaults),
        "theta_sd": np.where(fixed, hyper.factors.theta_sd, hyper.readings.delta_sd),
        "tau_sd": np.where(fixed, hyper.factors.tau_sd, hyper.readings.omega_sd),
        "noise_sd": np.where(fixed, hyper.factors.elicitation_sd, hyper.readings.elicitation_sd),
        "lo": _logit(eps),
        "hi": _logit(1.0 - eps),
    }


def build_model(data: GroupData, *, defaults: Defaults | None = None) -> pm.Model:
    """Build the PyMC group model for `data` (data held in pm.Data, swappable)."""
    defaults = defaults or load_defaults()
    hyper = defaults.hyperpriors
    n_fac = len(defaults.factor_ids)
    coords = {
        "scenario": list(SCENARIO_IDS),
        "quantity": list(data.columns),
        "factor": list(defaults.factor_ids),
        "factor_other": list(defaults.factor_ids),
        "stick": [SCENARIO_IDS[i] for i in ORDER[:N_STICKS]],
    }
    with pm.Model(coords=coords) as model:
        d = {k: pm.Data(k, v) for k, v in model_data(data, defaults).items()}

        mu = pm.Dirichlet("mu", a=np.asarray(hyper.credences.mu_concentration), dims="scenario")
        log_kappa = pm.TruncatedNormal(
            "log_kappa",
            hyper.credences.log_kappa_mean,
            hyper.credences.log_kappa_sd,
            lower=KAPPA_FLOOR_LOG,  # a finite lower end keeps the interval transform simple
            upper=np.log(hyper.credences.kappa_max),
            initval=hyper.credences.log_kappa_mean,
        )
        kappa = pm.Deterministic("kappa", pt.exp(log_kappa))
        # Each stick's own agreement kappa e^eps_k (eps sums to 0, so kappa stays the
        # sticks' geometric-mean agreement); eps = 0 is the Dirichlet(kappa mu).
        eps = pm.ZeroSumNormal(
            "credence_dispersion", sigma=hyper.credences.dispersion_sd, dims="stick"
        )
        scale = kappa * pt.exp(eps)
        mu_o = mu[list(ORDER)]  # in the sticks' order (model.credence_model)
        later = pt.stack([mu_o[1:].sum(), mu_o[2:].sum(), mu_o[3]])  # mu after stick k
        a_stick, b_stick = scale * mu_o[:N_STICKS], scale * later

        # Sticks inside (0, 1): Beta log density from sums (the Jacobian of pi -> V does not
        # depend on the parameters); a stick of 0 or 1 is censored, its log probability
        # exact far into the tail (`_log_beta_cdf`; P(V > 1 - eps) = I_eps(b, a)).
        eps0 = hyper.credences.zero_threshold
        betaln = pt.gammaln(a_stick) + pt.gammaln(b_stick) - pt.gammaln(a_stick + b_stick)
        stick_ll = (
            -d["stick_n"] * betaln
            + (a_stick - 1.0) * d["stick_logv"]
            + (b_stick - 1.0) * d["stick_log1mv"]
            # sticks nobody stated at 0 or 1 contribute exactly 0 (never 0 * -inf)
            + pt.switch(pt.gt(d["stick_low"], 0), d["stick_low"], 0.0)
            * _log_beta_cdf(a_stick, b_stick, eps0)
            + pt.switch(pt.gt(d["stick_high"], 0), d["stick_high"], 0.0)
            * _log_beta_cdf(b_stick, a_stick, eps0)
        )
        pm.Potential("credences_loglik", pt.sum(stick_ll))

        theta = pm.Normal("theta", d["theta_mean"], d["theta_sd"], dims="quantity")
        tau = pm.HalfNormal("tau", d["tau_sd"], dims="quantity")
        # A stated value's logit ~ N(theta, scale): belief spread tau plus elicitation noise.
        # Interior answers: sum_i log N(y_i | theta, scale) from (n, mean, ss);
        # stated 0 / 1: log P(logit q < logit eps) and log P(logit q > logit(1 - eps)).
        n = d["col_n"]
        scale = pt.sqrt(tau**2 + d["noise_sd"] ** 2)
        normal_ll = -n * (pt.log(scale) + 0.5 * np.log(2 * np.pi)) - (
            d["col_ss"] + n * (d["col_mean"] - theta) ** 2
        ) / (2 * scale**2)
        dist = pm.Normal.dist(theta, scale)
        censored_ll = d["col_low"] * pm.logcdf(dist, d["lo"]) + d["col_high"] * pm.logccdf(
            dist, d["hi"]
        )
        # The factors' interior answers enter jointly below, not one column at a time.
        independent = np.arange(len(data.columns)) >= n_fac
        pm.Potential(
            "quantities_loglik", pt.sum(pt.switch(independent, normal_ll, 0.0) + censored_ll)
        )

        # Factor logits: beliefs ~ MVN(theta_F, T R T), T = diag(tau_F), R ~ LKJ(lkj_eta);
        # a stated value adds independent elicitation noise s, so cov = T R T + s^2 I.
        eta = hyper.factors.lkj_eta
        n_free = n_fac * (n_fac - 1) // 2
        corr_free = pm.CustomDist(
            "factor_corr_free",
            np.zeros(n_free),  # only fixes the support's length for PyMC
            logp=lambda x, _: _lkj_free_logp(x, eta, n_fac),
            random=lambda _, rng=None, size=None: _lkj_free_random(eta, n_fac, rng, size),
            signature="(k)->(k)",
        )
        corr_chol, _ = _corr_cholesky(corr_free, n_fac)
        corr = pm.Deterministic(
            "factor_correlation", corr_chol @ corr_chol.T, dims=("factor", "factor_other")
        )
        tau_f = tau[:n_fac]
        cov = tau_f[:, None] * corr * tau_f[None, :] + pt.diag(d["noise_sd"][:n_fac] ** 2)
        pm.Potential(
            "factors_loglik",
            _factor_loglik(
                theta[:n_fac],
                cov,
                d["fac_pat_n"],
                d["fac_pat_sum"],
                d["fac_pat_outer"],
                factor_patterns(n_fac),
            ),
        )
    return model
