"""What the facilitator and the members wait for, and what an idle dashboard costs the server.

Each measurement starts its own server on a fresh SQLite file holding a group of 12 example
members (the app's own draws, 4 chains x 1000), and drives Debian's Chromium:

start   `bash scripts/run.sh`, then the dashboard opened when run.sh says to open it (once
        the model is ready) and, on another start, as soon as the server answers: seconds
        from the start until the server answers, until run.sh says to open it, and from
        opening the dashboard until it shows its numbers ("Fitted to 12 answers"). With
        --cold, PyTensor's and numba's caches start empty (a new base_compiledir and
        NUMBA_CACHE_DIR), as after an install; set-up then compiles the model first.
idle    the server's CPU time (user + system, from /proc) over 20 s with 0, 1 and 3 Live
        dashboards open and nothing happening, as a fraction of one core.
submit  a new member fills in the Elicit page and submits, with 0 and with 3 Live dashboards
        open on the group: seconds from the click until "Saved your answers" shows, until
        the member's page shows the group's view (refitted with their answer) and until
        every dashboard shows the new count of answers; and until the server's reply with
        "Saved" reaches the member's browser (a websocket frame): the rest of the wait is
        the browser drawing the page, here on the same two cores as the server and the
        dashboards' browsers.
report  the facilitator of a group of 100 (goal 5) opens the dashboard, waits for its
        numbers and figures, goes to Exports and clicks "Make the report": seconds from the
        click until the report's download button shows (the report made). A new page each
        time (the report is held per session); the fit is made once, so the first run is
        the first page on that fit (the figures the page does not show were drawn ahead
        while it drew its own, app_pages/ahead.py) and later ones find them drawn.

Prints one table of medians. The machine has 2 shared cores: run it when it is quiet.
--root measures another checkout with this venv (e.g. the commit before a change, unpacked
with `git archive <commit> | tar -x -C DIR`).
Usage: python benchmarks/bench_app.py [--only start idle submit report] [--repeats 5] [--root DIR]
       [--cold]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

from model.example import EXAMPLE_EVIDENCE, example_responses  # noqa: E402
from store import Store  # noqa: E402
from tests.e2e.server import CHROMIUM, CHROMIUM_ARGS, free_port, wait_until_idle  # noqa: E402

MEMBERS = 12
IDLE_SECONDS = 20.0
SETTLE_SECONDS = 5.0  # after a page is drawn, before the idle window
WAIT_MS = 300_000  # the slowest step: a cold start compiles for about a minute, more if busy

# Checked every 50 ms in the page: Playwright's expect() polls at up to 1 s intervals.
_TEXT_IN = """([selector, text]) => Array.from(document.querySelectorAll(selector))
    .some((e) => e.innerText.includes(text))"""


def _wait_text(page: Page, selector: str, text: str) -> None:
    page.wait_for_function(_TEXT_IN, arg=[selector, text], polling=50, timeout=WAIT_MS)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (/proc/<pid>/stat, fields 14 and 15)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _group(db: Path, n: int = MEMBERS) -> tuple[str, str]:
    with Store(f"sqlite:///{db}") as store:
        group, token = store.create_group("bench", evidence=EXAMPLE_EVIDENCE)
        for r in example_responses(n=n, seed=11):
            p, _ = store.add_participant(group.id, r.participant)
            store.add_revision(p.id, round=1, payload=r.to_dict())
    return group.id, token


def _get(url: str) -> int | None:
    """HTTP status of a GET (None: nothing answers)."""
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return None


@contextmanager
def _server(root: Path, db: Path, log: Path, *, run_sh: bool = False, env: dict | None = None):
    """Start the app (`scripts/run.sh`, or `streamlit run` as the tests do); yield (proc, base)."""
    port = free_port()
    environ = {**os.environ, "CRUXBOARD_DB": str(db), **(env or {})}
    environ.pop("DATABASE_URL", None)
    environ.pop("CRUXBOARD_DRAWS", None)
    if run_sh:
        environ |= {"CRUXBOARD_PORT": str(port), "CRUXBOARD_ADDRESS": "127.0.0.1"}
        command = ["bash", "scripts/run.sh"]
    else:
        command = [sys.executable, "-m", "streamlit", "run", "app.py"]
        command += ["--server.headless", "true", "--server.port", str(port)]
        command += ["--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
        command += ["--server.fileWatcherType", "none"]
    with open(log, "w") as out:
        # A session of its own: run.sh's children (the server, its poller) stop with it.
        proc = subprocess.Popen(
            command, cwd=root, env=environ, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        try:
            yield proc, f"http://127.0.0.1:{port}"
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def _wait_until(check, what: str, timeout: float = WAIT_MS / 1000) -> float:
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > timeout:
            raise TimeoutError(what)
        time.sleep(0.05)
    return time.monotonic()


def _open_dashboard(browser, base: str, gid: str, token: str) -> Page:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{base}/dashboard?group={gid}&token={token}", timeout=WAIT_MS)
    return page


# --- start ----------------------------------------------------------------------------------------

WHEN_TOLD = "when run.sh says to open it"
AT_ONCE = "as soon as the server answers"


def _told_to_open(log: Path) -> bool:
    text = log.read_text()
    # this project's run.sh says "ready" once the model is; an older one said "open" at once
    return "Cruxboard: ready" in text or "Cruxboard: open http" in text


def measure_start(root: Path, tmp: Path, browser, *, cold: bool) -> list[dict]:
    rows = []
    for k, when in enumerate((WHEN_TOLD, AT_ONCE)):
        env = {}
        if cold:  # a new, empty cache for each start (set-up compiles into it first)
            cache = Path(tempfile.mkdtemp(dir=tmp, prefix="cache-"))
            flags = os.environ.get("PYTENSOR_FLAGS", "")
            env = {
                "PYTENSOR_FLAGS": ",".join(f for f in [flags, f"base_compiledir={cache}"] if f),
                "NUMBA_CACHE_DIR": str(cache / "numba-own"),
            }
        db, log = tmp / f"start-{k}.db", tmp / f"start-{k}.log"
        gid, token = _group(db)
        t0 = time.monotonic()
        with _server(root, db, log, run_sh=True, env=env) as (_, base):
            answers = _wait_until(lambda: _get(f"{base}/_stcore/health") == 200, "health")
            told = None
            if when == WHEN_TOLD:
                told = _wait_until(partial(_told_to_open, log), "run.sh's go-ahead")
            page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            opened = time.monotonic()
            page.goto(f"{base}/dashboard?group={gid}&token={token}", timeout=WAIT_MS)
            _wait_text(page, ".st-key-db_fit_note", f"Fitted to {MEMBERS} answers")
            numbers = time.monotonic() - opened
            page.context.close()
        rows.append(
            {
                "when": when,
                "answers": answers - t0,
                "told": None if told is None else told - t0,
                "numbers": numbers,
            }
        )
    return rows


# --- idle -----------------------------------------------------------------------------------------


def _cpu_share(pid: int, seconds: float) -> float:
    c0, t0 = _cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return (_cpu_seconds(pid) - c0) / (time.monotonic() - t0)


def _model_ready(base: str) -> bool:
    status = _get(f"{base}/api/ready")
    return status in (200, 404)  # 404: a checkout without the warm-up (nothing to wait for)


def measure_idle(root: Path, tmp: Path, browser) -> dict:
    db = tmp / "idle.db"
    gid, token = _group(db)
    out = {}
    with _server(root, db, tmp / "idle.log") as (proc, base):
        _wait_until(lambda: _model_ready(base), "the model's warm-up")
        out[0] = _cpu_share(proc.pid, IDLE_SECONDS)
        pages = []
        for k in (1, 3):
            while len(pages) < k:
                page = _open_dashboard(browser, base, gid, token)
                _wait_text(page, ".st-key-db_fit_note", f"Fitted to {MEMBERS} answers")
                pages.append(page)
            time.sleep(SETTLE_SECONDS)
            out[k] = _cpu_share(proc.pid, IDLE_SECONDS)
    return out


# --- submit ---------------------------------------------------------------------------------------


def _fill_in(page: Page, name: str, credences: tuple[int, ...]) -> None:
    """Fill in a new member's form on the Elicit page (credences and name, as a member must)."""
    expect(page.locator(".st-key-el_cred_A input")).to_be_visible(timeout=WAIT_MS)
    for s, v in zip("ABCD", credences, strict=True):
        box = page.locator(f".st-key-el_cred_{s} input")
        box.fill(str(v))
        box.press("Tab")
    box = page.locator(".st-key-el_name input")
    box.fill(name)
    box.press("Tab")
    expect(page.locator(".st-key-elicit_feedback")).to_be_visible(timeout=WAIT_MS)
    page.wait_for_timeout(500)  # the last widget's rerun is over


