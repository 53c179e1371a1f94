"""Two app servers on one PostgreSQL, in Debian's Chromium: what README's Deploying promises.

Two `streamlit run app.py` processes share one throwaway PostgreSQL (TEST_DATABASE_URL when
set, as scripts/test.sh provides; else a cluster started here), each in a schema of its own
test. The facilitator's dashboard is open on server 2 with Live on. Members answer through
server 1's Elicit page: the dashboard shows each new answer within 2 s (the median, measured
from the member's "Saved" and printed with the time from the click; each answer comes once
the dashboard has drawn the one before, since an answer that lands during a redraw waits
for it to end, seconds on a busy machine). Then 50 members fill in the Elicit
page, 25 on each server, and all press submit at once: each answer is stored exactly once,
the dashboard counts every one of them, and its downloads, taken while Live stays on, hold
every member.

The burst goes through the two apps' pages in a real browser (a second Chromium, driven
asynchronously so 50 pages can wait at once), not through the Store: the Elicit page's own
submit writes each answer, as it does for a member.
"""

from __future__ import annotations

import asyncio
import csv
import glob
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.async_api import async_playwright
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import create_engine, make_url, text

from model.example import EXAMPLE_EVIDENCE, example_responses
from store import Store
from tests.e2e.server import CHROMIUM, CHROMIUM_ARGS, ROOT, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

SEEDED = 3  # members answered before the servers start: the dashboard is fitted from the start
ONE_BY_ONE = 3  # members who answer one after another while the dashboard watches
BURST = 50
FILLING = 10  # pages filled in at a time before the burst (two cores)
SHOWN_WITHIN = 2.0  # seconds from "Saved" to the dashboard's new count (the median)
WAIT = 240_000  # ms: the slowest step, a page on a server busy with the burst's fits
# ms from a burst member's click to "Saved": 50 Chromium pages redraw at once on two cores, and
# Chromium, not the servers, takes most of the CPU (70-80 s median, 82-90 s max measured here,
# the servers 48 of those CPU seconds); in one CI run a member had not seen it after 240 s.
BURST_WAIT = 600_000
DRAWS = "50"  # posterior draws per chain in both servers: the fits are not under test


# --- PostgreSQL -----------------------------------------------------------------------------------


def _as_postgres(command: str) -> None:
    """Run a PostgreSQL command; it refuses to run as root, so as `postgres` when root."""
    if os.geteuid() == 0:
        subprocess.run(["su", "postgres", "-c", command], check=True, capture_output=True)
    else:
        subprocess.run(["bash", "-c", command], check=True, capture_output=True)


@pytest.fixture(scope="module")
def postgres_url():
    """A PostgreSQL server: TEST_DATABASE_URL, else a throwaway cluster (as scripts/test.sh)."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        yield url
        return
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[4]))
    if not bins:
        pytest.skip(
            "TEST_DATABASE_URL not set and no PostgreSQL in /usr/lib/postgresql "
            "(scripts/test.sh starts a throwaway one)"
        )
    folder = Path(tempfile.mkdtemp(prefix="cruxboard-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    port = free_port()
    data = folder / "data"
    try:
        _as_postgres(f"{bins[-1]}/initdb -D {data} -A trust -U postgres")
        _as_postgres(
            f"{bins[-1]}/pg_ctl -D {data} -o '-p {port} -k {folder} "
            f"-c listen_addresses=127.0.0.1' -l {folder}/pg.log -w start"
        )
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(f"the throwaway PostgreSQL did not start: {exc.stderr.decode()[-300:]}")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        try:
            _as_postgres(f"{bins[-1]}/pg_ctl -D {data} -m fast stop")
        finally:
            shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def database_url(postgres_url):
    """The URL of a schema of this module's own on the server (dropped afterwards)."""
    schema = f"two_servers_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(postgres_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


# --- two app servers ----------------------------------------------------------------------------


