"""Shared UI helpers: the cached store, the warm-up, the fits and their figures; links, tokens."""

from __future__ import annotations

import gc
import threading
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import streamlit as st
from matplotlib.figure import Figure
from sqlalchemy import make_url
from streamlit.logger import get_logger

from app_pages import formats, settings
from app_pages.exports import data_key, seed_for, unique_names
from app_pages.routes import PAGES, URL_PATHS  # noqa: F401  (pages link through common)
from model import Analysis, Response, analyse, validate_response
from model.analysis import MIN_GROUP_FIT
from model.example import EXAMPLE_EVIDENCE, example_responses
from model.figures import SCREEN_MAX_PX, figure_bytes
from model.sampling import DEFAULT_TUNE
from model.schema import to_group_data
from priors import Defaults, EvidenceItem, load_defaults, parse_evidence
from priors.errors import CruxboardError
from store import Group, Store

if TYPE_CHECKING:
    from model import GroupSampler

_LOG = get_logger(__name__)

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
        st.error("The database cannot be opened: " + formats.md_escape(str(exc)))
        st.stop()
        raise  # unreachable: st.stop() raises


# --- the model's warm-up ------------------------------------------------------------------------

WARM_UP_MEMBERS = 5  # an example group just big enough to be fitted (MIN_GROUP_FIT is 3)
WARM_UP_DRAWS = 20  # per chain, and as many tuning steps: the compile is what it is for
PREFIT_GROUPS = 3  # the groups answered most recently, whose latest round is fitted at start


def _start_figure_workers() -> None:
    # The report draws its figures in worker processes forked from a server that has
    # imported matplotlib: started here, the first report does not wait about two seconds
    # for it. It returns at once (the server imports in its own process).
    from model import figures

    try:
        figures.start_workers()
    except Exception as exc:  # noqa: BLE001  (the report then starts it, or draws in-process)
        _LOG.warning("Cruxboard: the figure workers' server did not start (%s)", exc)


@dataclass
class WarmUp:
    """The process's one warm-up of the group model, run in a background thread.

    It loads PyMC, compiles the group model for the example evidence (a new group's default;
    from the on-disk cache when an earlier process or `scripts/setup.sh` compiled it) and
    runs `analyse` once on a small example group, so a page's first real fit only swaps its
    data in (`compiled` is then set). Then it fits the latest round of the groups answered
    most recently (`prefit_recent`), so their dashboards open on a fit already made, starts
    the server the report's figure workers fork from, and sets `done`. Pages read `phase`
    and `elapsed` to say what a wait is for.
    """

    database_url: str  # the groups to fit once the model is compiled (as the server starts)
    n_draws: int  # and the draws per chain to fit them with (the pages' setting)
    started: float = field(default_factory=time.monotonic)
    phase: str = "starting"
    seconds: float | None = None  # how long it took, once done
    error: str | None = None  # why it failed (fits then compile for themselves)
    sampler: GroupSampler | None = None
    sampler_ready: threading.Event = field(default_factory=threading.Event)
    compiled: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def elapsed(self) -> float:
        """Seconds since it started (its duration once done)."""
        return self.seconds if self.seconds is not None else time.monotonic() - self.started

    def run(self) -> None:
        """Warm up (the thread's body); never raises: a failure is kept in `error`."""
        try:
            self._compile()
            if self.error is None:
                # No names or counts: /api/ready shows this phase to anyone who asks.
                self.phase = "fitting the latest answers of the groups answered most recently"
                prefit_recent(self.database_url, PREFIT_GROUPS, self.n_draws)
        except Exception as exc:  # noqa: BLE001  (their dashboards then fit when opened)
            _LOG.warning("Cruxboard: fitting recent groups at start failed (%s)", exc)
        finally:
            _start_figure_workers()
            self.phase = "ready" if self.error is None else "failed"
            self.seconds = time.monotonic() - self.started
            if self.error is None:
                _LOG.info("Cruxboard: the group model is ready (%.1f s)", self.seconds)
            self.done.set()

    def _compile(self) -> None:
        # Load PyMC and compile (or load) the model; sets `compiled` whatever happens.
        try:
            self.phase = "loading PyMC"
            from model.fit import GroupSampler  # PyMC, PyTensor and nutpie: seconds to import

            self.sampler = GroupSampler(defaults=load_defaults())
            self.sampler_ready.set()
            self.phase = (
                "compiling the group model (or loading it from the disk cache) and fitting "
                "an example group"
            )
            _compiled_models.add(fit_example(self.sampler))
        except Exception as exc:  # noqa: BLE001  (a failed warm-up must not stop the app)
            self.error = f"{type(exc).__name__}: {exc}"
            _LOG.warning("Cruxboard: the model's warm-up failed (%s)", self.error)
        finally:
            # app.py collects garbage in full after every page run (and Streamlit did after
            # every run, a Live check's too, until its own collection was turned off); with
            # PyMC, PyTensor and numba loaded that walks ~650 000 objects (0.3 s each time).
            # Frozen, the objects loaded by now are skipped by every later collection.
            gc.collect()
            gc.freeze()
            self.sampler_ready.set()
            self.compiled.set()


