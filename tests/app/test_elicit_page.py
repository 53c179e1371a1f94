"""The member's Elicit page through Streamlit's AppTest: live feedback, saving, coming back.

Feedback while answers are entered writes nothing; Submit saves a revision and gives the
come-back link, which pre-fills the form and adds a revision, never overwriting; bad input,
evidence impossible under every scenario and a wrong come-back token are refused with
nothing written. AppTest keeps query parameters on a page switch and a real browser does
not, so the form surviving navigation is checked here through session state; the browser
tests prove the navigation itself.
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.helpers import _answer, _group, _page, _rows, _seed_members, _texts

SCENARIOS = ("A", "B", "C", "D")


def _fill(at: AppTest, credences, *, name: str | None = None) -> None:
    for s, v in zip(SCENARIOS, credences, strict=True):
        if v is not None:
            at.number_input(key=f"el_cred_{s}").set_value(v)
    if name is not None:
        at.text_input(key="el_name").input(name)


def test_elicit_without_link_or_with_unknown_group(db):
    at = _page("app_pages/elicit.py").run()
    assert not at.exception and "participant link" in at.info[0].value
    at = _page("app_pages/elicit.py", group="nosuchgroup").run()
    assert not at.exception and "No group found" in at.error[0].value


def test_elicit_live_feedback_then_submit(db):
    gid, _ = _group(db)
    at = _page("app_pages/elicit.py", group=gid).run()
    assert not at.exception
    assert len(at.image) == 4  # one sketch per scenario
    # nothing is pre-entered, references are shown as captions
    assert all(n.value is None for n in at.number_input)
    assert any("reference: 60 %" in c.value for c in at.caption)
    assert "Feedback appears once" in at.info[0].value

    _fill(at, (40, 30, 20, 10), name="Ada [link](http://x.example) <b>")
    at.number_input(key="el_fac_non_corrigibility").set_value(50)
    at.number_input(key="el_fac_misaligned_goals").set_value(60)
    at.number_input(key="el_fac_evades_guardrails").set_value(70)
    at.number_input(key="el_fac_strategic_reasoning").set_value(10)
    at.number_input(key="el_p_scheming").set_value(20)
    at.number_input(key="el_read_monitoring_counts_D").set_value(1)
    at.text_area(key="el_rationale").input("Evals **track** behaviour. $x$")
    at.run()
    assert not at.exception
    assert at.success[0].value == "Total: 100 %"
    tables = {d.value.columns[0]: d.value for d in at.dataframe}
    assert list(tables["you said"]["you said"]) == ["40 %", "30 %", "20 %", "10 %"]
    log_odds = tables["B vs A"]
    assert list(log_odds.index) == [
        "your credences (prior)",
        "evidence: monitoring_counts",
        "evidence: no_collusion",
        "after the evidence (sum)",
    ]
    assert log_odds.loc["your credences (prior)", "B vs A"] == "-0.29"  # log(30/40)
    assert [m.value for m in at.metric] == ["2.1 %", "20.0 %", "10.0 %"]  # 0.5 * 0.6 * 0.7 * 0.1
    warnings = " ".join(w.value for w in at.warning)
    assert "Warning sign" in warnings and "multiply to" in warnings
    assert "monitoring_counts" in tables["A"].index  # undetected misalignment table
    assert _rows(db, "participants") == 0  # feedback writes nothing

    at.button(key="elicit_submit").click().run()
    assert not at.exception and not at.error
    assert "Saved your answers for round 1" in at.success[-1].value.replace("\\", "")
    (participant,) = db.participants(gid)
    assert participant.display_name == "Ada [link](http://x.example) <b>"
    (revision,) = db.revisions(participant.id)
    payload = revision.payload
    assert payload["scenarios"] == {"A": 0.4, "B": 0.3, "C": 0.2, "D": 0.1}
    assert payload["readings"]["monitoring_counts"] == {"A": None, "B": None, "C": None, "D": 0.01}
    assert payload["rationale"] == "Evals **track** behaviour. $x$"
    token = at.session_state["edit_tokens"][gid]
    assert db.participant_for_token(gid, token) == participant
    assert at.query_params == {"group": gid, "p": token}
    saved_link = at.get_by_key("elicit_saved_link")  # the come-back link, under the message
    assert saved_link.code[0].value == f"/elicit?group={gid}&p={token}"
    # the name and rationale are plain text, never Markdown
    assert participant.display_name in [t.value for t in at.text]
    assert "Evals **track** behaviour. $x$" in [t.value for t in at.text]
    # the group view: only this member so far, so only the pools (their own answers)
    assert "1 member(s) have answered in round 1" in _texts(at)
    assert "linear" in [d.value for d in at.dataframe][-1].columns


@pytest.mark.parametrize(
    ("credences", "name", "message"),
    [
        ((40, 30, 20, 0), "Bo", "add up to 90 %; they must sum to 100 %"),
        ((40, 30, 30, None), "Bo", "missing: D"),
        ((None, None, None, None), "Bo", "missing: A, B, C, D"),
        ((40, 30, 20, 10), None, "display name"),
    ],
)
def test_elicit_bad_input_shows_message_and_writes_nothing(db, credences, name, message):
    gid, _ = _group(db)
    at = _page("app_pages/elicit.py", group=gid).run()
    _fill(at, credences, name=name)
    at.run()
    at.button(key="elicit_submit").click().run()
    assert not at.exception
    assert len(at.error) == 1
    text = at.error[0].value.replace("\\", "")
    assert message in text and "Nothing was saved" in text
    assert _rows(db, "participants") == 0 and _rows(db, "revisions") == 0
    assert "edit_tokens" not in at.session_state


def test_elicit_refuses_evidence_impossible_under_every_scenario(db):
    gid, _ = _group(db)
    at = _page("app_pages/elicit.py", group=gid).run()
    _fill(at, (40, 30, 20, 10), name="Bo")
    for s in SCENARIOS:
        at.number_input(key=f"el_read_no_collusion_{s}").set_value(0)
    at.run()
    assert "impossible under every scenario" in at.warning[-1].value.replace("\\", "")
    at.button(key="elicit_submit").click().run()
    assert "impossible under every scenario" in at.error[0].value.replace("\\", "")
    assert _rows(db, "participants") == 0


def test_elicit_rescale_button_makes_credences_add_up(db):
    gid, _ = _group(db)
    at = _page("app_pages/elicit.py", group=gid).run()
    assert at.button(key="elicit_rescale").disabled
    _fill(at, (20, 20, 20, 10))
    at.run()
    assert "Total: 70 %" in at.warning[0].value
    at.button(key="elicit_rescale").click().run()
    assert [at.number_input(key=f"el_cred_{s}").value for s in SCENARIOS] == [29, 29, 28, 14]
    assert at.success[0].value == "Total: 100 %"


def test_elicit_come_back_prefills_shows_history_and_adds_a_revision(db):
    gid, _ = _group(db)
    members = _seed_members(db, gid)
    participant, token = members[0]
    at = _page("app_pages/elicit.py", group=gid, p=token).run()
    assert not at.exception
    assert [at.number_input(key=f"el_cred_{s}").value for s in SCENARIOS] == [60, 20, 15, 5]
    assert at.number_input(key="el_p_scheming").value == 3
    assert at.number_input(key="el_read_monitoring_counts_D").value == 30
    history = next(d.value for d in at.dataframe if "saved (UTC)" in d.value.columns)
    assert len(history) == 1 and history.iloc[0]["A"] == "60 %"
    assert "Ada" in [t.value for t in at.text]
    # three answered: below five the group view shows only the count, no one's answers
    assert "3 member(s) have answered in round 1" in _texts(at)
    assert not [d for d in at.dataframe if "group consensus μ" in d.value.columns]
    assert not [t.value for t in at.text if t.value in ("Bo", "Chidi")]

    at.number_input(key="el_cred_A").set_value(50)
    at.number_input(key="el_cred_B").set_value(30)
    at.run()
    at.button(key="elicit_submit").click().run()
    assert not at.exception and not at.error
    revisions = db.revisions(participant.id)
    assert [r.payload["scenarios"]["A"] for r in revisions] == [0.6, 0.5]  # never overwritten
    history = next(d.value for d in at.dataframe if "saved (UTC)" in d.value.columns)
    assert list(history["A"]) == ["60 %", "50 %"]
    assert _rows(db, "participants") == 3


@pytest.mark.parametrize("token", ["not-a-token", "x" * 43, "y" * 5000])
def test_elicit_wrong_come_back_token_is_not_allowed_and_leaks_nothing(db, token):
    gid, facilitator = _group(db)
    (ada, ada_token), *_ = _seed_members(db, gid)
    for p in (token, facilitator):  # a made-up token, or the facilitator's in the wrong place
        at = _page("app_pages/elicit.py", group=gid, p=p).run()
        assert not at.exception
        assert "Not allowed" in at.error[0].value
        text = _texts(at)
        assert "Ada" not in text and "member(s)" not in text and "60 %" not in text
        assert not at.number_input and not at.text_input and not at.button and not at.dataframe
    # another group's member link does not open this group
    other, _ = _group(db)
    _, stranger = _answer(db, other, "Zed", (0.25, 0.25, 0.25, 0.25), 0.1, 0.1)
    at = _page("app_pages/elicit.py", group=gid, p=stranger).run()
    assert "Not allowed" in at.error[0].value and not at.number_input
    assert _rows(db, "participants") == 4 and _rows(db, "revisions") == 4  # nothing written
    # the right link still opens Ada's own answers
    at = _page("app_pages/elicit.py", group=gid, p=ada_token).run()
    assert not at.error and at.number_input(key="el_cred_A").value == 60


def test_elicit_form_survives_a_page_switch(db):
    gid, _ = _group(db)
    at = _page("app_pages/elicit.py", group=gid).run()
    _fill(at, (40, 30, 20, 10), name="Ada")
    at.run()
    at.query_params.clear()  # as a real browser's navigation does
    at.switch_page("app_pages/start.py").run()
    at.query_params.clear()
    at.switch_page("app_pages/elicit.py").run()
    assert not at.exception
    assert at.query_params == {"group": gid}  # the group came back from session state
    assert [at.number_input(key=f"el_cred_{s}").value for s in SCENARIOS] == [40, 30, 20, 10]
    assert at.text_input(key="el_name").value == "Ada"
