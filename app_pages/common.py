"""Shared UI helpers: the cached store, sampler and fits; links, tokens and plain text."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

import streamlit as st
from matplotlib.figure import Figure

from app_pages import settings
from app_pages.exports import data_key, figure_bytes, seed_for, unique_names
from app_pages.routes import PAGES, URL_PATHS  # noqa: F401  (pages link through common)
from model import Analysis, GroupSampler, Response, analyse, validate_response
from model.results import Stat
from model.sampling import DEFAULT_TUNE
from priors import Defaults, EvidenceItem, load_defaults, parse_evidence
from priors.errors import CruxboardError
from store import Group, Store

MAX_IMAGE_PX = 1460  # st.image re-encodes anything wider (its maximum content width)

# Session-state keys that are not widgets (they survive page switches as they are).
GROUP_KEY = "group_id"
FACILITATOR_TOKENS = "facilitator_tokens"  # {group id: token}, verified tokens only
EDIT_TOKENS = "edit_tokens"  # {group id: participant edit token}, verified tokens only


# --- resources -----------------------------------------------------------------------------


@st.cache_resource(max_entries=4, show_spinner=False, on_release=Store.close)
def _open_store(database_url: str) -> Store:
    # Keyed by the database, so a changed DATABASE_URL / CRUXBOARD_DB (tests) opens a new one.
    return Store(database_url)


def get_store() -> Store:
    """The process's Store for the configured database; stops the page if it cannot open."""
    try:
        return _open_store(settings.database_url())
    except CruxboardError as exc:
        st.error("The database cannot be opened: " + md_escape(str(exc)))
        st.stop()
        raise  # unreachable: st.stop() raises


@st.cache_resource(show_spinner=False)
def get_sampler() -> GroupSampler:
    """One GroupSampler per process: the model compiles once, new groups swap their data in."""
    return GroupSampler(defaults=load_defaults())


def draws() -> int:
    """Draws (and tuning steps) per chain (see `app_pages.settings`)."""
    return settings.draws()


# --- the group's data and its fit ------------------------------------------------------------


def group_evidence(group: Group) -> tuple[EvidenceItem, ...]:
    """The group's evidence items; stops the page with a message if the stored text is bad."""
    try:
        return parse_evidence(group.evidence, source="the group's evidence")
    except CruxboardError as exc:
        st.error(md_escape(str(exc)))
        st.stop()
        raise


@dataclass(frozen=True)
class RoundData:
    """One round of a group as validated responses, with the key and seed of its fit."""

    group: Group
    round: int
    responses: list[Response]
    key: str

    @property
    def seed(self) -> int:
        """The fit's random seed (derived from the data)."""
        return seed_for(self.key)

    @property
    def n(self) -> int:
        """How many answered."""
        return len(self.responses)


def round_data(
    store: Store, group: Group, evidence: Sequence[EvidenceItem], *, round: int
) -> RoundData:
    """Each member's newest answer in a round, validated (names made unique)."""
    defaults = load_defaults()
    responses = []
    for participant, revision in store.latest_revisions(group.id, round=round):
        payload = dict(revision.payload, participant=participant.display_name)
        responses.append(validate_response(payload, evidence=evidence, defaults=defaults))
    responses = unique_names(responses)
    return RoundData(group, round, responses, data_key(group.evidence, responses))


@st.cache_resource(max_entries=16, show_spinner=False)
def _fitted(key: str, n_draws: int, _responses: tuple[Response, ...], _evidence: str):
    # A resource (not cache_data): the posterior is shared read-only, never pickled per rerun.
    # The key hashes the evidence text and every response, so new answers mean a new fit.
    evidence = parse_evidence(_evidence)
    return analyse(
        list(_responses),
        evidence=evidence,
        defaults=load_defaults(),
        sampler=get_sampler(),
        draws=n_draws,
        tune=DEFAULT_TUNE,
        random_seed=seed_for(key),
    )


def fitted(data: RoundData) -> Analysis:
    """The group model fitted to one round (cached by the data); its numbers in `.result`.

    Raises
    ------
    CruxboardError
        If the responses cannot be analysed (the message says why).
    """
    with st.spinner(
        f"Fitting the group model to {data.n} answers (the first fit after a restart "
        "compiles the model: about 20-30 s; later fits take a second or two)...",
        show_time=True,
    ):
        return _fitted(data.key, draws(), tuple(data.responses), data.group.evidence)


@st.cache_data(max_entries=256, show_spinner=False)
def figure_png(
    key: str, n_draws: int, name: str, options: tuple, _make: Callable[[], Figure]
) -> bytes:
    """The figure `_make()` draws, as PNG bytes (as exported), cached.

    `key` and `n_draws` name the fit, `name` the figure and `options` its settings (e.g. the
    scenario a crux compares): together they decide what the figure shows, so a rerun of
    the page draws nothing twice.
    """
    return figure_bytes(_make(), "png", max_width_px=MAX_IMAGE_PX)


