"""One member, one answer, in Debian's Chromium: a browser that answered is recognised in a new
tab and offered its answers; another browser is not; answering again adds no member.

Session state dies with the tab, so only a real browser proves that the cookie set after the
first answer comes back with the next page's request and that the store verifies it.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from model.example import EXAMPLE_EVIDENCE
from store import Store

pytestmark = pytest.mark.e2e
TIMEOUT = 120_000
OFFER = ".st-key-elicit_welcome_back"
NAME = "Ada <i>Lovelace</i>"


def _set_number(page: Page, key: str, value: int) -> None:
    box = page.locator(f".st-key-{key} input")
    box.fill(str(value))
    box.press("Tab")


def _answer(page: Page, name: str, credences: tuple[int, ...]) -> str:
    """Answer on the blank form the page shows; return the come-back link it shows then."""
    expect(page.locator(".st-key-el_cred_A input")).to_be_visible(timeout=TIMEOUT)
    for s, v in zip("ABCD", credences, strict=True):
        _set_number(page, f"el_cred_{s}", v)
    name_box = page.locator(".st-key-el_name input")
    name_box.fill(name)
    name_box.press("Tab")
    expect(page.locator(".st-key-elicit_feedback")).to_be_visible(timeout=TIMEOUT)
    page.locator(".st-key-elicit_submit button").click()
    link = page.locator(".st-key-elicit_comeback_link code")
    expect(link).to_be_visible(timeout=TIMEOUT)
    return link.inner_text().strip()


def _cookie(page: Page, name: str) -> dict:
    """The browser's cookie `name`, once the page's script has set it (it runs on render)."""
    for _ in range(100):
        found = [c for c in page.context.cookies() if c["name"] == name]
        if found:
            return found[0]
        page.wait_for_timeout(100)
    raise AssertionError(f"no cookie {name} after 10 s")


def test_a_browser_that_answered_continues_and_another_does_not(app_server, browser):
    base, db = app_server
    with Store(f"sqlite:///{db}") as store:
        group, _ = store.create_group("One answer each", evidence=EXAMPLE_EVIDENCE)
    url = f"{base}/elicit?group={group.id}"

    ada = browser.new_context()
    first = ada.new_page()
    first.goto(url)
    comeback = _answer(first, NAME, (60, 20, 15, 5))
    token = comeback.rsplit("p=", 1)[1]
    cookie = _cookie(first, f"cruxboard_{group.id}")
    assert cookie["value"] == token
    assert (cookie["path"], cookie["sameSite"], cookie["expires"] > 0) == ("/", "Lax", True)

    # The same browser, a new tab: the participant link offers her answers, nothing else.
    again = ada.new_page()
    again.goto(url)
    offer = again.locator(OFFER)
    expect(offer).to_contain_text("You have answered in this group as", timeout=TIMEOUT)
    expect(offer).to_contain_text(NAME)  # shown as text, not as HTML
    assert again.locator(f"{OFFER} i").count() == 0
    assert again.locator(".st-key-el_cred_A").count() == 0  # no blank form to fill twice
    again.get_by_role("button", name="Continue with your answers").click()
    expect(again.locator(".st-key-el_cred_A input")).to_have_value("60", timeout=TIMEOUT)
    expect(again).to_have_url(f"{url}&p={token}", timeout=TIMEOUT)  # now the come-back link
    # Saving the same answers again stores nothing new, and says so; a change is a revision.
    again.get_by_role("button", name="Save a new revision").click()
    expect(again.get_by_text("These answers are already saved")).to_be_visible(timeout=TIMEOUT)
    expect(again.get_by_text("What you said before (1 saved)")).to_be_visible()
    _set_number(again, "el_cred_A", 55)
    _set_number(again, "el_cred_B", 25)
    expect(again.locator(".st-key-elicit_total")).to_contain_text("Total: 100 %")
    again.get_by_role("button", name="Save a new revision").click()
    expect(again.get_by_text("What you said before (2 saved)")).to_be_visible(timeout=TIMEOUT)

    # Another browser (a new context has no cookie) is not recognised.
    other = browser.new_context()
    stranger = other.new_page()
    stranger.goto(url)
    expect(stranger.locator(".st-key-el_cred_A input")).to_be_visible(timeout=TIMEOUT)
    assert stranger.locator(OFFER).count() == 0
    assert "Lovelace" not in stranger.locator("body").inner_text()
    other.close()

    # "Answer as someone else" in the first browser adds a new member, explicitly.
    third = ada.new_page()
    third.goto(url)
    third.get_by_role("button", name="Answer as someone else").click(timeout=TIMEOUT)
    expect(third.locator(".st-key-el_cred_A input")).to_have_value("", timeout=TIMEOUT)
    bo_link = _answer(third, "Bo", (10, 20, 30, 40))
    assert bo_link != comeback
    ada.close()

    with Store(f"sqlite:///{db}") as store:
        members = store.participants(group.id)
        assert [p.display_name for p in members] == [NAME, "Bo"]
        assert [len(store.revisions(p.id)) for p in members] == [2, 1]


def test_a_double_click_on_submit_saves_one_member_once(app_server, browser):
    """What a person sees after a double click: one member, one revision. Here Chromium's two
    clicks reach the server as one trigger, so this passes even without the guards; the race
    they guard against (a second run while the first saves) is tested on the page,
    tests/app/test_elicit_submit.py."""
    base, db = app_server
    with Store(f"sqlite:///{db}") as store:
        group, _ = store.create_group("Double click", evidence=EXAMPLE_EVIDENCE)
    ctx = browser.new_context()
    page = ctx.new_page()
    page.goto(f"{base}/elicit?group={group.id}")
    expect(page.locator(".st-key-el_cred_A input")).to_be_visible(timeout=TIMEOUT)
    for s, v in zip("ABCD", (40, 30, 20, 10), strict=True):
        _set_number(page, f"el_cred_{s}", v)
    name_box = page.locator(".st-key-el_name input")
    name_box.fill("Cy")
    name_box.press("Tab")
    expect(page.locator(".st-key-elicit_feedback")).to_be_visible(timeout=TIMEOUT)
    page.locator(".st-key-elicit_submit button").dblclick()
    expect(page.locator(".st-key-elicit_comeback_link code")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_text("What you said before (1 saved)")).to_be_visible(timeout=TIMEOUT)
    page.wait_for_timeout(1500)  # anything the second click would still do, it has done
    ctx.close()
    with Store(f"sqlite:///{db}") as store:
        members = store.participants(group.id)
        assert [p.display_name for p in members] == ["Cy"]
        assert len(store.revisions(members[0].id)) == 1
