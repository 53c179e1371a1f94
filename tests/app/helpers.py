"""Shared helpers of the page tests: the app, three members' answers, opening a page.

The page tests (test_pages, test_elicit_page, test_dashboard_page) and others that seed
the same group (test_live_cost, test_small_groups) import these: every test that fits
seeds the same three answers (`MEMBERS`), so a test run fits the model only a few times.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from streamlit.testing.v1 import AppTest

from model.example import EXAMPLE_EVIDENCE
from model.schema import validate_response
from priors import parse_evidence
from tests.model.helpers import raw_response

APP = str(Path(__file__).parents[2] / "app.py")
# Three members whose views differ (credences A-D, direct P(scheming), d_D reading).
MEMBERS = [
    ("Ada", (0.6, 0.2, 0.15, 0.05), 0.03, 0.3),
    ("Bo", (0.3, 0.3, 0.2, 0.2), 0.1, 0.05),
    ("Chidi", (0.1, 0.1, 0.4, 0.4), 0.4, 0.01),
]


def _rows(db, table: str) -> int:
    with closing(sqlite3.connect(db.path)) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def _page(path: str, **params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(params)
    return at.switch_page(path)


def _group(db, evidence: str = EXAMPLE_EVIDENCE) -> tuple[str, str]:
    group, token = db.create_group("Reading group", evidence=evidence)
    return group.id, token


def _answer(db, group_id: str, name: str, scen, direct: float, d_reading: float, round=1):
    raw = raw_response(name, scen, p_scheming=direct)
    raw["readings"]["monitoring_counts"]["D"] = d_reading
    payload = validate_response(raw, evidence=parse_evidence(EXAMPLE_EVIDENCE)).to_dict()
    participant, token = db.add_participant(group_id, name)
    db.add_revision(participant.id, round=round, payload=payload)
    return participant, token


def _seed_members(db, group_id: str) -> list[tuple]:
    return [_answer(db, group_id, *m) for m in MEMBERS]


def _texts(at: AppTest) -> str:
    """Everything the page shows as text, for checks that something is (not) shown."""
    parts = [
        e.value
        for kind in ("markdown", "text", "caption", "error", "info", "warning")
        for e in getattr(at, kind)
    ]
    parts += [str(m.value) for m in at.metric] + [t.value for t in at.title]
    return "\n".join(map(str, parts))
