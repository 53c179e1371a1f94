"""CI's rule, run for real: with CRUXBOARD_REQUIRE_ALL=1 a browser or PostgreSQL test fails
where it would otherwise skip (no Chromium, no TEST_DATABASE_URL).

Each case runs pytest in a fresh process on the real store and browser tests, with the
PostgreSQL URL removed and the browser pointed at a path that does not exist; those tests
stop in their setup, so nothing is started and each run takes a few seconds.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.conftest import REQUIRE_ALL

ROOT = Path(__file__).resolve().parents[1]


def _outcomes(tmp_path: Path, **env: str) -> dict[str, tuple[str, str]]:
    """Run every postgres and e2e test; return {test: (outcome, message)} from the report."""
    clean = {k: v for k, v in os.environ.items() if k not in ("TEST_DATABASE_URL", REQUIRE_ALL)}
    clean["CRUXBOARD_CHROMIUM"] = str(tmp_path / "no-chromium-here")
    xml = tmp_path / "report.xml"
    command = [sys.executable, "-m", "pytest", "tests/store", "tests/e2e", "-m", "postgres or e2e"]
    command += ["-p", "no:cacheprovider", "-q", f"--junit-xml={xml}"]
    proc = subprocess.run(
        command, cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode in (0, 1), proc.stdout[-3000:] + proc.stderr[-3000:]
    outcomes = {}
    for case in ET.parse(xml).iter("testcase"):
        name = f"{case.get('classname')}::{case.get('name')}"
        results = [(child.tag, child.get("message", "") + (child.text or "")) for child in case]
        outcomes[name] = results[0] if results else ("passed", "")
    return outcomes, proc.returncode


def test_without_the_variable_the_tests_skip(tmp_path):
    outcomes, rc = _outcomes(tmp_path)
    assert rc == 0
    assert len(outcomes) >= 10  # every PostgreSQL store test and every browser test
    assert {kind for kind, _ in outcomes.values()} == {"skipped"}


def test_with_the_variable_a_test_that_would_skip_fails(tmp_path):
    outcomes, rc = _outcomes(tmp_path, **{REQUIRE_ALL: "1"})
    assert rc == 1
    assert len(outcomes) >= 10
    assert {kind for kind, _ in outcomes.values()} == {"error"}  # failed in setup: none ran
    # A browser test that also needs PostgreSQL (two servers on one database) stops first
    # for want of the browser, so it counts with the browser tests.
    browser = [m for name, (_, m) in outcomes.items() if "e2e" in name]
    postgres = [m for name, (_, m) in outcomes.items() if "postgres" in name and "e2e" not in name]
    assert postgres and browser
    for message in postgres:
        assert "would have skipped (TEST_DATABASE_URL not set" in message
        assert f"with {REQUIRE_ALL}=1 every browser and PostgreSQL test must run" in message
        assert "provide PostgreSQL (its URL in TEST_DATABASE_URL)" in message
    for message in browser:
        assert "no-chromium-here missing" in message
        assert "provide Chromium" in message
