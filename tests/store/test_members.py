"""Members removed, merged and restored, on SQLite and PostgreSQL: append-only, counted right,
carried by the whole-group file, and the migration that adds them to a version 1 database."""

import datetime as dt
import hashlib
import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine, insert, inspect, make_url, text
from sqlalchemy.exc import IntegrityError

from priors.errors import BadInputError, ImportFileError
from store import EXPORT_VERSION, SCHEMA_VERSION, NotFoundError, StatusChange, Store
from store.schema import participant_status
from tests.store import schema_v1
from tests.store.helpers import broken_copy, strip_ids

TABLES = ("groups", "participants", "revisions")


def _group(store, *names: str):
    """A group whose members (in order) answered round 1 once each: (group, members)."""
    group, _ = store.create_group("g", evidence="")
    members = []
    for name in names:
        member, _ = store.add_participant(group.id, name)
        store.add_revision(member.id, round=1, payload={"v": f"{name}-1"})
        members.append(member)
    return group, members


def _answers(store, group_id: str, round: int = 1, **kwargs) -> list[tuple[str, dict]]:
    return [
        (p.display_name, r.payload)
        for p, r in store.latest_revisions(group_id, round=round, **kwargs)
    ]


# -- removing, restoring, merging -------------------------------------------------------------


def test_remove_sets_a_member_aside_and_keeps_every_row(store, raw_rows):
    group, (ada, bo, cy) = _group(store, "Ada", "Bo", "Cy")
    before = {table: raw_rows(table) for table in TABLES}

    change = store.remove_participant(group.id, bo.id)

    assert isinstance(change, StatusChange)
    assert (change.participant_id, change.group_id, change.action) == (bo.id, group.id, "removed")
    assert change.into_participant_id is None and change.by == "facilitator"
    assert change.created_at.tzinfo is not None
    # Nothing changed or deleted: one row appended to the status record, that is all.
    assert {table: raw_rows(table) for table in TABLES} == before
    assert len(raw_rows("participant_status")) == 1
    # The model's inputs leave Bo out; asked for, Bo is still there with his answer.
    assert _answers(store, group.id) == [("Ada", {"v": "Ada-1"}), ("Cy", {"v": "Cy-1"})]
    assert store.count_answered(group.id, round=1) == 2
    assert store.participants(group.id) == [ada, cy]
    assert store.participants(group.id, include_removed=True) == [ada, bo, cy]
    assert store.count_answered(group.id, round=1, include_removed=True) == 3
    assert [p for p, _ in store.latest_revisions(group.id, round=1, include_removed=True)] == [
        ada,
        bo,
        cy,
    ]
    assert [r.payload for r in store.revisions(bo.id)] == [{"v": "Bo-1"}]
    assert store.removals(group.id) == {bo.id: change}
    assert store.status_changes(group.id) == [change]
    # His come-back link still finds him (the page tells him he was set aside).
    assert store.participants(group.id, include_removed=True)[1] == bo


def test_restore_counts_the_member_again_with_every_answer(store, raw_rows):
    group, (ada, bo) = _group(store, "Ada", "Bo")
    removed = store.remove_participant(group.id, bo.id)
    restored = store.restore_participant(group.id, bo.id)

    assert restored.action == "restored" and restored.id > removed.id
    assert _answers(store, group.id) == [("Ada", {"v": "Ada-1"}), ("Bo", {"v": "Bo-1"})]
    assert store.participants(group.id) == [ada, bo]
    assert store.removals(group.id) == {}
    assert store.status_changes(group.id) == [removed, restored]  # the history stays
    # ... and can be removed again: a third row, never an update.
    again = store.remove_participant(group.id, bo.id)
    assert store.status_changes(group.id) == [removed, restored, again]
    assert [row["action"] for row in raw_rows("participant_status")] == [
        "removed",
        "restored",
        "removed",
    ]


