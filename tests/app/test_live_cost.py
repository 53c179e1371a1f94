"""What a Live dashboard costs, and the warm-up that spares the first fit.

- The warm-up runs once per process, in the background, and freezes the objects it loaded:
  a full collection of garbage with PyMC, PyTensor and numba loaded walked them all, 0.3 s
  of a core each time. Full collections now follow each whole page's run only (app.py), not
  each timed check of a Live dashboard (Streamlit's own after every run is off).
- Then it fits the latest round of the groups answered most recently, into the cache the
  pages read, so their dashboards open on a fit already made.
- With Live on, every download button of the dashboard is enabled: the timed check is a
  fragment that reads the group's version and redraws nothing else.
- In Chromium, an idle Live dashboard leaves its server nearly idle (a generous bound here;
  `benchmarks/bench_app.py` measures it).
"""

from __future__ import annotations

import gc
import os
import time
import tomllib
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from app_pages import common
from model.example import EXAMPLE_EVIDENCE, example_responses
from priors import parse_evidence
from store import Store
from tests.app.helpers import MEMBERS, _answer, _group, _page, _texts
from tests.e2e.server import CHROMIUM, CHROMIUM_ARGS, streamlit_app

IDLE_SECONDS = 10.0
IDLE_BOUND = 0.25  # of one core with one dashboard open; before the fragment and the frozen
# garbage it was 0.4-0.7, and bench_app.py measures about 0.01-0.04 now


def test_the_warm_up_runs_once_in_the_background_and_freezes_what_it_loaded():
    warm = common.warm_up()
    assert common.warm_up() is warm  # once per process
    assert warm.done.wait(timeout=600), common.warm_up_status()
    assert warm.error is None
    assert common.warm_up_status() == "ready"
    assert common.get_sampler() is warm.sampler  # the pages' fits use the compiled model
    assert len(common._compiled_models) >= 1  # the example evidence's, new groups' default
    # PyMC's, PyTensor's and numba's objects are frozen: a full collection skips them
    assert gc.get_freeze_count() > 100_000


def test_the_latest_rounds_of_recent_groups_are_fitted_before_their_dashboard_opens(
    db, monkeypatch
):
    fitted_gid, token = _group(db)
    for name, scen, direct, reading in MEMBERS[:3]:
        _answer(db, fitted_gid, name, scen, direct, reading)
    small, _ = _group(db)  # two members: too few to fit, nothing to do
    for name, scen, direct, reading in MEMBERS[:2]:
        _answer(db, small, name, scen, direct, reading)
    keys = common.prefit_recent(common.settings.database_url(), 5, common.draws())
    group = db.get_group(fitted_gid)
    data = common.round_data(db, group, parse_evidence(group.evidence), round=1)
    assert keys == [data.key]  # the key the dashboard asks for

    def refit(*args, **kwargs):
        raise AssertionError("the dashboard fitted the group again")

    monkeypatch.setattr(common, "analyse", refit)
    at = _page("app_pages/dashboard.py", group=fitted_gid, token=token).run()
    assert not at.exception
    assert "Fitted to 3 answers" in _texts(at)
    # a database file that does not exist yet is not created to look for groups
    missing = db.path.with_name("none.db")
    assert common.prefit_recent(f"sqlite:///{missing}", 5, common.draws()) == []
    assert not missing.exists()


def test_garbage_is_collected_after_a_page_run_not_after_each_live_check(db):
    # Streamlit's own collection after every run is off, so the Live check's run (a fragment,
    # once a second) does not walk the heap; app.py collects after each whole page's run.
    config = tomllib.loads((Path(__file__).parents[2] / ".streamlit/config.toml").read_text())
    assert config["runner"]["postScriptGC"] is False
    full = []

    def count(phase, info):
        if phase == "start" and info["generation"] == 2:
            full.append(info)

    gid, token = _group(db)
    gc.callbacks.append(count)
    try:
        at = _page("app_pages/dashboard.py", group=gid, token=token).run()
    finally:
        gc.callbacks.remove(count)
    assert not at.exception
    assert full  # the page's run ended with a full collection


def test_with_live_on_every_download_button_is_enabled(db):
    gid, token = _group(db)
    _answer(db, gid, "Ada", (0.75, 0.13, 0.07, 0.05), 0.021, 0.02)
    at = _page("app_pages/dashboard.py", group=gid, token=token).run()
    assert not at.exception
    assert at.toggle(key="db_live").value is True
    buttons = at.get("download_button")
    assert {"db_dl_group", "db_dl_csv"} <= {b.key for b in buttons}
    assert not any(b.disabled for b in buttons)
    assert not at.button(key="db_make_report").disabled  # the report, made on request


# --- in Chromium ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args():
    # As tests/e2e/conftest.py: this module's browser test runs Debian's Chromium too.
    return {"executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


def _server_pid(port: int) -> int:
    """The process id of the app server listening on `port` (found by its command line)."""
    wanted = f"--server.port\0{port}\0".encode()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if b"streamlit" in command and wanted in command:
                return int(entry.name)
    raise LookupError(f"no app server on port {port}")


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.e2e
def test_an_idle_live_dashboard_leaves_the_server_nearly_idle(
    tmp_path, browser: Browser, capsys, record_property
):
    db = tmp_path / "idle.db"
    with Store(f"sqlite:///{db}") as store:
        group, token = store.create_group("Idle", evidence=EXAMPLE_EVIDENCE)
        for r in example_responses(n=5, seed=3):
            participant, _ = store.add_participant(group.id, r.participant)
            store.add_revision(participant.id, round=1, payload=r.to_dict())
    with streamlit_app(db, log_path=tmp_path / "server.log", draws=100) as base:
        pid = _server_pid(int(base.rsplit(":", 1)[1]))
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.goto(f"{base}/dashboard?group={group.id}&token={token}")
        note = page.locator(".st-key-db_fit_note")
        note.filter(has_text="Fitted to 5 answers").wait_for(timeout=300_000)
        assert page.locator(".st-key-db_live input").is_checked()
        # the whole page is drawn (Streamlit marks the app's root while its script runs)
        page.locator("[data-test-script-state='notRunning']").wait_for(timeout=300_000)
        page.wait_for_timeout(2_000)
        used, start = _cpu_seconds(pid), time.monotonic()
        page.wait_for_timeout(IDLE_SECONDS * 1000)
        share = (_cpu_seconds(pid) - used) / (time.monotonic() - start)
        page.context.close()
    record_property("idle_share_of_a_core", round(share, 4))
    with capsys.disabled():
        print(f"\n[live cost] server CPU with one idle Live dashboard: {share:.3f} of a core")
    assert share < IDLE_BOUND
