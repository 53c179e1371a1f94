"""Tests of the Store on SQLite and PostgreSQL: records, tokens, revisions, rounds, limits."""

import datetime as dt
import hashlib
import json
import sqlite3
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import URL, insert

import store as store_pkg
from priors.errors import BadInputError, CruxboardError, ImportFileError, StoreError
from store import (
    MAX_DISPLAY_NAME_CHARS,
    MAX_PAYLOAD_BYTES,
    SCHEMA_VERSION,
    CorruptDatabaseError,
    DuplicateRevisionError,
    NotFoundError,
    SchemaError,
    Store,
    export_json,
    parse_export_json,
)
from store.engine import resolve_url
from store.schema import groups
from tests.store.helpers import strip_ids

EVIDENCE = textwrap.dedent(
    """\
    # facilitator's evidence, TOML kept verbatim (comments, order, spacing)
    [[evidence]]
    id = "monitor-2025"
    text = "3 detected misaligned actions in 1000 monitored episodes <b>not bold</b>"
    k = 3
    n = 1000
    """
)
HOSTILE = (
    "<script>alert('x')</script><img src=x onerror=alert(1)> \"quoted\" 'single' "
    "& &amp; \\ backslash \u202eRTL\u202c \u2028line sep\u2029 emoji \U0001f9e8 "
    "nul-escaped-by-json:\x00 bell:\x07 tab:\t cr:\r nl:\n é ß 漢字 ﷽"
)


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# -- groups -------------------------------------------------------------------------------


def test_create_and_get_group(store):
    before = dt.datetime.now(dt.UTC)
    group, token = store.create_group("Reading group", evidence=EVIDENCE)
    after = dt.datetime.now(dt.UTC)

    assert group.name == "Reading group"
    assert group.evidence == EVIDENCE
    assert group.current_round == 1
    assert len(group.id) == 12 and group.id.replace("-", "").replace("_", "").isalnum()
    assert group.created_at.tzinfo is not None and before <= group.created_at <= after
    assert store.get_group(group.id) == group
    assert len(token) >= 43


@pytest.mark.parametrize("group_id", ["nope", "", "x" * 500, "a\x00b", "../etc", None, 42])
def test_unknown_or_malformed_group_id_gives_none(store, group_id):
    assert store.get_group(group_id) is None
    assert store.participants(group_id) == []
    assert store.latest_revisions(group_id, round=1) == []
    assert store.count_answered(group_id, round=1) == 0
    with pytest.raises(NotFoundError, match="no group"):
        store.open_next_round(group_id)
    with pytest.raises(NotFoundError, match="no group"):
        store.export_group(group_id)
    with pytest.raises(NotFoundError, match="no group"):
        store.add_participant(group_id, "Ada")


def test_group_ids_and_tokens_are_fresh(store):
    made = [store.create_group(f"g{i}", evidence="") for i in range(5)]
    assert len({g.id for g, _ in made}) == 5
    assert len({t for _, t in made}) == 5


# -- tokens -------------------------------------------------------------------------------


def test_tokens_are_stored_only_as_hashes(store, raw_rows):
    group, facilitator_token = store.create_group("g", evidence="")
    participant, edit_token = store.add_participant(group.id, "Ada")

    group_rows, participant_rows = raw_rows("groups"), raw_rows("participants")
    everything = repr(group_rows) + repr(participant_rows)
    assert facilitator_token not in everything
    assert edit_token not in everything
    assert group_rows[0]["facilitator_token_hash"] == _sha256(facilitator_token)
    assert participant_rows[0]["edit_token_hash"] == _sha256(edit_token)
    # The records handed out carry no hash either.
    assert _sha256(facilitator_token) not in repr(store.get_group(group.id))
    assert _sha256(edit_token) not in repr(store.participants(group.id))
    assert _sha256(edit_token) not in json.dumps(store.export_group(group.id))


def test_right_tokens_are_accepted(store):
    group, facilitator_token = store.create_group("g", evidence="")
    participant, edit_token = store.add_participant(group.id, "Ada")
    assert store.is_facilitator(group.id, facilitator_token) is True
    assert store.participant_for_token(group.id, edit_token) == participant


