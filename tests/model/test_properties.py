"""Property tests of the response validator.

Bad input of every kind must end in a `ResponseError` that names the field and says how
to fix it (never another exception), for one response and for every bad or repeated row of
a group; valid input must pass with its values and survive CSV and JSON. The importer and
the command line are in test_file_properties.py; bugs these properties found are kept as
regression tests in test_property_regressions.py.
"""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from model.io import parse_responses, read_responses, responses_to_csv, responses_to_json
from model.schema import (
    MAX_NAME_CHARS,
    MAX_PARTICIPANTS,
    MAX_RATIONALE_CHARS,
    ResponseError,
    validate_group,
    validate_response,
)
from priors import SCENARIO_IDS
from tests.model.property_strategies import (
    DEFAULTS,
    EVIDENCE,
    EVIDENCE_IDS,
    FACTORS,
    FIELDS,
    FIX,
    MANY,
    cheap_raw,
    index,
    junk_text,
)


def _says_how_to_fix(message: str, given_texts: list[str]) -> bool:
    """True if the message holds a fix word outside the user's own text."""
    message = re.sub(r"^row \d+: ", "", message)
    for text in sorted(given_texts, key=len, reverse=True):
        message = message.replace(repr(text), "\u2205")  # user text is quoted in messages
    return bool(FIX.search(message))


def _check_message(message: str, tokens: list[str], given_texts: list[str]) -> None:
    assert any(t in message for t in tokens), f"names none of {tokens}: {message[:500]!r}"
    assert _says_how_to_fix(message, given_texts), f"says no fix: {message[:500]!r}"


# -- strategies: values ---------------------------------------------------------------------

huge_text = st.integers(10_000, 300_000).map(lambda n: "x" * n)
_NONFINITE = [math.nan, math.inf, -math.inf, "nan", "NaN", " inf ", "-Infinity", "1e999", "nan%"]

# Ints up to 1e300 only: ints beyond float range crash today (see test_huge_ints_* in
# test_property_regressions.py).
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
# (see test_falsy_non_mappings_are_refused in test_property_regressions.py).
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


@st.composite
def bad_response(draw, *, cheap_base: bool = True):
    """(raw, tokens, texts): a response broken in one to three ways, or not an object."""
    if draw(_one_in_20) == 0:
        raw = draw(_not_an_object)
        return raw, ["response"], _texts(raw)
    raw = cheap_raw() if cheap_base else draw(valid_raw())
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
            earlier = sorted(seen)[draw(index) % len(seen)]
            rows.append({**cheap_raw(), "participant": f" {earlier}\t"})
            expected.append((row, ["appears twice", f"also row {seen[earlier]}"], [earlier]))
        elif what == "bad":
            raw, tokens, texts = draw(bad_response())
            rows.append(raw)
            expected.append((row, tokens, texts))
        else:
            name = f"p{row}"
            rows.append({**cheap_raw(), "participant": name})
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
