"""Helpers shared by the store tests and the browser tests."""

import json
import textwrap
from pathlib import Path

from sqlalchemy import URL

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


def sqlite_url(path: Path) -> str:
    """The URL of the SQLite database file at `path`."""
    return URL.create("sqlite", database=str(path)).render_as_string()


def strip_ids(export: dict) -> dict:
    """An export with ids replaced by positions, so two imports of it compare equal."""
    positions = {p["id"]: i for i, p in enumerate(export["participants"])}
    stripped = {
        **export,
        "group": {k: v for k, v in export["group"].items() if k != "id"},
        "participants": [{k: v for k, v in p.items() if k != "id"} for p in export["participants"]],
        "revisions": [
            {
                **{k: v for k, v in r.items() if k != "id"},
                "participant_id": positions[r["participant_id"]],
            }
            for r in export["revisions"]
        ],
    }
    if "statuses" in export:  # format version 2 on
        stripped["statuses"] = [
            {
                **{k: v for k, v in c.items() if k != "id"},
                "participant_id": positions[c["participant_id"]],
                "into_participant_id": positions.get(c["into_participant_id"]),
            }
            for c in export["statuses"]
        ]
    return stripped


def two_round_group(store, name: str, *, n: int, seed: int):
    """A group of `n` example members: everyone answers round 1, the last one revises,
    round 2 opens and the last one answers it (n + 2 revisions). Returns (group, token)."""
    from model.example import EXAMPLE_EVIDENCE, example_responses

    group, token = store.create_group(name, evidence=EXAMPLE_EVIDENCE)
    people = example_responses(n=n, seed=seed)
    for r in people:
        participant, _ = store.add_participant(group.id, r.participant)
        store.add_revision(participant.id, round=1, payload=r.to_dict())
    store.add_revision(participant.id, round=1, payload=people[0].to_dict())
    store.open_next_round(group.id)
    store.add_revision(participant.id, round=2, payload=people[-1].to_dict())
    return group, token


def broken_copy(exported: dict, change) -> dict:
    """A deep copy of an export (through JSON, as a file would be) with `change` applied."""
    copy = json.loads(json.dumps(exported))
    change(copy)
    return copy
