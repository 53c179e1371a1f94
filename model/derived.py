"""Derived quantities of the group posterior: the evidence update, scheming, spreads.

The evidence enters only here, as a derived update of the consensus:
consensus posterior = softmax(log mu + sum_e log L_e(typical reading)).
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy.special import expit

from model.individual import counts_rates, log_likelihoods, update_terms
from model.schema import GroupData
from priors import SCENARIO_IDS, CountsEvidence, Defaults

# Nodes z and weights w with sum_k w_k f(z_k) ~ E f(Z), Z ~ N(0, 1), for f = expit(theta + tau z).
# f has poles at Im z = pi / tau, so Gauss-Hermite loses accuracy as tau grows: 64 nodes are
# within 1e-9 of adaptive quadrature up to tau = 2 but off by 2e-4 at tau = 5. Above that,
# the trapezoid rule on a fine grid is exponentially accurate (error ~ exp(-2 pi^2 / (tau h)):
# about 2e-11 at tau = 20) and cuts the normal's tails at 9 SD (mass 2e-19).
_GH_TAU_MAX = 2.0
_GH_X, _GH_W = np.polynomial.hermite.hermgauss(64)
_GH_NODES, _GH_WEIGHTS = np.sqrt(2.0) * _GH_X, _GH_W / np.sqrt(np.pi)
_TRAP_NODES = np.linspace(-9.0, 9.0, 451)  # h = 0.04
_TRAP_WEIGHTS = np.exp(-0.5 * _TRAP_NODES**2)
_TRAP_WEIGHTS /= _TRAP_WEIGHTS.sum()


def _moments(theta: np.ndarray, tau: np.ndarray, z: np.ndarray, w: np.ndarray):
    p = expit(theta[..., None] + tau[..., None] * z)
    mean = p @ w
    p *= p
    return mean, p @ w - mean**2


def logit_normal_moments(theta: np.ndarray, tau: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and SD of expit(theta + tau Z), Z ~ N(0, 1), by quadrature.

    64-point Gauss-Hermite where tau <= 2, a fine trapezoid rule above (see the nodes'
    comment); within 1e-8 of adaptive quadrature for tau up to 20
    (`tests/model/test_group.py`).
    """
    theta, tau = np.broadcast_arrays(np.asarray(theta, float), np.asarray(tau, float))
    mean, var = np.empty(theta.shape), np.empty(theta.shape)
    small = tau <= _GH_TAU_MAX
    mean[small], var[small] = _moments(theta[small], tau[small], _GH_NODES, _GH_WEIGHTS)
    large = ~small
    if large.any():
        mean[large], var[large] = _moments(theta[large], tau[large], _TRAP_NODES, _TRAP_WEIGHTS)
    return mean, np.sqrt(np.clip(var, 0.0, None))


def reading_columns(data: GroupData) -> np.ndarray:
    """Indices of the reading columns, shape (E, 4)."""
    index = {c: j for j, c in enumerate(data.columns)}
    return np.array([[index[f"{e.id}:{s}"] for s in SCENARIO_IDS] for e in data.evidence], int)


def add_derived(
    idata: xr.DataTree, data: GroupData, *, defaults: Defaults, random_seed: int | None = None
) -> xr.DataTree:
    """Add the derived quantities to the posterior group (so diagnostics cover them too).

    Added variables (dims after chain, draw):
    - ``typical`` (quantity): expit(theta), the typical member's answer;
    - ``spread`` (quantity): between-person SD of the answer on the probability scale;
    - ``credence_spread`` (scenario): SD of a member's credence, sqrt(mu(1-mu)/(kappa+1));
    - ``consensus_posterior`` (scenario): softmax(log mu + sum_e log L_e(expit(delta)));
    - ``log_odds`` (term, versus): the consensus's log-odds against A, split into the
      prior part and one part per evidence item;
    - ``scheming_product_of_consensus``: prod_j expit(theta_j) over the four factors;
    - ``scheming_consensus_of_products``: E[prod_j expit(theta_j + tau_j Z_j)], the group's
      view of a member's product (factors independent across j);
    - ``scheming_new_member``: one draw of a new member's product per posterior draw;
    - ``direct_new_member``: one draw of a new member's direct P(scheming);
    - ``undetected`` (counts_item, scenario) = m_s (1 - d_s) with the typical reading, and
      ``undetected_expected`` (counts_item) under the consensus posterior.
    """
    post = idata["posterior"].to_dataset()
    theta = post["theta"].values
    tau = post["tau"].values
    mu = post["mu"].values
    kappa = post["kappa"].values
    shape = theta.shape[:2]
    rng = np.random.default_rng(random_seed)

    typical = expit(theta)
    _, spread = logit_normal_moments(theta, tau)
    n_fac = len(defaults.factor_ids)
    fac_means, _ = logit_normal_moments(theta[..., :n_fac], tau[..., :n_fac])
    z = rng.standard_normal(theta.shape)
    new_member = expit(theta + tau * z)

    cols = reading_columns(data)
    readings = typical[..., cols] if cols.size else np.zeros((*shape, 0, 4))
    log_lik = log_likelihoods(readings, data.evidence, defaults)
    with np.errstate(divide="ignore"):
        terms, cons_post = update_terms(np.log(mu), log_lik)

    out = {
        "typical": (("chain", "draw", "quantity"), typical),
        "spread": (("chain", "draw", "quantity"), spread),
        "credence_spread": (
            ("chain", "draw", "scenario"),
            np.sqrt(mu * (1 - mu) / (kappa[..., None] + 1)),
        ),
        "consensus_posterior": (("chain", "draw", "scenario"), cons_post),
        "log_odds": (("chain", "draw", "term", "versus"), terms),
        "scheming_product_of_consensus": (("chain", "draw"), typical[..., :n_fac].prod(-1)),
        "scheming_consensus_of_products": (("chain", "draw"), fac_means.prod(-1)),
        "scheming_new_member": (("chain", "draw"), new_member[..., :n_fac].prod(-1)),
        "direct_new_member": (("chain", "draw"), new_member[..., n_fac]),
    }
    coords = {
        "term": ["prior", *(e.id for e in data.evidence)],
        "versus": list(SCENARIO_IDS[1:]),
    }
    counts = [(e, item) for e, item in enumerate(data.evidence) if isinstance(item, CountsEvidence)]
    if counts:
        und = np.stack(
            [counts_rates(item, defaults)[0] * (1 - readings[..., e, :]) for e, item in counts],
            axis=-2,
        )
        out["undetected"] = (("chain", "draw", "counts_item", "scenario"), und)
        out["undetected_expected"] = (
            ("chain", "draw", "counts_item"),
            (und * cons_post[..., None, :]).sum(-1),
        )
        coords["counts_item"] = [item.id for _, item in counts]
    post = post.assign(out).assign_coords(coords)
    idata["posterior"] = xr.DataTree(post)
    return idata
