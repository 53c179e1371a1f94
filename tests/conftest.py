"""Shared fixtures: defaults, seeded generators, one compiled sampler for the session.

Also the CI rule: with CRUXBOARD_REQUIRE_ALL=1 (set by `.ci/run`), a browser (e2e) or
PostgreSQL test that would skip fails instead, so a run without Chromium or PostgreSQL
cannot pass by skipping them.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from model.fit import GroupSampler
from priors import load_defaults

REQUIRE_ALL = "CRUXBOARD_REQUIRE_ALL"
"""Environment variable: "1" makes a skipped browser or PostgreSQL test a failure."""
NEEDS = {
    "e2e": "Chromium (/usr/bin/chromium, or the path in CRUXBOARD_CHROMIUM)",
    "postgres": "PostgreSQL (its URL in TEST_DATABASE_URL)",
}
"""What a test with each of these markers needs, for the failure message."""


def require_all() -> bool:
    """True when every browser and PostgreSQL test must run (`REQUIRE_ALL` is "1")."""
    return os.environ.get(REQUIRE_ALL, "") == "1"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item):
    report = yield
    if not (report.skipped and require_all()) or hasattr(report, "wasxfail"):
        return report
    needs = [need for marker, need in NEEDS.items() if item.get_closest_marker(marker)]
    if needs:
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        report.outcome = "failed"
        report.longrepr = (
            f"{item.nodeid} would have skipped ({reason.removeprefix('Skipped: ')}); with "
            f"{REQUIRE_ALL}=1 every browser and PostgreSQL test must run: provide "
            f"{' and '.join(needs)}, as scripts/test.sh does"
        )
    return report


@pytest.fixture(scope="session")
def defaults():
    return load_defaults()


@pytest.fixture
def rng():
    return np.random.default_rng(20261127)


@pytest.fixture(scope="session")
def sampler(defaults):
    """One GroupSampler per test session: the model compiles once (about 20-30 s)."""
    return GroupSampler(defaults=defaults)