def _watch_frames(replies: list[float], ws) -> None:
    def received(payload: str | bytes) -> None:
        data = payload.encode() if isinstance(payload, str) else payload
        if b"Saved your answers" in data:
            replies.append(time.monotonic())

    ws.on("framereceived", received)


def measure_submit(root: Path, tmp: Path, browser, *, dashboards: int, repeats: int) -> list:
    db = tmp / f"submit-{dashboards}.db"
    gid, token = _group(db)
    times = []
    with _server(root, db, tmp / f"submit-{dashboards}.log") as (_, base):
        _wait_until(lambda: _model_ready(base), "the model's warm-up")
        boards = [_open_dashboard(browser, base, gid, token) for _ in range(dashboards)]
        for board in boards:
            _wait_text(board, ".st-key-db_fit_note", f"Fitted to {MEMBERS} answers")
        for k in range(repeats):
            n = MEMBERS + k + 1
            member = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            replies: list[float] = []  # when a websocket frame carrying "Saved" arrived
            member.on("websocket", partial(_watch_frames, replies))
            member.goto(f"{base}/elicit?group={gid}", timeout=WAIT_MS)
            _fill_in(member, f"member {n}", (40, 30, 20, 10))
            start = time.monotonic()
            member.locator(".st-key-elicit_submit button").click()
            _wait_text(member, "[data-testid='stAlertContentSuccess']", "Saved your answers")
            saved = time.monotonic() - start
            reply = min((t for t in replies if t > start), default=float("nan")) - start
            for board in boards:
                _wait_text(board, "[data-testid='stMetricValue']", str(n))
            shown = time.monotonic() - start
            # the member's page then shows the group's view, refitted with their answer
            member.locator(".st-key-elicit_group_view [data-testid=stDataFrame]").wait_for(
                timeout=WAIT_MS
            )
            view = time.monotonic() - start
            for board in boards:  # every dashboard has refitted before the next member comes
                _wait_text(board, ".st-key-db_fit_note", f"Fitted to {n} answers")
            member.context.close()
            times.append((saved, shown if boards else float("nan"), view, reply))
        for board in boards:
            board.context.close()
    return times


