"""Property tests of the response validator, the CSV/JSON importer and the command line.

Bad input of every kind must end in a `ResponseError` that names the field and says how
to fix it (never another exception); valid input must pass and survive CSV and JSON.
Bugs these properties found are kept as regression tests at the end of the file.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import json
import math
import re
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from model.cli import main
from model.io import (
    MAX_FILE_BYTES,
    csv_columns,
    parse_responses,
    read_responses,
    responses_to_csv,
    responses_to_json,
)
from model.schema import (
    MAX_NAME_CHARS,
    MAX_PARTICIPANTS,
    MAX_RATIONALE_CHARS,
    ResponseError,
    validate_group,
    validate_response,
)
from priors import SCENARIO_IDS, load_defaults

DEFAULTS = load_defaults()
EVIDENCE = DEFAULTS.evidence
FACTORS = DEFAULTS.factor_ids
EVIDENCE_IDS = tuple(e.id for e in EVIDENCE)
FIELDS = ("participant", "scenarios", "factors", "p_scheming", "readings", "rationale")
COLUMNS = csv_columns(EVIDENCE, DEFAULTS)

# 1000 examples per property (so at least 1000 bad inputs each); every strategy is cheap.
MANY = settings(
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Words that tell the reader what to do. A message must contain one of them outside the
# values the user gave (a junk key "give" must not count).
_FIX = re.compile(r"\b(give|must|use|remove|shorten|rescale|add|check|save|enter|split)\b", re.I)


def _says_how_to_fix(message: str, given_texts: list[str]) -> bool:
    """True if the message holds a fix word outside the user's own text."""
    message = re.sub(r"^row \d+: ", "", message)
    for text in sorted(given_texts, key=len, reverse=True):
        message = message.replace(repr(text), "\u2205")  # user text is quoted in messages
    return bool(_FIX.search(message))


def _check_message(message: str, tokens: list[str], given_texts: list[str]) -> None:
    assert any(t in message for t in tokens), f"names none of {tokens}: {message[:500]!r}"
    assert _says_how_to_fix(message, given_texts), f"says no fix: {message[:500]!r}"


# -- strategies: values ---------------------------------------------------------------------

# Junk text that float() can never read (no digits, no letters of "nan"/"inf"/"e").
_JUNK = "xyzqjwXYZQJW#@!?~;:,._-/ \u00e9\u6f22\U0001f9e8"
junk_text = st.text(_JUNK, min_size=1, max_size=30).filter(lambda s: s.strip())
huge_text = st.integers(10_000, 300_000).map(lambda n: "x" * n)
_NONFINITE = [math.nan, math.inf, -math.inf, "nan", "NaN", " inf ", "-Infinity", "1e999", "nan%"]

# Ints up to 1e300 only: ints beyond float range crash today (see test_huge_ints_*).
nonfinite = st.sampled_from(_NONFINITE)
negative = st.one_of(
    st.floats(max_value=-5e-324, allow_infinity=False),
    st.integers(-(10**300), -1),
    st.floats(1e-300, 1e300).map(lambda x: f"-{x!r}"),
    st.floats(1e-300, 1e300).map(lambda x: f" -{x!r}% "),
)
above_one = st.one_of(
    st.floats(min_value=1.0, exclude_min=True, allow_infinity=False),
    st.integers(2, 10**300),
    st.floats(min_value=1.0, exclude_min=True, max_value=1e300).map(repr),
    st.floats(101.0, 1e300).map(lambda x: f"{x!r}%"),
)
wrong_type = st.one_of(
    st.booleans(),
    st.lists(st.floats(0, 1), max_size=3),
    st.dictionaries(st.text(max_size=3), st.floats(0, 1), max_size=2),
    st.binary(max_size=5),
    st.tuples(st.floats(0, 1)),
    st.complex_numbers(max_magnitude=1, allow_nan=False),
    st.frozensets(st.integers(0, 1), max_size=2),
)
# Bad in any probability slot (never None or blank, which mean "no answer").
bad_probability = st.one_of(nonfinite, negative, above_one, wrong_type, junk_text, huge_text)
# Bad in a required slot: also no answer at all.
bad_required = st.one_of(bad_probability, st.sampled_from([None, "", "   "]))