# --- links, tokens and query parameters ------------------------------------------------------


def _app_base_url() -> str:
    """The app's URL without a page path ("" when the browser's URL is unknown)."""
    url = (st.context.url or "").rstrip("/")
    for path in URL_PATHS.values():
        if path and url.endswith("/" + path):
            return url[: -len(path) - 1]
    return url


def page_url(page: str, params: Mapping[str, str]) -> str:
    """An absolute link to a page with query parameters (root-relative if the host is unknown)."""
    path = URL_PATHS[page]
    query = urlencode(dict(params))
    return f"{_app_base_url()}/{path}" + (f"?{query}" if query else "")


def show_link(page: str, params: Mapping[str, str], *, label: str, key: str) -> None:
    """A copyable full link (with a copy button) and an in-app link to the same page.

    Both sit in a container with `key`, so a browser test finds them as ``.st-key-<key>``.
    """
    with st.container(key=key):
        st.code(page_url(page, params), language=None, wrap_lines=True)
        st.page_link(PAGES[page], label=label, query_params=dict(params))


def link_group_id() -> str | None:
    """The group from the link (?group=...), else the one this browser session last used."""
    gid = st.query_params.get("group")
    if gid:
        st.session_state[GROUP_KEY] = gid
        return gid
    return st.session_state.get(GROUP_KEY)


def link_token(param: str, tokens_key: str, group_id: str) -> str | None:
    """A token from the link (?param=...), else the verified one kept in session state."""
    token = st.query_params.get(param)
    if token:
        return token
    return st.session_state.get(tokens_key, {}).get(group_id)


def remember_token(tokens_key: str, group_id: str, token: str) -> None:
    """Keep a verified token for this browser session (page switches drop query params)."""
    st.session_state.setdefault(tokens_key, {})[group_id] = token


def set_query_params(params: Mapping[str, str | None]) -> None:
    """Make the address bar show exactly these parameters, so a reload keeps the page's state."""
    wanted = {k: v for k, v in params.items() if v}
    if dict(st.query_params) != wanted:
        st.query_params.from_dict(wanted)


# --- plain text and numbers -------------------------------------------------------------------

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&^=\"'])")


def md_escape(text: str) -> str:
    """User or error text made literal for Markdown (no links, images, math, colours)."""
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", text).replace("\n", "  \n")
    # Bare addresses are linked by Markdown even when escaped around: break the pattern with
    # an escaped ":" (shown as ":") and "." after "www" (shown as ".").
    return text.replace("://", "\\://").replace("www.", "www\\.")


def percent(p: float | None) -> int | None:
    """A stored probability as the form's whole percentage (None stays None)."""
    return None if p is None else int(round(100 * p))


def probability(v: float | None) -> float | None:
    """A form percentage as a probability (None, no answer, stays None)."""
    return None if v is None else v / 100


def show_percent(p: float | None, *, digits: int = 0) -> str:
    """A probability for display ("–" for no answer; small values keep their digits).

    Below 0.01 % it says "< 0.01 %": the exact value is in the exports.
    """
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "–"
    if 0 < p < 1e-4:
        return "< 0.01 %"
    if 0 < p < 0.01:
        return f"{100 * p:.2g} %"
    return f"{100 * p:.{digits}f} %"


def show_number(x: float | None, *, digits: int = 2) -> str:
    """A plain number for display ("–" when unknown)."""
    if x is None or math.isnan(x):
        return "–"
    return f"{x:.{digits}f}"


def show_log_odds(x: float) -> str:
    """A log-odds term for display: signed, two decimals, ±∞ for a stated 0."""
    if math.isnan(x):
        return "undefined (0 against 0)"
    if math.isinf(x):
        return "+∞" if x > 0 else "−∞"
    return f"{x:+.2f}"


def show_stat(stat: Stat | None, *, as_percent: bool = True, reason: str | None = None) -> str:
    """A posterior summary as "mean [lo – hi]"; an unknown one (None) as its reason."""
    if stat is None:
        return reason or "unknown"
    lo, hi = stat.hdi
    if as_percent:
        return f"{show_percent(stat.mean)} [{show_percent(lo)} – {show_percent(hi)}]"
    return f"{stat.mean:.3g} [{lo:.3g} – {hi:.3g}]"


def rescaled_percentages(values: Sequence[float]) -> list[int] | None:
    """Whole percentages proportional to `values` that add up to exactly 100.

    Largest remainders get the leftover points; None when the values add up to 0.
    """
    total = float(sum(values))
    if total <= 0:
        return None
    raw = [100 * v / total for v in values]
    out = [math.floor(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda k: raw[k] - out[k], reverse=True)
    for k in order[: 100 - sum(out)]:
        out[k] += 1
    return out


def defaults() -> Defaults:
    """The questions and default curves (priors/)."""
    return load_defaults()
