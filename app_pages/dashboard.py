"""Dashboard: the facilitator's view of the group: consensus, pools, cruxes, rounds, exports."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial

import pandas as pd
import streamlit as st
from matplotlib.figure import Figure

from app_pages import common, exports
from app_pages.sections import meta as meta_section
from model import Analysis
from model import figures as figs
from model.cruxes import pair_crux
from model.headline import headline
from model.results import SCHEMING_LABELS, Result
from model.rounds import RoundComparison, compare_rounds
from priors import SCENARIO_IDS, Defaults, EvidenceItem
from priors.errors import CruxboardError
from store import Group, Store, export_json

NOT_ALLOWED = (
    "Not allowed. This page needs the facilitator's private link (with its token). "
    "If you are a participant, open the participant link instead."
)
ROUND_OPENED = "dashboard_round_opened"  # the round opened (or why not), shown once
ROUNDS_SEEN = "dashboard_rounds_seen"  # (group, rounds with answers) when last shown
LIVE_KEY = "db_live"
LIVE_POLL_SECONDS = 0.5  # one small query per open dashboard, twice a second
FIGURE_ALT = figs.DESCRIPTIONS  # one sentence per figure, shown under it and as its alt text


def _watch(group_id: str, shown: tuple[int, int, int]) -> None:
    """Rerun the page when the group changes (a new member, answer or round)."""
    if common.get_store().version(group_id) != shown:
        st.rerun()  # the whole page: the new answers, then a new fit


def _live(group_id: str, shown: tuple[int, int, int]) -> bool:
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
            "Turn off **Live** at the top of the page to download: a live page checks for "
            "new answers twice a second, and each check would cut a download short."
        )


def _whole_group(store: Store, group: Group, live: bool) -> None:
    with st.expander("Whole group: back up or move"):
        st.markdown(
            "Every member and every revision of every round, with the evidence, as one JSON "
            "file. Import it on the Start page of any Cruxboard (for example a fresh server) "
            "to carry on there: the group gets new links there. The file holds everyone's "
            "answers and rationales, so keep it as private as this page's link."
        )
        _paused_downloads_note(live)
        st.download_button(
            "Whole group (JSON)",
            data=lambda: export_json(store.export_group(group.id)),
            file_name=f"{_slug(group.name)}-group.json",
            mime=exports.MIME["json"],
            key="db_dl_group",
            on_click="ignore",
            disabled=live,
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


def _figure(key: str, name: str, make: Callable[[], Figure], options: tuple = ()) -> None:
    """Show one figure (cached as PNG by the fit, the figure and its options).

    A figure that cannot be drawn says so instead of taking the page down.
    """
    try:
        png = common.figure_png(key, common.draws(), name, options, make)
    except ValueError as exc:  # e.g. a name matplotlib misreads
        st.warning(f"This figure cannot be drawn: {common.md_escape(str(exc))}")
        return
    st.image(png, width="stretch", alt=FIGURE_ALT[name])
    st.caption(FIGURE_ALT[name])


def _consensus(key: str, result: Result, defaults: Defaults, analysis: Analysis) -> None:
    st.header("What the group believes")
    names = [f"{s.id} · {s.name}" for s in defaults.scenarios]
    st.dataframe(
        pd.DataFrame(
            {
                "consensus μ [94 % HDI]": [
                    common.show_stat(result.consensus_prior[s]) for s in SCENARIO_IDS
                ],
                "after the evidence [94 % HDI]": [
                    common.show_stat(result.consensus_posterior[s]) for s in SCENARIO_IDS
                ],
            },
            index=names,
        ),
        key="db_consensus_table",
    )
    st.caption(
        "The consensus μ is the mean of the Dirichlet the members' credences are modelled as "
        "drawn from. It weighs members' log-credences, so it sits nearer the logarithmic pool "
        "than the plain average (the linear pool): it is not the average; compare both under "
        "'Pools side by side'."
    )
    agreement = result.agreement
    st.markdown(
        "Agreement κ (larger = more alike): "
        + common.md_escape(
            common.show_stat(agreement.kappa, as_percent=False, reason=agreement.reason)
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


def _pools(key: str, result: Result, analysis: Analysis) -> None:
    st.header("Pools side by side")
    pools = {"prior": result.pools.prior, "posterior": result.pools.posterior}
    table = {
        f"{k} ({when})": [common.show_percent(pools[when][k][s]) for s in SCENARIO_IDS]
        for when in ("prior", "posterior")
        for k in pools[when]
    }
    st.dataframe(pd.DataFrame(table, index=list(SCENARIO_IDS)), key="db_pools_table")
    st.caption("prior: pools of the stated credences; posterior: of each member's exact update.")
    if result.fitted:
        _figure(key, "pools", partial(figs.pools, analysis.result, analysis.defaults))


def _scheming(key: str, result: Result, analysis: Analysis) -> None:
    st.header("Scheming and its factors")
    rows = {
        f: [
            common.show_stat(v.consensus),
            common.show_stat(v.spread, as_percent=False, reason=v.spread_reason),
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
    st.dataframe(
        pd.DataFrame(
            {"P(scheming) [94 % HDI]": [common.show_stat(v) for _, v in result.scheming.items()]},
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


def _disagreement(result: Result) -> None:
    st.header("Where the group disagrees, ranked by how much it decides")
    st.caption(
        "Ranked by how far the members' differences in each answer move their conclusions: "
        "the spread, across members, of the term that answer adds to their log-odds (nats; "
        "1 nat = ×2.7 in odds). A dispute between 1 % and 5 % can decide more than one between "
        "40 % and 60 %. Beside it, the members' actual spread and the model's."
    )
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "quantity": d.quantity,
                    "moves": d.moves,
                    "decides (SD of log-odds term, nats)": common.show_number(d.log_odds_sd),
                    "members' SD": common.show_percent(d.observed_sd, digits=1),
                    "members' SD (logit)": common.show_number(d.logit_sd),
                    "model's SD [94 % HDI]": common.show_stat(d.spread, reason=d.reason),
                    "answered": d.answered,
                }
                for d in result.disagreement
            ]
        ),
        hide_index=True,
        key="db_disagreement_table",
    )


@st.fragment
def _cruxes(key: str, analysis: Analysis) -> None:
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
            f"{'prior' if t == 'prior' else texts.get(t, t)} {c.mean:+.2f}"
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
        st.caption("Ruled out: " + common.md_escape("; ".join(notes)) + ".")
    if defaulted:
        st.caption(
            "Readings left to the reference default (not the member's view): "
            + common.md_escape(", ".join(defaulted))
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
                        *(common.show_log_odds(v) for v in pair.parts),
                        common.show_log_odds(pair.gap),
                    ]
                },
                index=[*rows, "gap (the sum of the rows)"],
            ),
            key="db_pair_table",
        )
        st.caption(
            f"{first}'s log-odds of {versus} against {reference} minus {second}'s, in nats, "
            "split exactly into the prior part and each evidence item's part; the rows add up "
            "to the gap." + (f" {pair.ruled_out}." if pair.ruled_out else "")
        )
    st.caption(
        "Undetected misalignment: what each scenario implies monitoring misses, per member and "
        "for the group."
    )
    _figure(key, "undetected", partial(figs.undetected, result, analysis.defaults))


def _settle(key: str, analysis: Analysis) -> None:
    result = analysis.result
    texts = figs.item_texts(result)
    st.header("What would settle it")
    settlers = result.what_would_settle_it or ()
    if not settlers:
        st.info("Nothing to rank yet: the group model is not fitted.")
        return
    st.caption(
        "For each proposed question, and one more observation of each evidence item: the "
        "expected fall in the members' mean pairwise disagreement (Jensen–Shannon divergence "
        "between their posteriors, bits) once its outcome is known, each outcome weighted by "
        "the group's predictive probability. Negative: members read it oppositely, so it "
        "would drive them apart."
    )
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "observation": texts.get(s.item, s.item),
                    "kind": s.kind,
                    "expected fall (bits) [94 % HDI]": "–"
                    if s.vod is None
                    else f"{s.vod.mean:+.3f} [{s.vod.hdi[0]:+.3f}, {s.vod.hdi[1]:+.3f}]",
                    "P(yes)": common.show_percent(s.p_yes),
                    "polarising": "yes" if s.polarising else "",
                    "double crux of": ", ".join(f"{p.a} & {p.b}" for p in s.pairs),
                }
                for s in settlers
            ]
        ),
        hide_index=True,
        key="db_settle_table",
    )
    _figure(key, "what_would_settle_it", partial(figs.FIGURES["what_would_settle_it"], analysis))


def _camps(key: str, analysis: Analysis) -> None:
    camps = analysis.result.camps
    st.header("Worldview camps")
    st.caption(
        "Members grouped by their whole answer (credences, factors and readings), with soft "
        f"membership; the number of camps is chosen by the data. {camps.method}"
    )
    if camps.k > 1:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "camp": c.id,
                        "members": c.size,
                        "what sets it apart": c.label,
                    }
                    for c in camps.camps
                ]
            ),
            hide_index=True,
            key="db_camps_table",
        )
    if camps.common_ground:
        st.markdown(
            "**Common ground** (every camp near the group's mean): "
            + common.md_escape(
                ", ".join(
                    f"{g.quantity} {common.show_percent(g.mean)}" for g in camps.common_ground
                )
            )
        )
    _figure(key, "camps", partial(figs.FIGURES["camps"], analysis))


def _headline(result: Result, defaults: Defaults) -> None:
    with st.container(key="db_headline", border=True):
        for sentence in headline(result, defaults):
            st.markdown("- " + common.md_escape(sentence))


@st.fragment
def _trajectories(key: str, defaults: Defaults, result: Result) -> None:
    st.header("Trajectories, weighted by the group's posterior")
    left, right = st.columns(2)
    log = left.toggle(
        "Log axis (misalignment rate): shows the true size of the gap",
        key="db_traj_log",
    )
    factor = right.number_input(
        '"What we need": the tolerable misalignment rate falls by this factor per 10× capability',
        min_value=1.0,
        max_value=1e6,
        value=float(defaults.need.factor_per_decade),
        step=1.0,
        key="db_need_factor",
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


def _members(analysis: Analysis, result: Result) -> None:
    st.header("Members")
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "member": p.id,
                    **{f"{s} stated": common.show_percent(p.prior[s]) for s in SCENARIO_IDS},
                    **{f"{s} after": common.show_percent(p.posterior[s]) for s in SCENARIO_IDS},
                    "factor product": common.show_percent(p.scheming_product, digits=1),
                    "direct P(scheming)": common.show_percent(p.p_scheming, digits=1),
                    "coherence notes": len(p.coherence.notes),
                }
                for p in result.participants
            ]
        ),
        hide_index=True,
        key="db_members_table",
    )
    with st.expander("Rationales and coherence notes (plain text)"):
        for r, p in zip(analysis.responses, result.participants, strict=True):
            st.text(r.participant)
            if r.rationale.strip():
                st.text(r.rationale)
            for note in p.coherence.notes:
                st.caption(common.md_escape(note))
            st.divider()


def _rounds(
    store: Store, group: Group, evidence: tuple[EvidenceItem, ...], rounds: list[int]
) -> list[RoundComparison]:
    if len(rounds) < 2:
        return []
    st.header("Rounds compared")
    results = {}
    for r in rounds:
        data = common.round_data(store, group, evidence, round=r)
        results[r] = common.fitted(data).result
    table = {
        f"round {r} (n = {results[r].n_participants})": [
            *(common.show_stat(results[r].consensus_prior[s]) for s in SCENARIO_IDS),
            common.show_stat(
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
            st.markdown(common.md_escape(c.verdict))
    return comparisons


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "group"


def _exports(
    group: Group,
    data: common.RoundData,
    analysis: Analysis,
    comparisons: list[RoundComparison],
    live: bool,
) -> None:
    st.header("Exports")
    _paused_downloads_note(live)
    n_draws = common.draws()
    command = exports.reproduce_command(data.seed, n_draws)
    with st.container(key="db_seed"):
        st.markdown(
            f"Random seed for this round's data: **{data.seed}**. The command line reproduces "
            "these numbers from the responses and evidence files below:"
        )
    with st.container(key="db_reproduce"):
        st.code(command, language="bash", wrap_lines=True)
    title = f"Cruxboard report: {group.name}, round {data.round}"
    slug = f"{_slug(group.name)}-round{data.round}"

    def report() -> str:
        return exports.report_html(
            analysis, title=title, rounds=comparisons, note=f"Reproduce: {command}"
        )

    files = [
        ("Report (HTML, every figure and table)", report, f"{slug}-report.html", "html", "report"),
        ("Responses (CSV)", lambda: exports.responses_csv(analysis), "responses.csv", "csv", "csv"),
        (
            "Responses (JSON)",
            lambda: exports.responses_json(analysis),
            "responses.json",
            "json",
            "json",
        ),
        ("Evidence (TOML)", lambda: group.evidence, "evidence.toml", "toml", "evidence"),
        (
            "Summary (JSON)",
            lambda: exports.summary_json(analysis.result),
            "summary.json",
            "json",
            "summary",
        ),
    ]
    if analysis.fit is not None:
        files.append(
            (
                "Posterior (NetCDF)",
                lambda: exports.posterior_netcdf(analysis),
                "posterior.nc",
                "nc",
                "netcdf",
            )
        )
    cols = st.columns(3)
    for k, (label, make, name, kind, key) in enumerate(files):
        cols[k % 3].download_button(
            label,
            data=make,
            file_name=name,
            mime=exports.MIME[kind],
            key=f"db_dl_{key}",
            on_click="ignore",
            icon=":material/download:",
            disabled=live,
        )
    st.subheader("Figures")
    for name in figs.FIGURES:
        label, *buttons = st.columns([2, 1, 1, 1], vertical_alignment="center")
        label.markdown(f"`{name}`")
        for col, fmt in zip(buttons, figs.SAVE_FORMATS, strict=True):
            col.download_button(
                fmt.upper(),
                data=lambda name=name, fmt=fmt: exports.named_figure_bytes(analysis, name, fmt),
                file_name=f"{name}.{fmt}",
                mime=exports.MIME[fmt],
                key=f"db_dl_{name}_{fmt}",
                on_click="ignore",
                disabled=live,
            )


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
        f"divergences ({d.chains} chains × {d.draws} draws, {d.seconds:.1f} s)."
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

    shown = store.version(group_id)  # read first: a change after this triggers a rerun
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
    live = _live(group_id, shown)
    _whole_group(store, group, live)
    opened = st.session_state.pop(ROUND_OPENED, None)
    if isinstance(opened, str):
        st.error(f"No new round was opened: {common.md_escape(opened)}.")
    elif opened:
        st.success(
            f"Round {opened} is open. Members who come back with their link now answer round "
            f"{opened}; round {opened - 1} stays as it was."
        )
    _round_opener(group_id, token, group.current_round)

    rounds = [r for r, n in counts.items() if n > 0]
    if not rounds:
        st.info("Nobody has answered yet. Share the participant link; this page fills in then.")
        return
    if st.session_state.get(ROUNDS_SEEN) != (group_id, rounds):  # a new round: show it
        st.session_state[ROUNDS_SEEN] = (group_id, rounds)
        st.session_state["db_round"] = rounds[-1]
    shown = st.selectbox("Round to show", rounds, key="db_round", format_func=str)
    data = common.round_data(store, group, evidence, round=shown)
    try:
        analysis = common.fitted(data)
    except CruxboardError as exc:
        st.error("The group cannot be analysed: " + common.md_escape(str(exc)))
        return
    result = analysis.result
    _diagnostics(result)
    _headline(result, defaults)
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
            _consensus(data.key, result, defaults, analysis)
        _pools(data.key, result, analysis)
        if result.fitted:
            _scheming(data.key, result, analysis)
        _trajectories(data.key, defaults, result)
    with tabs[1]:
        _disagreement(result)
        if result.fitted:
            _cruxes(data.key, analysis)
    with tabs[2]:
        _settle(data.key, analysis)
    with tabs[3]:
        _camps(data.key, analysis)
    with tabs[4]:
        meta_section.render(result.meta_predictions, key=data.key, defaults=defaults)
        _members(analysis, result)
    with tabs[5]:
        if result.fitted:
            comparisons = _rounds(store, group, evidence, rounds)
        if not comparisons:
            st.info("Rounds are compared once a second round has answers.")
    with tabs[6]:
        _exports(group, data, analysis, comparisons, live)


main()
