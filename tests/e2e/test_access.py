"""Who sees what, and hostile text, in Debian's Chromium against the running app.

The group is written through the store (as the app would write it) so each check starts
from known answers; everything a person sees is then read from the real browser.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from model.example import EXAMPLE_EVIDENCE
from model.schema import validate_response
from priors import parse_evidence
from store import Store
from tests.e2e.server import wait_until_idle
from tests.model.helpers import raw_response

pytestmark = pytest.mark.e2e
TIMEOUT = 120_000  # a fit may compile the model first (about 30 s)
NOT_ALLOWED = "Not allowed"

GROUP_NAME = "Secret reading group 7"
SCRIPT_NAME = '<img src=x onerror="window.__pwned=1">Eve'
HOSTILE_RATIONALE = (
    "<script>window.__pwned=2</script> [click me](http://evil.example/) "
    "![tracker](http://evil.example/pixel.png) **not bold** $x^2$ <b>not bold either</b>"
)
BIG_RATIONALE = "<b>x</b>" * 131_072  # 1 MiB of markup, within the 1,000,000-character limit
MEMBERS = [
    ("Ada Lovelace", (0.6, 0.2, 0.15, 0.05), "Evals have tracked behaviour so far."),
    (SCRIPT_NAME, (0.1, 0.1, 0.4, 0.4), HOSTILE_RATIONALE),
    ("[Bo](http://evil.example/bo)", (0.3, 0.3, 0.2, 0.2), BIG_RATIONALE[:1_000_000]),
]


@pytest.fixture(scope="module")
def group(app_server):
    """A group of three on the app's database: (id, facilitator token, member tokens)."""
    _base, db = app_server
    evidence = parse_evidence(EXAMPLE_EVIDENCE)
    with Store(f"sqlite:///{db}") as store:
        g, token = store.create_group(GROUP_NAME, evidence=EXAMPLE_EVIDENCE)
        members = {}
        for name, scen, rationale in MEMBERS:
            payload = validate_response(
                {**raw_response(name, scen), "rationale": rationale}, evidence=evidence
            ).to_dict()
            participant, edit = store.add_participant(g.id, name)
            store.add_revision(participant.id, round=1, payload=payload)
            members[name] = edit
            # stored exactly as given, however hostile or long
            assert store.revisions(participant.id)[0].payload["rationale"] == rationale
            assert participant.display_name == name
        other, other_token = store.create_group("Another group", evidence=EXAMPLE_EVIDENCE)
    return g.id, token, members, other_token


def _body(page: Page) -> str:
    return page.locator("body").inner_text()


def _assert_nothing_leaks(page: Page) -> None:
    text = _body(page)
    assert GROUP_NAME not in text
    for name, _scen, _rationale in MEMBERS:
        assert name not in text
    assert "Evals have tracked" not in text and "answered" not in text.lower()
    assert page.get_by_test_id("stMetric").count() == 0
    assert page.get_by_test_id("stDataFrame").count() == 0
    assert page.get_by_test_id("stDownloadButton").count() == 0
    assert page.get_by_test_id("stImage").count() == 0


def _not_allowed(browser: Browser, url: str) -> None:
    ctx = browser.new_context()
    page = ctx.new_page()
    page.goto(url)
    expect(page.get_by_text(NOT_ALLOWED)).to_be_visible(timeout=TIMEOUT)
    page.wait_for_timeout(500)  # nothing else arrives after the refusal
    _assert_nothing_leaks(page)
    ctx.close()


def test_wrong_or_missing_tokens_get_not_allowed_and_see_nothing(app_server, browser, group):
    base, _db = app_server
    gid, token, members, other_token = group
    member_token = members["Ada Lovelace"]
    refused = [
        f"{base}/dashboard?group={gid}",  # no token
        f"{base}/dashboard?group={gid}&token=wrong",
        f"{base}/dashboard?group={gid}&token={'x' * 43}",
        f"{base}/dashboard?group={gid}&token={member_token}",  # a member's token
        f"{base}/dashboard?group={gid}&token={other_token}",  # another group's facilitator
        f"{base}/dashboard?group=nosuchgroup&token={token}",  # the right token, wrong group
        f"{base}/dashboard",
        f"{base}/elicit?group={gid}&p=wrong",  # a made-up come-back link
        f"{base}/elicit?group={gid}&p={token}",  # the facilitator's token as a member's
    ]
    for url in refused:
        _not_allowed(browser, url)

    # The right token opens the dashboard; a fresh browser with a wrong one still cannot.
    ctx = browser.new_context()
    page = ctx.new_page()
    page.goto(f"{base}/dashboard?group={gid}&token={token}")
    metric = page.get_by_test_id("stMetric").filter(has_text="Answered in round 1")
    expect(metric.get_by_test_id("stMetricValue")).to_have_text("3", timeout=TIMEOUT)
    ctx.close()
    _not_allowed(browser, f"{base}/dashboard?group={gid}&token=wrong")


