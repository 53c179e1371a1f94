"""The Start page as a facilitator meets it: the links first, one group per click, another
group only on purpose (AppTest).

A double click on Create is two script runs, and the second can start while the first is
still writing; both halves are tested here on the page (the browser walk clicks once): a
click while the first click's write is under way makes no group, and a group written by a
run that was stopped is shown by the next run, which makes no other.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from streamlit.testing.v1 import AppTest

from model.example import EXAMPLE_EVIDENCE

APP = str(Path(__file__).parents[2] / "app.py")
BASE = "http://cruxboard.example:8501"


def _groups(db) -> list[tuple[str, str]]:
    with closing(sqlite3.connect(db.path)) as conn:
        return conn.execute("SELECT id, name FROM groups ORDER BY created_at").fetchall()


def _start() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.context["url"] = BASE + "/"
    return at.run()


def _create(at: AppTest, name: str) -> AppTest:
    at.text_input(key="start_name").input(name)
    return at.form_submit_button(key="start_create").click().run()


def _has(at: AppTest, key: str) -> bool:
    try:
        at.get_by_key(key)
    except KeyError:
        return False
    return True


def _links(at: AppTest) -> dict[str, str]:
    return {
        key: at.get_by_key(key).code[0].value
        for key in ("start_join_link", "start_facilitator_link")
        if _has(at, key)
    }


def test_after_creating_the_links_come_first_and_the_form_is_gone(db):
    at = _create(_start(), "Reading group")
    assert not at.exception and not at.error
    ((gid, name),) = _groups(db)
    token = at.session_state["facilitator_tokens"][gid]
    assert _links(at) == {
        "start_join_link": f"{BASE}/elicit?group={gid}",
        "start_facilitator_link": f"{BASE}/dashboard?group={gid}&token={token}",
    }
    # the confirmation, then the links with one sentence on who gets which
    assert at.success[0].value == "Group created with 2 evidence item(s)."
    sentence = at.get_by_key("start_links").markdown[0].value
    assert "participant link" in sentence and "everyone in the group" in sentence
    assert "facilitator link" in sentence and "to yourself" in sentence
    # no form below them: nothing to click that would silently make a second group
    assert not at.form_submit_button and not at.text_input and not at.text_area
    assert not _has(at, "start_create") and not _has(at, "start_import")
    at.run()  # and a rerun (a reload of the page in this session) makes none either
    assert len(_groups(db)) == 1 and _links(at)["start_join_link"].endswith(gid)


def test_the_links_sit_above_everything_else_on_the_page(db):
    at = _create(_start(), "Reading group")
    order = [getattr(e, "key", None) for e in at.main.children.values()]
    assert order.index("start_links") < order.index("start_another")
    # nothing but the title and the confirmation above the links
    assert order.index("start_links") == 2


def test_another_group_is_an_explicit_action_that_warns_first(db):
    at = _create(_start(), "First group")
    first_links = _links(at)
    another = at.get_by_key("start_another")
    assert "will then no longer show the facilitator link" in another.warning[0].value
    assert at.button(key="start_another_button").disabled  # not before the box is ticked
    at.checkbox(key="start_confirm_another").check().run()
    assert not at.button(key="start_another_button").disabled
    at.button(key="start_another_button").click().run()
    assert not at.exception
    # the form is back, empty, and the first group's links are no longer shown
    assert at.text_input(key="start_name").value == ""
    assert at.text_area(key="start_evidence").value == EXAMPLE_EVIDENCE
    assert not at.code and not at.success
    assert len(_groups(db)) == 1  # the first group is kept
    at = _create(at, "Second group")
    assert [name for _, name in _groups(db)] == ["First group", "Second group"]
    second_links = _links(at)
    assert second_links["start_join_link"] != first_links["start_join_link"]
    assert not at.checkbox(key="start_confirm_another").value  # ticked afresh each time


def test_a_refused_group_keeps_the_form_and_says_why(db):
    at = _start()
    at.text_input(key="start_name").input("Reading group")
    at.text_area(key="start_evidence").input("[[evidence]\nid = 1")
    at.form_submit_button(key="start_create").click().run()
    assert "not valid TOML" in at.error[0].value.replace("\\", "")
    assert at.text_input(key="start_name").value == "Reading group"  # nothing to retype
    assert _has(at, "start_create") and not at.code
    assert _groups(db) == []


def test_a_group_written_by_a_stopped_run_is_shown_by_the_next(db):
    """A double click's first run can be stopped just after it wrote the group (the second
    run starts on another thread): the write is kept in a plain dict, and the next run shows
    that group's links and makes no other."""
    group, token = db.create_group("Reading group", evidence=EXAMPLE_EVIDENCE)
    at = AppTest.from_file(APP, default_timeout=60)
    at.context["url"] = BASE + "/"
    message = "Group created with 2 evidence item(s)."
    at.session_state["start_writing"] = {"group": group.id, "token": token, "message": message}
    at.run()
    assert not at.exception
    assert _links(at)["start_facilitator_link"].endswith(f"?group={group.id}&token={token}")
    assert at.success[0].value == message
    assert "start_writing" not in at.session_state
    assert not _has(at, "start_create") and len(_groups(db)) == 1


def test_a_failed_write_frees_the_form_for_another_try(db):
    at = _start()
    at.session_state["start_writing"] = {"failed": True}  # a write that was refused
    at = _create(at, "Reading group")
    assert not at.exception and len(_groups(db)) == 1 and _links(at)


def test_a_second_click_while_the_first_is_writing_makes_no_group(db):
    """The double click's second run: the first click has claimed the write and not finished.
    The second writes nothing and the page shows no error; once the first is done, its
    group's links are shown, and there is one group."""
    at = _start()
    box: dict = {}
    at.session_state["start_writing"] = box  # claimed by the first click, still writing
    at = _create(at, "Reading group")
    assert not at.exception and not at.error
    assert _groups(db) == []  # the second click wrote nothing
    group, token = db.create_group("Reading group", evidence=EXAMPLE_EVIDENCE)  # the first's
    box.update(group=group.id, token=token, message="Group created with 2 evidence item(s).")
    at.run()
    assert _links(at)["start_facilitator_link"].endswith(f"?group={group.id}&token={token}")
    assert len(_groups(db)) == 1 and not _has(at, "start_create")
