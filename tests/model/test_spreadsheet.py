"""Spreadsheet safety: no CSV cell the app or the command line writes runs as a formula.

OWASP's CSV-injection guidance: a cell starting with =, +, -, @, a tab or a carriage return
is run by Excel or LibreOffice; such text cells get a leading apostrophe, which the reader
removes, so files still read back to the same names and rationales.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from app_pages.exports import member_links_csv
from model.cli import main
from model.io import csv_columns, parse_responses, read_responses, responses_to_csv
from model.schema import MAX_NAME_CHARS, ResponseError, validate_response
from model.spreadsheet import FORMULA_START, escape_cell, is_safe_cell, unescape_cell
from priors import load_defaults
from tests.model.helpers import raw_response

DEFAULTS = load_defaults()
EVIDENCE = DEFAULTS.evidence
COLUMNS = csv_columns(EVIDENCE, DEFAULTS)
TEXT_COLUMNS = ("participant", "rationale")

HOSTILE = '=HYPERLINK("http://evil.example","click")'

# Text that starts with the characters that matter more often than uniform text would.
_starts = st.sampled_from(["", "'", "''", "=", "+", "-", "@", "\t", "\r", "'=", "'\t", " "])
TEXT = st.builds(lambda a, b: a + b, _starts, st.text())


def _response(name: str, rationale: str = "", **overrides):
    raw = raw_response(name, rationale=rationale, **overrides)
    return validate_response(raw, evidence=EVIDENCE, defaults=DEFAULTS)


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def _cells_by_column(text: str) -> list[dict[str, str]]:
    header, *rows = _rows(text)
    return [dict(zip(header, row, strict=True)) for row in rows]


# --- the escape itself -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "written"),
    [
        (HOSTILE, "'" + HOSTILE),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("'=x", "''=x"),  # a name that really starts with ' then =: one more apostrophe
        ("''+x", "'''+x"),
        ("'tis", "'tis"),  # an apostrophe before anything else is left alone both ways
        ("'", "'"),
        ("Ada", "Ada"),
        ("a=b", "a=b"),
        (" =x", " =x"),  # not on OWASP's list: a leading space makes it text
        ("", ""),
    ],
)
def test_escape_cell_reference_cases(text, written):
    assert escape_cell(text) == written
    assert unescape_cell(written) == text
    assert is_safe_cell(written)


@settings(max_examples=1000, deadline=None)
@given(TEXT)
def test_any_text_escapes_to_a_safe_cell_and_back(text):
    written = escape_cell(text)
    assert not written.startswith(FORMULA_START)
    assert unescape_cell(written) == text


@settings(max_examples=1000, deadline=None)
@given(TEXT)
def test_unescape_leaves_text_that_was_never_escaped_alone_when_it_is_safe(text):
    """Only text the writer could have produced loses an apostrophe: 'tis stays 'tis."""
    if text.startswith("'") and text.lstrip("'").startswith(FORMULA_START):
        assert unescape_cell(text) == text[1:]
    else:
        assert unescape_cell(text) == text


# --- the responses CSV (the dashboard's download and `python -m model example`) -------------


def test_hostile_names_and_rationales_are_written_as_text_and_read_back():
    responses = [
        _response(HOSTILE, rationale="+ it rises"),
        _response("'=quoted", rationale="-1 for B"),
        _response("@ada", rationale="=1+1"),
        _response("Bo", rationale="\tindented\r\nsecond line"),
        _response("'tis", rationale="@home"),
    ]
    text = responses_to_csv(responses, evidence=EVIDENCE, defaults=DEFAULTS)
    cells = _cells_by_column(text)
    assert [c["participant"] for c in cells] == [
        "'" + HOSTILE,
        "''=quoted",
        "'@ada",
        "Bo",
        "'tis",
    ]
    assert [c["rationale"] for c in cells] == [
        "'+ it rises",
        "'-1 for B",
        "'=1+1",
        "'\tindented\r\nsecond line",
        "'@home",
    ]
    back = parse_responses(text, fmt="csv", evidence=EVIDENCE, defaults=DEFAULTS)
    assert back == responses


def test_probability_cells_are_numbers_and_never_escaped():
    """Probabilities are written as numbers: small ones, 0, 1 and a stated -0.0 alike."""
    r = _response(
        "-Ada",
        scen=(1.0, -0.0, 0.0, 0.0),
        p_scheming=1e-05,
        factors={
            "non_corrigibility": 0.0,
            "misaligned_goals": 1.0,
            "evades_guardrails": 2.5e-07,
            "strategic_reasoning": None,
        },
    )
    text = responses_to_csv([r], evidence=EVIDENCE, defaults=DEFAULTS)
    (cells,) = _cells_by_column(text)
    numbers = {k: v for k, v in cells.items() if k not in TEXT_COLUMNS}
    for column, cell in numbers.items():
        assert is_safe_cell(cell), column
        assert not cell.startswith("'"), column
        if cell:
            float(cell)  # a number, as a spreadsheet reads it
    assert cells["B"] == "0.0"  # -0.0 written without its sign
    assert float(cells["p_scheming"]) == 1e-05
    assert cells["strategic_reasoning"] == ""  # no answer stays empty
    (back,) = parse_responses(text, fmt="csv", evidence=EVIDENCE, defaults=DEFAULTS)
    assert back.participant == "-Ada"
    assert back.scenarios == r.scenarios and back.factors == r.factors
    assert back.p_scheming == 1e-05


_names = TEXT.map(lambda t: t.strip()[:MAX_NAME_CHARS]).filter(bool)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(names=st.lists(_names, min_size=1, max_size=3, unique=True), rationales=st.data())
def test_any_names_and_rationales_round_trip_and_no_cell_is_a_formula(names, rationales):
    responses = []
    for name in names:
        rationale = rationales.draw(TEXT)
        try:
            responses.append(_response(name, rationale=rationale))
        except ResponseError:  # NUL, lone surrogates: refused on the way in, not our case
            assume(False)
    text = responses_to_csv(responses, evidence=EVIDENCE, defaults=DEFAULTS)
    rows = _rows(text)
    assert rows[0] == COLUMNS
    assert all(is_safe_cell(cell) for row in rows for cell in row)
    back = parse_responses(text, fmt="csv", evidence=EVIDENCE, defaults=DEFAULTS)
    assert [r.participant for r in back] == names
    assert [r.rationale for r in back] == [r.rationale for r in responses]
    assert back == responses


def test_the_command_line_reads_an_escaped_file_back_to_the_same_names(tmp_path, capsys):
    """`python -m model aggregate` on the escaped file: the same names reach summary.json.

    Two members, so the group model is not fitted and the command stays fast.
    """
    responses = [_response(HOSTILE, rationale="=2+2"), _response("'=Bo", rationale="@x")]
    path = tmp_path / "responses.csv"
    path.write_text(responses_to_csv(responses, evidence=EVIDENCE, defaults=DEFAULTS))
    assert read_responses(path, evidence=EVIDENCE, defaults=DEFAULTS) == responses
    assert main(["aggregate", str(path), "--out", str(tmp_path / "out")]) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert [p["id"] for p in summary["participants"]] == [HOSTILE, "'=Bo"]


def test_the_example_command_writes_a_csv_the_reader_takes_back(tmp_path):
    path = tmp_path / "example.csv"
    assert main(["example", "--out", str(path), "--n", "5"]) == 0
    text = path.read_text(encoding="utf-8")
    assert all(is_safe_cell(cell) for row in _rows(text) for cell in row)
    assert len(read_responses(path, evidence=EVIDENCE, defaults=DEFAULTS)) == 5


# --- the facilitator's member-links CSV -----------------------------------------------------


@settings(max_examples=500, deadline=None)
@given(st.lists(st.tuples(TEXT, TEXT), max_size=4))
def test_member_links_cells_are_never_formulas_and_unescape_back(rows):
    written = _rows(member_links_csv(rows))
    assert written[0] == ["member", "come-back link"]
    assert all(is_safe_cell(cell) for row in written for cell in row)
    assert [tuple(unescape_cell(c) for c in row) for row in written[1:]] == rows


def test_member_links_keep_a_plain_link_as_it_is():
    link = "http://x/elicit?group=g&p=1"
    assert _rows(member_links_csv([(HOSTILE, link)]))[1] == ["'" + HOSTILE, link]
