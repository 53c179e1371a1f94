"""Load: 200 concurrent submissions by threads and by processes, on SQLite and PostgreSQL.

Afterwards exactly 200 revisions are stored: none lost, none duplicated, every payload
intact to the byte. Each test prints its numbers (tried, stored, lost, duplicated, failed,
seconds) and records them as junit properties, so they can be quoted.

Spawned workers import this module: keep its imports light (no model/, no PyMC).
"""

import json
import multiprocessing
import threading
import time
import warnings
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from store import Store

SUBMISSIONS = 200
THREADS = 20
PROCESSES = 4
PAIRS = 20  # participants who each submit twice at the same moment
_TIMEOUT = 120.0


def _json(payload: dict) -> str:
    """The payload as JSON text, key order and float digits included (for byte comparison)."""
    return json.dumps(payload, ensure_ascii=False, allow_nan=False)


@pytest.fixture(scope="module")
def payloads() -> list[dict]:
    """200 realistic answers: example responses with rationales from short to 100 kB."""
    from model.example import example_responses

    out = []
    for i, response in enumerate(example_responses(n=SUBMISSIONS)):
        payload = response.to_dict()
        long = "Because " * (12_500 if i % 25 == 0 else i)
        payload["rationale"] = f'{payload["rationale"]} [{i}] é ß 漢字 🧨 "q" <b>\n{long}'
        out.append(payload)
    return out


def _setup(url: str, n: int) -> tuple[str, list[int]]:
    with Store(url) as store:
        group, _ = store.create_group("load test", evidence="")
        people = [store.add_participant(group.id, f"member {i}")[0].id for i in range(n)]
    return group.id, people


def _audit(raw_rows, group_id: str, submitted: list[tuple[int, dict]], ids: list[int]) -> dict:
    """Compare the rows stored (read past the Store) with what was submitted and acknowledged.

    lost: submitted but not stored; duplicated: stored more often than submitted; corrupt:
    stored but never submitted (a torn or mixed-up write).
    """
    rows = [r for r in raw_rows("revisions") if r["group_id"] == group_id]
    expected = Counter((pid, _json(payload)) for pid, payload in submitted)
    stored = Counter((r["participant_id"], _json(json.loads(r["payload"]))) for r in rows)
    extra = stored - expected
    return {
        "tried": len(submitted),
        "stored": len(rows),
        "lost": sum((expected - stored).values()),
        "duplicated": sum(n for key, n in extra.items() if key in expected),
        "corrupt": sum(n for key, n in extra.items() if key not in expected),
        "ids_match": sorted(ids) == sorted(r["id"] for r in rows),
    }


def _assert_whole(numbers: dict, tried: int) -> None:
    assert numbers["tried"] == tried
    assert numbers["stored"] == tried, numbers
    assert numbers["lost"] == 0 and numbers["duplicated"] == 0 and numbers["corrupt"] == 0, numbers
    assert numbers["failed"] == 0, numbers
    assert numbers["ids_match"], numbers


# -- threads -------------------------------------------------------------------------------


@pytest.mark.timeout(300)
def test_200_submissions_from_threads(store_url, payloads, raw_rows, report):
    group_id, people = _setup(store_url, SUBMISSIONS)
    jobs = list(zip(people, payloads, strict=True))
    batches = [jobs[i::THREADS] for i in range(THREADS)]
    barrier = threading.Barrier(THREADS)
    ids: list[int] = []
    errors: list[str] = []

    with Store(store_url) as store:  # one Store shared by every thread, as in the app

        def submit(batch):
            barrier.wait(timeout=_TIMEOUT)
            for pid, payload in batch:
                try:
                    ids.append(store.add_revision(pid, round=1, payload=payload).id)
                except Exception as exc:  # counted, then the test fails on it
                    errors.append(repr(exc))

        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=THREADS) as pool:
            list(pool.map(submit, batches))
        seconds = time.perf_counter() - start
        stored_via_api = {pid: [r.payload for r in store.revisions(pid)] for pid in people}

    numbers = _audit(raw_rows, group_id, jobs, ids)
    numbers.update(failed=len(errors), seconds=round(seconds, 2))
    report(f"{THREADS} threads x {SUBMISSIONS // THREADS}", **numbers)
    assert not errors, errors[:5]
    _assert_whole(numbers, SUBMISSIONS)
    for pid, payload in jobs:  # read back through the Store as well
        assert [_json(p) for p in stored_via_api[pid]] == [_json(payload)]


# -- processes -----------------------------------------------------------------------------


def _worker(url: str, jobs: list, barrier, results, sync_each: bool) -> None:
    """Spawned: open an own Store, wait for the others, submit, report (ids, errors, times)."""
    warnings.simplefilter("error")
    ids, errors = [], []
    with Store(url) as store:
        barrier.wait(timeout=_TIMEOUT)
        start = time.time()
        for index, pid, payload in jobs:
            if sync_each:
                barrier.wait(timeout=_TIMEOUT)
            try:
                ids.append((index, store.add_revision(pid, round=1, payload=payload).id))
            except Exception as exc:
                errors.append(f"job {index}: {exc!r}")
        results.put((ids, errors, start, time.time()))


