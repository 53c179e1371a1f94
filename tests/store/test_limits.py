"""Tests of what the Store refuses and what it keeps exactly, on SQLite and PostgreSQL.

Display names, group names, evidence and answer payloads over their limits, of the wrong
type, or holding what JSON cannot (NaN, tuples, non-str keys, unpaired surrogates, nesting
too deep) are refused with a message saying what to change, writing nothing; a payload
exactly at the size limit is kept. Hostile text (markup, quotes, control and bidi
characters, SQL, about 1 MB of it) comes back byte for byte.
"""

import datetime as dt
import json

import pytest

from store import MAX_DISPLAY_NAME_CHARS, MAX_PAYLOAD_BYTES
from tests.store.helpers import EVIDENCE, HOSTILE

# -- limits -------------------------------------------------------------------------------


def test_display_name_limit(store):
    group, _ = store.create_group("g", evidence="")
    longest = "é" * MAX_DISPLAY_NAME_CHARS
    assert store.add_participant(group.id, longest)[0].display_name == longest
    with pytest.raises(ValueError, match=r"201 characters long; shorten it to at most 200"):
        store.add_participant(group.id, longest + "x")
    with pytest.raises(ValueError, match="display name is empty"):
        store.add_participant(group.id, " \t\n")
    with pytest.raises(ValueError, match="display name must be text"):
        store.add_participant(group.id, None)
    with pytest.raises(ValueError, match="NUL character"):
        store.add_participant(group.id, "a\x00b")
    with pytest.raises(ValueError, match="unpaired surrogate"):
        store.add_participant(group.id, "a\udc80b")
    assert len(store.participants(group.id)) == 1


def test_group_name_and_evidence_limits(store):
    with pytest.raises(ValueError, match="group name is 201 characters long"):
        store.create_group("g" * 201, evidence="")
    with pytest.raises(ValueError, match="group name is empty"):
        store.create_group("", evidence="")
    with pytest.raises(ValueError, match="evidence is 1,000,001 characters long"):
        store.create_group("g", evidence="x" * 1_000_001)
    with pytest.raises(ValueError, match="evidence must be text"):
        store.create_group("g", evidence=None)
    assert store.create_group("g", evidence="")[0].evidence == ""


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([1, 2], "payload must be a dict"),
        ("{}", "payload must be a dict"),
        (None, "payload must be a dict"),
        ({"a": (1, 2)}, r"payload\['a'\] is a tuple, which JSON cannot hold; .*list"),
        ({"a": {1, 2}}, r"payload\['a'\] is a set"),
        ({"a": [float("nan")]}, r"payload\['a'\]\[0\] is nan, which JSON cannot hold"),
        ({"a": float("inf")}, r"payload\['a'\] is inf"),
        ({1: "x"}, "payload has the key 1 \\(int\\); JSON object keys must be str"),
        ({"a": dt.datetime(2020, 1, 1)}, "is a datetime"),
        ({"a": b"bytes"}, "is a bytes"),
        ({"a": "\ud800"}, "unpaired surrogate"),
        ({"a": object()}, "is a object"),
    ],
)
def test_payload_must_be_a_json_object(store, payload, message):
    group, _ = store.create_group("g", evidence="")
    participant, _ = store.add_participant(group.id, "Ada")
    with pytest.raises(ValueError, match=message):
        store.add_revision(participant.id, round=1, payload=payload)
    assert store.revisions(participant.id) == []


def test_payload_nested_too_deep(store):
    group, _ = store.create_group("g", evidence="")
    participant, _ = store.add_participant(group.id, "Ada")
    deep: dict = {}
    inner = deep
    for _ in range(100):
        inner["x"] = {}
        inner = inner["x"]
    with pytest.raises(ValueError, match="nested over 64 levels deep; flatten it"):
        store.add_revision(participant.id, round=1, payload=deep)


def test_payload_size_limit(store):
    group, _ = store.create_group("g", evidence="")
    participant, _ = store.add_participant(group.id, "Ada")
    overhead = len('{"rationale":""}')
    fits = {"rationale": "x" * (MAX_PAYLOAD_BYTES - overhead)}
    assert store.add_revision(participant.id, round=1, payload=fits).payload == fits
    # The limit counts UTF-8 bytes: one more byte (here half of a two-byte é) is too many.
    too_big = {"rationale": "x" * (MAX_PAYLOAD_BYTES - overhead - 1) + "é"}
    with pytest.raises(ValueError, match=r"payload is 2,097,153 bytes as JSON, over the limit"):
        store.add_revision(participant.id, round=1, payload=too_big)
    assert len(store.revisions(participant.id)) == 1


# -- hostile text -------------------------------------------------------------------------


def test_hostile_text_round_trips_exactly(store):
    name = ("<script>alert(1)</script>" + HOSTILE.replace("\x00", ""))[:MAX_DISPLAY_NAME_CHARS]
    evidence = EVIDENCE + "# " + HOSTILE.replace("\x00", "") + "\n"
    group, _ = store.create_group("</title><h1>" + "g" * 150, evidence=evidence)
    participant, token = store.add_participant(group.id, name)
    rationale = (HOSTILE * (1_000_000 // len(HOSTILE) + 1))[:1_000_000]  # ~1 MB
    payload = {
        "rationale": rationale,
        HOSTILE: HOSTILE,
        "list": [HOSTILE, {"<k>": "</k>"}],
        "sql": "'); DROP TABLE revisions; --",
    }
    store.add_revision(participant.id, round=1, payload=payload)

    read_group = store.get_group(group.id)
    assert read_group.evidence.encode() == evidence.encode()
    assert read_group.name == group.name
    read_participant = store.participant_for_token(group.id, token)
    assert read_participant.display_name.encode() == name.encode()
    read = store.revisions(participant.id)[0].payload
    assert read["rationale"].encode() == rationale.encode()
    assert read == payload
    assert json.dumps(read, ensure_ascii=False) == json.dumps(payload, ensure_ascii=False)
    assert store.latest_revisions(group.id, round=1)[0][1].payload == payload
