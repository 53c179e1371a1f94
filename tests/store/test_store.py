"""Tests of the Store's records on SQLite and PostgreSQL: groups, tokens, revisions, rounds.

A group and its facilitator token are created and read back; tokens are kept only as hashes
and a wrong, missing or other group's token opens nothing; revisions are appended, never
changed, and a double submit stores one; rounds open in order up to the limit, and the
group's version changes with every member, answer and round. Limits on what is stored are
in test_limits.py, export and import in test_export.py, the database itself (schema,
concurrency, SQLite files, where it is) in test_database.py.
"""

import datetime as dt
import hashlib
import json

import pytest

from priors.errors import BadInputError
from store import DuplicateRevisionError, NotFoundError, Store
from tests.store.helpers import EVIDENCE


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