def _not_in(names):
    return lambda key: str(key) not in names


any_key = st.one_of(
    st.text(max_size=12), st.integers(-5, 10**30), st.none(), st.booleans(), st.floats()
)
bad_name = st.one_of(
    st.sampled_from([None, "", "  \t\n "]),
    st.integers(),
    st.booleans(),
    st.lists(st.text(max_size=3), max_size=2),
    st.integers(MAX_NAME_CHARS + 1, 50_000).map(lambda n: "n" * n),
    junk_text.map(lambda s: f"a{s}\x00{s}"),
)
bad_rationale = st.one_of(
    st.integers(),
    st.booleans(),
    st.lists(st.text(max_size=3), min_size=1, max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.integers(MAX_RATIONALE_CHARS + 1, MAX_RATIONALE_CHARS + 50_000).map(lambda n: "r" * n),
    junk_text.map(lambda s: f"{s}\x00"),
)
# Truthy non-mappings only: falsy ones ([], "", 0, False) are read as "no answers" today
# (see test_falsy_non_mappings_are_refused).
bad_mapping = st.one_of(
    st.lists(st.floats(0, 1), min_size=1, max_size=4),
    junk_text,
    st.integers(1, 10**6),
    st.just(True),
    st.tuples(st.just("A"), st.floats(0, 1)),
)

# -- strategies: a valid response, then one to three ways of breaking it --------------------

_TEXT = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
name_text = st.text(_TEXT, min_size=1, max_size=40).filter(lambda s: s.strip())


def _credences(weights_and_jitter) -> list[float]:
    weights, jitter = weights_and_jitter
    p = [w / sum(weights) for w in weights]
    p[0] = min(1.0, max(0.0, p[0] + jitter))
    return p


# Four probabilities summing to 1 within the 0.005 tolerance (with room to spare).
credences = st.tuples(
    st.lists(st.floats(0, 1), min_size=4, max_size=4).filter(sum), st.floats(-0.004, 0.004)
).map(_credences)


def _answer_form(x_and_form):
    x, form = x_and_form
    return [None, "", x, f"{x!r}", f"{x * 100!r}%", int(x >= 0.5)][form]


# A valid answer to an optional item: none, a number, or number text.
optional_probability = st.tuples(st.floats(0, 1), st.integers(0, 5)).map(_answer_form)
_N_OPTIONAL = len(FACTORS) + 1 + len(EVIDENCE_IDS) * len(SCENARIO_IDS)
_optional_answers = st.lists(optional_probability, min_size=_N_OPTIONAL, max_size=_N_OPTIONAL)
_rationale_text = st.text(_TEXT, max_size=200)


@st.composite
def valid_raw(draw, *, name=None) -> dict:
    """A valid response as plain values (as a form or a file gives it)."""
    answers = iter(draw(_optional_answers))
    return {
        "participant": draw(name_text) if name is None else name,
        "scenarios": dict(zip(SCENARIO_IDS, draw(credences), strict=True)),
        "factors": {f: next(answers) for f in FACTORS},
        "p_scheming": next(answers),
        "readings": {e: {s: next(answers) for s in SCENARIO_IDS} for e in EVIDENCE_IDS},
        "rationale": draw(_rationale_text),
    }


def _cheap_raw() -> dict:
    return {
        "participant": "Ada",
        "scenarios": {"A": 0.4, "B": 0.3, "C": 0.2, "D": 0.1},
        "factors": dict.fromkeys(FACTORS, 0.3),
        "p_scheming": 0.05,
        "readings": {e: {"A": 0.6, "B": 0.6, "C": 0.6, "D": 0.01} for e in EVIDENCE_IDS},
        "rationale": "",
    }


def _texts(value) -> list[str]:
    """Every string inside a generated value (to tell them apart from the message text)."""
    if isinstance(value, str):
        short = value.strip()
        return [value, value[:40], value[:60], short, short[:40], short[:60]]
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in (*_texts(str(k)), *_texts(v))]
    if isinstance(value, list | tuple | frozenset):
        return [t for v in value for t in _texts(v)]
    return [str(value)]