def prefit_recent(database_url: str, limit: int, n_draws: int) -> list[str]:
    """Fit the latest round of the `limit` groups answered most recently; returns their keys.

    Each fit goes into the same cache, under the same key and seed, as the dashboard's and a
    member's group view, so the first page that shows one of these rounds finds it made (or
    waits for the fit under way instead of starting another). A group whose stored answers
    cannot be analysed is skipped (its pages say why). A SQLite file that does not exist
    yet has no groups and is not created here.
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
        return []
    keys = []
    with Store(database_url) as store:  # its own: the pages' Store stays as it is
        for group_id, round in store.recently_answered(limit):
            group = store.get_group(group_id)
            if group is None:
                continue
            try:
                evidence = parse_evidence(group.evidence, source="the group's evidence")
                data = round_data(store, group, evidence, round=round)
            except CruxboardError as exc:
                _LOG.info("Cruxboard: a recent group is not fitted at start (%s)", exc)
                continue
            if data.n >= MIN_GROUP_FIT:
                _fitted(data.key, n_draws, tuple(data.responses), data.group.evidence)
                keys.append(data.key)
    return keys


def fit_example(sampler: GroupSampler) -> str:
    """Compile the group model for the example evidence and fit a small example group once.

    What the warm-up runs; `scripts/setup.sh` runs it too (`compile_in_advance`), so the
    compiled model is on disk before a server starts. Returns the compiled model's key.
    """
    evidence = parse_evidence(EXAMPLE_EVIDENCE)
    responses = example_responses(n=WARM_UP_MEMBERS, seed=0, evidence=evidence)
    analyse(
        responses,
        evidence=evidence,
        defaults=load_defaults(),
        sampler=sampler,
        draws=WARM_UP_DRAWS,
        tune=WARM_UP_DRAWS,
        chains=2,
        random_seed=0,
    )
    return _model_key(responses, EXAMPLE_EVIDENCE)


def compile_in_advance() -> float:
    """Fill the on-disk compile cache in this process (no server needed); returns seconds."""
    from model.fit import GroupSampler

    start = time.monotonic()
    fit_example(GroupSampler(defaults=load_defaults()))
    return time.monotonic() - start


_warm_up: WarmUp | None = None
_warm_up_lock = threading.Lock()
_compiled_models: set[str] = set()  # keys of the models compiled (or loaded) in this process


def warm_up_status() -> str:
    """The warm-up's state in a few words; starts nothing.

    "ready" once it is done (after a failure too: fits then compile for themselves), else
    what it is doing and for how long.
    """
    warm = _warm_up
    if warm is None:
        return "starting"
    if warm.done.is_set():
        return "ready"
    return f"{warm.phase} ({warm.elapsed:.0f} s)"


def _model_key(responses: Sequence[Response], evidence_text: str) -> str:
    # The key the sampler keeps a compiled model under (its evidence items' shape and priors).
    from model.fit import model_key
    from model.group import model_data

    defaults = load_defaults()
    data = to_group_data(responses, evidence=parse_evidence(evidence_text), defaults=defaults)
    return model_key(data, defaults, model_data(data, defaults))


def warm_up() -> WarmUp:
    """The process's warm-up of the group model, started in the background on first call.

    `app.py` starts it as the server starts; any page that needs a fit calls it too.
    """
    global _warm_up
    with _warm_up_lock:
        if _warm_up is None:
            _warm_up = WarmUp(database_url=settings.database_url(), n_draws=draws())
            threading.Thread(target=_warm_up.run, name="cruxboard-warm-up", daemon=True).start()
        return _warm_up


def get_sampler() -> GroupSampler:
    """The process's one GroupSampler, the warm-up's (waits for it to exist, not to compile).

    The model compiles once per shape of the evidence; new groups swap their data in.
    """
    warm = warm_up()
    warm.sampler_ready.wait()
    if warm.sampler is None:  # the warm-up failed before making it: the fit makes its own
        from model.fit import GroupSampler

        return GroupSampler(defaults=load_defaults())
    return warm.sampler


def _wait_for_warm_up() -> None:
    """Show what the warm-up is doing, second by second, until the model is compiled."""
    warm = warm_up()
    if warm.compiled.is_set():
        return
    box = st.empty()
    while not warm.compiled.is_set():
        box.info(
            f"Preparing the group model, once after the app starts: {warm.phase}; "
            f"{warm.elapsed:.0f} s so far.",
            icon=":material/hourglass_top:",
        )
        warm.compiled.wait(timeout=1.0)
    box.empty()


def draws() -> int:
    """Draws (and tuning steps) per chain (see `app_pages.settings`)."""
    return settings.draws()


# --- the group's data and its fit ------------------------------------------------------------


def group_evidence(group: Group) -> tuple[EvidenceItem, ...]:
    """The group's evidence items; stops the page with a message if the stored text is bad."""
    try:
        return parse_evidence(group.evidence, source="the group's evidence")
    except CruxboardError as exc:
        st.error(formats.md_escape(str(exc)))
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

    @property
    def fit_ident(self) -> tuple[str, int]:
        """What names this data's fit: its key and the draws per chain (as `fitted` caches it)."""
        return self.key, draws()


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
    fits = len(_responses) >= MIN_GROUP_FIT
    analysis = analyse(
        list(_responses),
        evidence=evidence,
        defaults=load_defaults(),
        sampler=get_sampler() if fits else None,
        draws=n_draws,
        tune=DEFAULT_TUNE,
        random_seed=seed_for(key),
    )
    if fits:
        _compiled_models.add(_model_key(_responses, _evidence))
    return analysis