# --- report ---------------------------------------------------------------------------------------

REPORT_MEMBERS = 100


def measure_report(root: Path, tmp: Path, browser, *, repeats: int) -> list[float]:
    db = tmp / "report.db"
    gid, token = _group(db, REPORT_MEMBERS)
    times = []
    with _server(root, db, tmp / "report.log") as (_, base):
        _wait_until(lambda: _model_ready(base), "the model's warm-up")
        for _ in range(repeats):
            page = _open_dashboard(browser, base, gid, token)
            _wait_text(page, ".st-key-db_fit_note", f"Fitted to {REPORT_MEMBERS} answers")
            wait_until_idle(page, WAIT_MS)  # every figure drawn, no Live check running
            page.get_by_role("tab", name="Exports").click()
            make = page.locator(".st-key-db_make_report button").first  # then its help icon
            make.wait_for(timeout=WAIT_MS)
            start = time.monotonic()
            make.click()
            page.locator(".st-key-db_dl_report button").wait_for(timeout=WAIT_MS)
            times.append(time.monotonic() - start)
            page.context.close()
    return times


# --- the table ------------------------------------------------------------------------------------


def _med(values) -> str:
    values = [v for v in values if v == v]  # drop NaN
    return f"{statistics.median(values):.2f}" if values else "–"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--only", nargs="+", choices=["start", "idle", "submit", "report"])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--root", type=Path, default=ROOT, help="the checkout to measure")
    ap.add_argument("--cold", action="store_true", help="start: empty compile caches")
    ap.add_argument("--keep", type=Path, help="keep the databases and server logs here")
    args = ap.parse_args()
    only = set(args.only or ["start", "idle", "submit", "report"])
    root = args.root.resolve()
    print(f"root: {root}; load average at start: {os.getloadavg()[0]:.1f} (2 cores)")
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=args.keep, delete=not args.keep) as name:
        rows = _measure(only, root, Path(name), args)
    print(f"load average at end: {os.getloadavg()[0]:.1f}")
    print("| measurement | detail | median s (or share of a core) |")
    print("|---|---|---|")
    for what, detail, value in rows:
        print(f"| {what} | {detail} | {value} |")


