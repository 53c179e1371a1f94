import math

import numpy as np
import pytest

from model.io import parse_responses, read_responses, responses_to_csv, responses_to_json
from model.schema import (
    MAX_NAME_CHARS,
    ResponseError,
    to_group_data,
    validate_group,
    validate_response,
)
from tests.model.helpers import raw_response


def check(raw, defaults):
    return validate_response(raw, evidence=defaults.evidence, defaults=defaults)


def test_a_good_response_becomes_a_named_record(defaults):
    r = check(raw_response(), defaults)
    assert r.participant == "Ada"
    assert r.scenarios == {"A": 0.4, "B": 0.3, "C": 0.2, "D": 0.1}
    assert r.readings["monitoring_counts"]["D"] == 0.01
    assert r.to_dict()["factors"]["misaligned_goals"] == 0.4


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"scenarios": {"A": 45, "B": 30, "C": 20, "D": 5}}, "looks like a percentage"),
        ({"scenarios": {"A": 0.5, "B": 0.3, "C": 0.2, "D": 0.1}}, "sum to 1.1; they must sum to 1"),
        ({"scenarios": {"A": 0.5, "B": 0.3, "C": 0.2, "D": -0.0001}}, "is negative"),
        ({"scenarios": {"A": math.nan, "B": 0.3, "C": 0.2, "D": 0.1}}, "not a finite number"),
        ({"scenarios": {"A": math.inf, "B": 0.3, "C": 0.2, "D": 0.1}}, "not a finite number"),
        (
            {"scenarios": {"A": 0.4, "B": 0.3, "C": 0.2, "E": 0.1}},
            r"unknown scenario id\(s\) \['E'\]",
        ),
        (
            {"scenarios": {"A": 0.4, "B": 0.3, "C": 0.3}},
            "credence in D: no answer; this one is required",
        ),
        ({"scenarios": {"A": "lots", "B": 0.3, "C": 0.2, "D": 0.1}}, "'lots' is not a number"),
        ({"scenarios": {"A": True, "B": 0.3, "C": 0.2, "D": 0.1}}, "give a number in"),
        ({"scenarios": [0.4, 0.3, 0.2, 0.1]}, "scenarios must map A, B, C, D"),
        ({"factors": {"vibes": 0.3}}, r"unknown factor\(s\) \['vibes'\]"),
        ({"p_scheming": 7}, "p_scheming: 7 is above 1 and looks like a percentage"),
        ({"readings": {"other_item": {"A": 0.5}}}, r"unknown evidence id\(s\) \['other_item'\]"),
        ({"readings": {"no_collusion": {"Z": 0.5}}}, "unknown scenario id"),
        ({"readings": {"no_collusion": {"A": 1.5}}}, "no_collusion:A: 1.5 is above 1"),
        ({"participant": ""}, "participant: is empty"),
        ({"participant": "x" * (MAX_NAME_CHARS + 1)}, f"the limit is {MAX_NAME_CHARS}"),
        ({"rationale": 12}, "rationale: got int; give text"),
        ({"rationale": "a\x00b"}, "NUL character"),
        ({"colour": "blue"}, r"unknown field\(s\) \['colour'\]"),
    ],
)
def test_every_bad_input_gets_a_message_saying_how_to_fix_it(defaults, change, message):
    with pytest.raises(ResponseError, match=message):
        check(raw_response(**change), defaults)


def test_sum_tolerance_is_half_a_percent(defaults):
    check(raw_response(scen=(0.4, 0.3, 0.2, 0.104)), defaults)
    with pytest.raises(ResponseError, match="must sum to 1"):
        check(raw_response(scen=(0.4, 0.3, 0.2, 0.106)), defaults)


def test_percent_text_is_read_as_a_percentage(defaults):
    r = check(raw_response(scenarios={"A": "40%", "B": "30%", "C": "20%", "D": "10%"}), defaults)
    assert r.scenarios["A"] == pytest.approx(0.4)


def test_unanswered_items_are_missing_not_zero(defaults):
    r = check(
        raw_response(p_scheming=None, factors={"misaligned_goals": 0.2}, readings={}), defaults
    )
    data = to_group_data([r], evidence=defaults.evidence, defaults=defaults)
    assert r.p_scheming is None and r.factors["non_corrigibility"] is None
    assert np.isnan(data.values[0, data.columns.index("p_scheming")])
    assert np.isnan(data.values[0, data.columns.index("monitoring_counts:D")])
    assert data.values[0, data.columns.index("misaligned_goals")] == 0.2


def test_group_reports_every_bad_row_and_duplicates(defaults):
    rows = [raw_response("Ada"), raw_response("Bo", scen=(1, 1, 1, 1)), raw_response("Ada")]
    with pytest.raises(ResponseError) as err:
        validate_group(rows, evidence=defaults.evidence, defaults=defaults)
    text = str(err.value)
    assert "row 2: participant 'Bo'" in text and "looks like a percentage" not in text
    assert "sum to 4" in text
    assert "row 3: participant 'Ada' appears twice (also row 1)" in text
    with pytest.raises(ResponseError, match="no responses found"):
        validate_group([], evidence=defaults.evidence, defaults=defaults)


def test_group_data_renormalises_credences_within_tolerance(defaults):
    r = check(raw_response(scen=(0.4, 0.3, 0.2, 0.103)), defaults)
    data = to_group_data([r], evidence=defaults.evidence, defaults=defaults)
    assert data.credences.sum() == pytest.approx(1.0, abs=1e-12)


def test_csv_and_json_round_trip(defaults, tmp_path):
    rs = [
        check(raw_response("Ada"), defaults),
        check(raw_response("Bo", p_scheming=None), defaults),
    ]
    for fmt, text in (
        ("csv", responses_to_csv(rs, evidence=defaults.evidence, defaults=defaults)),
        ("json", responses_to_json(rs)),
    ):
        path = tmp_path / f"r.{fmt}"
        path.write_text(text, encoding="utf-8")
        back = read_responses(path, evidence=defaults.evidence, defaults=defaults)
        assert back == rs


@pytest.mark.parametrize(
    ("fmt", "text", "message"),
    [
        (
            "csv",
            "participant,A,B,C,D,mood\nx,0.4,0.3,0.2,0.1,1\n",
            r"unknown column\(s\) \['mood'\]",
        ),
        ("csv", "participant,A,B,C\nx,0.4,0.3,0.3\n", r"missing column\(s\) \['D'\]"),
        ("csv", "participant,A,B,C,D\nx,0.4,0.3,0.2,0.1,9\n", "more cells than columns"),
        ("csv", "participant,A,B,C,D,no_collusion:E\n", "unknown column"),
        ("csv", "participant,A,B,C,D\nx,40,30,20,10\n", "looks like a percentage"),
        ("json", "{not json", "not valid JSON"),
        ("json", '{"participant": "x"}', "must be a list"),
        ("json", "[1, 2]", "must be an object"),
        ("toml", "", "give a .csv or .json"),
    ],
)
def test_file_errors(defaults, fmt, text, message):
    with pytest.raises(ResponseError, match=message):
        parse_responses(text, fmt=fmt, evidence=defaults.evidence, defaults=defaults)


def test_non_utf8_file_is_refused(defaults, tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes(b"participant,A,B,C,D\n\xff\xfe,0.4,0.3,0.2,0.1\n")
    with pytest.raises(ResponseError, match="not UTF-8"):
        read_responses(path, evidence=defaults.evidence, defaults=defaults)
