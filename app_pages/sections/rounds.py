"""The dashboard's rounds compared."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import common, formats
from model.rounds import RoundComparison, compare_rounds
from priors import SCENARIO_IDS, EvidenceItem
from store import Group, Store


def rounds(
    store: Store, group: Group, evidence: tuple[EvidenceItem, ...], rounds: list[int]
) -> list[RoundComparison]:
    """The rounds side by side and the verdict over members who answered both."""
    if len(rounds) < 2:
        return []
    st.header("Rounds compared")
    results = {}
    for r in rounds:  # the current round's newest answers, as the page above shows them
        results[r] = common.fitted_latest(store, group, evidence, round=r)[1].result
    table = {
        f"round {r} (n = {results[r].n_participants})": [
            *(formats.show_stat(results[r].consensus_prior[s]) for s in SCENARIO_IDS),
            formats.show_stat(
                results[r].agreement.kappa, as_percent=False, reason=results[r].agreement.reason
            ),
        ]
        for r in rounds
    }
    st.dataframe(
        pd.DataFrame(table, index=[*(f"consensus {s}" for s in SCENARIO_IDS), "agreement κ"]),
        key="db_rounds_table",
    )
    comparisons = [
        compare_rounds(results[a], results[b], rounds=(a, b))
        for a, b in zip(rounds, rounds[1:], strict=False)
    ]
    with st.container(key="db_rounds_verdict"):
        for c in comparisons:
            st.markdown(formats.md_escape(c.verdict))
    return comparisons