def test_wrong_missing_and_other_group_tokens_are_refused(store):
    group, facilitator_token = store.create_group("g", evidence="")
    participant, edit_token = store.add_participant(group.id, "Ada")
    other, other_facilitator = store.create_group("other", evidence="")
    _, other_edit = store.add_participant(other.id, "Bob")

    wrong = [
        None,
        "",
        "x",
        facilitator_token[:-1],
        facilitator_token + "x",
        facilitator_token.upper(),
        " " + facilitator_token,
        "\x00",
        "\ud800",  # lone surrogate
        "t" * 100_000,
        _sha256(facilitator_token),  # the stored hash is not a token
        123,
        b"bytes",
    ]
    for token in wrong:
        assert store.is_facilitator(group.id, token) is False, token
        assert store.participant_for_token(group.id, token) is None, token
    # Tokens of another group, or of the other role, open nothing here.
    for token in (other_facilitator, other_edit, edit_token):
        assert store.is_facilitator(group.id, token) is False
    for token in (other_edit, other_facilitator, facilitator_token):
        assert store.participant_for_token(group.id, token) is None
    # A right token with the wrong group id.
    assert store.is_facilitator(other.id, facilitator_token) is False
    assert store.participant_for_token(other.id, edit_token) is None
    assert store.is_facilitator("no-such-group", facilitator_token) is False
    assert store.participant_for_token("no-such-group", edit_token) is None


# -- revisions ----------------------------------------------------------------------------


def test_revisions_append_and_never_overwrite(store, raw_rows):
    group, _ = store.create_group("g", evidence="")
    participant, _ = store.add_participant(group.id, "Ada")

    first = store.add_revision(participant.id, round=1, payload={"credences": [0.4, 0.3, 0.2, 0.1]})
    second = store.add_revision(
        participant.id, round=1, payload={"credences": [0.1, 0.2, 0.3, 0.4]}
    )

    assert store.revisions(participant.id) == [first, second]
    assert first.payload == {"credences": [0.4, 0.3, 0.2, 0.1]}
    assert second.id > first.id and second.created_at >= first.created_at
    assert first.group_id == group.id and first.round == 1
    assert len(raw_rows("revisions")) == 2
    assert store.revisions(participant.id + 1000) == []


def test_the_same_answer_twice_in_a_round_is_refused_and_writes_nothing(store, raw_rows):
    """A form sent twice (a double click on Submit) must not store the answer twice; the same
    answer in a later round, or after a different one, is a new revision."""
    group, _ = store.create_group("g", evidence="")
    ada, _ = store.add_participant(group.id, "Ada")
    payload = {"scenarios": {"A": 0.4, "B": 0.6}, "rationale": "r"}
    first = store.add_revision(ada.id, round=1, payload=payload)
    with pytest.raises(DuplicateRevisionError, match="already saved"):
        store.add_revision(ada.id, round=1, payload=dict(reversed(payload.items())))
    assert isinstance(DuplicateRevisionError("x"), BadInputError)
    assert store.revisions(ada.id) == [first] and len(raw_rows("revisions")) == 1
    other = store.add_revision(ada.id, round=1, payload={**payload, "rationale": "s"})
    again = store.add_revision(ada.id, round=1, payload=payload)  # back to the first answer
    store.open_next_round(group.id)
    next_round = store.add_revision(ada.id, round=2, payload=payload)
    assert store.revisions(ada.id) == [first, other, again, next_round]


def test_store_offers_no_way_to_change_or_delete_revisions():
    verbs = ("update", "delete", "remove", "edit", "replace", "set_", "overwrite")
    # remove_participant appends a status change and deletes nothing: the test of it in
    # test_members.py reads every row before and after.
    appends_only = {"remove_participant"}
    assert not [name for name in dir(Store) if name.startswith(verbs) and name not in appends_only]


def test_payload_is_a_copy(store):
    group, _ = store.create_group("g", evidence="")
    participant, _ = store.add_participant(group.id, "Ada")
    payload = {"list": [1, 2]}
    revision = store.add_revision(participant.id, round=1, payload=payload)
    payload["list"].append(3)
    revision.payload["list"].append(4)
    assert store.revisions(participant.id)[0].payload == {"list": [1, 2]}


