"""The member's page as people meet it (AppTest): only their page, refused values in words,
the values behind the evidence, a new round that says what it pre-fills, and every change.

The browser side (no menu, no Deploy button, the phone layout) is in tests/e2e/test_phone.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app_pages.routes import is_participant, navigation_position
from model.example import EXAMPLE_EVIDENCE
from model.schema import validate_response
from priors import parse_evidence
from tests.model.helpers import raw_response

APP = str(Path(__file__).parents[2] / "app.py")
SCENARIOS = ("A", "B", "C", "D")
FACTORS = ("non_corrigibility", "misaligned_goals", "evades_guardrails", "strategic_reasoning")


def _page(**params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(params)
    return at.switch_page("app_pages/elicit.py").run()


def _payload(evidence: str = EXAMPLE_EVIDENCE, **overrides) -> dict:
    return validate_response(raw_response(**overrides), evidence=parse_evidence(evidence)).to_dict()


def _member(db, evidence: str = EXAMPLE_EVIDENCE, *payloads: dict):
    """A group with one member who saved `payloads` in round 1: (group id, edit token)."""
    group, _ = db.create_group("Reading group", evidence=evidence)
    participant, token = db.add_participant(group.id, "Ada")
    for payload in payloads or (_payload(evidence),):
        db.add_revision(participant.id, round=1, payload=payload)
    return group.id, token


def _texts(at: AppTest) -> str:
    kinds = ("markdown", "text", "caption", "error", "info", "warning", "success")
    return "\n".join(str(e.value) for kind in kinds for e in getattr(at, kind))


def _values(at: AppTest, keys) -> list:
    return [at.number_input(key=k).value for k in keys]


# --- 3. who sees which pages ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "kept", "position"),
    [
        ({"group": "g1"}, {}, "hidden"),  # the participant link
        ({"group": "g1", "p": "edit"}, {}, "hidden"),  # a member's come-back link
        ({"group": "g1", "token": "t"}, {}, "sidebar"),  # the facilitator link
        ({"group": "g1"}, {"g1": "t"}, "sidebar"),  # the facilitator tries their own link
        ({"group": "g2"}, {"g1": "t"}, "hidden"),  # ... but is a member of another group
        ({}, {}, "sidebar"),  # no link: someone about to create a group
    ],
)
def test_the_menu_is_hidden_for_a_participant_only(params, kept, position):
    assert navigation_position(params, kept) == position
    assert is_participant(params, kept) == (position == "hidden")


# --- 5. a refused value in words ------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (150, "150 % is above 100 %: give a number from 0 to 100."),
        (-5, "-5 % is below 0 %: give a number from 0 to 100."),
    ],
)
def test_a_value_out_of_range_is_kept_and_refused_in_words_beside_it(db, typed, message):
    gid, _ = _member(db)
    at = _page(group=gid)
    at.number_input(key="el_cred_A").set_value(typed)
    at.number_input(key="el_fac_misaligned_goals").set_value(typed)
    at.run()
    assert not at.exception
    assert at.number_input(key="el_cred_A").value == typed  # what was typed, not refused
    assert [e.value for e in at.error] == [message, message]  # one under each box
    # the total counts what was typed
    assert f"Total: {typed} % of 100 % (1 of 4 entered)" in at.warning[0].value


def test_submit_names_every_value_out_of_range_and_writes_nothing(db):
    group, _ = db.create_group("Reading group", evidence=EXAMPLE_EVIDENCE)
    at = _page(group=group.id)
    for s, v in zip(SCENARIOS, (150, 0, 0, -50), strict=True):
        at.number_input(key=f"el_cred_{s}").set_value(v)
    at.number_input(key="el_read_monitoring_counts_D").set_value(101)
    at.text_input(key="el_name").input("Bo")
    at.run()
    assert "Total: 100 % of 100 %" not in _texts(at)  # 150 - 50 is not a valid 100
    assert at.button(key="elicit_rescale").disabled  # nothing to rescale below 0
    at.button(key="elicit_submit").click().run()
    submitted = at.error[-1].value.replace("\\", "")
    assert "Credence in A: 150 % is above 100 %" in submitted
    assert "Credence in D: -50 % is below 0 %" in submitted
    assert "Reading of monitoring_counts under D: 101 % is above 100 %" in submitted
    assert "Nothing was saved" in submitted
    assert db.participants(group.id) == []


def test_values_in_range_show_no_message(db):
    gid, _ = _member(db)
    at = _page(group=gid)
    for s, v in zip(SCENARIOS, (100, 0, 0, 0), strict=True):
        at.number_input(key=f"el_cred_{s}").set_value(v)
    at.run()
    assert not at.error and at.success[0].value == "Total: 100 %"


# --- 7. the values behind the evidence, not a file name ---------------------------------------

CUSTOM_EVIDENCE = """
[[evidence]]
id = "red_team"
kind = "counts"
text = "2 flagged actions in 500 red-team episodes"
detected = 2
episodes = 500
misalignment_rate = { A = 0.01, B = 0.02, C = 0.03, D = 0.4 }
false_alarm_rate = 0.001

