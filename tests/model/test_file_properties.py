"""Property tests of reading responses files: the CSV/JSON importer and the command line.

Any file (random bytes, random CSV or JSON, a good file cut short, a participant given
twice, the wrong suffix) and any text is read or refused with a `ResponseError`, never
another exception; a file at the size limit is read and one byte more is refused by size.
`python -m model aggregate` given a bad file exits 2 with an "error: " line and writes
nothing, without reaching the model fit.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import json
import re
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from model.cli import main
from model.io import (
    MAX_FILE_BYTES,
    parse_responses,
    read_responses,
    responses_to_csv,
    responses_to_json,
)
from model.schema import ResponseError
from priors import SCENARIO_IDS
from tests.model.property_strategies import (
    COLUMNS,
    DEFAULTS,
    EVIDENCE,
    EVIDENCE_IDS,
    FACTORS,
    FIELDS,
    MANY,
    index,
    junk_text,
)

# -- (2) the importer -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def examples() -> dict:
    from model.example import example_responses

    responses = example_responses(n=5)
    return {
        "responses": responses,
        "csv": responses_to_csv(responses, evidence=EVIDENCE, defaults=DEFAULTS),
        "json": responses_to_json(responses),
    }


_CELL = st.one_of(
    st.sampled_from(["", " ", "0.25", "25%", "1", "0", "-0.1", "150", "nan", "inf", "1e999"]),
    st.floats().map(repr),
    st.integers(-(10**300), 10**300).map(str),
    junk_text,
    st.text(max_size=20),
    st.sampled_from(['"', '""', 'a"b', "a,b", "\r", "\n", "\r\n", "\x00", "\ufeff"]),
)
_HEADER = st.lists(
    st.one_of(
        st.sampled_from(COLUMNS), st.sampled_from(["", "E", "x:A", "A ", "\ufeffparticipant"])
    ),
    max_size=14,
)


_width = st.integers(0, 16)
_rows = st.integers(0, 4)
_line_end = st.sampled_from(["\n", "\r\n"])


@st.composite
def csv_text(draw) -> str:
    """A random header and cells, either well quoted or naively joined with commas."""
    header = draw(_HEADER)
    width = draw(_width) % (len(header) + 3)
    rows = [[draw(_CELL) for _ in range(width)] for _ in range(draw(_rows))]
    if draw(st.booleans()):
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator=draw(_line_end))
        writer.writerows([header, *rows])
        return buf.getvalue()
    return "\n".join(",".join(r) for r in [header, *rows])


json_value = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(10**300), 10**300),
        st.floats(),
        st.text(max_size=10),
        st.sampled_from(FIELDS + SCENARIO_IDS + FACTORS + EVIDENCE_IDS),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.one_of(st.text(max_size=8), st.sampled_from(FIELDS + SCENARIO_IDS)),
            inner,
            max_size=5,
        ),
    ),
    max_leaves=20,
)


_file_kind = st.sampled_from(["bytes", "csv", "json", "cut_csv", "cut_json", "duplicate", "suffix"])
_data_suffix = st.sampled_from([".csv", ".json"])
_other_suffix = st.sampled_from(["", ".txt", ".toml", ".CSVX", ".json.gz"])
_random_bytes = st.binary(max_size=300)


@st.composite
def bad_file(draw, examples: dict) -> tuple[str, bytes]:
    """(suffix, content) of a responses file that is bad in some way."""
    kind = draw(_file_kind)
    if kind == "bytes":
        return draw(_data_suffix), draw(_random_bytes)
    if kind == "csv":
        return ".csv", draw(csv_text()).encode("utf-8", "surrogatepass")
    if kind == "json":
        value = draw(json_value)
        if draw(st.booleans()):
            value = [value]
        return ".json", json.dumps(value).encode()
    if kind in ("cut_csv", "cut_json"):
        fmt = kind.removeprefix("cut_")
        text = examples[fmt]
        cut = draw(index) % len(text)
        return f".{fmt}", text[:cut].encode()
    if kind == "duplicate":
        responses = examples["responses"]
        dup = responses[draw(index) % len(responses)]
        group = [*responses, dataclasses.replace(dup, participant=f"  {dup.participant} ")]
        group.insert(draw(index) % len(group), group.pop())
        if draw(st.booleans()):
            return ".json", responses_to_json(group).encode()
        return ".csv", responses_to_csv(group, evidence=EVIDENCE, defaults=DEFAULTS).encode()
    suffix = draw(_other_suffix)
    return suffix, examples["csv"].encode()


@pytest.fixture(scope="module")
def files_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("files")


def _read_outcome(path: Path) -> str:
    """'valid' or 'refused'; anything but a ResponseError propagates and fails the test."""
    try:
        read_responses(path, evidence=EVIDENCE, defaults=DEFAULTS)
    except ResponseError as exc:
        assert str(exc).strip()
        return "refused"
    return "valid"


@MANY
@given(data=st.data())
def test_any_file_is_read_or_refused_with_a_response_error(data, examples, files_dir):
    suffix, content = data.draw(bad_file(examples))
    path = files_dir / f"responses{suffix}"
    path.write_bytes(content)
    outcome = _read_outcome(path)
    note(f"{suffix} {content[:300]!r} -> {outcome}")
    event(outcome)
    if suffix not in (".csv", ".json") or content.startswith(b"\xff"):
        assert outcome == "refused"


@MANY
@given(text=st.one_of(st.text(max_size=400), csv_text()), fmt=st.sampled_from(["csv", "json"]))
def test_any_text_is_parsed_or_refused_with_a_response_error(text, fmt):
    try:
        parse_responses(text, fmt=fmt, evidence=EVIDENCE, defaults=DEFAULTS)
    except ResponseError as exc:
        assert str(exc).strip()


def test_very_large_files_are_refused_by_size(tmp_path):
    big = tmp_path / "big.csv"
    with big.open("wb") as f:  # sparse: no 50 MB written
        f.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(ResponseError, match=f"the limit is {MAX_FILE_BYTES:,}"):
        read_responses(big, evidence=EVIDENCE, defaults=DEFAULTS)


def _padded_to(text: str, fmt: str, size: int) -> bytes:
    """`text` (a CSV or JSON responses file) padded with spaces it ignores to `size` bytes.

    JSON gets them after the list; CSV in front of its numbers (each cell stays under the
    CSV field limit), never in a name or a rationale, whose characters count.
    """
    if fmt == "json":
        data = text.encode()
        return data + b" " * (size - len(data))
    rows = list(csv.reader(io.StringIO(text, newline="")))
    numeric = [c for c, name in enumerate(rows[0]) if name not in ("participant", "rationale")]
    cells = [(r, c) for r in range(1, len(rows)) for c in numeric]

    def written() -> bytes:
        out = io.StringIO(newline="")
        csv.writer(out, lineterminator="\n").writerows(rows)
        return out.getvalue().encode()

    spare = size - len(written())
    for k, (r, c) in enumerate(cells):
        rows[r][c] = " " * (spare // len(cells) + (k < spare % len(cells))) + rows[r][c]
    return written()


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_a_file_at_the_size_limit_is_read_and_one_byte_more_is_refused(tmp_path, examples, fmt):
    at_limit = tmp_path / f"limit.{fmt}"
    at_limit.write_bytes(_padded_to(examples[fmt], fmt, MAX_FILE_BYTES))
    assert at_limit.stat().st_size == MAX_FILE_BYTES
    # accepted: the same responses as the file without the padding
    assert read_responses(at_limit, evidence=EVIDENCE, defaults=DEFAULTS) == examples["responses"]

    over = tmp_path / f"over.{fmt}"
    over.write_bytes(_padded_to(examples[fmt], fmt, MAX_FILE_BYTES + 1))
    limit = f"{MAX_FILE_BYTES + 1:,} bytes; the limit is {MAX_FILE_BYTES:,}: split it"
    with pytest.raises(ResponseError, match=re.escape(limit)):
        read_responses(over, evidence=EVIDENCE, defaults=DEFAULTS)

    # 50 MB of NUL bytes: read (not refused by size), then refused for what it holds
    with at_limit.open("wb") as f:
        f.truncate(0)
        f.truncate(MAX_FILE_BYTES)
    content = {"csv": "not valid CSV (field larger than field limit", "json": "not valid JSON"}
    with pytest.raises(ResponseError, match=re.escape(content[fmt])) as err:
        read_responses(at_limit, evidence=EVIDENCE, defaults=DEFAULTS)
    assert "the limit is" not in str(err.value)


# -- the command line ----------------------------------------------------------------------


def _no_fit(*args, **kwargs):
    raise AssertionError("valid input reached the model fit; the strategy must only give bad input")


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_the_command_line_exits_2_with_an_error_and_writes_nothing(data, examples, files_dir):
    suffix, content = data.draw(bad_file(examples))
    src = files_dir / f"cli{suffix}"
    src.write_bytes(content)
    if _read_outcome(src) == "valid":
        return  # e.g. a CSV cut right after a whole row; only bad files are for this test
    out = files_dir / "cli-out" / "result"
    err = io.StringIO()
    with mock.patch("model.analysis.analyse", _no_fit), contextlib.redirect_stderr(err):
        status = main(["aggregate", str(src), "--out", str(out)])
    assert status == 2
    assert err.getvalue().startswith("error: "), err.getvalue()
    assert not out.exists() and not out.parent.exists()


def _oversized(path: Path) -> None:
    with path.open("wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)


@pytest.mark.parametrize(
    ("name", "write", "message"),
    [
        ("big.csv", _oversized, f"the limit is {MAX_FILE_BYTES:,}"),
        ("latin1.csv", lambda p: p.write_bytes(b"participant,A\n\xe9\n"), "not UTF-8"),
        ("cut.json", lambda p: p.write_text('[{"participant": "x", "scen'), "not valid JSON"),
        ("missing.csv", lambda p: None, "cannot read it"),
    ],
)
def test_the_command_line_refuses_these_files_with_exit_2(tmp_path, capsys, name, write, message):
    src = tmp_path / name
    write(src)
    out = tmp_path / "out"
    with mock.patch("model.analysis.analyse", _no_fit):
        assert main(["aggregate", str(src), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err, err
    assert not out.exists()


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_the_command_line_refuses_a_participant_given_twice(tmp_path, capsys, examples, fmt):
    responses = examples["responses"]
    twice = [
        *responses,
        dataclasses.replace(responses[1], participant=f" {responses[1].participant}"),
    ]
    src = tmp_path / f"twice.{fmt}"
    text = (
        responses_to_csv(twice, evidence=EVIDENCE, defaults=DEFAULTS)
        if fmt == "csv"
        else responses_to_json(twice)
    )
    src.write_text(text, encoding="utf-8")
    with mock.patch("model.analysis.analyse", _no_fit):
        assert main(["aggregate", str(src), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert f"row {len(twice)}: participant {responses[1].participant!r} appears twice" in err
    assert "(also row 2); give each participant one row" in err
    assert not (tmp_path / "out").exists()
