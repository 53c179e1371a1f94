"""Regression tests of bugs the response property tests found, each fixed.

Ints beyond float range, pathological JSON (a 4301-digit int, deep nesting) and broken
Unicode are refused with a `ResponseError`; a folder given as the responses file exits 2;
a long valid rationale survives CSV; falsy non-mappings are refused; and every message
once listed as saying only what was wrong now also says what to do.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.cli import main
from model.io import MAX_FILE_BYTES, parse_responses, read_responses, responses_to_csv
from model.schema import MAX_PARTICIPANTS, ResponseError, validate_group, validate_response
from tests.model.property_strategies import (
    DEFAULTS,
    EVIDENCE,
    EVIDENCE_IDS,
    FACTORS,
    FIX,
    cheap_raw,
)

# -- regressions: bugs these properties found, fixed -----------------------------------------


huge_int = st.one_of(st.integers(min_value=2**1024), st.integers(max_value=-(2**1024)))


@settings(max_examples=1000, deadline=None)
@given(value=huge_int, slot=st.sampled_from(["A", "p_scheming", "factor", "reading"]))
def test_huge_ints_are_refused_with_a_response_error(value, slot):
    raw = cheap_raw()
    if slot == "A":
        raw["scenarios"]["A"] = value
    elif slot == "p_scheming":
        raw["p_scheming"] = value
    elif slot == "factor":
        raw["factors"][FACTORS[0]] = value
    else:
        raw["readings"][EVIDENCE_IDS[0]]["A"] = value
    with pytest.raises(ResponseError):
        validate_response(raw, evidence=EVIDENCE, defaults=DEFAULTS)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            '[{"participant": "x", "scenarios": {"A": 1' + "0" * 309 + "}}]",
            id="310-digit-int",
        ),
        pytest.param(
            "[" + "1" * 4301 + "]",
            id="4301-digit-int",
        ),
        pytest.param(
            "[" * 100_000,
            id="deep-nesting",
        ),
    ],
)
def test_pathological_json_is_refused_with_a_response_error(text):
    with pytest.raises(ResponseError):
        parse_responses(text, fmt="json", evidence=EVIDENCE, defaults=DEFAULTS)


def test_a_folder_given_as_the_responses_file_exits_2(tmp_path, capsys):
    folder = tmp_path / "responses.csv"
    folder.mkdir()
    assert main(["aggregate", str(folder), "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_a_long_valid_rationale_round_trips_through_csv():
    r = validate_response(
        {**cheap_raw(), "rationale": "r" * 131_073}, evidence=EVIDENCE, defaults=DEFAULTS
    )
    text = responses_to_csv([r], evidence=EVIDENCE, defaults=DEFAULTS)
    assert parse_responses(text, fmt="csv", evidence=EVIDENCE, defaults=DEFAULTS) == [r]


@pytest.mark.parametrize("field", ["participant", "rationale"])
def test_broken_unicode_is_refused(field):
    with pytest.raises(ResponseError, match=field):
        validate_response(
            {**cheap_raw(), field: "Ada \ud800"}, evidence=EVIDENCE, defaults=DEFAULTS
        )


@pytest.mark.parametrize("field", ["factors", "readings"])
@pytest.mark.parametrize("value", [[], "", 0, False], ids=["list", "str", "int", "bool"])
def test_falsy_non_mappings_are_refused(field, value):
    with pytest.raises(ResponseError, match=field):
        validate_response({**cheap_raw(), field: value}, evidence=EVIDENCE, defaults=DEFAULTS)


def _message(fmt_or_raw, **kwargs) -> str:
    try:
        if isinstance(fmt_or_raw, str):
            parse_responses(kwargs["text"], fmt=fmt_or_raw, evidence=EVIDENCE, defaults=DEFAULTS)
        else:
            validate_group(fmt_or_raw, evidence=EVIDENCE, defaults=DEFAULTS)
    except ResponseError as exc:
        return str(exc)
    raise AssertionError("no error")


def _file_too_large(tmp_path: Path) -> str:
    big = tmp_path / "big.csv"
    with big.open("wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)
    try:
        read_responses(big, evidence=EVIDENCE, defaults=DEFAULTS)
    except ResponseError as exc:
        return str(exc)
    raise AssertionError("no error")


_MESSAGES = {
    "unknown_field": lambda _: _message([{**cheap_raw(), "colour": 1}]),
    "unknown_scenario": lambda _: _message(
        [{**cheap_raw(), "scenarios": {"A": 0.5, "B": 0.5, "C": 0, "D": 0, "E": 0}}]
    ),
    "unknown_factor": lambda _: _message([{**cheap_raw(), "factors": {"vibes": 0.5}}]),
    "unknown_evidence": lambda _: _message([{**cheap_raw(), "readings": {"other": {}}}]),
    "required": lambda _: _message([{**cheap_raw(), "scenarios": {"A": 1}}]),
    "negative": lambda _: _message([{**cheap_raw(), "p_scheming": -0.1}]),
    "too_many_rows": lambda _: _message([{}] * (MAX_PARTICIPANTS + 1)),
    "unknown_column": lambda _: _message("csv", text="participant,A,B,C,D,mood\n"),
    "missing_column": lambda _: _message("csv", text="participant,A,B,C\n"),
    "file_too_large": _file_too_large,
    "not_csv": lambda _: _message("csv", text="participant,A,B,C,D\nx," + "9" * 200_000),
    "not_json": lambda _: _message("json", text="[{"),
}


@pytest.mark.parametrize("template", list(_MESSAGES))
def test_every_listed_message_says_how_to_fix_it(template, tmp_path):
    """These messages once said only what was wrong; each now says what to do."""
    assert FIX.search(_MESSAGES[template](tmp_path))
