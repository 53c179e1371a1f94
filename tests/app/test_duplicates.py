"""One member, one answer: the Elicit page recognises a browser that answered before, and the
facilitator's members tool removes, merges and restores duplicates, through AppTest.

AppTest cannot send a cookie (`st.context.cookies` comes from the browser's request), so
these tests stand in for the browser's request by replacing Streamlit's private
`streamlit.runtime.context._get_client_context` for the run; the browser test
`tests/e2e/test_one_member_one_answer.py` proves the real cookie round trip.
"""

from __future__ import annotations

import types
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app_pages.sections.members import name_key, possible_duplicates
from model.example import EXAMPLE_EVIDENCE
from model.schema import validate_response
from priors import parse_evidence
from store import Participant
from tests.model.helpers import raw_response

APP = str(Path(__file__).parents[2] / "app.py")
SCENARIOS = ("A", "B", "C", "D")


@pytest.fixture
def cookies(monkeypatch):
    """The cookies the 'browser' sends: fill the dict before `run()`."""
    sent: dict[str, str] = {}
    client = types.SimpleNamespace(cookies=sent, headers={})
    monkeypatch.setattr("streamlit.runtime.context._get_client_context", lambda: client)
    return sent


def _answer(db, group_id: str, name: str, scen=(0.6, 0.2, 0.15, 0.05)):
    payload = validate_response(
        raw_response(name, scen), evidence=parse_evidence(EXAMPLE_EVIDENCE)
    ).to_dict()
    participant, token = db.add_participant(group_id, name)
    db.add_revision(participant.id, round=1, payload=payload)
    return participant, token


