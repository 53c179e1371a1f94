"""Property tests of the whole-group import: any file is imported whole or refused cleanly.

A valid export of a small group is damaged at random (a field removed, replaced by another
JSON value, a number or text made extreme, the bytes cut or corrupted) and given to
`import_group_file`, what the Start page calls. It must either import the whole file,
keeping everything, or refuse it with a ValueError that names the place in the file and
says what to do, and write nothing; no other exception.
"""

from __future__ import annotations

import copy
import datetime as dt
import json

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from app_pages.exports import IMPORT_FIX, import_group_file
from priors import load_defaults
from store import Store, export_json
from tests.store.helpers import strip_ids, two_round_group

DEFAULTS = load_defaults()
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=8,
)


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """A store holding one group of three (two rounds, a revision) and its export."""
    path = tmp_path_factory.mktemp("import-props") / "source.db"
    with Store(f"sqlite:///{path}") as store:
        group, _ = two_round_group(store, "Props", n=3, seed=5)
        yield store, store.export_group(group.id)


def _paths(value, prefix=()):
    """Every (path) inside a JSON value, containers included."""
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*prefix, i))


@st.composite
def damaged(draw, export):
    """Bytes of a whole-group file, damaged in one or two ways (or not at all)."""
    data = copy.deepcopy(export)
    for _ in range(draw(st.integers(0, 2))):
        paths = [p for p in _paths(data) if p]
        path = draw(st.sampled_from(paths))
        parent = data
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["delete", "replace", "extreme"]))
        if action == "delete":
            del parent[path[-1]]
        elif action == "replace":
            parent[path[-1]] = draw(JSON_VALUES)
        else:
            parent[path[-1]] = draw(
                st.sampled_from([10**400, -1, 1.5, 1e308, "x" * 1_000_001, "", "\ud800", []])
            )
    try:
        raw = json.dumps(data, ensure_ascii=False).encode("utf-8", "surrogatepass")
    except ValueError:  # e.g. 10**400 cannot be written by this json: write a number as text
        raw = json.dumps(data, ensure_ascii=False, default=str).encode("utf-8", "surrogatepass")
    cut = draw(st.sampled_from(["whole"] * 6 + ["cut", "bytes"]))
    if cut == "cut":
        raw = raw[: draw(st.integers(0, len(raw)))]
    elif cut == "bytes":
        i = draw(st.integers(0, len(raw) - 1))
        raw = raw[:i] + draw(st.binary(min_size=1, max_size=4)) + raw[i + 1 :]
    return raw


def _instants(export: dict) -> dict:
    """The export with each created_at read as a UTC instant.

    A file may spell a time any way ISO 8601 allows ("…+00:00" or "… +00:00", "Z"); the
    store keeps the instant and writes it back in one spelling, so instants are compared.
    """

    def at(record: dict) -> dict:
        when = dt.datetime.fromisoformat(record["created_at"]).astimezone(dt.UTC)
        return {**record, "created_at": when}

    return {
        **export,
        "group": at(export["group"]),
        "participants": [at(p) for p in export["participants"]],
        "revisions": [at(r) for r in export["revisions"]],
    }


def _counts(store: Store) -> tuple[int, ...]:
    with store._transaction() as conn:  # a read-only peek at the three tables
        return tuple(
            conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar()
            for t in ("groups", "participants", "revisions")
        )


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    """The fresh database the files are imported into."""
    with Store(f"sqlite:///{tmp_path_factory.mktemp('import-target') / 'target.db'}") as store:
        yield store


@settings(
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_any_whole_group_file_is_imported_whole_or_refused_cleanly(source, target, data):
    _, export = source
    raw = data.draw(damaged(export))
    before = _counts(target)
    try:
        imported = import_group_file(target, raw, DEFAULTS)
    except ValueError as exc:
        message = str(exc)
        event("refused: " + " ".join(message.split()[1:4]))
        assert message.startswith("import: "), message  # then the place in the file
        assert message.endswith(IMPORT_FIX), message  # and what to do
        assert len(message) < 1000, message  # quotes of the file are cut short
        assert _counts(target) == before  # nothing written
        return
    event("imported")
    parsed = json.loads(raw)
    assert _instants(strip_ids(target.export_group(imported.group.id))) == _instants(
        strip_ids(parsed)
    )
    after = _counts(target)
    assert after[0] == before[0] + 1
    assert after[2] == before[2] + len(parsed["revisions"]) == before[2] + imported.revisions


def test_the_undamaged_file_is_imported(source, target):
    _, export = source
    imported = import_group_file(target, export_json(export).encode(), DEFAULTS)
    assert strip_ids(target.export_group(imported.group.id)) == strip_ids(export)