def fitted(data: RoundData) -> Analysis:
    """The group model fitted to one round (cached by the data); its numbers in `.result`.

    While the process's warm-up runs, the page shows what it is doing and for how long; a
    group whose evidence items need a model this process has not compiled says so.

    Raises
    ------
    CruxboardError
        If the responses cannot be analysed (the message says why).
    """
    if data.n < MIN_GROUP_FIT:
        text = f"Computing each member's numbers from {data.n} answer(s)..."
    else:
        _wait_for_warm_up()
        text = f"Fitting the group model to {data.n} answers..."
        if _model_key(data.responses, data.group.evidence) not in _compiled_models:
            text = (
                "Preparing the group model for this group's evidence items, the first fit "
                "with them since the app started (loaded from the disk cache when compiled "
                f"before, else compiled: about a minute), then fitting {data.n} answers..."
            )
    with st.spinner(text, show_time=True):
        return _fitted(*data.fit_ident, tuple(data.responses), data.group.evidence)


# One lock per group and round while its newest answers are read and fitted. Weak values: a
# lock lives while a page holds or waits for it, so the table does not grow with the groups.
_round_locks: weakref.WeakValueDictionary[tuple[str, int], threading.Lock] = (
    weakref.WeakValueDictionary()
)
_round_locks_guard = threading.Lock()


