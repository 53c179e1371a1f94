"""What people see in Debian's Chromium: only their own page, and pages that fit a phone.

A participant's link shows no page menu and no developer toolbar; the facilitator keeps the
menu. At 390 px the member's page keeps every table inside its own box, every input's label
and sketches large enough to read, and says a refused value in words under its box. The
dashboard is checked for fitting the width; its Members tables, and the HTML report's, fit
or scroll inside their own box at 390 and 1280 px, and no table offers Streamlit's own CSV
export.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from model.example import EXAMPLE_EVIDENCE
from model.figures import PNG_DPI
from model.schema import validate_response
from priors import parse_evidence
from store import Store
from tests.model.helpers import raw_response

pytestmark = pytest.mark.e2e
TIMEOUT = 120_000  # the first fit compiles the model (about 30 s)
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
SMALLEST_SKETCH_PT = 6.5  # the smallest type in a scenario sketch (its legend)
MIN_TEXT_PX = 8.0  # below this, figure text is too small to read on a screen
MEMBERS = {  # five members: the member's page shows the group's consensus table
    "Ada": (0.6, 0.2, 0.15, 0.05),
    "Bo": (0.3, 0.3, 0.2, 0.2),
    "Chidi": (0.1, 0.1, 0.4, 0.4),
    "Dee": (0.25, 0.25, 0.25, 0.25),
    "Eun": (0.4, 0.3, 0.2, 0.1),
}


@pytest.fixture(scope="module")
def group(app_server):
    """Five members; Ada saved twice (a factor and her rationale changed in between)."""
    _base, db = app_server
    evidence = parse_evidence(EXAMPLE_EVIDENCE)
    with Store(f"sqlite:///{db}") as store:
        g, token = store.create_group("Phone group", evidence=EXAMPLE_EVIDENCE)
        links = {}
        for name, scen in MEMBERS.items():
            participant, edit = store.add_participant(g.id, name)
            payload = validate_response(raw_response(name, scen), evidence=evidence).to_dict()
            store.add_revision(participant.id, round=1, payload=payload)
            if name == "Ada":
                payload["factors"]["misaligned_goals"] = 0.7
                payload["rationale"] = "Monitoring catches less than it seems."
                store.add_revision(participant.id, round=1, payload=payload)
            links[name] = edit
    return g.id, token, links


def screenshot_dir() -> Path:
    """Where the screenshots go: `CRUXBOARD_SCREENSHOTS`, else <tmp>/cruxboard-screenshots.

    Not pytest-playwright's output folder: any other browser run empties that one.
    """
    path = Path(os.environ.get("CRUXBOARD_SCREENSHOTS") or Path(tempfile.gettempdir()))
    if "CRUXBOARD_SCREENSHOTS" not in os.environ:
        path = path / "cruxboard-screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


def full_page_screenshot(page: Page, path: Path) -> Path:
    """The whole page as one image, and its path printed.

    Streamlit scrolls inside its main area, so the document is one screen high and
    Playwright's full-page shot would show only that: the viewport grows to the page first.
    """
    size = page.viewport_size
    height = page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": max(height, size["height"])})
    page.wait_for_timeout(700)  # the layout settles at the new height
    page.screenshot(path=path, full_page=True)
    page.set_viewport_size(size)
    print(f"screenshot: {path}")
    return path


def horizontal_overflow(page: Page) -> dict:
    """How wide the page and its main area are against the window, and what sticks out."""
    return page.evaluate(
        """() => {
        const width = document.documentElement.clientWidth;
        const main = document.querySelector('[data-testid=stMain]');
        const sel = ['stDataFrame', 'stTable', 'stImage', 'stNumberInput', 'stAlert', 'stCode',
                     'stMarkdown', 'stExpander', 'stMetric', 'stButton']
            .map(t => `[data-testid="${t}"]`).join(', ');
        const out = [...document.querySelectorAll(sel)].filter(e => {
            const r = e.getBoundingClientRect();
            return r.width > 0 && (r.left < -0.5 || r.right > width + 0.5);
        }).map(e => e.dataset.testid + ' ' + (e.innerText || '').slice(0, 40));
        return {width, document: document.documentElement.scrollWidth,
                main: main.scrollWidth, mainBox: main.clientWidth, out};
    }"""
    )


def _open(browser: Browser, url: str, viewport: dict) -> Page:
    page = browser.new_context(viewport=viewport).new_page()
    page.goto(url)
    return page


def _fits(page: Page, width: int) -> None:
    seen = horizontal_overflow(page)
    assert seen["document"] <= width and seen["main"] <= seen["mainBox"], seen
    assert seen["out"] == [], seen


# --- 3. who sees which page ----------------------------------------------------------------


def test_a_participant_sees_only_their_page_and_no_developer_toolbar(app_server, browser, group):
    base, _db = app_server
    gid, token, links = group
    for url in (f"{base}/elicit?group={gid}", f"{base}/elicit?group={gid}&p={links['Bo']}"):
        page = _open(browser, url, DESKTOP)
        expect(page.locator(".st-key-el_cred_A input")).to_be_visible(timeout=TIMEOUT)
        page.wait_for_timeout(500)  # nothing else arrives
        assert page.get_by_test_id("stSidebarNavLink").count() == 0
        assert page.get_by_role("link", name="Dashboard").count() == 0
        assert page.get_by_role("link", name="Start").count() == 0
        assert page.get_by_test_id("stAppDeployButton").count() == 0
        assert page.get_by_test_id("stMainMenu").count() == 0
        page.context.close()
    # the facilitator keeps the menu (and has no Deploy button either)
    page = _open(browser, f"{base}/dashboard?group={gid}&token={token}", DESKTOP)
    nav = page.get_by_test_id("stSidebarNavLink")
    expect(nav).to_have_count(3, timeout=TIMEOUT)
    assert [t.split()[-1] for t in nav.all_inner_texts()] == ["Start", "Elicit", "Dashboard"]
    assert page.get_by_test_id("stAppDeployButton").count() == 0
    page.context.close()


# --- 4. a phone ------------------------------------------------------------------------------


def test_the_members_page_fits_a_phone(app_server, browser, group):
    base, _db = app_server
    gid, _token, links = group
    page = _open(browser, f"{base}/elicit?group={gid}&p={links['Ada']}", PHONE)
    expect(page.locator(".st-key-el_cred_A input")).to_have_value("60", timeout=TIMEOUT)
    expect(page.locator(".st-key-elicit_feedback")).to_be_visible(timeout=TIMEOUT)
    consensus = page.locator(".st-key-elicit_group_view [data-testid=stDataFrame]")
    expect(consensus).to_be_visible(timeout=TIMEOUT)  # five members: the group's table
    expect(page.get_by_text("What changed")).to_be_visible()
    for box in page.get_by_test_id("stExpander").all():  # the reference values too
        if box.locator("details").get_attribute("open") is None:
            box.locator("summary").click()
    page.wait_for_timeout(1000)
    full_page_screenshot(page, screenshot_dir() / "phone-member-390.png")

    # every table, alert, input and figure inside the window: a wide table scrolls in its box
    _fits(page, PHONE["width"])
    assert page.get_by_test_id("stDataFrame").count() >= 5

    # each input keeps its label, visible and not cut
    labels = page.evaluate(
        """() => [...document.querySelectorAll('[data-testid=stNumberInput]')].map(e => {
            const l = e.querySelector('[data-testid=stWidgetLabel]');
            const r = l ? l.getBoundingClientRect() : {width: 0, height: 0, left: -1, right: 0};
            return [l ? l.innerText.trim() : '', r.width > 0 && r.height > 0 && r.left >= 0
                    && r.right <= document.documentElement.clientWidth];
        })"""
    )
    assert len(labels) >= 21  # 4 credences, 4 forecasts, 5 scheming, 8 readings
    assert all(text and shown for text, shown in labels), labels

    # the scenario sketches are drawn large enough to read
    sketches = page.evaluate(
        """() => [...document.querySelectorAll('.st-key-elicit_scenarios img')]
            .map(i => [i.getBoundingClientRect().width, i.naturalWidth])"""
    )
    assert len(sketches) == 4
    for shown, natural in sketches:
        smallest_px = SMALLEST_SKETCH_PT * PNG_DPI / 72 * shown / natural
        assert smallest_px >= MIN_TEXT_PX, (shown, natural, smallest_px)

    # 5. a refused value in words, right under its box; the total counts what was typed
    box = page.locator(".st-key-el_cred_A input")
    box.fill("150")
    box.press("Tab")
    message = page.get_by_text("150 % is above 100 %: give a number from 0 to 100.")
    expect(message).to_be_visible(timeout=TIMEOUT)
    below = message.bounding_box()["y"] - (box.bounding_box()["y"] + box.bounding_box()["height"])
    assert 0 <= below <= 80, below
    expect(page.locator(".st-key-elicit_total")).to_contain_text(
        "Total: 190 % of 100 % (4 of 4 entered)"
    )
    _fits(page, PHONE["width"])
    page.context.close()


def test_the_dashboard_fits_a_phone(app_server, browser, group):
    base, _db = app_server
    gid, token, _links = group
    page = _open(browser, f"{base}/dashboard?group={gid}&token={token}", PHONE)
    answered = page.get_by_test_id("stMetric").filter(has_text="Answered in round 1")
    expect(answered.get_by_test_id("stMetricValue")).to_have_text("5", timeout=TIMEOUT)
    expect(page.get_by_test_id("stImage").first).to_be_visible(timeout=TIMEOUT)
    page.wait_for_timeout(1500)
    full_page_screenshot(page, screenshot_dir() / "phone-dashboard-390.png")
    seen = horizontal_overflow(page)
    assert seen["document"] <= PHONE["width"] and seen["main"] <= seen["mainBox"], seen
    page.context.close()


# --- 10. wide tables, and no CSV export that would bypass the safe one -------------------------


def _document_overflow(page: Page) -> dict:
    return page.evaluate(
        """() => ({scroll: document.scrollingElement.scrollWidth,
                   client: document.scrollingElement.clientWidth})"""
    )


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390", "1280"])
def test_the_members_tables_fit_or_scroll_in_their_box(app_server, browser, group, viewport):
    base, _db = app_server
    gid, token, _links = group
    page = _open(browser, f"{base}/dashboard?group={gid}&token={token}", viewport)
    page.get_by_text("Members: duplicates, removal, merge").click()
    tool = page.locator(".st-key-db_members_tool [data-testid=stDataFrame]")
    expect(tool.locator(".dvn-scroller")).to_be_visible(timeout=TIMEOUT)
    page.get_by_role("tab", name="Members").click()
    table = page.locator(".st-key-db_members [data-testid=stDataFrame]")
    expect(table.locator(".dvn-scroller")).to_be_visible(timeout=TIMEOUT)
    table.scroll_into_view_if_needed()
    page.wait_for_timeout(1000)
    width = viewport["width"]
    full_page_screenshot(page, screenshot_dir() / f"dashboard-members-{width}.png")

    seen = _document_overflow(page)
    assert seen["scroll"] <= seen["client"], seen  # the page itself never scrolls sideways
    _fits(page, width)  # each table inside the window: a wide one scrolls in its own box
    if viewport is DESKTOP:  # at 1280 px the Members table fits whole, its last column too
        grid = table.locator(".dvn-scroller").evaluate(
            "e => ({scroll: e.scrollWidth, client: e.clientWidth})"
        )
        assert grid["scroll"] <= grid["client"] + 1, grid

    # Streamlit's own "Download as CSV" is off (client.disableDataExport): its file would not
    # neutralise a name that starts with = + - @ (model/spreadsheet.py does, in the app's CSV).
    table.hover()
    toolbar = page.get_by_test_id("stElementToolbarButton")
    expect(toolbar.locator("button[aria-label^='Search']").first).to_be_visible(timeout=TIMEOUT)
    assert page.locator("button[aria-label^='Download as CSV']").count() == 0
    page.context.close()


def test_the_report_tables_scroll_in_their_box(browser):
    """The HTML report, as a browser lays it out: a wide table scrolls inside its own box, the
    page never sideways (two members: the report without a fit, with every table)."""
    from model.analysis import analyse
    from model.report import html_report

    evidence = parse_evidence(EXAMPLE_EVIDENCE)
    responses = [
        validate_response(raw_response(name, scen), evidence=evidence)
        for name, scen in (
            ("Ada Lovelace-Byron of Ockham", (0.6, 0.2, 0.15, 0.05)),
            ("Bo", (0.3, 0.3, 0.2, 0.2)),
        )
    ]
    report = html_report(analyse(responses, evidence=evidence, random_seed=1), title="Report")
    for viewport in (PHONE, DESKTOP):
        page = browser.new_context(viewport=viewport).new_page()
        page.set_content(report)
        seen = _document_overflow(page)
        assert seen["scroll"] <= seen["client"], (viewport, seen)
        boxes = page.evaluate(
            """() => [...document.querySelectorAll('.table-wrap')].map(
                w => [w.scrollWidth > w.clientWidth, getComputedStyle(w).overflowX])"""
        )
        assert boxes and all(overflow == "auto" for _, overflow in boxes)
        if viewport is PHONE:  # the Members table is wider than a phone: it scrolls in its box
            assert any(wide for wide, _ in boxes)
        page.context.close()