def test_a_member_sees_their_own_answers_and_the_group_never_anothers(app_server, browser, group):
    base, _db = app_server
    gid, _token, members, _ = group
    ctx = browser.new_context()
    page = ctx.new_page()
    page.goto(f"{base}/elicit?group={gid}&p={members['Ada Lovelace']}")
    expect(page.locator(".st-key-el_cred_A input")).to_have_value("60", timeout=TIMEOUT)
    view = page.locator(".st-key-elicit_group_view")
    expect(view).to_contain_text("3 member(s) have answered", timeout=TIMEOUT)
    # below five members the group's numbers are withheld: they would reveal the others
    expect(view).to_contain_text("appears once 5 members have answered", timeout=TIMEOUT)
    assert view.get_by_test_id("stDataFrame").count() == 0
    text = _body(page)
    assert "Evals have tracked behaviour so far." in text  # her own rationale
    assert "Eve" not in text and "evil.example" not in text and "not bold" not in text
    # A member has no menu to the dashboard; opening its address in the same browser
    # does not open it either.
    assert page.get_by_role("link", name="Dashboard").count() == 0
    page.goto(f"{base}/dashboard?group={gid}")
    expect(page.get_by_text(NOT_ALLOWED)).to_be_visible(timeout=TIMEOUT)
    assert page.get_by_test_id("stMetric").count() == 0
    assert "Ada Lovelace" not in _body(page)
    ctx.close()


def _expect_plain(page: Page, text: str) -> None:
    """`text` is shown, character for character, in a plain-text element (st.text)."""
    element = page.get_by_test_id("stText").filter(has_text=text).first
    expect(element).to_be_visible(timeout=TIMEOUT)
    assert element.inner_text() == text


def _assert_inert(page: Page) -> None:
    """No script ran, and no link or image from user text exists in the page."""
    assert page.evaluate("() => window.__pwned === undefined")
    assert page.locator('a[href*="evil.example"]').count() == 0
    assert page.locator('img[src*="evil.example"], img[src="x"]').count() == 0
    assert page.locator("b, strong").filter(has_text="not bold").count() == 0


def test_hostile_text_is_shown_as_plain_text(app_server, browser, group, tmp_path):
    base, _db = app_server
    gid, token, members, _ = group
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    page.goto(f"{base}/dashboard?group={gid}&token={token}")
    expect(page.get_by_role("tab", name="Members")).to_be_visible(timeout=TIMEOUT)
    page.get_by_role("tab", name="Members").click()
    page.get_by_text("Rationales and coherence notes (plain text)").click()
    # The exact characters typed are on the page, as text.
    for text in (SCRIPT_NAME, HOSTILE_RATIONALE, MEMBERS[2][0]):
        _expect_plain(page, text)
    shown = page.evaluate(
        """(start) => [...document.querySelectorAll('[data-testid="stText"]')]
            .map(e => e.innerText).filter(t => t.startsWith(start)).map(t => t.length)""",
        BIG_RATIONALE[:40],
    )
    assert shown == [1_000_000]  # the whole megabyte, as text
    _assert_inert(page)

    # The one-file report escapes it as well.
    page.get_by_role("tab", name="Exports").click()
    expect(page.locator(".st-key-db_reproduce code")).to_be_visible(timeout=TIMEOUT)
    page.locator(".st-key-db_live label").click()
    wait_until_idle(page, TIMEOUT)  # the toggle's rerun, and any Live check before it, are over
    expect(page.locator("[data-stale='true']")).to_have_count(0, timeout=TIMEOUT)
    page.get_by_role("button", name="Make the report (HTML)").click()
    expect(page.locator(".st-key-db_dl_report button")).to_be_visible(timeout=TIMEOUT)
    with page.expect_download() as download:
        page.locator(".st-key-db_dl_report button").click()
    report = tmp_path / "report.html"
    download.value.save_as(report)
    view = ctx.new_page()
    view.goto(report.as_uri())
    assert HOSTILE_RATIONALE in view.locator("body").inner_text()
    _assert_inert(view)

    # The member sees their own hostile text as plain text too.
    own = ctx.new_page()
    own.goto(f"{base}/elicit?group={gid}&p={members[SCRIPT_NAME]}")
    _expect_plain(own, HOSTILE_RATIONALE)
    _expect_plain(own, SCRIPT_NAME)  # "You answer as:" (the name is not editable)
    expect(own.locator(".st-key-el_name input")).to_have_count(0)
    _assert_inert(own)
    ctx.close()
