"""The member's feedback before saving: their update, why it moved, coherence, undetected."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from app_pages import formats
from app_pages.elicit_sections import form
from model import Response, coherence, update, validate_response
from model.individual import rising_factors_warning, undetected
from priors import SCENARIO_IDS, Defaults, EvidenceItem
from priors.errors import CruxboardError


def _log_odds_table(upd: Any, evidence: tuple[EvidenceItem, ...]) -> pd.DataFrame:
    rows = ["your credences (prior)", *(f"evidence: {e.id}" for e in evidence)]
    rows.append("after the evidence (sum)")
    values = np.vstack([upd.terms, upd.posterior_log_odds[None, :]])
    return pd.DataFrame(
        [[formats.show_log_odds(v) for v in row] for row in values],
        index=rows,
        columns=[f"{s} vs A" for s in SCENARIO_IDS[1:]],
    )


def feedback(
    raw: dict[str, Any],
    evidence: tuple[EvidenceItem, ...],
    defaults: Defaults,
    previous: Response | None,
) -> None:
    """What the entered answers imply, before anything is saved (computed by model/)."""
    st.header("Your feedback")
    st.caption("Computed from what you have entered so far; nothing is saved until you submit.")
    problem = form.credence_problem()
    if problem is not None:
        st.info("Feedback appears once your four credences are complete and add up to 100 %.")
        return
    # The forecast of the group feeds no feedback here; a half-filled one must not hide it.
    raw = dict(raw, participant=raw["participant"].strip() or "you", meta=None)
    try:
        response = validate_response(raw, evidence=evidence, defaults=defaults)
        upd = update(response, evidence=evidence, defaults=defaults)
    except CruxboardError as exc:
        st.warning(formats.md_escape(str(exc)))
        return
    with st.container(key="elicit_feedback"):
        st.subheader("Your view after the evidence")
        st.dataframe(
            pd.DataFrame(
                {
                    "you said": [formats.show_percent(p) for p in upd.prior],
                    "after the evidence": [formats.show_percent(p) for p in upd.posterior],
                },
                index=[f"{s.id} · {s.name}" for s in defaults.scenarios],
            ),
            key="elicit_posterior_table",
        )
        st.markdown(
            "**Why it moved**: log-odds against A, in nats (+ favours the scenario, − favours "
            "A; 1 nat = ×2.7 in odds). The rows add up exactly; ±∞ comes from a stated 0."
        )
        st.dataframe(_log_odds_table(upd, evidence), key="elicit_log_odds_table")
        if upd.defaulted.any():
            st.caption("Readings you left empty use the reference values.")

        st.subheader("Do your scheming answers cohere?")
        coh = coherence(response)
        c1, c2, c3 = st.columns(3)
        c1.metric("Product of your four factors", formats.show_percent(coh.product, digits=1))
        c2.metric("Your direct P(scheming)", formats.show_percent(coh.direct, digits=1))
        c3.metric("Your credence in D", formats.show_percent(coh.credence_d, digits=1))
        if coh.product is None:
            st.caption("Answer all four factors to see their product.")
        for note in coh.notes:
            st.warning(formats.md_escape(note))
        if previous is not None:
            rising = rising_factors_warning(previous, response)
            if rising:
                st.warning(formats.md_escape(rising))
        if not coh.notes and coh.product is not None and coh.direct is not None:
            st.success("Your factor product, direct P(scheming) and credence in D fit together.")

        rows = undetected(upd, evidence, defaults)
        if rows:
            st.subheader("Undetected misalignment")
            st.caption(
                "The misalignment rate monitoring would miss, m·(1 − d), per scenario and "
                "expected under your view after the evidence."
            )
            st.dataframe(
                pd.DataFrame(
                    [
                        [
                            *(formats.show_percent(v, digits=1) for v in x.per_scenario),
                            formats.show_percent(x.expected, digits=1),
                        ]
                        for x in rows
                    ],
                    index=[x.evidence_id for x in rows],
                    columns=[*SCENARIO_IDS, "expected (your view)"],
                ),
                key="elicit_undetected_table",
            )
