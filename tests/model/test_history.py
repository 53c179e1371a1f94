"""A member's saved answers compared: every changed answer, and nothing else."""

from __future__ import annotations

import copy

from model.example import EXAMPLE_EVIDENCE
from model.history import KINDS, Change, revision_diff
from model.schema import validate_response
from priors import parse_evidence
from tests.model.helpers import raw_response

EVIDENCE = parse_evidence(EXAMPLE_EVIDENCE)


def _payload(**overrides) -> dict:
    return validate_response(raw_response(**overrides), evidence=EVIDENCE).to_dict()


def test_the_same_answer_has_no_changes():
    payload = _payload()
    assert revision_diff(payload, copy.deepcopy(payload)) == ()


def test_every_part_of_the_answer_is_compared_in_the_form_order():
    old = _payload(rationale="Evals track behaviour.")
    new = copy.deepcopy(old)
    new["scenarios"].update(A=0.3, B=0.4)  # a move between two scenarios
    new["meta"] = {"A": 0.25, "B": 0.25, "C": 0.25, "D": 0.25}  # forecast given only now
    new["factors"]["misaligned_goals"] = None  # answer withdrawn
    new["p_scheming"] = 0.1
    new["readings"]["monitoring_counts"]["D"] = 0.3
    new["readings"]["no_collusion"]["A"] = 0.95
    new["rationale"] = "Evals track behaviour less than I thought."
    changes = revision_diff(old, new)
    assert [c.field for c in changes] == [
        "credence:A",
        "credence:B",
        "meta:A",
        "meta:B",
        "meta:C",
        "meta:D",
        "misaligned_goals",
        "p_scheming",
        "monitoring_counts:D",
        "no_collusion:A",
        "rationale",
    ]
    assert changes[0] == Change("credence", None, "A", 0.4, 0.3)
    assert changes[2] == Change("meta", None, "A", None, 0.25)
    assert changes[6] == Change("factor", "misaligned_goals", None, 0.4, None)
    assert changes[7] == Change("p_scheming", None, None, 0.05, 0.1)
    assert changes[8] == Change("reading", "monitoring_counts", "D", 0.01, 0.3)
    assert changes[-1].old == "Evals track behaviour." and changes[-1].new.endswith("I thought.")
    assert [c.kind for c in changes] == sorted((c.kind for c in changes), key=KINDS.index)


def test_parts_missing_from_an_older_or_imported_answer_count_as_no_answer():
    old = _payload()
    del old["readings"]["no_collusion"]  # an item added to the group's evidence later
    old.pop("rationale")
    new = _payload(rationale="")
    new["readings"]["gone_item"] = {"A": None, "B": None, "C": None, "D": None}
    changes = revision_diff(old, new)
    assert [c.field for c in changes] == [
        "no_collusion:A",
        "no_collusion:B",
        "no_collusion:C",
        "no_collusion:D",
    ]
    assert all(c.old is None for c in changes)
    # and the other way round: an item only the old answer has comes last, as withdrawn
    back = revision_diff(new, old)
    assert [c.field for c in back][-4:] == [f"no_collusion:{s}" for s in "ABCD"]
    assert all(c.new is None for c in back)


def test_the_display_name_is_not_an_answer():
    assert revision_diff(_payload(name="Ada"), _payload(name="Ada B")) == ()
