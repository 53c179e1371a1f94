"""The dashboard's exports: the downloads and the command that reproduces them."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial

import streamlit as st

from app_pages import ahead, common, exports
from app_pages.sections.figure import report_options
from model import Analysis
from model import figures as figs
from model.rounds import RoundComparison
from store import Group


def slug(text: str) -> str:
    """A short file-name stem from a group's name."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "group"


@st.cache_data(max_entries=8, show_spinner=False)
def _small_files(key: str, _analysis: Analysis, evidence: str) -> dict[str, bytes]:
    # Keyed by the round's data key (it hashes every answer), and the group's evidence.
    return {
        "csv": exports.responses_csv(_analysis).encode("utf-8"),
        "json": exports.responses_json(_analysis).encode("utf-8"),
        "evidence": evidence.encode("utf-8"),
        "summary": exports.summary_json(_analysis.result).encode("utf-8"),
    }


REPORT_KEY = "db_report"  # (what it was made from, HTML bytes): the report made on request


def _make_report(made_from: tuple, make: Callable[[], str]) -> None:
    # One report per session: a newer one replaces it.
    st.session_state[REPORT_KEY] = (made_from, make().encode("utf-8"))


@st.fragment
def _report_button(made_from: tuple, make: Callable[[], str], file_name: str) -> None:
    """The report: made on request (drawing the figures the page has not), then held.

    Held, not made on click: a file made on click is deleted after two script runs of any
    session, and under load the browser can ask for the report later than that (Live's
    check alone is a run a second); a file the button holds stays while it is shown.
    A fragment: the click reruns this button only, not the whole dashboard (about two
    seconds for a group of 100).
    """
    made = st.session_state.get(REPORT_KEY)
    if made is not None and made[0] == made_from:
        st.download_button(
            "Report (HTML, every figure and table)",
            data=made[1],
            file_name=file_name,
            mime=exports.MIME["html"],
            key="db_dl_report",
            on_click="ignore",
            icon=":material/download:",
        )
    else:
        st.button(
            "Make the report (HTML)",
            key="db_make_report",
            on_click=_make_report,
            args=(made_from, make),
            icon=":material/description:",
            help="Puts every figure and table into one file (a second or two); its download "
            "button then takes this button's place.",
        )


def render(
    group: Group,
    data: common.RoundData,
    analysis: Analysis,
    comparisons: list[RoundComparison],
    live: bool,
    *,
    version: tuple[int, ...],
    paused_note: Callable[[bool], None],
) -> None:
    """The downloads (report, responses, evidence, summary, posterior, figures)."""
    st.header("Exports")
    paused_note(live)
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
    stem = f"{slug(group.name)}-round{data.round}"

    def report() -> str:
        # The figures the page has shown are embedded as shown, those drawn ahead as drawn;
        # the report draws the rest.
        drawn = ahead.drawn_ahead(data.fit_ident) | common.shown_pngs(
            data.key,
            report_options(analysis.defaults),
            {name: partial(make, analysis) for name, make in figs.FIGURES.items()},
        )
        return exports.report_html(
            analysis, title=title, rounds=comparisons, note=f"Reproduce: {command}", drawn=drawn
        )

    # The small files are held by their buttons, so a click works whichever run drew the
    # button (a file made on click lapses when the page reruns, e.g. with Live on); the
    # report is made on request and then held; the posterior and figures are made on click.
    small = _small_files(data.key, analysis, group.evidence)
    cols = st.columns(3)
    made_from = (data.key, version, title, command)
    with cols[0]:
        _report_button(made_from, report, f"{stem}-report.html")
    files = [
        ("Responses (CSV)", small["csv"], "responses.csv", "csv", "csv"),
        ("Responses (JSON)", small["json"], "responses.json", "json", "json"),
        ("Evidence (TOML)", small["evidence"], "evidence.toml", "toml", "evidence"),
        ("Summary (JSON)", small["summary"], "summary.json", "json", "summary"),
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
    for k, (label, make, name, kind, key) in enumerate(files, start=1):
        cols[k % 3].download_button(
            label,
            data=make,
            file_name=name,
            mime=exports.MIME[kind],
            key=f"db_dl_{key}",
            on_click="ignore",
            icon=":material/download:",
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
            )
