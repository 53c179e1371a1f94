"""The dashboard's first tab: what the group believes (consensus, pools, scheming, trajectories)."""

from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from app_pages import formats
from app_pages.sections.figure import figure as _figure
from model import Analysis
from model import figures as figs
from model.results import SCHEMING_LABELS, Result
from priors import SCENARIO_IDS, Defaults


def consensus(key: str, result: Result, defaults: Defaults, analysis: Analysis) -> None:
    """The consensus before and after the evidence, with the agreement κ."""
    st.header("What the group believes")
    names = [f"{s.id} · {s.name}" for s in defaults.scenarios]
    st.dataframe(
        pd.DataFrame(
            {
                "consensus μ [94 % HDI]": [
                    formats.show_stat(result.consensus_prior[s]) for s in SCENARIO_IDS
                ],
                "after the evidence [94 % HDI]": [
                    formats.show_stat(result.consensus_posterior[s]) for s in SCENARIO_IDS
                ],
                "a new member, after the evidence [94 % HDI]": [
                    formats.show_stat(result.new_member_posterior[s]) for s in SCENARIO_IDS
                ],
            },
            index=names,
        ),
        key="db_consensus_table",
    )
    st.caption(
        "The consensus μ is the mean of the distribution the members' credences are modelled as "
        "drawn from. It weighs members' log-credences, so it sits nearer the logarithmic pool "
        "than the plain average (the linear pool): it is not the average; compare both under "
        "'Pools side by side'. *After the evidence*: μ updated by the evidence as the whole "
        "group reads it (each scenario's likelihood averaged over the members' spread of "
        "readings). *A new member*: the exact update of someone drawn from this group, "
        "averaged over such members."
    )
    agreement = result.agreement
    st.markdown(
        "Agreement κ (larger = more alike): "
        + formats.md_escape(
            formats.show_stat(agreement.kappa, as_percent=False, reason=agreement.reason)
        )
    )
    _figure(
        key,
        "prior_vs_posterior",
        partial(figs.prior_vs_posterior, analysis.result, analysis.defaults),
    )
    _figure(
        key,
        "participants_vs_consensus",
        partial(figs.participants_vs_consensus, analysis.result, analysis.defaults),
    )


def pools(key: str, result: Result, analysis: Analysis) -> None:
    """The classical pools beside the model."""
    st.header("Pools side by side")
    pools = {"prior": result.pools.prior, "posterior": result.pools.posterior}
    table = {
        f"{k} ({when})": [formats.show_percent(pools[when][k][s]) for s in SCENARIO_IDS]
        for when in ("prior", "posterior")
        for k in pools[when]
    }
    st.dataframe(pd.DataFrame(table, index=list(SCENARIO_IDS)), key="db_pools_table")
    st.caption("prior: pools of the stated credences; posterior: of each member's exact update.")
    if result.fitted:
        _figure(key, "pools", partial(figs.pools, analysis.result, analysis.defaults))


def scheming(key: str, result: Result, analysis: Analysis) -> None:
    """The factors of scheming and P(scheming) aggregated five ways."""
    st.header("Scheming and its factors")
    rows = {
        f: [
            formats.show_stat(v.consensus),
            formats.show_stat(v.spread, as_percent=False, reason=v.spread_reason),
        ]
        for f, v in result.factors.items()
        if not v.direct
    }
    st.dataframe(
        pd.DataFrame.from_dict(
            rows, orient="index", columns=["consensus [94 % HDI]", "spread τ (logit scale)"]
        ),
        key="db_factors_table",
    )
    if result.factor_correlation:
        st.dataframe(
            pd.DataFrame(
                {
                    "factor": [c.a for c in result.factor_correlation],
                    "and factor": [c.b for c in result.factor_correlation],
                    "correlation [94 % HDI]": [
                        formats.show_stat(c.correlation, as_percent=False)
                        for c in result.factor_correlation
                    ],
                }
            ),
            hide_index=True,
            key="db_factor_correlation_table",
        )
        st.caption(
            "How members' answers to two factors move together (correlation of their logits "
            "across members, the model's LKJ-correlated normal). The consensus of members' "
            "products and a new member's product below account for it."
        )
    st.dataframe(
        pd.DataFrame(
            {"P(scheming) [94 % HDI]": [formats.show_stat(v) for _, v in result.scheming.items()]},
            index=[SCHEMING_LABELS[k] for k, _ in result.scheming.items()],
        ),
        key="db_scheming_table",
    )
    _figure(key, "factor_spread", partial(figs.factor_spread, analysis.result, analysis.defaults))
    _figure(
        key,
        "scheming_coherence",
        partial(figs.scheming_coherence, analysis.result, analysis.defaults),
    )


TRAJECTORIES_LOG_KEY = "db_traj_log"  # the trajectories' widgets, read before they are drawn
NEED_FACTOR_KEY = "db_need_factor"


def trajectories_unshown(defaults: Defaults) -> tuple[str, ...]:
    """The report's trajectories (`report_options`) that this run's toggles leave unshown."""
    factor = float(st.session_state.get(NEED_FACTOR_KEY, defaults.need.factor_per_decade))
    if factor != float(defaults.need.factor_per_decade):
        return ("trajectories", "trajectories_log")
    log = st.session_state.get(TRAJECTORIES_LOG_KEY)
    return ("trajectories",) if log else ("trajectories_log",)


@st.fragment
def trajectories(key: str, defaults: Defaults, result: Result) -> None:
    """The scenarios' trajectories, weighted by the group's posterior."""
    st.header("Trajectories, weighted by the group's posterior")
    left, right = st.columns(2)
    log = left.toggle(
        "Log axis (misalignment rate): shows the true size of the gap",
        key=TRAJECTORIES_LOG_KEY,
    )
    factor = right.number_input(
        '"What we need": the tolerable misalignment rate falls by this factor per 10× capability',
        min_value=1.0,
        max_value=1e6,
        value=float(defaults.need.factor_per_decade),
        step=1.0,
        key=NEED_FACTOR_KEY,
    )
    weights = figs.consensus_weights(result)
    yscale = "log" if log else "linear"
    _figure(
        key,
        "trajectories_log" if log else "trajectories",
        partial(
            figs.trajectories,
            defaults,
            weights=weights,
            factor_per_decade=factor,
            yscale=yscale,
        ),
        options=(yscale, float(factor)),
    )