_KINDS = st.sampled_from(
    [
        "credence",
        "sum",
        "scenarios_type",
        "unknown_scenario",
        "factor",
        "factors_type",
        "unknown_factor",
        "p_scheming",
        "reading",
        "reading_type",
        "reading_scenario",
        "readings_type",
        "unknown_evidence",
        "participant",
        "rationale",
        "unknown_field",
        "missing",
    ]
)
_scenario = st.sampled_from(SCENARIO_IDS)
_factor = st.sampled_from(FACTORS)
_evidence_id = st.sampled_from(EVIDENCE_IDS)
_required_field = st.sampled_from(["participant", "scenarios"])
_sum_off = st.lists(st.floats(0, 1), min_size=4, max_size=4).filter(
    lambda w: abs(sum(w) - 1) > 0.0051
)
_scenarios_value = st.one_of(st.none(), bad_mapping, st.just([]))
_unknown_scenario = any_key.filter(_not_in(SCENARIO_IDS))
_unknown_factor = any_key.filter(_not_in(FACTORS))
_unknown_evidence = any_key.filter(_not_in(EVIDENCE_IDS))
_unknown_field = any_key.filter(_not_in(FIELDS))
_extra_value = st.one_of(st.none(), st.integers(), st.text(max_size=5))
_probability = st.floats(0, 1)


@st.composite
def mutation(draw, raw: dict) -> tuple[list[str], list[str]]:
    """Break `raw` in one way; return (tokens one of which the message must name, texts)."""
    kind = draw(_KINDS)
    if not isinstance(raw.get("scenarios"), dict) and kind in ("credence", "unknown_scenario"):
        kind = "sum"
    if not isinstance(raw.get("factors"), dict) and kind in ("factor", "unknown_factor"):
        kind = "factors_type"
    if not isinstance(raw.get("readings"), dict) and kind.startswith(("reading", "unknown_e")):
        kind = "readings_type"
    if kind == "participant":
        raw["participant"] = value = draw(bad_name)
        return ["participant"], _texts(value)
    if kind == "rationale":
        raw["rationale"] = value = draw(bad_rationale)
        return ["rationale"], _texts(value)
    if kind == "unknown_field":
        key = draw(_unknown_field)
        raw[key] = draw(_extra_value)
        return [repr(str(key))], _texts(key)
    if kind == "missing":
        field = draw(_required_field)
        raw.pop(field, None)
        return [field], []
    if kind == "credence":
        s = draw(_scenario)
        raw["scenarios"][s] = value = draw(bad_required)
        return [f"credence in {s}", "scenarios"], _texts(value)
    if kind == "sum":
        p = draw(_sum_off)
        raw["scenarios"] = dict(zip(SCENARIO_IDS, p, strict=True))
        return ["scenario credences", "scenarios"], []
    if kind == "scenarios_type":
        raw["scenarios"] = value = draw(_scenarios_value)
        return ["scenarios"], _texts(value)
    if kind == "unknown_scenario":
        key = draw(_unknown_scenario)
        raw["scenarios"][key] = draw(_probability)
        return [repr(str(key)), "scenarios"], _texts(key)
    if kind == "factor":
        f = draw(_factor)
        raw["factors"][f] = value = draw(bad_probability)
        return [f], _texts(value)
    if kind == "factors_type":
        raw["factors"] = value = draw(bad_mapping)
        return ["factors"], _texts(value)
    if kind == "unknown_factor":
        key = draw(_unknown_factor)
        raw["factors"][key] = 0.5
        return [repr(str(key))], _texts(key)
    if kind == "p_scheming":
        raw["p_scheming"] = value = draw(bad_probability)
        return ["p_scheming"], _texts(value)
    if kind == "readings_type":
        raw["readings"] = value = draw(bad_mapping)
        return ["readings"], _texts(value)
    if kind == "unknown_evidence":
        key = draw(_unknown_evidence)
        raw["readings"][key] = {"A": 0.5}
        return [repr(str(key))], _texts(key)
    e = draw(_evidence_id)
    if not isinstance(raw["readings"].get(e), dict):
        raw["readings"][e] = {}
    if kind == "reading":
        s = draw(_scenario)
        raw["readings"][e][s] = value = draw(bad_probability)
        return [f"{e}:{s}", f"readings.{e}"], _texts(value)
    if kind == "reading_type":
        raw["readings"][e] = value = draw(bad_mapping)
        return [f"readings.{e}"], _texts(value)
    key = draw(_unknown_scenario)  # reading_scenario
    raw["readings"][e][key] = 0.5
    return [f"readings.{e}"], _texts(key)