[[evidence]]
id = "no_collusion"
kind = "likelihood"
text = "No collusion seen when models monitor other models"
default_likelihood = { A = 0.9, B = 0.8, C = 0.85, D = 0.5 }

[[evidence]]
id = "will_sandbag"
kind = "question"
text = "Will next year's models sandbag capability evals?"
"""


def _changes(at: AppTest) -> list[str]:
    """The "What changed" list, one string per saved answer after the first."""
    return [m.value.replace("\\", "") for m in at.get_by_key("elicit_changes").markdown[1:]]


def _reference(at: AppTest, item: str) -> dict[str, list[str]]:
    """An item's reference table: {column: values for A, B, C, D}."""
    (table,) = [d.value for d in at.get_by_key(f"elicit_item_{item}").dataframe]
    assert list(table.index) == list(SCENARIOS)
    return {column: list(table[column]) for column in table.columns}


def test_the_reference_values_are_shown_with_each_item(db):
    group, _ = db.create_group("Reading group", evidence=EXAMPLE_EVIDENCE)
    at = _page(group=group.id)
    assert not at.exception
    # the scenarios' values today (priors/scenarios.toml), as the update uses them
    assert _reference(at, "monitoring_counts") == {
        "m": ["0.5 %", "1 %", "0.5 %", "20 %"],
        "false alarm": ["0.05 %"] * 4,
        "reference d": ["60 %", "60 %", "60 %", "1 %"],
    }
    assert _reference(at, "no_collusion") == {"reference": ["90 %", "80 %", "85 %", "50 %"]}
    # 10.8: the misalignment rate the reading's weight rests on, next to the question
    captions = [c.value for c in at.get_by_key("elicit_item_monitoring_counts").caption]
    assert "assumed misalignment rate under D: 20 % of episodes" in captions
    assert "assumed misalignment rate under A: 0.5 % of episodes" in captions
    text = _texts(at)
    assert "evidence.toml" not in text and "priors/" not in text


def test_an_item_that_sets_its_own_rates_shows_them(db):
    group, _ = db.create_group("Red team", evidence=CUSTOM_EVIDENCE)
    at = _page(group=group.id)
    assert not at.exception
    assert _reference(at, "red_team") == {
        "m": ["1 %", "2 %", "3 %", "40 %"],
        "false alarm": ["0.1 %"] * 4,
        "reference d": ["60 %", "60 %", "60 %", "1 %"],
    }
    captions = [c.value for c in at.get_by_key("elicit_item_red_team").caption]
    assert "assumed misalignment rate under D: 40 % of episodes" in captions
    assert any("given with this item" in c for c in captions)
    # a question without reference values says so, and has no table
    question = at.get_by_key("elicit_item_will_sandbag")
    assert any("no reference values" in c.value for c in question.caption)
    assert not question.dataframe
    # the assumed rate belongs to counts items only
    likelihood = at.get_by_key("elicit_item_no_collusion")
    assert not any("assumed misalignment rate" in c.value for c in likelihood.caption)