def test_payload_types_and_key_order_survive(store):
    group, _ = store.create_group("g", evidence="")
    participant, _ = store.add_participant(group.id, "Ada")
    payload = {
        "z": 1,
        "a": None,
        "m": [True, False, 0, -1, 2**70, 0.1, 1e-300, -0.0, 1.7976931348623157e308],
        "nested": {"b": {"c": [{"d": "e"}]}},
        "": "empty key",
    }
    stored = store.add_revision(participant.id, round=1, payload=payload)
    read = store.revisions(participant.id)[0].payload
    assert read == payload == stored.payload
    assert list(read) == list(payload)
    assert json.dumps(read) == json.dumps(payload)


def test_latest_revisions_and_count_answered(store):
    group, _ = store.create_group("g", evidence="")
    ada, _ = store.add_participant(group.id, "Ada")
    bob, _ = store.add_participant(group.id, "Bob")
    cy, _ = store.add_participant(group.id, "Cy")  # never answers
    other, _ = store.create_group("other", evidence="")
    dee, _ = store.add_participant(other.id, "Dee")

    store.add_revision(bob.id, round=1, payload={"v": "bob-1"})
    store.add_revision(ada.id, round=1, payload={"v": "ada-1"})
    ada_newest = store.add_revision(ada.id, round=1, payload={"v": "ada-2"})
    bob_newest = store.add_revision(bob.id, round=1, payload={"v": "bob-2"})
    store.add_revision(dee.id, round=1, payload={"v": "dee-1"})
    assert store.open_next_round(group.id) == 2
    ada_round2 = store.add_revision(ada.id, round=2, payload={"v": "ada-r2"})

    assert store.latest_revisions(group.id, round=1) == [(ada, ada_newest), (bob, bob_newest)]
    assert store.latest_revisions(group.id, round=2) == [(ada, ada_round2)]
    assert store.latest_revisions(group.id, round=3) == []
    assert store.count_answered(group.id, round=1) == 2
    assert store.count_answered(group.id, round=2) == 1
    assert store.count_answered(group.id, round=3) == 0
    assert store.participants(group.id) == [ada, bob, cy]
    assert store.latest_revisions(other.id, round=1)[0][0] == dee


def test_rounds(store):
    group, _ = store.create_group("g", evidence="")
    participant, _ = store.add_participant(group.id, "Ada")

    with pytest.raises(ValueError, match="round 2 is not open: the group is in round 1"):
        store.add_revision(participant.id, round=2, payload={})
    assert store.open_next_round(group.id) == 2
    assert store.open_next_round(group.id) == 3
    assert store.get_group(group.id).current_round == 3
    store.add_revision(participant.id, round=3, payload={"late": True})
    store.add_revision(participant.id, round=1, payload={"earlier round": True})
    assert [r.round for r in store.revisions(participant.id)] == [3, 1]
    for bad in (0, -1, 1.0, True, "1", None, 1001, 10**400):
        with pytest.raises(ValueError, match="round must be a whole number from 1 to 1000"):
            store.add_revision(participant.id, round=bad, payload={})
        with pytest.raises(ValueError, match="round must be a whole number from 1"):
            store.latest_revisions(group.id, round=bad)
    # a group at the most rounds cannot open another, and stays as it was
    full = store.export_group(group.id)
    full["group"]["current_round"] = 1000
    last = store.import_group(full).group
    with pytest.raises(ValueError, match="already has 1000 rounds"):
        store.open_next_round(last.id)
    assert store.get_group(last.id).current_round == 1000


def test_version_changes_with_every_member_answer_and_round(store):
    group, _ = store.create_group("g", evidence="")
    other, _ = store.create_group("other", evidence="")
    assert store.version(group.id) == (1, 0, 0, 0)
    ada, _ = store.add_participant(group.id, "Ada")
    assert store.version(group.id) == (1, 1, 0, 0)
    first = store.add_revision(ada.id, round=1, payload={})
    assert store.version(group.id) == (1, 1, first.id, 0)
    bo, _ = store.add_participant(other.id, "Bo")
    store.add_revision(bo.id, round=1, payload={})  # another group's answer changes nothing
    assert store.version(group.id) == (1, 1, first.id, 0)
    second = store.add_revision(ada.id, round=1, payload={"again": True})
    assert second.id > first.id and store.version(group.id) == (1, 1, second.id, 0)
    store.open_next_round(group.id)
    assert store.version(group.id) == (2, 1, second.id, 0)
    for unknown in ("nosuchgroup", "", "x" * 500, None):
        assert store.version(unknown) == (0, 0, 0, 0)