def test_merge_keeps_the_kept_members_answers_and_hides_the_duplicate(store):
    """Ada answered twice by accident, as "Ada" and as "ada ": the facilitator keeps the
    first. Her answers stand in every round; the duplicate's, newer or not, do not count."""
    group, (ada, bo, dup) = _group(store, "Ada", "Bo", "ada ")
    store.add_revision(dup.id, round=1, payload={"v": "dup-newer"})
    store.open_next_round(group.id)
    store.add_revision(dup.id, round=2, payload={"v": "dup-round-2"})

    change = store.merge_participants(group.id, ada.id, dup.id)

    assert (change.participant_id, change.action, change.into_participant_id) == (
        dup.id,
        "merged",
        ada.id,
    )
    assert _answers(store, group.id) == [("Ada", {"v": "Ada-1"}), ("Bo", {"v": "Bo-1"})]
    assert _answers(store, group.id, round=2) == []  # the duplicate's answer is not moved
    assert store.count_answered(group.id, round=1) == 2
    assert store.participants(group.id) == [ada, bo]
    assert store.removals(group.id) == {dup.id: change}
    assert [r.payload["v"] for r in store.revisions(dup.id)] == [
        "ada -1",
        "dup-newer",
        "dup-round-2",
    ]
    # Ada keeps answering as herself; restoring the duplicate counts it again.
    store.add_revision(ada.id, round=2, payload={"v": "Ada-2"})
    assert _answers(store, group.id, round=2) == [("Ada", {"v": "Ada-2"})]
    store.restore_participant(group.id, dup.id)
    assert _answers(store, group.id, round=2) == [
        ("Ada", {"v": "Ada-2"}),
        ("ada ", {"v": "dup-round-2"}),
    ]


def test_last_answers_are_each_members_newest_in_any_round(store):
    group, (ada, bo, cy) = _group(store, "Ada", "Bo", "Cy")
    store.open_next_round(group.id)
    ada_2 = store.add_revision(ada.id, round=2, payload={"v": "Ada-2"})
    bo_late = store.add_revision(bo.id, round=1, payload={"v": "Bo-late"})  # round 1, later
    store.add_participant(group.id, "Dee")  # never answers
    store.remove_participant(group.id, cy.id)

    assert [(p, r) for p, r in store.last_answers(group.id)] == [(ada, ada_2), (bo, bo_late)]
    everyone = store.last_answers(group.id, include_removed=True)
    assert [(p.display_name, r.payload["v"]) for p, r in everyone] == [
        ("Ada", "Ada-2"),
        ("Bo", "Bo-late"),
        ("Cy", "Cy-1"),
    ]
    assert store.last_answers("nosuchgroup") == []


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        (["remove bo", "remove bo"], r"member \d+ \(Bo\) is already removed; restore them first"),
        (["merge bo>ada", "remove bo"], r"\(Bo\) is already merged; restore them first"),
        (["restore bo"], r"\(Bo\) is not removed or merged, so there is nothing to restore"),
        (["remove bo", "restore bo", "restore bo"], "nothing to restore"),
        (["merge ada>ada"], r"\(Ada\) cannot be merged into themself; choose another member"),
        (["remove ada", "merge bo>ada"], r"cannot be merged into member \d+ \(Ada\), who is re"),
        (["merge bo>ada", "merge cy>bo"], r"who is merged; restore member \d+ \(Bo\) first"),
        (["merge bo>ada", "merge bo>cy"], r"\(Bo\) is already merged"),
    ],
)
def test_changes_that_make_no_sense_are_refused_and_write_nothing(store, steps, message):
    group, (ada, bo, cy) = _group(store, "Ada", "Bo", "Cy")
    ids = {"ada": ada.id, "bo": bo.id, "cy": cy.id}

    def run(step: str) -> StatusChange:
        verb, who = step.split()
        if verb == "merge":
            duplicate, keep = who.split(">")
            return store.merge_participants(group.id, ids[keep], ids[duplicate])
        method = {"remove": store.remove_participant, "restore": store.restore_participant}[verb]
        return method(group.id, ids[who])

    for step in steps[:-1]:
        run(step)
    before = store.status_changes(group.id)
    with pytest.raises(BadInputError, match=message):
        run(steps[-1])
    assert store.status_changes(group.id) == before


def test_members_of_another_group_or_unknown_are_not_found(store):
    group, (ada,) = _group(store, "Ada")
    other, (olu,) = _group(store, "Olu")
    for change in (
        lambda: store.remove_participant(group.id, olu.id),
        lambda: store.restore_participant(group.id, 9999),
        lambda: store.merge_participants(group.id, olu.id, ada.id),
        lambda: store.merge_participants(group.id, ada.id, olu.id),
        lambda: store.remove_participant("nosuchgroup", ada.id),
        lambda: store.remove_participant("bad id\x00", ada.id),
    ):
        with pytest.raises(NotFoundError, match=r"the group has no member with id \d+"):
            change()
    for bad in ("1", None, 1.0, True):
        with pytest.raises(BadInputError, match="must be an int"):
            store.remove_participant(group.id, bad)
        with pytest.raises(BadInputError, match="keep_id must be an int"):
            store.merge_participants(group.id, bad, ada.id)
    assert store.status_changes(group.id) == [] == store.status_changes(other.id)
    assert store.removals("nosuchgroup") == {} and store.status_changes("") == []


