"""Every reported number of a fitted group, computed once into the records of `model.results`.

`build_result` is what `Analysis.result` returns; the pages, figures, report and
``summary.json`` (`model.summary.summary_json`) read its records and compute nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from model.camps import find_camps
from model.credence_model import draw_credences, stick_shapes
from model.cruxes import member_cruxes
from model.meta import meta_predictions
from model.ppc import spread_checks
from model.results import (
    FEWER_THAN_TWO,
    FITTED,
    Agreement,
    CoherenceView,
    Diagnostics,
    Disagreement,
    Factor,
    FactorCorrelation,
    Participant,
    Pools,
    Result,
    Scheming,
    Undetected,
)
from model.settle import what_would_settle_it
from model.stats import Stat
from priors import SCENARIO_IDS

if TYPE_CHECKING:
    from model.analysis import Analysis


_DIAGNOSED = (
    "mu",
    "kappa",
    "credence_dispersion",
    "theta",
    "tau",
    "consensus_posterior",
    "typical",
    "spread",
    "scheming_product_of_consensus",
    "scheming_consensus_of_products",
)


def _draws(var) -> np.ndarray:
    """A posterior variable's values, (chain, draw) first."""
    return var.transpose("chain", "draw", ...).values


def _diagnostics(analysis: Analysis) -> Diagnostics:
    import arviz as az

    idata = analysis.fit.idata
    names = [v for v in _DIAGNOSED if v in idata["posterior"]]
    rhat = az.rhat(idata, var_names=names)
    ess = az.ess(idata, var_names=names, method="bulk")
    post = idata["posterior"]
    return Diagnostics(
        max_rhat=max(float(np.nanmax(rhat[v].values)) for v in names),
        min_ess_bulk=min(float(np.nanmin(ess[v].values)) for v in names),
        divergences=int(idata["sample_stats"]["diverging"].sum()),
        chains=int(post.sizes["chain"]),
        draws=int(post.sizes["draw"]),
        seconds=round(analysis.fit.seconds, 3),
        target_accept=analysis.fit.target_accept,
    )


_PREDICTIVE_PER_DRAW = 16  # 64 000 draws at 4 x 1000: HDI ends steady to about 0.005


def _new_member_draws(analysis: Analysis) -> tuple[np.ndarray, np.ndarray]:
    """Predictive draws of a new member: credences (S*K, 4) and answers (S*K, J).

    `_PREDICTIVE_PER_DRAW` draws per posterior draw, from a generator seeded by the fit, so
    the same fit always gives the same bands.
    """
    from scipy.special import expit

    post = analysis.fit.idata["posterior"]
    mu = _draws(post["mu"]).reshape(-1, len(SCENARIO_IDS))
    kappa = _draws(post["kappa"]).reshape(-1)
    theta = _draws(post["theta"]).reshape(mu.shape[0], -1)
    tau = _draws(post["tau"]).reshape(mu.shape[0], -1)
    eps = _draws(post["credence_dispersion"]).reshape(mu.shape[0], -1)
    rng = np.random.default_rng(analysis.seed)
    a, b = stick_shapes(mu, kappa, eps)
    credences = draw_credences(
        a[:, None, :], b[:, None, :], rng, (mu.shape[0], _PREDICTIVE_PER_DRAW)
    ).reshape(-1, mu.shape[1])
    z = rng.standard_normal((theta.shape[0], _PREDICTIVE_PER_DRAW, theta.shape[1]))
    answers = expit(theta[:, None, :] + tau[:, None, :] * z).reshape(-1, theta.shape[1])
    return credences, answers


def _model_spreads(analysis: Analysis) -> dict[str, Stat]:
    """The model's between-person SD of every quantity (probability units).

    Credences: SD of a member's credence under the credence model (`credence_spread`).
    Factors, P(scheming) and readings: SD of expit(θ + τZ).
    """
    post = analysis.fit.idata["posterior"]
    cs = post["credence_spread"].values
    out = {f"credence:{s}": Stat.of(cs[..., k]) for k, s in enumerate(SCENARIO_IDS)}
    sp = post["spread"].values
    out |= {col: Stat.of(sp[..., j]) for j, col in enumerate(analysis.data.columns)}
    return out


def _disagreement(analysis: Analysis) -> tuple[Disagreement, ...]:
    """Every elicited quantity in the order of the decision measure (`model.decisive`).

    The members' actual spread stands beside the model's (None before the model is fitted).
    """
    from model.analysis import NOT_FITTED
    from model.decisive import decisive_disagreement

    model = _model_spreads(analysis) if analysis.fit is not None else {}
    checks = spread_checks(analysis, seed=analysis.seed) if analysis.fit is not None else {}
    out = []
    for d in decisive_disagreement(analysis.data, analysis.evidence, analysis.defaults):
        if analysis.fit is None:
            spread, reason = None, NOT_FITTED
        elif d.answered < 2:
            spread, reason = None, FEWER_THAN_TWO
        else:
            spread, reason = model[d.quantity], None
        out.append(
            Disagreement(
                d.quantity,
                spread,
                reason,
                d.answered,
                moves=d.moves,
                log_odds_sd=d.log_odds_sd,
                observed_sd=d.observed_sd,
                logit_sd=d.logit_sd,
                ppc_p=checks[d.quantity].p_value if d.quantity in checks else None,
                misfit=checks[d.quantity].misfit if d.quantity in checks else False,
            )
        )
    return tuple(out)