def test_unknown_participant(store):
    with pytest.raises(NotFoundError, match="no participant with id 99"):
        store.add_revision(99, round=1, payload={})
    with pytest.raises(ValueError, match="participant_id must be an int"):
        store.add_revision("1", round=1, payload={})


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


# -- export and import --------------------------------------------------------------------


def _populated_group(store):
    group, token = store.create_group("Workshop <2025>", evidence=EVIDENCE)
    ada, _ = store.add_participant(group.id, "Ada")
    bob, _ = store.add_participant(group.id, HOSTILE.replace("\x00", "")[:120])
    store.add_participant(group.id, "Cy (silent)")
    store.add_revision(ada.id, round=1, payload={"credences": [0.25] * 4, "rationale": HOSTILE})
    store.add_revision(bob.id, round=1, payload={"credences": [0.7, 0.1, 0.1, 0.1]})
    store.add_revision(ada.id, round=1, payload={"credences": [0.4, 0.2, 0.2, 0.2]})
    store.open_next_round(group.id)
    store.add_revision(bob.id, round=2, payload={"credences": [0.5, 0.2, 0.2, 0.1], "n": None})
    return group, token


def test_export_import_round_trip_loses_nothing(store):
    group, old_token = _populated_group(store)
    exported = store.export_group(group.id)
    through_json = json.loads(json.dumps(exported))  # what a downloaded file gives back
    assert through_json == exported

    imported = store.import_group(through_json)
    new = imported.group
    assert new.id != group.id
    assert new == store.get_group(new.id)
    assert (new.name, new.evidence, new.current_round, new.created_at) == (
        group.name,
        group.evidence,
        2,
        group.created_at,
    )
    re_exported = store.export_group(new.id)
    assert strip_ids(re_exported) == strip_ids(exported)
    assert len(re_exported["revisions"]) == 4
    # The import is the same group for the model: same latest answers in each round.
    for round_ in (1, 2):
        old = store.latest_revisions(group.id, round=round_)
        fresh = store.latest_revisions(new.id, round=round_)
        assert [(p.display_name, r.payload, r.created_at) for p, r in old] == [
            (p.display_name, r.payload, r.created_at) for p, r in fresh
        ]
    # Fresh tokens: the new ones open the new group only, the old ones do not open it.
    assert store.is_facilitator(new.id, imported.facilitator_token)
    assert not store.is_facilitator(new.id, old_token)
    assert not store.is_facilitator(group.id, imported.facilitator_token)
    assert [p.display_name for p, _ in imported.participants] == [
        p["display_name"] for p in exported["participants"]
    ]
    for participant, token in imported.participants:
        assert store.participant_for_token(new.id, token) == participant
        assert store.participant_for_token(group.id, token) is None
    # Importing twice gives two independent groups.
    again = store.import_group(exported)
    assert strip_ids(store.export_group(again.group.id)) == strip_ids(exported)


def test_export_from_one_database_imports_into_another(store, tmp_path):
    # From a SQLite file into the backend under test (SQLite or PostgreSQL), via JSON text.
    with Store(f"sqlite:///{tmp_path / 'source.db'}") as source:
        group, _ = _populated_group(source)
        exported = source.export_group(group.id)
    text = export_json(exported)
    imported = store.import_group(parse_export_json(text.encode("utf-8")))
    assert strip_ids(store.export_group(imported.group.id)) == strip_ids(exported)


def test_export_of_empty_group(store):
    group, _ = store.create_group("g", evidence="")
    exported = store.export_group(group.id)
    assert exported["participants"] == [] and exported["revisions"] == []
    assert strip_ids(store.export_group(store.import_group(exported).group.id)) == strip_ids(
        exported
    )


@pytest.fixture(scope="module")
def good_export(tmp_path_factory) -> dict:
    """A valid export (the format does not depend on the backend), built once."""
    path = tmp_path_factory.mktemp("export") / "source.db"
    with Store(URL.create("sqlite", database=str(path)).render_as_string()) as source:
        group, _ = _populated_group(source)
        return source.export_group(group.id)


