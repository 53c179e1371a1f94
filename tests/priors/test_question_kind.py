"""The evidence kind ``question``: a future yes/no observation, read as P(yes | scenario)."""

from __future__ import annotations

import pytest

from model.schema import reading_default, validate_response
from priors import SCENARIO_IDS, parse_evidence
from priors.errors import EvidenceError, ResponseError
from priors.loader import LikelihoodEvidence, QuestionEvidence
from tests.model.helpers import raw_response

QUESTION = """
[[evidence]]
id = "sabotage_case"
kind = "question"
text = "By 2028 a lab publishes a case of a model sabotaging its own monitoring"
default_likelihood = { A = 0.2, B = 0.5, C = 0.3, D = 0.6 }
"""


def test_a_question_loads_with_and_without_reference_values(defaults):
    (item,) = parse_evidence(QUESTION)
    assert isinstance(item, QuestionEvidence) and not isinstance(item, LikelihoodEvidence)
    assert item.kind == "question" and item.id == "sabotage_case"
    assert item.default_likelihood == {"A": 0.2, "B": 0.5, "C": 0.3, "D": 0.6}
    assert [reading_default(item, s, defaults) for s in SCENARIO_IDS] == [0.2, 0.5, 0.3, 0.6]
    (bare,) = parse_evidence(QUESTION.replace("default_likelihood = {", "# {"))
    assert bare.default_likelihood is None
    assert reading_default(bare, "A", defaults) is None
    both = parse_evidence(QUESTION + QUESTION.replace("sabotage_case", "second"))
    assert [e.kind for e in (*defaults.evidence, *both)] == [
        "counts",
        "likelihood",
        "question",
        "question",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (QUESTION.replace('id = "sabotage_case"\n', ""), r"evidence\[0\]\.id: required field"),
        (QUESTION.replace("text = ", "# text = "), r"evidence\[0\]\.text: required field"),
        (QUESTION.replace(", D = 0.6", ""), r"default_likelihood must give all of A, B, C, D"),
        (QUESTION.replace("D = 0.6", "D = 1.0"), r"default_likelihood\.D: Input should be less"),
        (QUESTION.replace("A = 0.2", "A = 0.0"), r"default_likelihood\.A: Input should be great"),
        (QUESTION + "detected = 3\n", r"evidence\[0\]\.detected: unknown field"),
        (QUESTION.replace('"question"', '"poll"'), r'"counts", "likelihood" or "question"'),
        (QUESTION.replace("sabotage_case", "Sabotage case"), r"\.id: ids use only lower-case"),
    ],
)
def test_a_bad_question_is_refused_naming_the_field(text, message):
    with pytest.raises(EvidenceError, match=message):
        parse_evidence(text, source="group evidence")


def test_a_missing_kind_names_the_three_kinds():
    with pytest.raises(EvidenceError, match=r'give kind = "counts", .* or kind = "question"'):
        parse_evidence(QUESTION.replace('kind = "question"\n', ""))


def test_members_read_a_question_like_a_likelihood_item(defaults):
    (q,) = parse_evidence(QUESTION.replace("default_likelihood = {", "# {"))
    evidence = (*defaults.evidence, q)
    raw = raw_response()
    raw["readings"]["sabotage_case"] = {"A": 0.1, "B": "40%", "C": 0.3, "D": 1.0}
    r = validate_response(raw, evidence=evidence, defaults=defaults)
    assert r.readings["sabotage_case"] == {"A": 0.1, "B": 0.4, "C": 0.3, "D": 1.0}
    raw["readings"]["sabotage_case"] = {}  # all blank: no reading, allowed
    r = validate_response(raw, evidence=evidence, defaults=defaults)
    assert r.readings["sabotage_case"] == dict.fromkeys(SCENARIO_IDS)
    raw["readings"]["sabotage_case"] = {"A": 0.1, "B": 0.4}
    with pytest.raises(ResponseError, match="sabotage_case: no reading for C, D"):
        validate_response(raw, evidence=evidence, defaults=defaults)
    raw["readings"]["sabotage_case"] = {"A": 0.1, "B": 0.4, "C": 0.3, "D": 60}
    with pytest.raises(ResponseError, match="sabotage_case:D: 60 is above 1"):
        validate_response(raw, evidence=evidence, defaults=defaults)