def _participants(analysis: Analysis) -> tuple[Participant, ...]:
    from model.individual import coherence, scheming_product, undetected_rates

    updates = analysis.updates
    n, evidence = len(updates), analysis.evidence
    if n == 0:
        return ()
    # The undetected rates for all members at once (one call of counts_rates per item).
    readings = np.array([u.readings for u in updates]).reshape(n, len(evidence), 4)
    posterior = np.array([u.posterior for u in updates])
    undetected = {  # per counts item: each member's expected rate under their posterior
        # (a dot product per member, as `model.individual.undetected` takes it, to the last bit)
        item_id: [float(p @ q) for p, q in zip(posterior, per, strict=True)]
        for item_id, per in undetected_rates(readings, evidence, analysis.defaults).items()
    }
    keys = ["prior", *(e.id for e in evidence)]
    out = []
    for i, (r, u) in enumerate(zip(analysis.responses, updates, strict=True)):
        terms, posterior_lo = u.terms.tolist(), u.posterior_log_odds.tolist()
        log_odds = {}
        for k, s in enumerate(SCENARIO_IDS[1:]):
            row = {key: terms[t][k] for t, key in enumerate(keys)}
            row["posterior"] = posterior_lo[k]
            log_odds[s] = row
        coh = coherence(r)
        out.append(
            Participant(
                id=r.participant,
                prior=dict(zip(SCENARIO_IDS, u.prior.tolist(), strict=True)),
                posterior=dict(zip(SCENARIO_IDS, u.posterior.tolist(), strict=True)),
                scheming_product=scheming_product(r),
                p_scheming=r.p_scheming,
                coherence=CoherenceView(
                    coh.product,
                    coh.direct,
                    coh.credence_d,
                    tuple(note.text(r.participant) for note in coh.records),
                ),
                undetected={item_id: vals[i] for item_id, vals in undetected.items()},
                log_odds=log_odds,
                defaulted=tuple(map(tuple, u.defaulted.tolist())),
            )
        )
    return tuple(out)


def _undetected(analysis: Analysis) -> dict[str, Undetected] | None:
    from model.individual import counts_rates

    post = analysis.fit.idata["posterior"]
    if "undetected" not in post:
        return None
    by_id = {e.id: e for e in analysis.evidence}
    out = {}
    for item_id in post["undetected"].coords["counts_item"].values.tolist():
        item = by_id[item_id]
        und = post["undetected"].sel(counts_item=item_id)
        d = _draws(post["typical"].sel(quantity=[f"{item_id}:{s}" for s in SCENARIO_IDS]))
        m, fa = counts_rates(item, analysis.defaults)
        detected = (m * d + (1 - m) * fa).reshape(-1, len(SCENARIO_IDS)).mean(axis=0)
        out[item_id] = Undetected(
            item=item_id,
            text=item.text,
            per_scenario={s: Stat.of(und.sel(scenario=s).values) for s in SCENARIO_IDS},
            expected_given_evidence=Stat.of(
                post["undetected_expected"].sel(counts_item=item_id).values
            ),
            detected_per_scenario=dict(zip(SCENARIO_IDS, detected.tolist(), strict=True)),
            observed_rate=item.detected / item.episodes,
            detected=item.detected,
            episodes=item.episodes,
        )
    return out


def _factor_correlation(post, factor_ids: tuple[str, ...]) -> tuple[FactorCorrelation, ...]:
    """One entry per pair of factors, in the order of the factors."""
    corr = post["factor_correlation"].values
    return tuple(
        FactorCorrelation(a, b, Stat.of(corr[..., i, j]))
        for i, a in enumerate(factor_ids)
        for j, b in enumerate(factor_ids)
        if i < j
    )


def _pool_table(pools: Mapping[str, np.ndarray], keys: list[str]) -> dict[str, dict[str, float]]:
    return {k: dict(zip(keys, map(float, v), strict=True)) for k, v in pools.items()}


def _pools(analysis: Analysis, factor_names: list[str]) -> Pools:
    """The stated answers' pools: scenarios before and after the evidence, and the factors."""
    return Pools(
        prior=_pool_table(analysis.prior_pools(), list(SCENARIO_IDS)),
        posterior=_pool_table(analysis.posterior_pools(), list(SCENARIO_IDS)),
        factors=_pool_table(analysis.factor_pools(), factor_names),
    )


