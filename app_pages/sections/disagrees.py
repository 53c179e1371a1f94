"""The dashboard's second tab: where the group disagrees and why (the ranking and the cruxes)."""

from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from app_pages import formats
from app_pages.sections.figure import figure as _figure
from model import Analysis
from model import figures as figs
from model.cruxes import pair_crux
from model.results import Result
from priors import SCENARIO_IDS


def disagreement(result: Result) -> None:
    """Every elicited quantity ranked by how much it decides."""
    st.header("Where the group disagrees, ranked by how much it decides")
    st.caption(
        "Ranked by how far the members' differences in each answer move their conclusions: "
        "the spread, across members, of the term that answer adds to their log-odds (nats; "
        "1 nat = ×2.7 in odds). A dispute between 1 % and 5 % can decide more than one between "
        "40 % and 60 %. Beside it, the members' actual spread and the model's, and whether the "
        "model's spread fits theirs (a posterior predictive check: groups of the same size "
        "simulated from the model; a misfit means the members' actual SD lies outside the "
        "middle 94 % of the simulated ones)."
    )
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "quantity": d.quantity,
                    "moves": d.moves,
                    "decides (SD of log-odds term, nats)": formats.show_number(d.log_odds_sd),
                    "members' SD": formats.show_percent(d.observed_sd, digits=1),
                    "members' SD (logit)": formats.show_number(d.logit_sd),
                    "model's SD [94 % HDI]": formats.show_stat(d.spread, reason=d.reason),
                    "model fits the spread?": "no: misfit"
                    if d.misfit
                    else ("–" if d.ppc_p is None else "yes"),
                    "answered": d.answered,
                }
                for d in result.disagreement
            ]
        ),
        hide_index=True,
        key="db_disagreement_table",
    )


@st.fragment
def cruxes(key: str, analysis: Analysis) -> None:
    """Cruxes against a chosen reference scenario, and two members compared."""
    result = analysis.result
    texts = figs.item_texts(result)
    st.header("Cruxes: why each member differs from the consensus")
    left, right = st.columns(2)
    reference = left.selectbox(
        "Reference scenario", list(SCENARIO_IDS), index=0, key="db_crux_reference"
    )
    others = [s for s in SCENARIO_IDS if s != reference]
    versus = right.segmented_control(
        f"Scenario compared with {reference}",
        options=others,
        default=others[-1],
        key=f"db_crux_versus_{reference}",
        required=True,
    )
    versus = versus or others[-1]
    crux = result.cruxes_against[reference][versus]
    total = crux.consensus_total
    st.caption(
        f"Zero on this chart is the consensus shown above: its log-odds of {versus} against "
        f"{reference} are {total.mean:+.2f} nats (94 % HDI {total.hdi[0]:+.2f} to "
        f"{total.hdi[1]:+.2f}), split into "
        + "; ".join(
            f"{'prior' if t == 'prior' else formats.md_escape(texts.get(t, t))} {c.mean:+.2f}"
            for t, c in zip(crux.terms, crux.consensus, strict=True)
        )
        + ". Each bar is a member's part minus the consensus's; the parts add up to the gap."
    )
    _figure(
        key,
        "crux",
        partial(figs.crux, result, analysis.defaults, versus=versus, reference=reference),
        options=(versus, reference),
    )
    notes = [
        f"{name}: {why}" for name, why in zip(crux.participants, crux.ruled_out, strict=True) if why
    ]
    defaulted = [
        name for name, row in zip(crux.participants, crux.defaulted, strict=True) if row.any()
    ]
    if notes:
        st.caption("Ruled out: " + formats.md_escape("; ".join(notes)) + ".")
    if defaulted:
        st.caption(
            "Readings left to the reference default (not the member's view): "
            + formats.md_escape(", ".join(defaulted))
            + "."
        )
    names = list(crux.participants)
    if len(names) >= 2:
        st.subheader("Two members compared")
        left, right = st.columns(2)
        first = left.selectbox("Member", names, index=0, key="db_pair_first")
        second = right.selectbox("and member", names, index=1, key="db_pair_second")
        pair = pair_crux(result.cruxes_against, first, second, versus=versus, reference=reference)
        rows = [
            (
                "prior (stated credences)"
                if term == "prior"
                else f"evidence: {texts.get(term, term)}" + (" (a default)" if dflt else "")
            )
            for term, dflt in zip(pair.terms, pair.defaulted, strict=True)
        ]
        st.dataframe(
            pd.DataFrame(
                {
                    f"log-odds {versus} : {reference}, {first} − {second}": [
                        *(formats.show_log_odds(v) for v in pair.parts),
                        formats.show_log_odds(pair.gap),
                    ]
                },
                index=[*rows, "gap (the sum of the rows)"],
            ),
            key="db_pair_table",
        )
        st.caption(
            formats.md_escape(
                f"{first}'s log-odds of {versus} against {reference} minus {second}'s, in nats, "
                "split exactly into the prior part and each evidence item's part; the rows add "
                "up to the gap." + (f" {pair.ruled_out}." if pair.ruled_out else "")
            )
        )
    st.caption(
        "Undetected misalignment: what each scenario implies monitoring misses, per member and "
        "for the group."
    )
    _figure(key, "undetected", partial(figs.undetected, result, analysis.defaults))