def test_a_set_aside_member_cannot_answer_until_restored(store):
    group, (ada, bo) = _group(store, "Ada", "Bo")
    store.remove_participant(group.id, bo.id)
    with pytest.raises(BadInputError, match="the facilitator removed this member from the group"):
        store.add_revision(bo.id, round=1, payload={"v": "Bo-2"})
    store.restore_participant(group.id, bo.id)
    store.add_revision(bo.id, round=1, payload={"v": "Bo-2"})
    store.merge_participants(group.id, ada.id, bo.id)
    with pytest.raises(BadInputError, match="merged this member into another member"):
        store.add_revision(bo.id, round=1, payload={"v": "Bo-3"})
    assert [r.payload["v"] for r in store.revisions(bo.id)] == ["Bo-1", "Bo-2"]


def test_version_changes_with_every_status_change(store):
    group, (ada, bo) = _group(store, "Ada", "Bo")
    other, (olu,) = _group(store, "Olu")
    seen = [store.version(group.id)]
    for change in (
        lambda: store.remove_participant(group.id, bo.id),
        lambda: store.restore_participant(group.id, bo.id),
        lambda: store.merge_participants(group.id, ada.id, bo.id),
    ):
        change()
        seen.append(store.version(group.id))
    assert len(set(seen)) == len(seen)  # each change shows
    assert [v[:3] for v in seen] == [seen[0][:3]] * 4  # rounds, members, answers unchanged
    store.remove_participant(other.id, olu.id)  # another group's change changes nothing
    assert store.version(group.id) == seen[-1]


def test_two_facilitators_removing_at_once_write_one_change(store):
    group, (_, bo) = _group(store, "Ada", "Bo")
    start = threading.Barrier(6)

    def remove() -> str:
        start.wait()
        try:
            store.remove_participant(group.id, bo.id)
        except BadInputError:
            return "refused"
        return "removed"

    with ThreadPoolExecutor(6) as pool:
        outcomes = sorted(pool.map(lambda _: remove(), range(6)))
    assert outcomes == ["refused"] * 5 + ["removed"]
    assert [c.action for c in store.status_changes(group.id)] == ["removed"]


def test_the_database_itself_refuses_inconsistent_status_rows(store):
    group, (ada, bo) = _group(store, "Ada", "Bo")
    other, (olu,) = _group(store, "Olu")
    now = dt.datetime.now(dt.UTC)
    row = dict(participant_id=bo.id, group_id=group.id, actor="facilitator", created_at=now)
    for bad in (
        dict(row, action="merged", into_participant_id=None),
        dict(row, action="merged", into_participant_id=bo.id),
        dict(row, action="removed", into_participant_id=ada.id),
        dict(row, action="deleted", into_participant_id=None),
        dict(row, action="merged", into_participant_id=olu.id),  # another group's member
        dict(row, participant_id=olu.id, action="removed", into_participant_id=None),
    ):
        with pytest.raises(IntegrityError), store._transaction(write=True) as conn:
            conn.execute(insert(participant_status).values(**bad))
    assert store.status_changes(group.id) == []


# -- the whole-group file ------------------------------------------------------------------------


def _group_with_history(store):
    group, (ada, bo, cy, dup) = _group(store, "Ada", "Bo", "Cy", "Ada again")
    store.remove_participant(group.id, cy.id)
    store.remove_participant(group.id, bo.id)
    store.restore_participant(group.id, bo.id)
    store.merge_participants(group.id, ada.id, dup.id)
    return group


