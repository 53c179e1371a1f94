"""Property tests of the evidence loader: any text gives items or a ValueError, never a crash.

Every line of the message starts with the source and names the field; a valid document
always parses with its values. Bugs they found are kept as regression tests at the end.
"""

from __future__ import annotations

import datetime as dt
import math
import re

import pytest
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from priors import SCENARIO_IDS, parse_evidence
from priors.errors import EvidenceError
from priors.loader import MAX_EVIDENCE_BYTES, MAX_EVIDENCE_ITEMS

MANY = settings(
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# -- a tiny TOML writer (flat tables, inline tables and arrays are all an item needs) -------


def toml_value(value) -> str:
    """One TOML value; NaN and infinities as TOML spells them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(map(toml_value, value)) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(type(value))


def toml_string(text: str) -> str:
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else toml_string(key)


def toml_document(top: dict, items: list[dict]) -> str:
    lines = [f"{toml_key(k)} = {toml_value(v)}" for k, v in top.items()]
    for item in items:
        lines += ["", "[[evidence]]"]
        lines += [f"{toml_key(k)} = {toml_value(v)}" for k, v in item.items()]
    return "\n".join(lines) + "\n"


def test_the_toml_writer_round_trips_through_tomllib():
    import tomllib

    value = {"a": [1, -2.5, 'x"\\\n\x7f\u00e9', True, {"b c": 0}], "d": dt.date(2025, 1, 2)}
    assert tomllib.loads(toml_document(value, [])) == value


# -- strategies ----------------------------------------------------------------------------

_TEXT = st.characters(exclude_categories=("Cs",))
_LINE = st.characters(exclude_categories=("Cs",), exclude_characters="\n\r")
source_text = st.text(_LINE, min_size=1, max_size=30)
_open_probability = st.floats(0.001, 0.999)
_id = st.text("abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=40)


_index = st.integers(0, 10**12)
_item_text = st.text(_TEXT, min_size=1, max_size=80)
_episodes = st.integers(1, 10**9)
_probability = st.floats(0, 1)
_rates = st.fixed_dictionaries(dict.fromkeys(SCENARIO_IDS, _open_probability))
_item_kind = st.sampled_from(["counts", "likelihood"])


def _pick(draw, options):
    return options[draw(_index) % len(options)]


@st.composite
def valid_item(draw, *, item_id: str) -> dict:
    kind = draw(_item_kind)
    item = {"id": item_id, "kind": kind, "text": draw(_item_text)}
    if kind == "counts":
        episodes = draw(_episodes)
        item["detected"] = draw(_index) % (episodes + 1)
        item["episodes"] = episodes
        if draw(st.booleans()):
            item["misalignment_rate"] = draw(_rates)
        if draw(st.booleans()):
            item["false_alarm_rate"] = draw(_probability)
    elif draw(st.booleans()):
        item["default_likelihood"] = draw(_rates)
    return item


@st.composite
def valid_items(draw, *, max_items: int = MAX_EVIDENCE_ITEMS) -> list[dict]:
    ids = draw(st.lists(_id, min_size=1, max_size=max_items, unique=True))
    return [draw(valid_item(item_id=i)) for i in ids]


_junk = st.text("xyzXYZ #!?-", min_size=1, max_size=12).filter(lambda s: s.strip())
_not_a_number = st.one_of(
    _junk,
    st.lists(st.integers(0, 1), max_size=2),
    st.fixed_dictionaries({"a": st.integers()}),
    st.dates(),
)
_bad_rate = st.one_of(
    st.sampled_from([math.nan, math.inf, -math.inf]),
    st.floats(max_value=-1e-9, allow_infinity=False),
    st.floats(min_value=1.0, exclude_min=True, allow_infinity=False),
    st.integers(2, 10**30),
    st.integers(-(10**30), -1),
    _not_a_number,
)
_bad_open_rate = st.one_of(_bad_rate, st.sampled_from([0, 1, 0.0, 1.0]))
_not_an_int = st.one_of(
    st.floats(), st.booleans(), _not_a_number, st.sampled_from(["3", "1e3", "0x10"])
)
_bad_id = st.one_of(
    st.just(""),
    st.from_regex(r"[a-z]*[A-Z \-.\u00e9][a-z]*", fullmatch=True),
    st.integers(41, 500).map(lambda n: "i" * n),
    st.integers(),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
)
_bad_text = st.one_of(
    st.just(""),
    st.integers(501, 5_000).map(lambda n: "t" * n),
    st.integers(),
    st.floats(),
    st.lists(st.text(max_size=3), max_size=2),
)
_unknown_key = st.one_of(
    st.sampled_from(["Kind", "ID", "detected ", "k", "n", "extra", "title"]),
    # No line breaks: a key is printed as given, and "\n" would split the message's lines.
    st.text(_LINE, min_size=1, max_size=12),
).filter(
    lambda k: (
        k
        not in {
            "id",
            "kind",
            "text",
            "detected",
            "episodes",
            "misalignment_rate",
            "false_alarm_rate",
            "default_likelihood",
            "counts",  # see test_an_unknown_field_named_like_a_kind_is_named
            "likelihood",
        }
    )
)
_any_value = st.one_of(st.integers(), st.floats(), st.booleans(), _junk, st.dates())


_break = st.sampled_from(
    ["kind", "drop", "unknown", "id", "text", "detected", "episodes", "over", "rate", "map"]
)
_bad_kind = st.one_of(_junk, st.integers(), st.booleans(), st.just("Counts"))
_bad_detected = st.one_of(st.integers(max_value=-1), _not_an_int)
_bad_episodes = st.one_of(st.integers(max_value=0), st.integers(10**9 + 1, 10**30), _not_an_int)
_bad_rates = st.one_of(_bad_open_rate, st.lists(_probability))


@st.composite
def break_item(draw, item: dict) -> list[str]:
    """Break one item in place; return tokens one of which the message must name."""
    counts = item.get("kind") == "counts"
    kind = draw(_break)
    if kind == "kind":
        item["kind"] = draw(_bad_kind)
        return ["kind"]
    if kind == "drop":
        field = _pick(draw, ["id", "kind", "text", *(["detected", "episodes"] if counts else [])])
        item.pop(field, None)
        return [field]
    if kind == "unknown":
        key = draw(_unknown_key)
        item[key] = draw(_any_value)
        return [key]
    if kind == "id":
        item["id"] = draw(_bad_id)
        return ["id"]
    if kind == "text":
        item["text"] = draw(_bad_text)
        return ["text"]
    if not counts:  # the counts fields are unknown on a likelihood item
        field = _pick(draw, ["detected", "episodes", "misalignment_rate"])
        item[field] = draw(_any_value)
        return [field]
    if kind == "detected":
        item["detected"] = draw(_bad_detected)
        return ["detected"]
    if kind == "episodes":
        item["episodes"] = draw(_bad_episodes)
        return ["episodes"]
    if kind == "over":
        if not isinstance(item.get("episodes"), int) or item["episodes"] >= 10**9:
            item["episodes"] = 1000
        item["detected"] = item["episodes"] + 1 + draw(_index)
        return ["detected"]
    if kind == "rate":
        item["false_alarm_rate"] = draw(_bad_rate)
        return ["false_alarm_rate"]
    rates = item.setdefault("misalignment_rate", dict.fromkeys(SCENARIO_IDS, 0.1))
    if not isinstance(rates, dict):
        item["misalignment_rate"] = rates = dict.fromkeys(SCENARIO_IDS, 0.1)
    how = _pick(draw, ["value", "missing", "extra", "type"])
    if how == "value":
        rates[_pick(draw, SCENARIO_IDS)] = draw(_bad_open_rate)
    elif how == "missing":
        present = [s for s in SCENARIO_IDS if s in rates]
        if present:
            del rates[_pick(draw, present)]
        else:
            rates["E"] = 0.1
    elif how == "extra":
        rates[_pick(draw, ["E", "a", "AB", "", "A "])] = 0.1
    else:
        item["misalignment_rate"] = draw(_bad_rates)
    return ["misalignment_rate"]


_how = st.sampled_from(["items", "items", "items", "top", "shape", "many", "dup", "cut"])
_one_to_three = st.integers(1, 3)
_unknown_top_key = _unknown_key.filter(lambda k: k != "evidence")
_bad_evidence_value = st.one_of(
    _any_value, st.lists(_any_value, min_size=1, max_size=3), st.just({"id": "a"})
)


@st.composite
def bad_document(draw) -> tuple[str, list[str]]:
    """(TOML text, tokens): a document broken in some way, mostly still valid TOML."""
    how = draw(_how)
    items = draw(valid_items(max_items=4))
    top: dict = {}
    tokens: list[str] = []
    if how == "items":
        for _ in range(draw(_one_to_three)):
            tokens += draw(break_item(_pick(draw, items)))
    elif how == "top":
        key = draw(_unknown_top_key)
        top[key] = draw(_any_value)
        tokens.append(key)
    elif how == "shape":
        top["evidence"] = draw(_bad_evidence_value)
        return toml_document(top, []), ["evidence"]
    elif how == "many":
        items = [{**items[0], "id": f"item_{i}"} for i in range(MAX_EVIDENCE_ITEMS + 1)]
        tokens.append("evidence")
    elif how == "dup":
        items.append(dict(items[0]))
        tokens.append("appears twice")
    else:
        text = toml_document(top, items)
        # A newline then these is invalid anywhere: in a string, an array, a table, a key.
        cut = text[: _pick(draw, range(len(text)))] + _pick(draw, ["\n= =", "\n[[evidence]", "\n{"])
        return cut, ["TOML"]
    return toml_document(top, items), tokens


def _check(text: str, source: str, tokens: list[str] | None) -> None:
    with pytest.raises(ValueError) as err:  # any other exception fails the test
        parse_evidence(text, source=source)
    assert type(err.value) is EvidenceError
    message = str(err.value)
    for line in message.split("\n"):
        assert line.startswith(f"{source}: "), message[:500]
    if tokens is not None:
        assert any(t in message for t in tokens), f"names none of {tokens}: {message[:500]!r}"


# -- properties ----------------------------------------------------------------------------


@MANY
@given(case=bad_document(), source=source_text)
def test_every_bad_evidence_document_gets_a_value_error_naming_the_source_and_field(case, source):
    text, tokens = case
    note(text[:2000])
    _check(text, source, tokens)


def _outcome(text: str, source: str) -> str:
    try:
        parse_evidence(text, source=source)
    except ValueError as exc:
        assert type(exc) is EvidenceError
        assert all(line.startswith(f"{source}: ") for line in str(exc).split("\n")), str(exc)
        return "refused"
    return "parsed"


_tomlish = st.lists(
    st.one_of(
        st.sampled_from(
            ["[[evidence]]", "[evidence]", 'id = "a"', 'kind = "counts"', "detected = 3"]
            + ["episodes = 10", 'text = "t"', "x = [1, 2", 'y = {a = "b"}', "", "# c", "= 1"]
        ),
        st.text(_TEXT, max_size=20),
    ),
    max_size=12,
).map("\n".join)


@MANY
@given(text=st.one_of(st.text(max_size=300), _tomlish), source=source_text)
def test_any_text_gives_items_or_a_value_error_naming_the_source(text, source):
    event(_outcome(text, source))


@MANY
@given(items=valid_items(max_items=6), source=source_text)
def test_a_valid_document_always_parses_with_its_values(items, source):
    parsed = parse_evidence(toml_document({}, items), source=source)
    assert len(parsed) == len(items)
    for got, want in zip(parsed, items, strict=True):
        assert got.model_dump(exclude_none=True) == want


@pytest.mark.parametrize("size", [MAX_EVIDENCE_BYTES + 1, 5 * MAX_EVIDENCE_BYTES])
def test_huge_documents_are_refused_by_size(size):
    _check("#" * size, "big.toml", ["kB"])


# -- regressions: bugs these properties found, fixed -----------------------------------------

_ONE = '[[evidence]]\nid = "a"\nkind = "counts"\ntext = "t"\ndetected = 1\nepisodes = 10\n'


@pytest.mark.parametrize(
    "text",
    ["a = " + "[" * 5000 + "]" * 5000, "a = " + "{b=" * 5000 + "1" + "}" * 5000],
    ids=["arrays", "tables"],
)
def test_deeply_nested_toml_is_refused_with_a_value_error(text):
    _check(text, "deep.toml", ["TOML"])


def test_an_integer_of_5000_digits_is_refused_naming_the_source():
    _check(_ONE.replace("detected = 1", "detected = 1" + "0" * 5000), "ev.toml", ["detected"])


@pytest.mark.parametrize("key", ["counts", "likelihood"])
def test_an_unknown_field_named_like_a_kind_is_named(key):
    _check(_ONE + f"{key} = 5\n", "ev.toml", [f"evidence[0].{key}"])


@pytest.mark.parametrize("value", ["true", "false", '"0.5"'])
def test_a_rate_of_the_wrong_kind_is_refused(value):
    _check(_ONE + f"false_alarm_rate = {value}\n", "ev.toml", ["false_alarm_rate"])
