"""Start the app with `streamlit run` on 127.0.0.1 and Debian's Chromium settings.

Shared by the browser tests (`conftest.py`) and `benchmarks/bench_dashboard.py`.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CRUXBOARD_CHROMIUM") or "/usr/bin/chromium"
"""The browser the tests drive: Debian's Chromium, or the one `CRUXBOARD_CHROMIUM` names."""
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


LIVE_PERIOD_MS = 1_000
"""How often the dashboard's Live check runs (`LIVE_POLL_SECONDS` of the dashboard page)."""


def wait_until_idle(page, timeout: float) -> None:
    """Wait until no rerun is running, none starts within two Live periods, and still none.

    After a click that reruns the page (turning Live off, say), a check that started just
    before it may still be running; the downloads stay enabled throughout, so they cannot
    tell when the page has settled. Streamlit shows its status widget while a script runs.
    """
    status = page.get_by_test_id("stStatusWidget")
    status.wait_for(state="detached", timeout=timeout)
    page.wait_for_timeout(2 * LIVE_PERIOD_MS)
    status.wait_for(state="detached", timeout=timeout)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def streamlit_app(db: Path, log_path: Path | None = None, draws: int | None = None):
    """Run the app on the SQLite file `db`; yield its base URL, stop it on exit.

    Parameters
    ----------
    db : Path
        SQLite file the app uses (`CRUXBOARD_DB`); `DATABASE_URL` is removed.
    log_path : Path, optional
        Where the server's output goes; discarded when None.
    draws : int, optional
        Posterior draws per chain (`CRUXBOARD_DRAWS`); the app's default when None.
    """
    port = free_port()
    env = {**os.environ, "CRUXBOARD_DB": str(db)}
    env.pop("DATABASE_URL", None)
    if draws is not None:
        env["CRUXBOARD_DRAWS"] = str(draws)
    log = open(log_path, "w") if log_path else subprocess.DEVNULL  # noqa: SIM115
    command = [sys.executable, "-m", "streamlit", "run", "app.py"]
    command += ["--server.headless", "true", "--server.port", str(port)]
    command += ["--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
    command += ["--server.fileWatcherType", "none"]
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=1) as r:
                    if r.read().decode().strip() == "ok":
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start; see {log_path or 'its output'}")
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        if log_path:
            log.close()