def _broken(exported: dict, change) -> dict:
    copy = json.loads(json.dumps(exported))
    change(copy)
    return copy


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(format="something"), "not a Cruxboard group export"),
        (lambda d: d.update(format_version=3), "'format_version' is 3; this Cruxboard reads"),
        (lambda d: d.pop("group"), "data has no 'group'"),
        (lambda d: d["group"].update(current_round=0), "current_round is 0"),
        (lambda d: d["group"].update(current_round=10**400), "it must be from 1 to 1000"),
        (lambda d: d["group"].update(current_round="2"), r"\['current_round'\] must be int"),
        (lambda d: d["group"].update(name="n" * 201), "group name is 201 characters"),
        (lambda d: d["group"].update(created_at="yesterday"), "not an ISO 8601 time"),
        (lambda d: d["group"].update(created_at="2025-01-01T00:00:00"), "has no UTC offset"),
        (lambda d: d["participants"].append(d["participants"][0]), "repeats participant id"),
        (lambda d: d["participants"][1].pop("display_name"), r"participants\[1\] has no"),
        (lambda d: d["participants"][0].update(display_name=""), "display name is empty"),
        (lambda d: d["revisions"][0].update(participant_id=999), "not in 'participants'"),
        (lambda d: d["revisions"][0].update(round=3), "is in round 3; rounds run from 1"),
        (lambda d: d["revisions"][1].update(payload=[1]), r"\['payload'\] must be dict"),
        (
            lambda d: d["revisions"][1].update(payload={"a": float("nan")}),
            r"revisions\[1\] payload\['a'\] is nan",
        ),
        (lambda d: d.update(revisions={}), r"\['revisions'\] must be list"),
        (lambda d: d.update(extra=1), r"data has unknown field\(s\) 'extra'; remove them"),
        (lambda d: d["group"].update({" d": 1}), r"group has unknown field\(s\) ' d'"),
        (lambda d: d["participants"][0].update(token="t"), r"participants\[0\] has unknown"),
        (lambda d: d["revisions"][2].update(Round=1), r"revisions\[2\] has unknown"),
    ],
)
def test_import_rejects_broken_exports_and_writes_nothing(
    store, raw_rows, good_export, change, message
):
    with pytest.raises(ValueError, match=message):
        store.import_group(_broken(good_export, change))
    for table in ("groups", "participants", "revisions"):
        assert raw_rows(table) == []


def test_import_rejects_non_dict(store):
    with pytest.raises(ValueError, match="data must be a dict"):
        store.import_group([])


def test_import_refusals_are_import_file_errors(store, good_export):
    """A refused file is an ImportFileError: a CruxboardError and still a ValueError."""
    broken = _broken(good_export, lambda d: d["revisions"][0].update(payload={"a": float("inf")}))
    refusals = [
        lambda: store.import_group(broken),
        lambda: store.import_group(_broken(good_export, lambda d: d["group"].update(name=""))),
        lambda: Store.check_export(broken),
        lambda: parse_export_json(b"\xff"),
        lambda: parse_export_json("[1]"),
        lambda: parse_export_json("{"),
    ]
    for refuse in refusals:
        with pytest.raises(ImportFileError, match="^import: ") as info:
            refuse()
        assert isinstance(info.value, CruxboardError) and isinstance(info.value, ValueError)


def test_bad_values_are_bad_input_errors_and_database_problems_store_errors(store, tmp_path):
    group, _ = store.create_group("g", evidence="")
    participant, _ = store.add_participant(group.id, "Ada")
    refusals = [
        (lambda: store.create_group("g" * 201, evidence=""), "group name is 201 characters"),
        (lambda: store.add_participant(group.id, "a\x00b"), "NUL character"),
        (lambda: store.add_revision(participant.id, round=0, payload={}), "from 1 to 1000"),
        (lambda: store.add_revision(participant.id, round=2, payload={}), "is not open"),
        (lambda: store.add_revision(participant.id, round=1, payload=[]), "must be a dict"),
        (lambda: store.add_revision(participant.id, round=1, payload={"n": 10**5000}), "JSON"),
        (lambda: Store("sqlite://"), "in-memory"),
    ]
    for refuse, message in refusals:
        with pytest.raises(BadInputError, match=message) as info:
            refuse()
        assert not isinstance(info.value, ImportFileError)
    for missing in (lambda: store.open_next_round("nosuch"), lambda: store.export_group("x")):
        with pytest.raises(StoreError, match="no group"):
            missing()
    (tmp_path / "junk.db").write_bytes(b"junk " * 1000)
    with pytest.raises(StoreError, match="integrity check"):
        Store(_sqlite_url(tmp_path / "junk.db"))