def _unfitted(analysis: Analysis) -> Result:
    from model.analysis import NOT_FITTED

    defaults = analysis.defaults
    fnames = [*defaults.factor_ids, defaults.direct.id]
    return Result(
        n_participants=analysis.data.n,
        scenarios=tuple(SCENARIO_IDS),
        evidence=tuple(e.model_dump() for e in analysis.evidence),
        group_model=NOT_FITTED,
        consensus_prior=None,
        new_member_credence=None,
        agreement=Agreement(None, NOT_FITTED),
        consensus_posterior=None,
        consensus_log_odds=None,
        new_member_posterior=None,
        factor_correlation=None,
        factors=None,
        scheming=None,
        mu_d=None,
        pools=_pools(analysis, fnames),
        participants=_participants(analysis),
        disagreement=_disagreement(analysis),
        cruxes=None,
        cruxes_against=None,
        undetected=None,
        diagnostics=None,
        meta_predictions=meta_predictions(analysis.responses),
        what_would_settle_it=None,
        camps=find_camps(analysis.data, seed=analysis.seed),
    )


def build_result(analysis: Analysis) -> Result:
    """Compute every reported number of a group once (see `Result`)."""
    if analysis.fit is None:
        return _unfitted(analysis)
    post = analysis.fit.idata["posterior"]
    data = analysis.data
    n = data.n
    cols = list(data.columns)
    defaults = analysis.defaults
    answered = (~np.isnan(data.values)).sum(axis=0)
    new_credences, new_answers = _new_member_draws(analysis)

    def per_scenario(var: str) -> dict[str, Stat]:
        v = post[var].values
        return {s: Stat.of(v[..., k]) for k, s in enumerate(SCENARIO_IDS)}

    names = {f.id: f.name for f in defaults.factors} | {defaults.direct.id: "Direct P(scheming)"}
    factors = {}
    for f in [*defaults.factor_ids, defaults.direct.id]:
        j = cols.index(f)
        known = answered[j] >= 2
        factors[f] = Factor(
            id=f,
            name=names[f],
            consensus=Stat.of(post["typical"].values[..., j]),
            spread=Stat.of(post["tau"].values[..., j]) if known else None,
            spread_reason=None if known else FEWER_THAN_TWO,
            new_member=Stat.of(new_answers[:, j]),
            answered=int(answered[j]),
            answers=tuple(float(v) for v in data.values[:, j] if not np.isnan(v)),
            direct=f == defaults.direct.id,
        )

    fnames = [*defaults.factor_ids, defaults.direct.id]
    lo = post["log_odds"]
    terms = lo.coords["term"].values.tolist()
    against = member_cruxes(analysis)
    return Result(
        n_participants=n,
        scenarios=tuple(SCENARIO_IDS),
        evidence=tuple(e.model_dump() for e in analysis.evidence),
        group_model=FITTED,
        consensus_prior=per_scenario("mu"),
        new_member_credence={s: Stat.of(new_credences[:, k]) for k, s in enumerate(SCENARIO_IDS)},
        agreement=Agreement(Stat.of(post["kappa"].values))
        if n >= 2
        else Agreement(None, FEWER_THAN_TWO),
        consensus_posterior=per_scenario("consensus_posterior"),
        consensus_log_odds={
            s: {t: Stat.of(lo.sel(term=t, versus=s).values) for t in terms}
            for s in SCENARIO_IDS[1:]
        },
        new_member_posterior=per_scenario("new_member_posterior"),
        factors=factors,
        factor_correlation=_factor_correlation(post, defaults.factor_ids),
        scheming=Scheming(
            product_of_consensus=Stat.of(post["scheming_product_of_consensus"].values),
            consensus_of_products=Stat.of(post["scheming_consensus_of_products"].values),
            new_member=Stat.of(post["scheming_new_member"].values),
            direct_typical=Stat.of(post["typical"].values[..., cols.index(fnames[-1])]),
            direct_new_member=Stat.of(post["direct_new_member"].values),
        ),
        mu_d=Stat.of(post["mu"].sel(scenario="D").values),
        pools=_pools(analysis, fnames),
        participants=_participants(analysis),
        disagreement=_disagreement(analysis),
        cruxes=against["A"],
        cruxes_against=against,
        undetected=_undetected(analysis),
        diagnostics=_diagnostics(analysis),
        meta_predictions=meta_predictions(analysis.responses),
        what_would_settle_it=what_would_settle_it(
            analysis.updates,
            analysis.evidence,
            defaults,
            post["consensus_posterior"]
            .transpose("chain", "draw", "scenario")
            .values.reshape(-1, len(SCENARIO_IDS)),
            seed=analysis.seed,
        ),
        camps=find_camps(data, seed=analysis.seed),
    )