def _run_processes(url: str, per_process: list[list], *, sync_each: bool = False):
    """Run one spawned worker per job list; return (ids, errors, seconds of submitting)."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(len(per_process))
    results = ctx.Queue()
    procs = [
        ctx.Process(target=_worker, args=(url, jobs, barrier, results, sync_each))
        for jobs in per_process
    ]
    for proc in procs:
        proc.start()
    try:
        outcomes = [results.get(timeout=_TIMEOUT) for _ in procs]
    finally:
        for proc in procs:
            proc.join(timeout=_TIMEOUT)
            if proc.is_alive():
                proc.kill()
    assert [proc.exitcode for proc in procs] == [0] * len(procs)
    ids = [pair for outcome in outcomes for pair in outcome[0]]
    errors = [e for outcome in outcomes for e in outcome[1]]
    seconds = max(o[3] for o in outcomes) - min(o[2] for o in outcomes)
    return ids, errors, seconds


@pytest.mark.timeout(300)
def test_200_submissions_from_processes(store_url, payloads, raw_rows, report):
    group_id, people = _setup(store_url, SUBMISSIONS)
    jobs = [
        (i, pid, payload) for i, (pid, payload) in enumerate(zip(people, payloads, strict=True))
    ]
    ids, errors, seconds = _run_processes(store_url, [jobs[i::PROCESSES] for i in range(PROCESSES)])

    submitted = [(pid, payload) for _, pid, payload in jobs]
    numbers = _audit(raw_rows, group_id, submitted, [rid for _, rid in ids])
    numbers.update(failed=len(errors), seconds=round(seconds, 2))
    report(f"{PROCESSES} processes x {SUBMISSIONS // PROCESSES}", **numbers)
    assert not errors, errors[:5]
    _assert_whole(numbers, SUBMISSIONS)


# -- the same participant twice at once ----------------------------------------------------


def _twins(payloads: list[dict], n: int) -> list[tuple[dict, dict]]:
    """Two different large answers per participant (128 kB each), so a torn write would show."""
    return [
        (
            {**payloads[i], "rationale": f"first {i} " + "a" * 128_000},
            {**payloads[i], "rationale": f"second {i} " + "b" * 128_000, "p_scheming": 0.5},
        )
        for i in range(n)
    ]


def _assert_two_whole_revisions(url, group_id, people, twins) -> dict:
    torn = missing = 0
    with Store(url) as store:
        for pid, (first, second) in zip(people, twins, strict=True):
            got = sorted(_json(r.payload) for r in store.revisions(pid))
            want = sorted([_json(first), _json(second)])
            missing += max(0, 2 - len(got))
            torn += sum(text not in want for text in got)
            assert got == want, f"participant {pid}: {len(got)} revisions, not the two sent"
        latest = {p.id: r for p, r in store.latest_revisions(group_id, round=1)}
        for pid, (first, second) in zip(people, twins, strict=True):
            newest = max(store.revisions(pid), key=lambda r: r.id)
            assert latest[pid].id == newest.id
            assert _json(latest[pid].payload) in (_json(first), _json(second))
    return {"torn": torn, "missing": missing}


@pytest.mark.timeout(300)
def test_same_participant_twice_at_once_from_threads(store_url, payloads, raw_rows, report):
    group_id, people = _setup(store_url, PAIRS)
    twins = _twins(payloads, PAIRS)
    jobs = [(pid, p) for pid, pair in zip(people, twins, strict=True) for p in pair]
    barrier = threading.Barrier(len(jobs))
    errors: list[str] = []

    with Store(store_url) as store:

        def submit(job):
            pid, payload = job
            barrier.wait(timeout=_TIMEOUT)
            try:
                return store.add_revision(pid, round=1, payload=payload).id
            except Exception as exc:
                errors.append(repr(exc))
                return None

        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
            ids = [i for i in pool.map(submit, jobs) if i is not None]
        seconds = time.perf_counter() - start

    numbers = _audit(raw_rows, group_id, jobs, ids)
    numbers.update(failed=len(errors), seconds=round(seconds, 2))
    numbers.update(_assert_two_whole_revisions(store_url, group_id, people, twins))
    report(f"{PAIRS} participants x 2 at once (threads)", **numbers)
    assert not errors, errors[:5]
    _assert_whole(numbers, 2 * PAIRS)


@pytest.mark.timeout(300)
def test_same_participant_twice_at_once_from_processes(store_url, payloads, raw_rows, report):
    group_id, people = _setup(store_url, PAIRS)
    twins = _twins(payloads, PAIRS)
    # Two processes go through the same participants in step: both submit for participant
    # k at the same moment (a barrier before each), one the first answer, one the second.
    per_process = [
        [(k, pid, pair[which]) for k, (pid, pair) in enumerate(zip(people, twins, strict=True))]
        for which in (0, 1)
    ]
    ids, errors, seconds = _run_processes(store_url, per_process, sync_each=True)

    jobs = [(pid, p) for pid, pair in zip(people, twins, strict=True) for p in pair]
    numbers = _audit(raw_rows, group_id, jobs, [rid for _, rid in ids])
    numbers.update(failed=len(errors), seconds=round(seconds, 2))
    numbers.update(_assert_two_whole_revisions(store_url, group_id, people, twins))
    report(f"{PAIRS} participants x 2 at once (processes)", **numbers)
    assert not errors, errors[:5]
    _assert_whole(numbers, 2 * PAIRS)
