"""One click, one save: a fast second click on Submit, or the same form sent again, adds no
second member and no second revision (AppTest). Also: the sketches' introduction says what
the sketches draw.

A double click is two script runs, and the second can start while the first run's save is
still writing; the page then waits for that save and shows it (`app_pages/elicit_sections/
submit.py`). Those two runs are simulated here by the plain dict a save writes into.
"""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from model.example import EXAMPLE_EVIDENCE
from model.schema import validate_response
from priors import parse_evidence
from tests.model.helpers import raw_response

APP = str(Path(__file__).parents[2] / "app.py")
SCENARIOS = ("A", "B", "C", "D")


def _page(group_id: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["group"] = group_id
    return at.switch_page("app_pages/elicit.py").run()


def _fill(at: AppTest, name: str = "Ada") -> AppTest:
    for s, v in zip(SCENARIOS, (40, 30, 20, 10), strict=True):
        at.number_input(key=f"el_cred_{s}").set_value(v)
    at.text_input(key="el_name").input(name)
    return at.run()


def _said(at: AppTest, kind: str) -> str:
    return "\n".join(str(e.value) for e in getattr(at, kind))


def _saved(db, group_id: str) -> list[tuple[str, int]]:
    return [(p.display_name, len(db.revisions(p.id))) for p in db.participants(group_id)]


def test_submitting_the_same_form_twice_saves_it_once(db):
    group, _ = db.create_group("Reading group", evidence=EXAMPLE_EVIDENCE)
    at = _fill(_page(group.id))
    at.button(key="elicit_submit").click().run()
    assert not at.exception and not at.error
    assert "Saved your answers for round 1" in _said(at, "success")
    assert _saved(db, group.id) == [("Ada", 1)]
    # The second click of a double click, with the form as it was.
    at.button(key="elicit_submit").click().run()
    assert not at.exception and not at.error
    assert _saved(db, group.id) == [("Ada", 1)]  # no second member, no second revision
    assert "already saved" in _said(at, "info")
    assert "Saved your answers" not in _said(at, "success")
    # A changed answer is a new revision, as before.
    at.number_input(key="el_cred_A").set_value(30)
    at.number_input(key="el_cred_B").set_value(40)
    at.run()
    at.button(key="elicit_submit").click().run()
    assert "Saved your answers" in _said(at, "success")
    assert _saved(db, group.id) == [("Ada", 2)]


def test_a_click_while_the_first_is_saving_does_nothing(db):
    """The first click's save is under way (its slot claimed, not finished): a second click
    writes nothing, and the page shows the first save once it is done."""
    group, _ = db.create_group("Reading group", evidence=EXAMPLE_EVIDENCE)
    at = _fill(_page(group.id))
    box: dict = {}
    at.session_state["elicit_writing"] = {(group.id, None): box}
    at.button(key="elicit_submit").click().run()
    assert not at.exception and not at.error
    assert _saved(db, group.id) == []  # the second click wrote nothing
    assert at.button(key="elicit_submit").label == "Submit my answers"

    # The first click's save finishes (as its callback would, writing only into its box).
    participant, token = db.add_participant(group.id, "Ada")
    payload = validate_response(
        raw_response("Ada"), evidence=parse_evidence(EXAMPLE_EVIDENCE)
    ).to_dict()
    db.add_revision(participant.id, round=1, payload=payload)
    box.update(participant=participant.id, token=token, result=("first", "Saved round 1"))
    at.run()
    assert not at.exception
    assert "Saved round 1" in _said(at, "success")
    assert at.session_state["edit_tokens"][group.id] == token  # the come-back link is kept
    assert at.query_params["p"] == token
    assert at.button(key="elicit_submit").label == "Save a new revision"
    assert _saved(db, group.id) == [("Ada", 1)]


def test_the_sketch_introduction_describes_the_log_view(db):
    group, _ = db.create_group("Reading group", evidence=EXAMPLE_EVIDENCE)
    at = _page(group.id)
    intro = at.get_by_key("elicit_sketch_intro").markdown[0].value
    for words in ("misalignment rate", "log axis", "*actual*", "*observed*", "*what we need*"):
        assert words in intro
    assert "falling 10-fold for every tenfold rise in capability" in intro
    assert "actual* alignment" not in intro  # the old, linear view's words