def _elicit(**params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(params)
    return at.switch_page("app_pages/elicit.py")


def _has(at: AppTest, key: str) -> bool:
    try:
        at.get_by_key(key)
    except KeyError:
        return False
    return True


def _texts(at: AppTest) -> str:
    parts = [
        e.value
        for kind in ("markdown", "text", "caption", "error", "info", "warning", "success")
        for e in getattr(at, kind)
    ]
    return "\n".join(map(str, parts)).replace("\\", "")


# --- possible duplicates ----------------------------------------------------------------------


def _p(pid: int, name: str) -> Participant:
    import datetime as dt

    return Participant(pid, "g", name, dt.datetime(2025, 1, 1, tzinfo=dt.UTC))


def test_names_compare_ignoring_case_spaces_and_unicode_spelling():
    assert name_key(" Ada  Lovelace ") == name_key("ada lovelace") == name_key("ADALOVELACE")
    assert name_key("Ａｄａ") == name_key("ada")  # full-width letters (NFKC)
    assert name_key("Ada L.") != name_key("Ada")


def test_possible_duplicates_by_name_or_identical_numbers():
    ada, ada2, bo, cy, dee = (
        _p(1, "Ada"),
        _p(2, " ada"),
        _p(3, "Bo"),
        _p(4, "Cy"),
        _p(5, "Dee"),
    )
    same = raw_response("x", (0.3, 0.3, 0.2, 0.2))
    answers = {
        1: raw_response("Ada"),
        3: same,
        4: {**same, "participant": "Cy", "rationale": "other words, same numbers"},
        5: raw_response("Dee", (0.25, 0.25, 0.25, 0.25)),
    }
    assert possible_duplicates([ada, ada2, bo, cy, dee], answers) == {
        1: (2,),
        2: (1,),
        3: (4,),
        4: (3,),
    }
    # One changed number and it is no longer "identical answers".
    answers[4] = {**answers[4], "p_scheming": 0.06}
    assert possible_duplicates([bo, cy], answers) == {}


# --- the Elicit page: a browser that answered before --------------------------------------------


def test_a_browser_that_answered_is_offered_its_answers(db, cookies):
    group, _ = db.create_group("Reading group", evidence=EXAMPLE_EVIDENCE)
    ada, token = _answer(db, group.id, "Ada <b>[x](http://evil.example)</b>")
    cookies[f"cruxboard_{group.id}"] = token

    at = _elicit(group=group.id).run()
    assert not at.exception
    assert "You have answered in this group as" in _texts(at)
    assert "Ada <b>[x](http://evil.example)</b>" in _texts(at)  # escaped, shown literally
    assert at.button(key="elicit_continue") and at.button(key="elicit_answer_as_someone_else")
    assert _has(at, "elicit_welcome_back")
    assert not at.number_input  # no blank form to answer twice by accident
    assert at.query_params == {"group": group.id}  # the token is not put in the address

    at.button(key="elicit_continue").click().run()
    assert not at.exception
    assert at.query_params == {"group": group.id, "p": token}  # now the come-back link
    assert [at.number_input(key=f"el_cred_{s}").value for s in SCENARIOS] == [60, 20, 15, 5]
    assert _has(at, "elicit_comeback_link")
    assert db.participants(group.id) == [ada]  # nothing written


def test_answer_as_someone_else_gives_a_blank_form_and_a_new_member(db, cookies):
    group, _ = db.create_group("Reading group", evidence=EXAMPLE_EVIDENCE)
    ada, token = _answer(db, group.id, "Ada")
    cookies[f"cruxboard_{group.id}"] = token

    at = _elicit(group=group.id).run()
    at.button(key="elicit_answer_as_someone_else").click().run()
    assert not at.exception and not _has(at, "elicit_welcome_back")
    assert all(n.value is None for n in at.number_input)
    assert "Ada" not in _texts(at)
    for s, v in zip(SCENARIOS, (25, 25, 25, 25), strict=True):
        at.number_input(key=f"el_cred_{s}").set_value(v)
    at.text_input(key="el_name").input("Bo")
    at.run()
    at.button(key="elicit_submit").click().run()
    assert not at.exception and not at.error
    assert [p.display_name for p in db.participants(group.id)] == ["Ada", "Bo"]


@pytest.mark.parametrize("kind", ["made up", "other group", "facilitator", "empty"])
def test_a_cookie_the_store_does_not_verify_shows_no_one(db, cookies, kind):
    group, facilitator = db.create_group("Reading group", evidence=EXAMPLE_EVIDENCE)
    _answer(db, group.id, "Ada")
    other, _ = db.create_group("Other", evidence=EXAMPLE_EVIDENCE)
    _, stranger = _answer(db, other.id, "Zed")
    cookies[f"cruxboard_{group.id}"] = {
        "made up": "x" * 43,
        "other group": stranger,
        "facilitator": facilitator,
        "empty": "",
    }[kind]
    at = _elicit(group=group.id).run()
    assert not at.exception and not at.error
    assert not _has(at, "elicit_welcome_back")
    assert "Ada" not in _texts(at) and "Zed" not in _texts(at)
    assert all(n.value is None for n in at.number_input)  # the ordinary blank form


def test_a_come_back_link_wins_over_the_cookie(db, cookies):
    group, _ = db.create_group("Reading group", evidence=EXAMPLE_EVIDENCE)
    _, ada_token = _answer(db, group.id, "Ada")
    _, bo_token = _answer(db, group.id, "Bo", (0.1, 0.2, 0.3, 0.4))
    cookies[f"cruxboard_{group.id}"] = ada_token
    at = _elicit(group=group.id, p=bo_token).run()
    assert not at.exception and not _has(at, "elicit_welcome_back")
    assert at.number_input(key="el_cred_A").value == 10  # Bo's answers


def test_a_set_aside_member_is_not_offered_and_is_told_why(db, cookies):
    group, _ = db.create_group("Reading group", evidence=EXAMPLE_EVIDENCE)
    ada, _ = _answer(db, group.id, "Ada")
    dup, dup_token = _answer(db, group.id, "ada")
    db.merge_participants(group.id, ada.id, dup.id)
    cookies[f"cruxboard_{group.id}"] = dup_token
    at = _elicit(group=group.id).run()
    assert not at.exception and not _has(at, "elicit_welcome_back")
    assert "the facilitator has since set those answers aside" in _texts(at)
    assert "Ada" not in _texts(at).replace("Reading", "")
    assert all(n.value is None for n in at.number_input)


def test_the_first_answer_is_kept_in_a_cookie(db, cookies):
    group, _ = db.create_group("Reading group", evidence=EXAMPLE_EVIDENCE)
    at = _elicit(group=group.id).run()
    assert not at.get("html")  # nobody yet: nothing to remember
    for s, v in zip(SCENARIOS, (40, 30, 20, 10), strict=True):
        at.number_input(key=f"el_cred_{s}").set_value(v)
    at.text_input(key="el_name").input("Ada")
    at.run()
    at.button(key="elicit_submit").click().run()
    assert not at.exception and not at.error
    token = at.session_state["edit_tokens"][group.id]
    (script,) = [h.proto.body for h in at.get("html")]
    assert f'document.cookie = "cruxboard_{group.id}={token}; path=" + path' in script
    assert "samesite=lax" in script and "max-age=15552000" in script
    assert at.get("html")[0].proto.unsafe_allow_javascript
    at.run()  # once is enough for this session
    assert not at.get("html")


# --- the facilitator's members tool ------------------------------------------------------------


def _tool_script() -> None:
    import streamlit as st

    from app_pages import common
    from app_pages.sections import members

    store = common.get_store()
    members.render(store, store.get_group(st.session_state["gid"]), token=st.session_state["tok"])


def _tool(gid: str, token: str) -> AppTest:
    at = AppTest.from_function(_tool_script, default_timeout=60)
    at.session_state["gid"] = gid
    at.session_state["tok"] = token
    return at.run()


def _table(at: AppTest):
    return at.get_by_key("db_members_tool").dataframe[0].value


def _confirm(at: AppTest):
    (box,) = [c for c in at.checkbox if str(c.key).startswith("members_confirm")]
    return box


def test_the_tool_lists_members_and_flags_possible_duplicates(db):
    group, token = db.create_group("Reading group", evidence=EXAMPLE_EVIDENCE)
    ada, _ = _answer(db, group.id, "Ada Lovelace")
    _answer(db, group.id, "Bo", (0.1, 0.2, 0.3, 0.4))
    dup, _ = _answer(db, group.id, " ada lovelace", (0.25, 0.25, 0.25, 0.25))
    db.add_participant(group.id, "Cy")  # joined, never answered

    at = _tool(group.id, token)
    assert not at.exception
    table = _table(at)
    assert list(table["member"]) == [
        f"#{ada.id} Ada Lovelace",
        f"#{ada.id + 1} Bo",
        f"#{dup.id}  ada lovelace",
        f"#{dup.id + 1} Cy",
    ]
    assert list(table["status"]) == ["counted"] * 4
    assert list(table["possible duplicate of"]) == [
        f"#{dup.id}  ada lovelace",
        "",
        f"#{ada.id} Ada Lovelace",
        "",
    ]
    assert list(table["last answer (UTC)"])[-1] == "–"
    assert "2 members may be duplicates" in at.warning[0].value


def test_removing_asks_for_confirmation_then_writes(db):
    group, token = db.create_group("Reading group", evidence=EXAMPLE_EVIDENCE)
    _answer(db, group.id, "Ada")
    bo, _ = _answer(db, group.id, "Bo")

    at = _tool(group.id, token)
    at.selectbox(key="members_pick").set_value(bo.id).run()
    assert at.radio(key="members_action").value == "Remove"
    assert at.button(key="members_apply").disabled  # not before the box is ticked
    assert "Yes, remove" in _confirm(at).label
    _confirm(at).check().run()
    at.button(key="members_apply").click().run()
    assert not at.exception
    assert set(db.removals(group.id)) == {bo.id}
    assert [p.display_name for p in db.participants(group.id)] == ["Ada"]
    assert f"#{bo.id} Bo removed: their answers stay stored" in at.success[0].value.replace(
        "\\", ""
    )
    assert list(_table(at)["status"]) == ["counted", "removed"]

    # Restore, the same way.
    assert at.selectbox(key="members_pick").value == bo.id
    assert at.button(key="members_apply").label == "Restore"
    assert _confirm(at).value is False  # a fresh confirmation for each change
    _confirm(at).check().run()
    at.button(key="members_apply").click().run()
    assert db.removals(group.id) == {}
    assert [c.action for c in db.status_changes(group.id)] == ["removed", "restored"]


def test_merging_keeps_the_chosen_member(db):
    group, token = db.create_group("Reading group", evidence=EXAMPLE_EVIDENCE)
    ada, _ = _answer(db, group.id, "Ada")
    _answer(db, group.id, "Bo")
    dup, _ = _answer(db, group.id, "ADA")

    at = _tool(group.id, token)
    at.selectbox(key="members_pick").set_value(dup.id).run()
    at.radio(key="members_action").set_value("Merge into another member").run()
    assert at.selectbox(key="members_into").value == ada.id  # the flagged one is suggested
    _confirm(at).check().run()
    at.button(key="members_apply").click().run()
    assert not at.exception
    (change,) = db.status_changes(group.id)
    assert (change.participant_id, change.action, change.into_participant_id) == (
        dup.id,
        "merged",
        ada.id,
    )
    assert list(_table(at)["status"]) == ["counted", "counted", f"merged into #{ada.id} Ada"]
    message = at.success[0].value.replace("\\", "")
    assert f"#{dup.id} ADA merged into #{ada.id} Ada, whose answers stand" in message
    assert [p.display_name for p, _ in db.latest_revisions(group.id, round=1)] == ["Ada", "Bo"]


def test_a_change_is_written_only_with_the_facilitators_token(db):
    group, token = db.create_group("Reading group", evidence=EXAMPLE_EVIDENCE)
    other, other_token = db.create_group("Other", evidence=EXAMPLE_EVIDENCE)
    bo, _ = _answer(db, group.id, "Bo")
    for wrong in ("wrong", other_token):
        at = _tool(group.id, wrong)
        _confirm(at).check().run()
        at.button(key="members_apply").click().run()
        assert not at.exception
        assert "Not allowed" in at.error[0].value
        assert db.status_changes(group.id) == []


def test_a_refused_change_says_why_and_writes_nothing(db):
    group, token = db.create_group("Reading group", evidence=EXAMPLE_EVIDENCE)
    bo, _ = _answer(db, group.id, "Bo")
    at = _tool(group.id, token)
    _confirm(at).check().run()
    db.remove_participant(group.id, bo.id)  # another facilitator tab was quicker
    at.button(key="members_apply").click().run()
    assert not at.exception
    assert "Nothing was changed" in at.error[0].value and "already removed" in at.error[0].value
    assert len(db.status_changes(group.id)) == 1
