"""Tests of a group's export and import, and of the Store's error classes.

An export imported again (through JSON text, into the same or another database) is the
same group with fresh ids and tokens, and the old tokens do not open it; a broken export
(wrong format or version, bad or unknown fields, answers that do not fit) is refused whole
with the place and the fix, writing nothing. A refused file is an ImportFileError; other
bad values are BadInputErrors, and missing groups and damaged databases StoreErrors.
"""

import json

import pytest
from sqlalchemy import URL

from priors.errors import BadInputError, CruxboardError, ImportFileError, StoreError
from store import Store, export_json, parse_export_json
from tests.store.helpers import EVIDENCE, HOSTILE, broken_copy, sqlite_url, strip_ids

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
        store.import_group(broken_copy(good_export, change))
    for table in ("groups", "participants", "revisions"):
        assert raw_rows(table) == []


def test_import_rejects_non_dict(store):
    with pytest.raises(ValueError, match="data must be a dict"):
        store.import_group([])


def test_import_refusals_are_import_file_errors(store, good_export):
    """A refused file is an ImportFileError: a CruxboardError and still a ValueError."""
    broken = broken_copy(
        good_export, lambda d: d["revisions"][0].update(payload={"a": float("inf")})
    )
    refusals = [
        lambda: store.import_group(broken),
        lambda: store.import_group(broken_copy(good_export, lambda d: d["group"].update(name=""))),
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
        Store(sqlite_url(tmp_path / "junk.db"))