def test_export_and_import_keep_who_is_removed_and_merged(store):
    group = _group_with_history(store)
    exported = store.export_group(group.id)
    assert exported["format_version"] == EXPORT_VERSION == 2
    assert [(c["action"], c["by"]) for c in exported["statuses"]] == [
        ("removed", "facilitator"),
        ("removed", "facilitator"),
        ("restored", "facilitator"),
        ("merged", "facilitator"),
    ]

    imported = store.import_group(json.loads(json.dumps(exported)))
    new = imported.group.id

    assert strip_ids(store.export_group(new)) == strip_ids(exported)
    assert (
        _answers(store, new)
        == _answers(store, group.id)
        == [
            ("Ada", {"v": "Ada-1"}),
            ("Bo", {"v": "Bo-1"}),
        ]
    )
    assert len(store.participants(new, include_removed=True)) == 4
    kept = {p.display_name: p.id for p in store.participants(new, include_removed=True)}
    removals = store.removals(new)
    assert {kept["Cy"], kept["Ada again"]} == set(removals)
    assert removals[kept["Ada again"]].into_participant_id == kept["Ada"]
    assert [c.created_at for c in store.status_changes(new)] == [
        c.created_at for c in store.status_changes(group.id)
    ]


def test_version_1_files_are_still_read(store):
    """A file saved before removals existed: no 'statuses', format_version 1."""
    group, _ = _group(store, "Ada", "Bo")
    old = store.export_group(group.id)
    del old["statuses"]
    old["format_version"] = 1
    imported = store.import_group(old)
    assert _answers(store, imported.group.id) == _answers(store, group.id)
    assert store.status_changes(imported.group.id) == []
    # A version 1 file with statuses is not one this or any Cruxboard wrote.
    with pytest.raises(ImportFileError, match=r"data has unknown field\(s\) 'statuses'"):
        store.import_group({**old, "statuses": []})
    # And a version 2 file must have them.
    with pytest.raises(ImportFileError, match="data has no 'statuses'"):
        store.import_group({**old, "format_version": 2})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(statuses={}), r"\['statuses'\] must be list"),
        (lambda d: d["statuses"].append(1), r"statuses\[4\] must be a dict"),
        (lambda d: d["statuses"][0].update(action="deleted"), "action is 'deleted'; it must be"),
        (lambda d: d["statuses"][0].update(participant_id=999), "participant 999, who is not in"),
        (lambda d: d["statuses"][3].update(into_participant_id=999), "participant 999, who is"),
        (lambda d: d["statuses"][3].update(into_participant_id="1"), "must be int or null"),
        (lambda d: d["statuses"][3].pop("into_participant_id"), "has no 'into_participant_id'"),
        (lambda d: d["statuses"][0].update(into_participant_id=None, action="merged"), "a merge"),
        (
            lambda d: d["statuses"].insert(2, dict(d["statuses"][1])),
            r"statuses\[2\]: participant \d+ is already removed",
        ),
        (lambda d: d["statuses"].pop(1), r"statuses\[1\]: participant \d+ is not removed"),
        (lambda d: d["statuses"].insert(0, dict(d["statuses"][2])), "nothing to restore"),
        (lambda d: d["statuses"][1].update(by=""), r"statuses\[1\] by is empty"),
        (lambda d: d["statuses"][1].update(created_at="then"), "not an ISO 8601 time"),
        (lambda d: d["statuses"][1].update(at="2025-01-01T00:00:00+00:00"), "unknown field"),
    ],
)
def test_import_refuses_broken_statuses_and_writes_nothing(store, raw_rows, change, message):
    exported = store.export_group(_group_with_history(store).id)
    counts = {table: len(raw_rows(table)) for table in (*TABLES, "participant_status")}
    with pytest.raises(ImportFileError, match=message):
        store.import_group(broken_copy(exported, change))
    assert {table: len(raw_rows(table)) for table in counts} == counts


# -- migrating a database written by schema version 1 -------------------------------------------


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _write_version_1_database(url: str) -> None:
    """A version 1 database as that Cruxboard left it: two groups, members, revisions."""
    engine = create_engine(url)
    at = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)
    try:
        with engine.begin() as conn:
            schema_v1.METADATA.create_all(conn)
            conn.execute(insert(schema_v1.schema_version).values(version=1, applied_at=at))
            for gid, name in (("grpOne", "Reading group"), ("grpTwo", "Other")):
                conn.execute(
                    insert(schema_v1.groups).values(
                        id=gid,
                        name=name,
                        evidence="",
                        current_round=2,
                        facilitator_token_hash=_sha256(f"fac-{gid}"),
                        created_at=at,
                    )
                )
            for pid, gid, who in ((1, "grpOne", "Ada"), (2, "grpOne", "Bo"), (3, "grpTwo", "Cy")):
                conn.execute(
                    insert(schema_v1.participants).values(
                        id=pid,
                        group_id=gid,
                        display_name=who,
                        edit_token_hash=_sha256(f"edit-{who}"),
                        created_at=at,
                    )
                )
            revisions = [(1, "grpOne", 1), (2, "grpOne", 1), (1, "grpOne", 1), (1, "grpOne", 2)]
            revisions += [(3, "grpTwo", 1)]
            for k, (pid, gid, round_) in enumerate(revisions):
                conn.execute(
                    insert(schema_v1.revisions).values(
                        participant_id=pid,
                        group_id=gid,
                        round=round_,
                        payload=json.dumps({"k": k}, separators=(",", ":")),
                        created_at=at + dt.timedelta(minutes=k),
                    )
                )
    finally:
        engine.dispose()