def _round_lock(group_id: str, round: int) -> threading.Lock:
    with _round_locks_guard:
        lock = _round_locks.get((group_id, round))
        if lock is None:
            lock = _round_locks[(group_id, round)] = threading.Lock()
        return lock


def fitted_latest(
    store: Store, group: Group, evidence: Sequence[EvidenceItem], *, round: int
) -> tuple[RoundData, Analysis]:
    """The round's newest answers and their fit, one fit of a round at a time in this process.

    When members submit at once, each save is new data, and a page that read the data and
    then fitted it would fit its own version: fifty answers, fifty fits sharing two cores,
    each page waiting for all of them. Here the data is read under the round's lock: a page
    that finds a fit under way waits for it, then reads the answers again (its own among
    them, and every one saved meanwhile) and fits those, and the pages still waiting find
    that fit made. A burst costs about as many fits as fit in its length, and every page
    shows a fit of answers that include the ones saved before it asked.

    Raises
    ------
    CruxboardError
        If the responses cannot be analysed (the message says why).
    """
    lock = _round_lock(group.id, round)
    if not lock.acquire(blocking=False):
        with st.spinner(
            "Waiting for the fit of this round under way (other answers have just come "
            "in), then fitting the newest answers...",
            show_time=True,
        ):
            lock.acquire()
    try:
        data = round_data(store, group, evidence, round=round)
        return data, fitted(data)
    finally:
        lock.release()


@st.cache_data(max_entries=256, show_spinner=False)
def figure_png(
    key: str, n_draws: int, name: str, options: tuple, _make: Callable[[], Figure]
) -> bytes:
    """The figure `_make()` draws, as PNG bytes (as exported), cached.

    `key` and `n_draws` name the fit, `name` the figure and `options` its settings (e.g. the
    scenario a crux compares): together they decide what the figure shows, so a rerun of
    the page draws nothing twice.
    """
    return figure_bytes(_make(), "png", max_width_px=SCREEN_MAX_PX)


FIGURES_SHOWN = "figures_shown"  # {(key, n_draws, name, options)}: figures this session showed


def shown_figure_png(key: str, name: str, options: tuple, make: Callable[[], Figure]) -> bytes:
    """`figure_png` for the page, noting that this session has shown the figure.

    The report then embeds the image the page showed instead of drawing it again
    (`shown_pngs`).
    """
    png = figure_png(key, draws(), name, options, make)
    shown = st.session_state.setdefault(FIGURES_SHOWN, set())
    if len(shown) > 256:  # options changed many times: forget the older ones
        shown.clear()
    shown.add((key, draws(), name, options))
    return png


def shown_pngs(
    key: str, options: Mapping[str, tuple], makes: Mapping[str, Callable[[], Figure]]
) -> dict[str, bytes]:
    """The images of `makes` this session has shown under `options[name]` (default ``()``).

    Read from `figure_png`'s cache (drawn again only if the cache has dropped one); a figure
    not shown so, or that cannot be drawn again, is left out, for the caller to draw.
    """
    shown = st.session_state.get(FIGURES_SHOWN, set())
    out = {}
    for name, make in makes.items():
        opts = options.get(name, ())
        if (key, draws(), name, opts) in shown:
            try:
                out[name] = figure_png(key, draws(), name, opts, make)
            except ValueError:  # the report names a figure it cannot draw
                continue
    return out


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


def defaults() -> Defaults:
    """The questions and default curves (priors/)."""
    return load_defaults()
