"""The group so far as a member may see it, and their own false-consensus gap."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from app_pages import common, formats
from model import Response, to_group_data
from model.member_view import MIN_GROUP_VIEW, member_view
from model.meta import MIN_META_ANSWERS, MetaPredictions, meta_predictions
from model.pools import scenario_pools
from priors import SCENARIO_IDS, EvidenceItem
from priors.errors import CruxboardError
from store import Group


def group_view(store: Any, group: Group, evidence: tuple[EvidenceItem, ...], me: int) -> None:
    """The group's view as a member may see it (from five answers in the round on)."""
    data = common.round_data(store, group, evidence, round=group.current_round)
    answered_now = any(
        p.id == me for p, _ in store.latest_revisions(group.id, round=group.current_round)
    )
    st.header("The group so far")
    with st.container(key="elicit_group_view"):
        count = st.empty()  # filled from the answers that were fitted, when there is a fit
        count.markdown(f"{data.n} member(s) have answered in round {group.current_round}.")
        if data.n >= MIN_GROUP_VIEW:
            try:
                # the newest answers, read again once no fit of this round is under way
                data, analysis = common.fitted_latest(
                    store, group, evidence, round=group.current_round
                )
                view = member_view(analysis.result)
            except CruxboardError as exc:
                st.error(formats.md_escape(str(exc)))
                return
            count.markdown(f"{data.n} member(s) have answered in round {group.current_round}.")
            if not view.shown:
                st.info(view.reason)
                return
            st.dataframe(
                pd.DataFrame(
                    {
                        "group consensus μ": [
                            formats.show_stat(view.consensus_prior[s]) for s in SCENARIO_IDS
                        ],
                        "after the evidence": [
                            formats.show_stat(view.consensus_posterior[s]) for s in SCENARIO_IDS
                        ],
                        "average (linear pool)": [
                            formats.show_percent(view.linear_pool[s]) for s in SCENARIO_IDS
                        ],
                        "log pool": [formats.show_percent(view.log_pool[s]) for s in SCENARIO_IDS],
                    },
                    index=[f"{s.id} · {s.name}" for s in common.defaults().scenarios],
                ),
                key="elicit_consensus_table",
            )
            st.caption(
                "Posterior means with 94 % intervals, and two pools of the stated credences. "
                "Individual answers, and anything that would reveal one (a median), are not shown."
            )
        elif data.n == 1 and answered_now:
            gd = to_group_data(data.responses, evidence=evidence, defaults=common.defaults())
            pools = scenario_pools(gd.credences)
            st.info(
                "You are the first to answer this round, so the pools are your own answers. "
                f"The group's consensus appears once {MIN_GROUP_VIEW} members have answered."
            )
            st.dataframe(
                pd.DataFrame(
                    {k: [formats.show_percent(v) for v in vals] for k, vals in pools.items()},
                    index=list(SCENARIO_IDS),
                ),
                key="elicit_pools_table",
            )
        else:
            st.info(
                f"The group's view appears once {MIN_GROUP_VIEW} members have answered this "
                "round (with fewer it would reveal another member's answers)."
            )


@st.cache_data(max_entries=16, show_spinner=False)
def _meta_of(key: str, _responses: tuple[Response, ...]) -> MetaPredictions:
    # Keyed by the round's data key, which hashes every answer (the forecasts too).
    return meta_predictions(_responses)


def my_meta_gap(store: Any, group: Group, evidence: tuple[EvidenceItem, ...], me: int) -> None:
    """The member's own false-consensus gap, once enough members gave a forecast.

    Shows only this member's numbers and the count: never another member's forecast.
    """
    data = common.round_data(store, group, evidence, round=group.current_round)
    pairs = store.latest_revisions(group.id, round=group.current_round)
    mine = [k for k, (p, _) in enumerate(pairs) if p.id == me]
    # The two reads agree unless someone answered in between; then show nothing this time.
    if not mine or mine[0] >= data.n:
        return
    response = data.responses[mine[0]]
    if not response.participant.startswith(pairs[mine[0]][0].display_name):
        return
    meta = _meta_of(data.key, tuple(data.responses))
    with st.container(key="elicit_meta_gap"):
        st.subheader("What you expected of the group")
        if response.meta is None:
            st.caption(
                "You skipped “What will the group say?”. Answer it to see how far you expected "
                "the group to be from you, against how far it is."
            )
            return
        if not meta.known:
            st.info(
                f"{meta.answered} member(s) have said what they expect the group to say in round "
                f"{group.current_round}. Your comparison appears once {MIN_META_ANSWERS} have "
                "(with fewer it could reveal another member's answer)."
            )
            return
        gap = meta.member(response.participant)
        if gap is None:
            return
        c1, c2, c3 = st.columns(3)
        c1.metric("You expected the group to be", f"{100 * gap.expected:.0f} points away")
        c2.metric("The group is", f"{100 * gap.actual:.0f} points away")
        c3.metric("Your false-consensus gap", f"{100 * gap.gap:+.0f} points")
        if gap.gap > 0:
            reading = "The group is further from you than you expected."
        elif gap.gap < 0:
            reading = "The group is closer to you than you expected."
        else:
            reading = "The group is as far from you as you expected."
        st.markdown(
            f"{reading} Distances are the share of credence that would have to move to turn "
            f"one set of four credences into the other, here between your credences and the "
            f"group's average ({meta.answered} members who gave both), and between your "
            "credences and what you expected that average to be."
        )