@contextmanager
def _app(database_url: str, log: Path):
    """`streamlit run app.py` on `database_url` (as scripts/run.sh starts it); yield its URL."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "CRUXBOARD_DRAWS": DRAWS}
    env.pop("CRUXBOARD_DB", None)
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true"]
    command += ["--server.port", str(port), "--server.address", "127.0.0.1"]
    command += ["--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    with open(log, "w") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while _status(f"{base}/_stcore/health") != 200:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the app did not start; see {log}")
                time.sleep(0.3)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def _status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return None


@pytest.fixture(scope="module")
def servers(database_url, tmp_path_factory):
    """Two app servers on the database, model warmed up.

    Yields (base URLs, group, token, the servers' log files).
    """
    with Store(database_url) as store:  # creates the schema before either server starts
        group, token = store.create_group("Two servers", evidence=EXAMPLE_EVIDENCE)
        for r in example_responses(n=SEEDED, seed=5):
            participant, _ = store.add_participant(group.id, r.participant)
            store.add_revision(participant.id, round=1, payload=r.to_dict())
    logs = tmp_path_factory.mktemp("two-servers")
    with _app(database_url, logs / "one.log") as one, _app(database_url, logs / "two.log") as two:
        deadline = time.monotonic() + WAIT / 1000
        while any(_status(f"{b}/api/ready") != 200 for b in (one, two)):
            assert time.monotonic() < deadline, "the model's warm-up did not finish"
            time.sleep(0.5)
        yield (one, two), group.id, token, (logs / "one.log", logs / "two.log")


# --- the members and the dashboard --------------------------------------------------------------


def _credences(i: int) -> tuple[int, int, int, int]:
    """Member i's credences in percent: A tells the members apart, and they add up to 100."""
    return (10 + i, 20, 20, 50 - i)


def _fill_in(page: Page, name: str, credences: tuple[int, ...]) -> None:
    expect(page.locator(".st-key-el_cred_A input")).to_be_visible(timeout=WAIT)
    for s, v in zip("ABCD", credences, strict=True):
        box = page.locator(f".st-key-el_cred_{s} input")
        box.fill(str(v))
        box.press("Tab")
    box = page.locator(".st-key-el_name input")
    box.fill(name)
    box.press("Tab")
    expect(page.locator(".st-key-elicit_feedback")).to_be_visible(timeout=WAIT)


def _saved(page):
    return page.get_by_test_id("stAlertContentSuccess").filter(has_text="Saved your answers")


def _idle(page: Page) -> None:
    """Wait until the page's script is not running (Streamlit marks the app's root element)."""
    page.locator("[data-test-script-state='notRunning']").wait_for(timeout=WAIT)


def _answered(dashboard: Page) -> int:
    return int(dashboard.get_by_test_id("stMetricValue").first.inner_text())


async def _what_it_shows(page) -> str:
    """What a member's page shows when "Saved" did not come: for the failure's message."""
    parts = []
    try:
        for test_id in ("stAlert", "stException", "stStatusWidget", "stSpinner"):
            texts = await page.get_by_test_id(test_id).all_inner_texts()
            if texts:
                parts.append(f"{test_id}: " + " | ".join(t.strip()[:160] for t in texts))
        root = page.locator("[data-test-script-state]")
        if await root.count():
            parts.append(f"script {await root.first.get_attribute('data-test-script-state')}")
        buttons = await page.locator(".st-key-elicit_submit button").count()
        parts.append(f"submit buttons {buttons}")
        parts.append(f"url {page.url.split('?')[-1][:80]}")
    except Exception as exc:  # the page itself failed: say so, keep the timeout's report
        parts.append(f"the page could not be read: {exc!r}"[:200])
    return "; ".join(parts)


async def _burst(bases: tuple[str, str], group_id: str, waited: dict[int, float]) -> list[str]:
    """50 members fill in the Elicit page (alternating servers), then all submit at once.

    Returns what went wrong, one line per member (nothing when every one was saved), with
    what the page showed then; `waited` gets each member's seconds from click to "Saved".
    """
    problems: list[str] = []
    shown: dict[int, str] = {}
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        filling = asyncio.Semaphore(FILLING)
        all_filled = asyncio.Event()
        filled = 0

        async def member(i: int) -> None:
            nonlocal filled
            context = await browser.new_context()
            page = await context.new_page()
            try:
                async with filling:
                    await page.goto(f"{bases[i % 2]}/elicit?group={group_id}", timeout=WAIT)
                    await page.locator(".st-key-el_cred_A input").wait_for(timeout=WAIT)
                    for s, v in zip("ABCD", _credences(i), strict=True):
                        await page.locator(f".st-key-el_cred_{s} input").fill(str(v))
                        await page.locator(f".st-key-el_cred_{s} input").press("Tab")
                    await page.locator(".st-key-el_name input").fill(f"Burst {i:02d}")
                    await page.locator(".st-key-el_name input").press("Tab")
                    await page.locator(".st-key-elicit_feedback").wait_for(timeout=WAIT)
                    # the last field's rerun is over when the name shows in the summary
                    await page.wait_for_timeout(500)
                filled += 1
                if filled == BURST:
                    all_filled.set()
                await all_filled.wait()  # every page is ready: all press submit together
                await page.locator(".st-key-elicit_submit button").click(timeout=WAIT)
                clicked = time.monotonic()
                saved = page.get_by_test_id("stAlertContentSuccess")
                try:
                    await saved.filter(has_text="Saved your answers").wait_for(timeout=BURST_WAIT)
                except Exception:
                    shown[i] = await _what_it_shows(page)
                    raise
                waited[i] = time.monotonic() - clicked
            finally:
                await context.close()

        results = await asyncio.gather(*(member(i) for i in range(BURST)), return_exceptions=True)
        await browser.close()
    for i, result in enumerate(results):
        if isinstance(result, BaseException):
            problems.append(
                f"Burst {i:02d}: {type(result).__name__}: {str(result)[:200]}"
                + (f" [the page: {shown[i]}]" if i in shown else "")
            )
    return problems


def _report(capsys, record_property, line: str, **numbers) -> None:
    """Print a line of numbers (visible without -s) and record them for the junit report."""
    for key, value in numbers.items():
        record_property(key, value)
    with capsys.disabled():
        print(f"\n[two servers] {line}")


def test_two_servers_share_one_postgresql(
    servers, browser: Browser, database_url, capsys, record_property
):
    (one, two), group_id, token, logs = servers
    board = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    board.goto(f"{two}/dashboard?group={group_id}&token={token}", timeout=WAIT)
    fit_note = board.locator(".st-key-db_fit_note")
    expect(fit_note).to_contain_text(f"Fitted to {SEEDED} answers", timeout=WAIT)
    expect(board.locator(".st-key-db_live input")).to_be_checked()  # Live is on by default

    # Members answer through server 1, one after another; the dashboard on server 2 follows.
    from_saved, from_click = [], []
    for k in range(ONE_BY_ONE):
        member = browser.new_context().new_page()
        member.goto(f"{one}/elicit?group={group_id}", timeout=WAIT)
        _fill_in(member, f"Member {k}", _credences(k))
        member.wait_for_timeout(500)  # the last field's rerun is over
        # The dashboard has drawn the last answer (a page of figures, seconds on a busy
        # machine): an answer that lands during a redraw waits for it to end.
        expect(fit_note).to_contain_text(f"Fitted to {SEEDED + k} answers", timeout=WAIT)
        _idle(board)
        clicked = time.monotonic()
        member.locator(".st-key-elicit_submit button").click()
        expect(_saved(member)).to_be_visible(timeout=WAIT)
        saved = time.monotonic()
        board.wait_for_function(
            """(n) => {
                const e = document.querySelector("[data-testid='stMetricValue']");
                return e !== null && Number(e.innerText) >= n;
            }""",
            arg=SEEDED + k + 1,
            polling=50,
            timeout=WAIT,
        )
        shown = time.monotonic()
        from_saved.append(shown - saved)
        from_click.append(shown - clicked)
        member.context.close()
    _report(
        capsys,
        record_property,
        "dashboard on server 2 shows an answer given on server 1: from 'Saved' "
        + ", ".join(f"{t:.2f}" for t in from_saved)
        + " s; from the click "
        + ", ".join(f"{t:.2f}" for t in from_click)
        + " s",
        shown_from_saved_s=[round(t, 3) for t in from_saved],
        shown_from_click_s=[round(t, 3) for t in from_click],
    )
    assert statistics.median(from_saved) <= SHOWN_WITHIN, from_saved
    assert max(from_saved) <= 5 * SHOWN_WITHIN, from_saved

    # 50 members at once through both servers: nothing lost, nothing twice.
    outcome: dict[str, object] = {}
    waited: dict[int, float] = {}  # member: seconds from the click to "Saved"

    def run_burst() -> None:  # its own thread: the async browser needs its own event loop
        try:
            outcome["problems"] = asyncio.run(_burst((one, two), group_id, waited))
        except BaseException as exc:  # noqa: BLE001  (reported below, in the test's thread)
            outcome["problems"] = [f"the burst itself: {exc!r}"]

    start = time.monotonic()
    burst = threading.Thread(target=run_burst, name="burst")
    burst.start()
    while burst.is_alive():  # keep the dashboard's page served meanwhile
        board.wait_for_timeout(500)
    seconds = time.monotonic() - start
    _report(
        capsys,
        record_property,
        f"{BURST} members through both servers at once: {seconds:.0f} s (filling in included); "
        + "click to 'Saved' "
        + (
            f"median {statistics.median(waited.values()):.1f} s, max {max(waited.values()):.1f} s"
            if waited
            else "never"
        ),
        burst_s=round(seconds, 1),
        burst_saved_s=sorted(round(t, 2) for t in waited.values()),
    )
    if outcome["problems"]:  # whether those members' answers were stored anyway
        with Store(database_url) as store:
            stored = {p.display_name for p in store.participants(group_id)}
        outcome["problems"] = [
            line + (" (stored)" if line[:8] in stored else " (NOT stored)")
            if line.startswith("Burst ")
            else line
            for line in outcome["problems"]
        ]
        for log in logs:  # what the servers said, for the failure's report
            with capsys.disabled():
                print(f"\n[two servers] the end of {log.name}:\n{log.read_text()[-3000:]}")
    assert outcome["problems"] == []

    everyone = SEEDED + ONE_BY_ONE + BURST
    with Store(database_url) as store:
        members = store.participants(group_id)
        names = [p.display_name for p in members]
        assert len(names) == everyone == len(set(names))
        burst_members = [p for p in members if p.display_name.startswith("Burst ")]
        assert sorted(p.display_name for p in burst_members) == [
            f"Burst {i:02d}" for i in range(BURST)
        ]
        for p in burst_members:
            (revision,) = store.revisions(p.id)  # exactly one answer each
            i = int(p.display_name.split()[1])
            assert revision.payload["scenarios"]["A"] == pytest.approx(_credences(i)[0] / 100)
        assert store.count_answered(group_id, round=1) == everyone

    # The dashboard, Live on all along, counts everyone; its downloads work while Live is on.
    expect(board.get_by_test_id("stMetricValue").first).to_have_text(str(everyone), timeout=WAIT)
    expect(fit_note).to_contain_text(f"Fitted to {everyone} answers", timeout=WAIT)
    expect(board.locator(".st-key-db_live input")).to_be_checked()
    board.get_by_role("tab", name="Exports").click()
    # The run that drew the new count may still be drawing the tabs below it: until it has,
    # the buttons shown are the last run's, with the files as they were then.
    expect(board.locator("[data-stale='true']")).to_have_count(0, timeout=WAIT)
    with board.expect_download(timeout=WAIT) as download:
        board.locator(".st-key-db_dl_csv button").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert sorted(r["participant"] for r in rows) == sorted(names)
    board.get_by_role("button", name="Make the report (HTML)").click()  # seconds: Live checks
    expect(board.locator(".st-key-db_dl_report button")).to_be_visible(timeout=WAIT)
    with board.expect_download(timeout=WAIT) as download:
        board.locator(".st-key-db_dl_report button").click()
    report = Path(download.value.path()).read_text()
    assert report.rstrip().endswith("</html>") and "Burst 49" in report
    assert _answered(board) == everyone
