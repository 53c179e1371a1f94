"""The whole path as people walk it, in Debian's Chromium: create, answer, revise, review."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.server import ROOT, wait_until_idle
from tests.e2e.test_phone import full_page_screenshot, horizontal_overflow, screenshot_dir

pytestmark = pytest.mark.e2e
TIMEOUT = 120_000  # the first dashboard view compiles the model (about 30 s)
WIDTHS = (1280, 390)  # a laptop and a phone

ANSWERS = {
    "Ada": {
        "cred": {"A": 60, "B": 20, "C": 15, "D": 5},
        "fac": [20, 30, 40, 60],
        "p_scheming": 4,
        "read": {"monitoring_counts": [60, 60, 60, 30], "no_collusion": [90, 80, 85, 60]},
        "rationale": "Evals have tracked behaviour so far.",
        "meta": {"A": 50, "B": 20, "C": 20, "D": 10},  # what she expects the group to say
    },
    "Bo <b>": {
        "cred": {"A": 10, "B": 10, "C": 40, "D": 40},
        "fac": [60, 70, 70, 90],
        "p_scheming": 40,
        "read": {"monitoring_counts": [60, 50, 30, 1], "no_collusion": [90, 80, 85, 40]},
        "rationale": "<script>alert(1)</script> [a link](http://example.invalid)",
    },
}
FACTORS = ["non_corrigibility", "misaligned_goals", "evades_guardrails", "strategic_reasoning"]


def _set_number(page: Page, key: str, value: int) -> None:
    box = page.locator(f".st-key-{key} input")
    box.fill(str(value))
    box.press("Tab")


def _fill_form(page: Page, name: str, answers: dict) -> None:
    expect(page.locator(".st-key-el_cred_A input")).to_be_visible(timeout=TIMEOUT)
    for s, v in answers["cred"].items():
        _set_number(page, f"el_cred_{s}", v)
    for f, v in zip(FACTORS, answers["fac"], strict=True):
        _set_number(page, f"el_fac_{f}", v)
    _set_number(page, "el_p_scheming", answers["p_scheming"])
    for item, values in answers["read"].items():
        for s, v in zip("ABCD", values, strict=True):
            _set_number(page, f"el_read_{item}_{s}", v)
    for s, v in answers.get("meta", {}).items():  # Bo skips "What will the group say?"
        _set_number(page, f"el_meta_{s}", v)
    page.locator(".st-key-el_rationale textarea").fill(answers["rationale"])
    name_box = page.locator(".st-key-el_name input")
    if name_box.count():
        name_box.fill(name)
        name_box.press("Tab")


def _shots(page: Page, name: str) -> None:
    """The whole page at each width in `WIDTHS` (the page's own width last, as it was)."""
    size = page.viewport_size
    for width in sorted(WIDTHS, key=lambda w: w == size["width"]):
        page.set_viewport_size({"width": width, "height": size["height"]})
        page.wait_for_timeout(500)
        full_page_screenshot(page, screenshot_dir() / f"walk-{name}-{width}.png")
        seen = horizontal_overflow(page)
        assert seen["document"] <= width and seen["main"] <= seen["mainBox"], (name, seen)
    page.set_viewport_size(size)


def _groups_named(db: Path, name: str) -> int:
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute("SELECT count(*) FROM groups WHERE name = ?", (name,)).fetchone()[0]


def _submit(page: Page) -> str:
    expect(page.locator(".st-key-elicit_feedback")).to_be_visible(timeout=TIMEOUT)
    page.locator(".st-key-elicit_submit button").click()
    link = page.locator(".st-key-elicit_comeback_link code")
    expect(link).to_be_visible(timeout=TIMEOUT)
    return link.inner_text().strip()


def test_facilitator_and_two_participants_walk_the_whole_path(app_server, browser, tmp_path):
    base, db = app_server

    # The facilitator creates a group and gets two links, first on the page; the form is
    # gone, so a second click cannot make a second group (the race of a double click is
    # tested in tests/app/test_start_page.py: in a loaded browser run it timed out).
    fac = browser.new_context(viewport={"width": 1280, "height": 900})
    page = fac.new_page()
    page.goto(base)
    page.locator(".st-key-start_name input").fill("Reading group")
    page.get_by_role("button", name="Create the group").click()
    join = page.locator(".st-key-start_join_link code")
    expect(join).to_be_visible(timeout=TIMEOUT)
    join_url = join.inner_text().strip()
    dashboard_url = page.locator(".st-key-start_facilitator_link code").inner_text().strip()
    assert "group=" in join_url and "token=" not in join_url
    assert "token=" in dashboard_url
    expect(page.locator(".st-key-start_name")).to_have_count(0)
    page.wait_for_timeout(1000)  # a second run, had the click made one, would be done
    assert _groups_named(db, "Reading group") == 1
    assert page.locator(".st-key-start_join_link code").inner_text().strip() == join_url
    for key in ("start_join_link", "start_facilitator_link"):  # each box has a copy button
        page.locator(f".st-key-{key} [data-testid=stCode]").hover()
        expect(page.locator(f".st-key-{key} button")).to_be_visible()
    expect(page.get_by_test_id("stSidebarNavLink")).to_have_count(3)  # the facilitator's menu
    _shots(page, "start-after-creating")

    # Two participants open the participant link; one answers on a phone (390 px).
    comeback = {}
    for name, viewport in (("Ada", (1280, 900)), ("Bo <b>", (390, 844))):
        ctx = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
        p = ctx.new_page()
        p.goto(join_url)
        _fill_form(p, name, ANSWERS[name])
        feedback = p.locator(".st-key-elicit_feedback")
        expect(feedback).to_contain_text("after the evidence", timeout=TIMEOUT)
        comeback[name] = _submit(p)
        assert p.get_by_test_id("stSidebarNavLink").count() == 0  # only their own page
        if name == "Ada":
            _shots(p, "member")
        ctx.close()

    # Ada comes back with her private link and revises: a new revision, history kept.
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    p = ctx.new_page()
    p.goto(comeback["Ada"])
    box = p.locator(".st-key-el_cred_A input")
    expect(box).to_have_value("60", timeout=TIMEOUT)
    expect(p.locator(".st-key-el_meta_A input")).to_have_value("50")  # her own forecast
    expect(p.locator(".st-key-elicit_meta_gap")).to_contain_text("appears once 5 have")
    _set_number(p, "el_cred_A", 55)
    wait_until_idle(p, TIMEOUT)  # A's rerun is over before D is typed (else D can be lost)
    _set_number(p, "el_cred_D", 10)
    wait_until_idle(p, TIMEOUT)
    expect(p.locator(".st-key-el_cred_D input")).to_have_value("10")
    p.locator(".st-key-elicit_submit button").click()
    expect(p.get_by_text("What you said before (2 saved)")).to_be_visible(timeout=TIMEOUT)
    expect(p.locator(".st-key-elicit_changes")).to_contain_text("credence in A: 60 % → 55 %")
    full_page_screenshot(p, screenshot_dir() / "walk-member-revised-1280.png")
    ctx.close()

    # The facilitator opens the dashboard, sees both, and downloads a PNG and the CSV.
    page.goto(dashboard_url)
    answered = page.get_by_test_id("stMetric").filter(has_text="Answered in round 1")
    expect(answered.get_by_test_id("stMetricValue")).to_have_text("2", timeout=TIMEOUT)
    expect(page.get_by_test_id("stImage").first).to_be_visible(timeout=TIMEOUT)
    _shots(page, "dashboard")
    # The dashboard reads as an argument: a summary on top, then one tab per part.
    expect(page.locator(".st-key-db_headline")).to_contain_text("What the group believes")
    for tab, shows in (
        ("Where it disagrees and why", "ranked by how much it decides"),
        ("What would settle it", "What would settle it"),
        ("Camps", "Worldview camps"),
        ("Members", "What will the group say?"),
        ("Rounds", "Rounds are compared once a second round has answers"),
    ):
        page.get_by_role("tab", name=tab).click()
        expect(page.get_by_role("tabpanel").filter(has_text=shows).first).to_be_visible(
            timeout=TIMEOUT
        )
    page.get_by_role("tab", name="Exports").click()
    expect(page.locator(".st-key-db_reproduce code")).to_be_visible(timeout=TIMEOUT)
    # Live (on by default) leaves the downloads enabled: its check reruns only a fragment.
    expect(page.locator(".st-key-db_dl_csv button")).to_be_enabled()
    page.locator(".st-key-db_live label").click()
    wait_until_idle(page, TIMEOUT)  # the toggle's rerun, and any Live check before it, are over
    files = {}
    for key, name in (
        ("db_dl_pools_png", "pools.png"),
        ("db_dl_csv", "responses.csv"),
        ("db_dl_evidence", "evidence.toml"),
        ("db_dl_summary", "summary.json"),
    ):
        with page.expect_download() as download:
            page.locator(f".st-key-{key} button").click()
        files[name] = tmp_path / name
        download.value.save_as(files[name])
    assert files["pools.png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    csv_text = files["responses.csv"].read_text()
    assert "Ada,0.55," in csv_text and "<script>alert(1)</script>" in csv_text
    header, *rows = csv_text.splitlines()
    assert header.endswith(",meta:A,meta:B,meta:C,meta:D,rationale")
    assert ",0.5,0.2,0.2,0.1,Evals have tracked" in rows[0]  # kept through her revision
    assert ",,,,,<script>" in rows[1]  # Bo skipped it: four blank cells

    # `python -m model aggregate` on the downloaded files reproduces the dashboard's numbers.
    command = page.locator(".st-key-db_reproduce code").inner_text().split()
    args = command[command.index("aggregate") + 1 :]
    args = [str(tmp_path / a) if a in ("responses.csv", "evidence.toml") else a for a in args]
    args[args.index("--out") + 1] = str(tmp_path / "result")
    proc = subprocess.run(
        [sys.executable, "-m", "model", "aggregate", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    ours = json.loads((tmp_path / "result" / "summary.json").read_text())
    theirs = json.loads(files["summary.json"].read_text())
    # Two members: the group model is not fitted (from three on), so its fields are null in
    # both files; the pools and every member's exact update are compared.
    assert ours["group_model"] == theirs["group_model"]
    for key in ("consensus_prior", "consensus_posterior"):
        if theirs[key] is None:
            assert ours[key] is None
            continue
        for s in "ABCD":
            assert ours[key][s]["mean"] == pytest.approx(theirs[key][s]["mean"], abs=1e-9)
    assert ours["pools"] == theirs["pools"]
    assert [p["posterior"] for p in ours["participants"]] == [
        p["posterior"] for p in theirs["participants"]
    ]
    fac.close()