# --- 9. a new round says what it pre-fills; every change in the history ------------------------


def test_a_new_round_says_the_form_holds_last_rounds_answers_and_can_start_empty(db):
    gid, token = _member(db)
    at = _page(group=gid, p=token)
    with pytest.raises(KeyError):  # round 1, their own answer: nothing to say
        at.get_by_key("elicit_round_notice")
    assert db.open_next_round(gid) == 2
    at = _page(group=gid, p=token)
    assert not at.exception
    notice = at.get_by_key("elicit_round_notice")
    assert "filled in with your answers from round 1" in notice.info[0].value
    assert "Nothing counts for round 2 until you save" in notice.info[0].value
    keys = [f"el_cred_{s}" for s in SCENARIOS] + [f"el_fac_{f}" for f in FACTORS]
    assert _values(at, keys) == [40, 30, 20, 10, 30, 40, 50, 60]

    at.button(key="elicit_start_empty").click().run()
    assert not at.exception
    assert _values(at, keys) == [None] * 8
    assert at.number_input(key="el_read_monitoring_counts_D").value is None
    assert at.text_area(key="el_rationale").value == ""
    assert "started from an empty form" in at.get_by_key("elicit_round_notice").info[0].value
    at.run()  # and it stays empty
    assert _values(at, keys) == [None] * 8

    at.button(key="elicit_refill").click().run()
    assert _values(at, keys) == [40, 30, 20, 10, 30, 40, 50, 60]
    assert "filled in with your answers" in at.get_by_key("elicit_round_notice").info[0].value

    # once they save in round 2, the form holds their round-2 answer: nothing to say
    at.number_input(key="el_cred_A").set_value(50)
    at.number_input(key="el_cred_D").set_value(0)
    at.run()
    at.button(key="elicit_submit").click().run()
    assert not at.exception and not at.error
    with pytest.raises(KeyError):
        at.get_by_key("elicit_round_notice")


def test_the_history_shows_every_answer_that_changed(db):
    first = _payload(rationale="Evals track behaviour.")
    second = _payload(rationale="Evals track behaviour.")
    second["factors"]["misaligned_goals"] = 0.7
    second["readings"]["no_collusion"]["D"] = 0.2
    second["meta"] = {"A": 0.5, "B": 0.2, "C": 0.2, "D": 0.1}
    third = dict(second, rationale="Less sure now.")
    gid, token = _member(db, EXAMPLE_EVIDENCE, first, second, third)
    at = _page(group=gid, p=token)
    assert not at.exception
    second_saved, third_saved = _changes(at)
    assert second_saved.endswith(
        "UTC, round 1:\n\n"
        "- expected group average for A: – → 50 %\n"
        "- expected group average for B: – → 20 %\n"
        "- expected group average for C: – → 20 %\n"
        "- expected group average for D: – → 10 %\n"
        "- Misaligned goals: 40 % → 70 %\n"
        "- reading under D: No significant scheming or collusion se…: 50 % → 20 %"
    )
    assert third_saved.endswith(
        "UTC, round 1:\n\n- rationale: Evals track behaviour. → Less sure now."
    )
    assert "What you said before (3 saved)" in [e.label for e in at.expander]
    # the overview still lists every saved answer's credences
    history = next(d.value for d in at.dataframe if "round" in d.value.columns)
    assert list(history["A"]) == ["40 %"] * 3


def test_an_unchanged_revision_says_so(db):
    """The store now refuses a repeat (a double click), but a group saved before, or imported
    from such a file, can hold two equal revisions in a row."""
    gid, _ = _member(db, EXAMPLE_EVIDENCE, _payload())
    data = db.export_group(gid)
    (first,) = data["revisions"]
    data["revisions"].append({**first, "id": first["id"] + 1})
    imported = db.import_group(data)
    ((_, token),) = imported.participants
    at = _page(group=imported.group.id, p=token)
    (saved,) = _changes(at)
    assert saved.endswith("UTC, round 1:\n\n- nothing changed")