_one_in_20 = st.integers(0, 19)
_not_an_object = st.one_of(st.none(), st.integers(), junk_text, st.lists(st.integers()))
_one_to_three = st.integers(1, 3)
_index = st.integers(0, 10**6)


@st.composite
def bad_response(draw, *, cheap_base: bool = True):
    """(raw, tokens, texts): a response broken in one to three ways, or not an object."""
    if draw(_one_in_20) == 0:
        raw = draw(_not_an_object)
        return raw, ["response"], _texts(raw)
    raw = _cheap_raw() if cheap_base else draw(valid_raw())
    tokens, texts = [], []
    for _ in range(draw(_one_to_three)):
        t, x = draw(mutation(raw))
        tokens += t
        texts += x
    return raw, tokens, texts


# -- (1) the validator ----------------------------------------------------------------------


@MANY
@given(case=bad_response(cheap_base=False))
def test_every_bad_response_gets_a_response_error_naming_the_field_and_the_fix(case):
    raw, tokens, texts = case
    with pytest.raises(ResponseError) as err:  # any other exception fails the test
        validate_response(raw, evidence=EVIDENCE, defaults=DEFAULTS)
    message = str(err.value)
    who = raw.get("participant") if isinstance(raw, dict) else None
    _check_message(message, tokens, [*texts, *_texts(who)])


_row_count = st.integers(1, 6)
_row_kind = st.sampled_from(["valid", "bad", "bad", "repeat"])


@st.composite
def bad_group(draw):
    """Rows that are valid, broken, or repeat an earlier name (with other spacing)."""
    rows, expected, seen = [], [], {}
    for row in range(1, draw(_row_count) + 1):
        what = draw(_row_kind)
        if what == "repeat" and seen:
            earlier = sorted(seen)[draw(_index) % len(seen)]
            rows.append({**_cheap_raw(), "participant": f" {earlier}\t"})
            expected.append((row, ["appears twice", f"also row {seen[earlier]}"], [earlier]))
        elif what == "bad":
            raw, tokens, texts = draw(bad_response())
            rows.append(raw)
            expected.append((row, tokens, texts))
        else:
            name = f"p{row}"
            rows.append({**_cheap_raw(), "participant": name})
            seen[name] = row
    return rows, expected


@MANY
@given(case=bad_group())
def test_a_group_reports_every_bad_row_and_every_repeated_participant(case):
    rows, expected = case
    if not expected:
        assert len(validate_group(rows, evidence=EVIDENCE, defaults=DEFAULTS)) == len(rows)
        return
    with pytest.raises(ResponseError) as err:
        validate_group(rows, evidence=EVIDENCE, defaults=DEFAULTS)
    lines = str(err.value).split("\n")
    assert len(lines) == len(expected), lines
    for line, (row, tokens, texts) in zip(lines, expected, strict=True):
        assert line.startswith(f"row {row}: ")
        who = rows[row - 1].get("participant") if isinstance(rows[row - 1], dict) else None
        _check_message(line, tokens, [*texts, *_texts(who)])


@MANY
@given(raw=valid_raw())
def test_a_valid_response_always_passes_with_its_values(raw):
    r = validate_response(raw, evidence=EVIDENCE, defaults=DEFAULTS)
    assert r.participant == raw["participant"].strip()
    assert r.rationale == raw["rationale"]
    assert r.scenarios == {s: float(raw["scenarios"][s]) for s in SCENARIO_IDS}
    assert r.factors == {f: _as_read(raw["factors"][f]) for f in FACTORS}
    assert r.p_scheming == _as_read(raw["p_scheming"])
    assert r.readings == {
        e: {s: _as_read(raw["readings"][e][s]) for s in SCENARIO_IDS} for e in EVIDENCE_IDS
    }


def _as_read(answer) -> float | None:
    """What an optional answer means: blank is no answer, "x%" is x / 100."""
    if answer is None or answer == "":
        return None
    if isinstance(answer, str) and answer.endswith("%"):
        return float(answer[:-1]) / 100
    return float(answer)