def _measure(only: set[str], root: Path, tmp: Path, args: argparse.Namespace) -> list[tuple]:
    rows = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        if "start" in only:
            cache = "empty caches" if args.cold else "warm caches"
            for r in measure_start(root, tmp, browser, cold=args.cold):
                told = "" if r["told"] is None else f", run.sh says open {r['told']:.1f} s"
                rows.append(
                    (
                        f"start ({cache}): opening to numbers, first dashboard of {MEMBERS}, "
                        f"opened {r['when']}",
                        f"after the start: server answers {r['answers']:.1f} s{told}",
                        f"{r['numbers']:.2f}",
                    )
                )
        if "idle" in only:
            for k, share in measure_idle(root, tmp, browser).items():
                rows.append(
                    (f"idle: server CPU with {k} Live dashboard(s) open", "share of one core",
                     f"{share:.3f}")
                )  # fmt: skip
        if "submit" in only:
            for k in (0, 3):
                times = measure_submit(root, tmp, browser, dashboards=k, repeats=args.repeats)
                runs = ", ".join(f"{t[0]:.2f}" for t in times)
                rows.append(
                    (
                        f"submit: click to 'Saved', {k} Live dashboard(s) open",
                        f"each run: {runs}",
                        _med(t[0] for t in times),
                    )
                )
                rows.append(
                    (
                        f"submit: click to the server's 'Saved' reaching the member's browser, "
                        f"{k} dashboard(s) (the rest of the row above is the browser drawing it)",
                        "each run: " + ", ".join(f"{t[3]:.2f}" for t in times),
                        _med(t[3] for t in times),
                    )
                )
                rows.append(
                    (
                        f"submit: click to the member's group view (refitted), {k} dashboard(s)",
                        "each run: " + ", ".join(f"{t[2]:.2f}" for t in times),
                        _med(t[2] for t in times),
                    )
                )
                if k:
                    rows.append(
                        (
                            f"submit: click to the new count on all {k} dashboards",
                            "each run: " + ", ".join(f"{t[1]:.2f}" for t in times),
                            _med(t[1] for t in times),
                        )
                    )
        if "report" in only:
            times = measure_report(root, tmp, browser, repeats=args.repeats)
            rows.append(
                (
                    f"report: click 'Make the report' to its download button, group of "
                    f"{REPORT_MEMBERS}, dashboard drawn",
                    "each run: " + ", ".join(f"{t:.2f}" for t in times),
                    _med(times),
                )
            )
        browser.close()
    return rows


if __name__ == "__main__":
    main()
