"""The hierarchical group model (DESIGN §2): the one module that builds the PyMC graph.

pi_i ~ Dirichlet(kappa * mu)                 credences over A-D
logit q_ij ~ Normal(theta_j, sqrt(tau_j^2 + s^2))   factors, direct P(scheming), readings
                                             (s: elicitation noise, priors/hyperpriors.toml)

The logit-normal block has no per-person latent variables: a stated probability is the
person's belief (logit ~ Normal(theta_j, tau_j)) plus elicitation noise s, and the belief
is integrated out (a Normal with the combined scale), so the model keeps the same small
number of parameters whatever the group's size; s also keeps the posterior proper when
everyone gives the same answer. kappa is truncated at `kappa_max` for the same reason.
Exact 0 and 1 (and 0 credences) are censored: a stated 0 means "below `zero_threshold`",
never log(0), and never a clipped value (clipping biases kappa and mu); its log probability
is exact far into the tail, where betainc underflows (`_log_beta_cdf`). Unanswered items
are left out of the likelihood (missing data). The evidence is never a likelihood term
here: it enters only in the derived quantities (model/derived.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from model.schema import GroupData, reading_default
from priors import SCENARIO_IDS, Defaults, load_defaults


def _logit(p: float | np.ndarray) -> np.ndarray:
    return np.log(p) - np.log1p(-np.asarray(p))


KAPPA_FLOOR_LOG = -7.0  # kappa >= 0.0009: far below any group's agreement, never binding

# Every non-empty subset of A-D: which credences a participant stated above 0.
PATTERNS = np.array([[(k >> b) & 1 for b in range(4)] for k in range(1, 16)], dtype=float)


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


@dataclass(frozen=True)
class ModelInputs:
    """Sufficient statistics of a group, held in pm.Data (fixed shapes whatever N is).

    The likelihood depends on the participants only through these sums, so it is exact
    and its cost does not grow with the size of the group.
    """

    pat_n: np.ndarray  # (15,) participants with each zero pattern
    pat_logsum: np.ndarray  # (15, 4) sum of log credence over them, where positive
    col_n: np.ndarray  # (J,) interior answers per quantity
    col_mean: np.ndarray  # (J,) mean logit of the interior answers (0 if none)
    col_ss: np.ndarray  # (J,) sum of squared deviations from that mean
    col_low: np.ndarray  # (J,) answers of exactly 0 (censored below)
    col_high: np.ndarray  # (J,) answers of exactly 1 (censored above)

    def as_data(self) -> dict[str, np.ndarray]:
        """The pm.Data values by name."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def model_inputs(data: GroupData) -> ModelInputs:
    """Sufficient statistics of `data`; NaN (no answer) counts nowhere."""
    pos = data.credences > 0
    code = (pos * (1 << np.arange(4))).sum(axis=1) - 1
    with np.errstate(divide="ignore"):
        logs = np.where(pos, np.log(np.where(pos, data.credences, 1.0)), 0.0)
    pat_n = np.bincount(code, minlength=15).astype(float)
    pat_logsum = np.zeros((15, 4))
    np.add.at(pat_logsum, code, logs)

    v = data.values
    answered = ~np.isnan(v)
    low = answered & (v <= 0.0)
    high = answered & (v >= 1.0)
    interior = answered & ~low & ~high
    y = np.where(interior, _logit(np.where(interior, v, 0.5)), 0.0)
    n = interior.sum(axis=0).astype(float)
    mean = np.divide(y.sum(axis=0), n, out=np.zeros_like(n), where=n > 0)
    ss = (np.where(interior, y - mean, 0.0) ** 2).sum(axis=0)
    return ModelInputs(
        pat_n,
        pat_logsum,
        n,
        mean,
        ss,
        low.sum(axis=0).astype(float),
        high.sum(axis=0).astype(float),
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
        **model_inputs(data).as_data(),
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
    coords = {"scenario": list(SCENARIO_IDS), "quantity": list(data.columns)}
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
        alpha = kappa * mu

        # Per zero pattern P: the stated-positive credences renormalised are Dir(alpha_P),
        # independent of the stated zeros' true total T ~ Beta(alpha_Z, alpha_P) (the
        # Dirichlet's neutrality); a stated 0 is the censored event T < eps. Exact.
        a_pos = PATTERNS @ alpha
        a_zero = (1.0 - PATTERNS) @ alpha
        has_zero = PATTERNS.sum(axis=1) < 4
        per_person = pt.gammaln(a_pos) - PATTERNS @ pt.gammaln(alpha)
        safe_zero = pt.switch(has_zero, a_zero, 1.0)
        log_cdf = _log_beta_cdf(safe_zero, a_pos, hyper.credences.zero_threshold)
        per_person += pt.switch(has_zero, log_cdf, 0.0)
        # patterns nobody used contribute exactly 0 (never 0 * -inf)
        used = pt.gt(d["pat_n"], 0)
        dir_ll = pt.sum(pt.switch(used, d["pat_n"] * per_person, 0.0)) + pt.sum(
            d["pat_logsum"] * (alpha - 1.0)
        )
        pm.Potential("credences_loglik", dir_ll)

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
        pm.Potential("quantities_loglik", pt.sum(normal_ll + censored_ll))
    return model