# -- transactions, schema, concurrency ------------------------------------------------------


def test_failed_write_leaves_nothing(store):
    """A write transaction that fails halfway is rolled back whole (the plumbing works)."""
    now = dt.datetime.now(dt.UTC)
    with pytest.raises(RuntimeError, match="halfway"):
        with store._transaction(write=True) as conn:
            conn.execute(
                insert(groups).values(
                    id="halfway",
                    name="n",
                    evidence="",
                    current_round=1,
                    facilitator_token_hash="0" * 64,
                    created_at=now,
                )
            )
            raise RuntimeError("halfway")
    assert store.get_group("halfway") is None


def test_schema_creation_is_idempotent(store_url, raw_rows):
    with Store(store_url) as first, Store(store_url) as second:
        group, token = first.create_group("g", evidence="")
        assert second.get_group(group.id) == group
        assert second.is_facilitator(group.id, token)
    with Store(store_url) as third:
        assert third.get_group(group.id) == group
    versions = raw_rows("schema_version")
    assert [row["version"] for row in versions] == [SCHEMA_VERSION]


def test_newer_schema_is_refused(store_url):
    with Store(store_url) as opened:
        with opened._transaction(write=True) as conn:
            from store.schema import schema_version

            conn.execute(
                insert(schema_version).values(
                    version=SCHEMA_VERSION + 1, applied_at=dt.datetime.now(dt.UTC)
                )
            )
    with pytest.raises(SchemaError, match="newer than this Cruxboard knows"):
        Store(store_url)


def test_foreign_tables_are_refused(store_url):
    from sqlalchemy import create_engine, text

    engine = create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE groups (x INTEGER)"))
    engine.dispose()
    with pytest.raises(SchemaError, match="groups that Cruxboard did not create"):
        Store(store_url)


def test_threads_write_concurrently(store):
    group, _ = store.create_group("g", evidence="")
    people = [store.add_participant(group.id, f"p{i}")[0] for i in range(6)]

    def answer(participant):
        for i in range(5):
            store.add_revision(participant.id, round=1, payload={"i": i})

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(answer, people))
    assert store.count_answered(group.id, round=1) == 6
    for participant, revision in store.latest_revisions(group.id, round=1):
        assert revision.payload == {"i": 4}
        assert [r.payload["i"] for r in store.revisions(participant.id)] == list(range(5))


_WORKER = """
import sys
from store import Store

url, index = sys.argv[1], int(sys.argv[2])
with Store(url) as store:  # every worker creates the schema at the same moment
    group, _ = store.create_group(f"group {index}", evidence="")
    participant, _ = store.add_participant(group.id, f"worker {index}")
    for i in range(10):
        store.add_revision(participant.id, round=1, payload={"worker": index, "i": i})
"""


