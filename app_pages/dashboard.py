"""Dashboard: the facilitator's view of the group: consensus, pools, cruxes, rounds, exports."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import ahead, common, exports, formats
from app_pages.sections import argument, believes, disagrees, downloads
from app_pages.sections import members as members_section
from app_pages.sections import meta as meta_section
from app_pages.sections import rounds as rounds_section
from model import Analysis
from model.results import Result
from priors import SCENARIO_IDS
from priors.errors import CruxboardError
from store import Group, export_json

NOT_ALLOWED = (
    "Not allowed. This page needs the facilitator's private link (with its token). "
    "If you are a participant, open the participant link instead."
)
ROUND_OPENED = "dashboard_round_opened"  # the round opened (or why not), shown once
ROUNDS_SEEN = "dashboard_rounds_seen"  # (group, rounds with answers) when last shown
LIVE_KEY = "db_live"
LIVE_POLL_SECONDS = 1.0  # a timed fragment that reads the group's version, once a second


def _watch(group_id: str, shown: tuple[int, ...]) -> None:
    """Rerun the page when the group changes (a new member, answer or round).

    Run on a timer as a fragment, it draws nothing and reads one small query: an idle check
    reruns only this function, never the page around it (its figures or download buttons).
    """
    if common.get_store().version(group_id) != shown:
        st.rerun(scope="app")  # the whole page: the new answers, then a new fit


def _live(group_id: str, shown: tuple[int, ...]) -> bool:
    """The Live toggle and, when on, the timed check; returns whether Live is on."""
    live = st.toggle(
        "Live: update when a new answer arrives",
        value=True,
        key=LIVE_KEY,
        help=f"Checks for new answers every {LIVE_POLL_SECONDS:g} s and refits when one comes.",
    )
    # A fragment that reruns on a timer; off, it is an ordinary call that checks once.
    st.fragment(_watch, run_every=LIVE_POLL_SECONDS if live else None)(group_id, shown)
    return live


def _paused_downloads_note(live: bool) -> None:
    if live:
        st.caption(
            "The posterior and the figures are made when you click them. With "
            "**Live** on, the page, and so what the files hold, follows new answers as they "
            "arrive."
        )


@st.cache_data(max_entries=4, show_spinner=False)
def _group_file(group_id: str, version: tuple[int, int, int, int]) -> bytes:
    # Keyed by the group's version, which every new member, answer, round or removal changes.
    return export_json(common.get_store().export_group(group_id)).encode("utf-8")


def _whole_group(group: Group, version: tuple[int, int, int, int], live: bool) -> None:
    with st.expander("Whole group: back up or move"):
        st.markdown(
            "Every member and every revision of every round, with the evidence, as one JSON "
            "file. Import it on the Start page of any Cruxboard (for example a fresh server) "
            "to carry on there: the group gets new links there. The file holds everyone's "
            "answers and rationales, so keep it as private as this page's link."
        )
        if live:
            st.caption(
                "With **Live** on, the file follows new answers as they arrive: it holds "
                "everything up to the moment you click."
            )
        # The file itself, not a callable made on click (as the other exports are): a click
        # must not depend on the page's run in which the button was drawn. A deferred file's
        # id lapses when the page reruns (turning Live off or on, a new answer), and a file
        # made on click is deleted after two script runs, which Live's check makes every
        # second; the same bytes keep the same address from run to run.
        st.download_button(
            "Whole group (JSON)",
            data=_group_file(group.id, version),
            file_name=f"{downloads.slug(group.name)}-group.json",
            mime=exports.MIME["json"],
            key="db_dl_group",
            on_click="ignore",
            icon=":material/download:",
        )


def _open_round(group_id: str, token: str) -> None:
    store = common.get_store()
    if store.is_facilitator(group_id, token):  # checked again: a callback is a request too
        try:
            st.session_state[ROUND_OPENED] = store.open_next_round(group_id)
        except CruxboardError as exc:  # the most rounds a group can have
            st.session_state[ROUND_OPENED] = str(exc)
        st.session_state.pop("db_confirm_round", None)


@st.fragment
def _round_opener(group_id: str, token: str, current: int) -> None:
    # A fragment: ticking the box reruns only this part, not every figure on the page.
    with st.expander(f"Open round {current + 1}"):
        st.markdown(
            "A new round asks everyone to answer again (for example after discussing the "
            "cruxes). Their latest answer is pre-filled; earlier rounds are kept."
        )
        confirm = st.checkbox(f"Yes, open round {current + 1}", key="db_confirm_round")
        opened = st.button(
            f"Open round {current + 1}",
            key="db_open_round",
            disabled=not confirm,
            on_click=_open_round,
            args=(group_id, token),
        )
    if opened:
        st.rerun()  # the whole page: counts and rounds changed


# Narrow columns, so the whole table fits the dashboard at 1280 px; on a phone it scrolls in
# its own box with the member's name kept in view.
_MEMBERS_COLUMNS = {
    "member": st.column_config.TextColumn("member", width=104, pinned=True),
    **{
        f"{s} {when}": st.column_config.TextColumn(
            f"{s} {'said' if when == 'stated' else 'after'}",
            width=62,
            help=f"Credence in {s} {'as stated' if when == 'stated' else 'after the evidence'}",
        )
        for s in SCENARIO_IDS
        for when in ("stated", "after")
    },
    "factor product": st.column_config.TextColumn("factors ×", width=66, help="Factor product"),
    "direct P(scheming)": st.column_config.TextColumn(
        "P(sch.)", width=70, help="Direct P(scheming)"
    ),
    "coherence notes": st.column_config.NumberColumn(
        "notes", width=52, help="Coherence notes (listed under the table)"
    ),
}


def _members(analysis: Analysis, result: Result) -> None:
    st.header("Members")
    st.container(key="db_members").dataframe(
        pd.DataFrame(
            [
                {
                    "member": p.id,
                    **{f"{s} stated": formats.show_percent(p.prior[s]) for s in SCENARIO_IDS},
                    **{f"{s} after": formats.show_percent(p.posterior[s]) for s in SCENARIO_IDS},
                    "factor product": formats.show_percent(p.scheming_product, digits=1),
                    "direct P(scheming)": formats.show_percent(p.p_scheming, digits=1),
                    "coherence notes": len(p.coherence.notes),
                }
                for p in result.participants
            ]
        ),
        hide_index=True,
        column_config=_MEMBERS_COLUMNS,
        key="db_members_table",
    )
    with st.expander("Rationales and coherence notes (plain text)"):
        for r, p in zip(analysis.responses, result.participants, strict=True):
            st.text(r.participant)
            if r.rationale.strip():
                st.text(r.rationale)
            for note in p.coherence.notes:  # names the member: plain text, never Markdown
                st.text(note)
            st.divider()


def _too_few(result: Result) -> None:
    with st.container(key="db_not_fitted"):
        st.info(
            f"{result.n_participants} member(s) have answered: the group model is fitted from "
            "three members on (with fewer its consensus would mostly be its own prior). Below "
            "are each member's own numbers and the classical pools; for one member every pool "
            "is that member's answer."
        )


def _diagnostics(result: Result) -> None:
    d = result.diagnostics
    if d is None:
        return
    text = (
        f"Fitted to {result.n_participants} answers. Sampler: max R-hat "
        f"{d.max_rhat:.3f}, min bulk ESS {d.min_ess_bulk:.0f}, {d.divergences} "
        f"divergences ({d.chains} chains × {d.draws} draws, step size tuned to "
        f"{d.target_accept:.0%} acceptance, {d.seconds:.1f} s)."
    )
    with st.container(key="db_fit_note"):
        if d.max_rhat > 1.01 or d.divergences > 0:
            st.warning(text + " Treat the intervals with care.")
        else:
            st.caption(text)


def main() -> None:
    """Render the Dashboard page."""
    defaults = common.defaults()
    store = common.get_store()
    st.title("Facilitator dashboard")
    group_id = common.link_group_id()
    token = common.link_token("token", common.FACILITATOR_TOKENS, group_id) if group_id else None
    if not (group_id and token and store.is_facilitator(group_id, token)):
        # Says nothing about the group: not whether it exists, nor how many answered.
        st.error(NOT_ALLOWED)
        return
    common.remember_token(common.FACILITATOR_TOKENS, group_id, token)
    common.set_query_params({"group": group_id, "token": token})
    group = store.get_group(group_id)
    if group is None:
        st.error(NOT_ALLOWED)
        return
    evidence = common.group_evidence(group)

    version = store.version(group_id)  # read first: a change after this triggers a rerun
    st.text(group.name)
    counts = {r: store.count_answered(group_id, round=r) for r in range(1, group.current_round + 1)}
    cols = st.columns(3)
    cols[0].metric(f"Answered in round {group.current_round}", counts[group.current_round])
    cols[1].metric("Members", len(store.participants(group_id)))
    cols[2].metric("Round", group.current_round)
    with st.expander("Links"):
        st.markdown("**Participant link** (share it):")
        common.show_link(
            "elicit", {"group": group_id}, label="Open the participant page", key="db_join_link"
        )
    live = _live(group_id, version)
    _whole_group(group, version, live)
    opened = st.session_state.pop(ROUND_OPENED, None)
    if isinstance(opened, str):
        st.error(f"No new round was opened: {formats.md_escape(opened)}.")
    elif opened:
        st.success(
            f"Round {opened} is open. Members who come back with their link now answer round "
            f"{opened}; round {opened - 1} stays as it was."
        )
    _round_opener(group_id, token, group.current_round)
    with st.expander("Members: duplicates, removal, merge"):
        members_section.render(store, group, token=token)

    rounds = [r for r, n in counts.items() if n > 0]
    if not rounds:
        st.info("Nobody has answered yet. Share the participant link; this page fills in then.")
        return
    if st.session_state.get(ROUNDS_SEEN) != (group_id, rounds):  # a new round: show it
        st.session_state[ROUNDS_SEEN] = (group_id, rounds)
        st.session_state["db_round"] = rounds[-1]
    shown = st.selectbox("Round to show", rounds, key="db_round", format_func=str)
    try:  # the newest answers once no fit of this round is under way (members submitting)
        data, analysis = common.fitted_latest(store, group, evidence, round=shown)
    except CruxboardError as exc:
        st.error("The group cannot be analysed: " + formats.md_escape(str(exc)))
        return
    result = analysis.result
    # the figures the report would draw itself: drawn ahead while the page draws its own
    unshown = believes.trajectories_unshown(defaults)
    if not result.meta_predictions.known:
        unshown += ("meta_predictions",)
    ahead.draw_ahead(data.fit_ident, analysis, unshown)
    _diagnostics(result)
    argument.headline(result, defaults)
    if not result.fitted:
        _too_few(result)
    tabs = st.tabs(
        [
            "What the group believes",
            "Where it disagrees and why",
            "What would settle it",
            "Camps",
            "Members",
            "Rounds",
            "Exports",
        ]
    )
    comparisons = []
    with tabs[0]:
        if result.fitted:
            believes.consensus(data.key, result, defaults, analysis)
        believes.pools(data.key, result, analysis)
        if result.fitted:
            believes.scheming(data.key, result, analysis)
        believes.trajectories(data.key, defaults, result)
    with tabs[1]:
        disagrees.disagreement(result)
        if result.fitted:
            disagrees.cruxes(data.key, analysis)
    with tabs[2]:
        argument.settle(data.key, analysis)
    with tabs[3]:
        argument.camps(data.key, analysis)
    with tabs[4]:
        meta_section.render(result.meta_predictions, key=data.key, defaults=defaults)
        _members(analysis, result)
    with tabs[5]:
        if result.fitted:
            comparisons = rounds_section.rounds(store, group, evidence, rounds)
        if not comparisons:
            st.info("Rounds are compared once a second round has answers.")
    with tabs[6]:
        downloads.render(
            group,
            data,
            analysis,
            comparisons,
            live,
            version=version,
            paused_note=_paused_downloads_note,
        )


main()