def test_a_version_1_database_migrates_and_keeps_every_revision(store_url, raw_rows):
    _write_version_1_database(store_url)
    before = {table: raw_rows(table) for table in TABLES}
    assert len(before["revisions"]) == 5

    with Store(store_url) as store:
        assert {table: raw_rows(table) for table in TABLES} == before  # every row as it was
        assert (
            [row["version"] for row in raw_rows("schema_version")]
            == [1, 2]
            == [
                1,
                SCHEMA_VERSION,
            ]
        )
        assert raw_rows("participant_status") == []
        # The Store reads the old rows: links, answers, rounds.
        ada = store.participant_for_token("grpOne", "edit-Ada")
        assert ada is not None and ada.display_name == "Ada"
        assert store.is_facilitator("grpOne", "fac-grpOne")
        assert [r.payload for r in store.revisions(ada.id)] == [{"k": 0}, {"k": 2}, {"k": 3}]
        assert _answers(store, "grpOne") == [("Ada", {"k": 2}), ("Bo", {"k": 1})]
        assert _answers(store, "grpOne", round=2) == [("Ada", {"k": 3})]
        # ... and the new record works on them.
        store.merge_participants("grpOne", 2, 1)
        assert _answers(store, "grpOne") == [("Bo", {"k": 1})]
        store.add_revision(2, round=2, payload={"k": 5})
    with Store(store_url) as again:  # a second opening finds nothing to do
        assert again.removals("grpOne")[1].into_participant_id == 2
    assert [row["version"] for row in raw_rows("schema_version")] == [1, 2]
    assert len(raw_rows("revisions")) == 6


def _schema_of(url: str) -> dict:
    """Every table's columns, keys, indexes and checks, as the database reports them."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            found = inspect(conn)
            return {
                table: {
                    "columns": [
                        (c["name"], str(c["type"]), c["nullable"]) for c in found.get_columns(table)
                    ],
                    "primary key": found.get_pk_constraint(table)["constrained_columns"],
                    "foreign keys": sorted(
                        (f["name"] or "", f["constrained_columns"], f["referred_columns"])
                        for f in found.get_foreign_keys(table)
                    ),
                    "indexes": sorted(
                        (i["name"], i["column_names"], i["unique"])
                        for i in found.get_indexes(table)
                    ),
                    "unique": sorted(
                        (u["name"] or "", u["column_names"])
                        for u in found.get_unique_constraints(table)
                    ),
                    "checks": sorted(
                        (c["name"] or "", " ".join(c["sqltext"].split()))
                        for c in found.get_check_constraints(table)
                    ),
                }
                for table in sorted(found.get_table_names())
            }
    finally:
        engine.dispose()


def test_a_migrated_database_has_the_same_schema_as_a_fresh_one(store_url, tmp_path):
    _write_version_1_database(store_url)
    Store(store_url).close()
    migrated = _schema_of(store_url)
    if store_url.startswith("sqlite"):
        fresh_url = f"sqlite:///{tmp_path / 'fresh.db'}"
        Store(fresh_url).close()
        fresh = _schema_of(fresh_url)
    else:  # a schema of its own beside the test's, dropped afterwards
        name = f"fresh_{uuid.uuid4().hex[:16]}"
        fresh_url = (
            make_url(store_url)
            .update_query_dict({"options": f"-csearch_path={name}"})
            .render_as_string(hide_password=False)
        )
        admin = create_engine(store_url)
        try:
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{name}"'))
            Store(fresh_url).close()
            fresh = _schema_of(fresh_url)
        finally:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
            admin.dispose()
    assert migrated == fresh
    assert "participant_status" in migrated