def test_processes_start_and_write_concurrently(store_url, raw_rows):
    """Several processes open one fresh database at once, then all write to it."""
    root = Path(store_pkg.__file__).parent.parent
    workers = [
        subprocess.Popen(
            [sys.executable, "-W", "error", "-c", _WORKER, store_url, str(i)],
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(4)
    ]
    for worker in workers:
        _, err = worker.communicate(timeout=60)
        assert worker.returncode == 0, err
    assert len(raw_rows("groups")) == 4
    assert len(raw_rows("revisions")) == 40
    assert len(raw_rows("schema_version")) == 1


# -- SQLite specifics ---------------------------------------------------------------------


@pytest.fixture
def sqlite_path(tmp_path) -> Path:
    return tmp_path / "cruxboard.db"


def _sqlite_url(path: Path) -> str:
    return URL.create("sqlite", database=str(path)).render_as_string()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(sqlite_path):
    with Store(_sqlite_url(sqlite_path)) as opened:
        with opened._transaction() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    with sqlite3.connect(sqlite_path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    raw.close()


def test_sqlite_file_that_is_not_a_database(sqlite_path):
    sqlite_path.write_bytes(b"this is not a database " * 500)
    with pytest.raises(CorruptDatabaseError, match="failed its integrity check.*not a database"):
        Store(_sqlite_url(sqlite_path))


def _database_with_answers(path: Path) -> None:
    with Store(_sqlite_url(path)) as opened:
        group, _ = opened.create_group("g", evidence="")
        for name in ("Ada", "Bob"):
            participant, _ = opened.add_participant(group.id, name)
            for k in range(10):
                opened.add_revision(participant.id, round=1, payload={"r": "y" * 3000, "k": k})


def test_sqlite_damaged_pages(sqlite_path):
    _database_with_answers(sqlite_path)
    with sqlite_path.open("r+b") as f:
        f.seek(3 * 4096)
        f.write(b"\xff" * 3 * 4096)
    with pytest.raises(CorruptDatabaseError, match="failed its integrity check.*malformed"):
        Store(_sqlite_url(sqlite_path))


def test_sqlite_integrity_check_problems_are_reported(sqlite_path):
    """An index that disagrees with its table: the file opens but integrity_check is not ok."""
    _database_with_answers(sqlite_path)
    raw = sqlite3.connect(sqlite_path)
    raw.execute("PRAGMA writable_schema = ON")
    raw.execute(
        "UPDATE sqlite_master SET sql = replace(sql, '(participant_id, id)', "
        "'(id, participant_id)') WHERE name = 'ix_revisions_participant_id_id'"
    )
    raw.commit()
    raw.close()
    with pytest.raises(CorruptDatabaseError, match="missing from index.*Restore it from a backup"):
        Store(_sqlite_url(sqlite_path))


def test_in_memory_and_missing_folder_are_refused(tmp_path):
    with pytest.raises(ValueError, match="in-memory SQLite database is not supported"):
        Store("sqlite://")
    with pytest.raises(ValueError, match="in-memory SQLite database is not supported"):
        Store("sqlite:///:memory:")
    with pytest.raises(ValueError, match="does not exist; create it"):
        Store(_sqlite_url(tmp_path / "missing" / "x.db"))


# -- where the database is ----------------------------------------------------------------


def test_default_is_cruxboard_db_in_current_folder_whatever_the_environment(tmp_path, monkeypatch):
    # The app reads DATABASE_URL / CRUXBOARD_DB (app_pages.settings); the store never does.
    monkeypatch.setenv("DATABASE_URL", _sqlite_url(tmp_path / "env.db"))
    monkeypatch.setenv("CRUXBOARD_DB", str(tmp_path / "file.db"))
    monkeypatch.chdir(tmp_path)
    with Store() as opened:
        assert opened.url == _sqlite_url(tmp_path / "cruxboard.db")
        opened.create_group("g", evidence="")
    assert (tmp_path / "cruxboard.db").exists()
    with Store(_sqlite_url(tmp_path / "explicit.db")) as opened:
        assert opened.url.endswith("explicit.db")
    assert not (tmp_path / "env.db").exists() and not (tmp_path / "file.db").exists()


def test_no_store_module_reads_the_environment():
    for path in Path(store_pkg.__file__).parent.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        for reader in ("os.environ", "getenv", "from os import"):
            assert reader not in source, f"{path.name} uses {reader}"


def test_postgres_urls_use_psycopg_and_hide_passwords():
    url = resolve_url("postgresql://me:secret@db.example:5432/crux")
    assert url.drivername == "postgresql+psycopg"
    assert resolve_url("postgres://me@db/crux").drivername == "postgresql+psycopg"
    assert "secret" not in url.render_as_string(hide_password=True)


def test_store_imports_only_the_standard_library_sqlalchemy_and_the_shared_limits():
    code = (
        "import sys, store\n"
        "banned = {'pymc', 'pytensor', 'arviz', 'numpy', 'pydantic', 'streamlit', 'model',"
        " 'priors.loader'}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in banned or m in banned))"
    )
    root = Path(store_pkg.__file__).parent.parent
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
