"""A whole group moved between two running apps with fresh databases, in Debian's Chromium."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from store import Store
from tests.e2e.server import streamlit_app
from tests.store.helpers import strip_ids, two_round_group

pytestmark = pytest.mark.e2e
TIMEOUT = 120_000


def test_whole_group_moves_to_a_fresh_database_through_the_browser(app_server, browser, tmp_path):
    base, db = app_server
    with Store(f"sqlite:///{db}") as store:
        group, token = two_round_group(store, "Group to move", n=5, seed=3)
        original = store.export_group(group.id)

    ctx = browser.new_context(accept_downloads=True)
    page = ctx.new_page()
    page.goto(f"{base}/dashboard?group={group.id}&token={token}")
    expect(page.locator(".st-key-db_headline")).to_be_visible(timeout=TIMEOUT)
    # Live stays on (the default): its check reruns every second, and the download must
    # work all the same.
    assert page.locator(".st-key-db_live input").is_checked()
    page.get_by_text("Whole group: back up or move").click()
    button = page.locator(".st-key-db_dl_group button")
    expect(button).to_be_enabled(timeout=TIMEOUT)
    with page.expect_download() as download:
        button.click()
    saved = tmp_path / "group.json"
    download.value.save_as(saved)
    assert json.loads(saved.read_text(encoding="utf-8")) == original
    # Clicked while the page reruns (Live turned off here): the button drawn by the run
    # before still gives the file (a file made on click would have lapsed with that run).
    page.locator(".st-key-db_live label").click()
    with page.expect_download(timeout=30_000) as again:
        button.click()
    again.value.save_as(tmp_path / "again.json")
    assert json.loads((tmp_path / "again.json").read_text(encoding="utf-8")) == original

    # A second app on an empty database imports the file through the Start page.
    fresh_db = tmp_path / "fresh.db"
    with streamlit_app(fresh_db, log_path=tmp_path / "fresh.log", draws=200) as fresh:
        page.goto(fresh)
        page.get_by_text("Or import a group from a whole-group file").click()
        page.locator(".st-key-start_import_file input[type=file]").set_input_files(saved)
        import_button = page.locator(".st-key-start_import button")
        expect(import_button).to_be_enabled(timeout=TIMEOUT)
        import_button.click()
        expect(page.get_by_text("Imported 5 member(s) and 7 revision(s)")).to_be_visible(
            timeout=TIMEOUT
        )
        link = page.locator(".st-key-start_facilitator_link code").inner_text().strip()
        assert link.startswith(fresh) and "token=" in link
        page.goto(link)
        answered = page.get_by_test_id("stMetric").filter(has_text="Answered in round 2")
        expect(answered.get_by_test_id("stMetricValue")).to_have_text("1", timeout=TIMEOUT)
        # One answer in round 2: too few for the group model, and the page says so.
        expect(page.locator(".st-key-db_not_fitted")).to_contain_text(
            "1 member(s) have answered", timeout=TIMEOUT
        )
        # The old facilitator link does not open the copy.
        new_id = link.split("group=")[1].split("&")[0]
        page.goto(f"{fresh}/dashboard?group={new_id}&token={token}")
        expect(page.get_by_text("Not allowed")).to_be_visible(timeout=TIMEOUT)
    ctx.close()

    with Store(f"sqlite:///{fresh_db}") as store:
        copied = store.export_group(new_id)
    assert strip_ids(copied) == strip_ids(original)  # nothing lost or changed