@settings(MANY, max_examples=500)
@given(
    raws=st.lists(valid_raw(), min_size=1, max_size=3, unique_by=lambda r: r["participant"].strip())
)
def test_valid_groups_round_trip_through_csv_and_json_unchanged(raws):
    responses = validate_group(raws, evidence=EVIDENCE, defaults=DEFAULTS)
    as_csv = responses_to_csv(responses, evidence=EVIDENCE, defaults=DEFAULTS)
    note(repr(as_csv))
    assert parse_responses(as_csv, fmt="csv", evidence=EVIDENCE, defaults=DEFAULTS) == responses
    as_json = responses_to_json(responses)
    assert parse_responses(as_json, fmt="json", evidence=EVIDENCE, defaults=DEFAULTS) == responses


def test_valid_files_round_trip_through_disk(tmp_path):
    from model.example import example_responses

    responses = example_responses(n=30)
    for fmt, text in (
        ("csv", responses_to_csv(responses, evidence=EVIDENCE, defaults=DEFAULTS)),
        ("json", responses_to_json(responses)),
    ):
        path = tmp_path / f"group.{fmt}"
        path.write_bytes(text.encode("utf-8"))
        assert read_responses(path, evidence=EVIDENCE, defaults=DEFAULTS) == responses


def test_too_many_responses_are_refused_before_any_is_validated():
    with pytest.raises(ResponseError, match="the limit is 20,000"):
        validate_group([{}] * (MAX_PARTICIPANTS + 1), evidence=EVIDENCE, defaults=DEFAULTS)


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
        cut = draw(_index) % len(text)
        return f".{fmt}", text[:cut].encode()
    if kind == "duplicate":
        responses = examples["responses"]
        dup = responses[draw(_index) % len(responses)]
        group = [*responses, dataclasses.replace(dup, participant=f"  {dup.participant} ")]
        group.insert(draw(_index) % len(group), group.pop())
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


# -- regressions: bugs these properties found, fixed -----------------------------------------


huge_int = st.one_of(st.integers(min_value=2**1024), st.integers(max_value=-(2**1024)))


@settings(max_examples=1000, deadline=None)
@given(value=huge_int, slot=st.sampled_from(["A", "p_scheming", "factor", "reading"]))
def test_huge_ints_are_refused_with_a_response_error(value, slot):
    raw = _cheap_raw()
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
        {**_cheap_raw(), "rationale": "r" * 131_073}, evidence=EVIDENCE, defaults=DEFAULTS
    )
    text = responses_to_csv([r], evidence=EVIDENCE, defaults=DEFAULTS)
    assert parse_responses(text, fmt="csv", evidence=EVIDENCE, defaults=DEFAULTS) == [r]


@pytest.mark.parametrize("field", ["participant", "rationale"])
def test_broken_unicode_is_refused(field):
    with pytest.raises(ResponseError, match=field):
        validate_response(
            {**_cheap_raw(), field: "Ada \ud800"}, evidence=EVIDENCE, defaults=DEFAULTS
        )


@pytest.mark.parametrize("field", ["factors", "readings"])
@pytest.mark.parametrize("value", [[], "", 0, False], ids=["list", "str", "int", "bool"])
def test_falsy_non_mappings_are_refused(field, value):
    with pytest.raises(ResponseError, match=field):
        validate_response({**_cheap_raw(), field: value}, evidence=EVIDENCE, defaults=DEFAULTS)


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
    "unknown_field": lambda _: _message([{**_cheap_raw(), "colour": 1}]),
    "unknown_scenario": lambda _: _message(
        [{**_cheap_raw(), "scenarios": {"A": 0.5, "B": 0.5, "C": 0, "D": 0, "E": 0}}]
    ),
    "unknown_factor": lambda _: _message([{**_cheap_raw(), "factors": {"vibes": 0.5}}]),
    "unknown_evidence": lambda _: _message([{**_cheap_raw(), "readings": {"other": {}}}]),
    "required": lambda _: _message([{**_cheap_raw(), "scenarios": {"A": 1}}]),
    "negative": lambda _: _message([{**_cheap_raw(), "p_scheming": -0.1}]),
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
    assert _FIX.search(_MESSAGES[template](tmp_path))
