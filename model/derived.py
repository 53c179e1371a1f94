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

_GH_X, _GH_W = np.polynomial.hermite.hermgauss(64)


def logit_normal_moments(theta: np.ndarray, tau: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and SD of expit(theta + tau Z), Z ~ N(0, 1), by 64-point Gauss-Hermite."""
    z = np.sqrt(2.0) * _GH_X
    w = _GH_W / np.sqrt(np.pi)
    p = expit(np.asarray(theta)[..., None] + np.asarray(tau)[..., None] * z)
    mean = p @ w
    var = (p * p) @ w - mean**2
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
