"""Crash: a writer killed (SIGKILL) in the middle of its submissions loses nothing committed.

The writer reports each committed revision through a pipe before it goes on. After every
kill, each reported revision must be stored whole, nothing else but (at most) the one
in flight may appear, the database must open cleanly (on SQLite, `Store` runs
``PRAGMA integrity_check``), and other writers must not be blocked by the dead one.

Spawned writers import this module: keep its imports light (no model/, no PyMC).
"""

import json
import multiprocessing
import random
import signal
import sqlite3
import time
import warnings

import pytest
from sqlalchemy import make_url

from store import Store
from tests.model.helpers import raw_response

KILLS = 6
_TIMEOUT = 60.0

# A realistic answer (the shape of model.Response.to_dict()), from the plain builder that the
# model tests use, so the writer processes need not import model/ and PyMC.
_BASE = raw_response("member", (0.45, 0.3, 0.15, 0.1), p_scheming=0.08)
_BASE["factors"]["evades_guardrails"] = None  # a question left unanswered, as in real answers


def payload(seq: int) -> dict:
    """The answer a writer sends as its seq-th submission (5 kB to 300 kB, so writes take time)."""
    size = 5_000 + (seq * 7919) % 300_000
    return {
        **_BASE,
        "participant": f"member {seq % 13}",
        "p_scheming": round((seq % 97) / 100, 2),
        "rationale": f"seq {seq}: Detected misalignment keeps rising 漢字 🧨 " + "x" * size,
    }


def _seq_of(stored: dict) -> int:
    return int(stored["rationale"].split(":", 1)[0].removeprefix("seq "))


def _writer(url: str, participant_id: int, first: int, conn) -> None:
    """Spawned: submit payload(first), payload(first + 1), ... until killed.

    Sends ("start", seq) before each submission and ("done", seq, id) once it is
    committed, then goes on.
    """
    warnings.simplefilter("error")
    with Store(url) as store:
        seq = first
        while True:
            conn.send(("start", seq))
            revision = store.add_revision(participant_id, round=1, payload=payload(seq))
            conn.send(("done", seq, revision.id))
            seq += 1


class Writer:
    """A spawned writer process and what it has reported so far."""

    def __init__(self, url: str, participant_id: int, first: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.messages, child_end = ctx.Pipe(duplex=False)
        self.process = ctx.Process(target=_writer, args=(url, participant_id, first, child_end))
        self.process.start()
        child_end.close()  # so that recv() ends with EOFError once the child is gone
        self.done: dict[int, int] = {}  # seq -> revision id, as reported
        self.started: set[int] = set()

    def read(self, timeout: float = _TIMEOUT) -> tuple:
        if not self.messages.poll(timeout):
            raise AssertionError(
                f"writer silent for {timeout} s (exit code {self.process.exitcode})"
            )
        message = self.messages.recv()
        if message[0] == "start":
            self.started.add(message[1])
        else:
            self.done[message[1]] = message[2]
        return message

    def wait_for_done(self, count: int) -> None:
        target = len(self.done) + count
        while len(self.done) < target:
            self.read()

    def kill(self) -> None:
        self.process.kill()  # SIGKILL
        self.process.join(_TIMEOUT)
        assert self.process.exitcode == -signal.SIGKILL
        while True:  # whatever it reported before it died counts as reported
            try:
                if not self.messages.poll(0):
                    break
                self.read(0)
            except EOFError:
                break
        self.messages.close()


def _check_sqlite_file(url: str) -> None:
    database = make_url(url).database
    with sqlite3.connect(database) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    raw.close()


def _audit(url: str, participant_id: int, done: dict[int, int], started: set[int]) -> dict:
    """Open the database afresh and compare its rows with what the writers reported."""
    with Store(url) as store:  # on SQLite this runs PRAGMA integrity_check first
        rows = store.revisions(participant_id)
    if url.startswith("sqlite"):
        _check_sqlite_file(url)
    by_id = {r.id: r for r in rows}
    lost = [seq for seq, rid in done.items() if rid not in by_id]
    damaged = [
        seq for seq, rid in done.items() if rid in by_id and by_id[rid].payload != payload(seq)
    ]
    unreported = [r for r in rows if r.id not in set(done.values())]
    # A row nobody reported can only be a submission that committed just before the kill:
    # it must be one that was started, and whole.
    foreign = [r for r in unreported if r.payload != payload(_seq_of(r.payload))]
    foreign += [r for r in unreported if _seq_of(r.payload) not in started]
    seqs = [_seq_of(r.payload) for r in rows]
    return {
        "reported": len(done),
        "stored": len(rows),
        "lost": len(lost),
        "damaged": len(damaged),
        "unreported_committed": len(unreported),
        "foreign": len(foreign),
        "duplicated": len(seqs) - len(set(seqs)),
    }


def _participants(url: str, n: int) -> list[int]:
    with Store(url) as store:
        group, _ = store.create_group("crash test", evidence="")
        return [store.add_participant(group.id, f"writer {i}")[0].id for i in range(n)]


@pytest.mark.timeout(300)
def test_a_writer_killed_mid_submission_loses_nothing_committed(store_url, report):
    (pid,) = _participants(store_url, 1)
    rng = random.Random(20261127)
    done: dict[int, int] = {}
    started: set[int] = set()
    kills = 0
    start = time.perf_counter()
    for _ in range(KILLS):
        writer = Writer(store_url, pid, first=max(started, default=-1) + 1)
        writer.wait_for_done(rng.randint(3, 12))
        while writer.read()[0] != "start":  # kill while the next submission is under way
            pass
        time.sleep(rng.choice([0, 0, 0.0005, 0.001, 0.002, 0.005]))
        writer.kill()
        kills += 1
        done.update(writer.done)
        started |= writer.started
        numbers = _audit(store_url, pid, done, started)
        assert numbers["lost"] == 0 and numbers["damaged"] == 0, numbers
        assert numbers["foreign"] == 0 and numbers["duplicated"] == 0, numbers
        # Only the submission in flight when the kill came can be stored unreported.
        assert numbers["unreported_committed"] <= kills, numbers
    numbers.update(kills=kills, seconds=round(time.perf_counter() - start, 2))
    report(f"{kills} kills of one writer", **numbers)


@pytest.mark.timeout(300)
def test_a_killed_writer_does_not_block_the_others(store_url, report):
    victim_id, survivor_id = _participants(store_url, 2)
    start = time.perf_counter()
    victim = Writer(store_url, victim_id, first=0)
    survivor = Writer(store_url, survivor_id, first=100_000)
    try:
        victim.wait_for_done(5)
        survivor.wait_for_done(5)
        while victim.read()[0] != "start":
            pass
        victim.kill()  # most likely while it holds the write lock (SQLite) or a transaction
        survivor.wait_for_done(20)  # must keep committing, not wait on a dead writer
    finally:
        if survivor.process.is_alive():
            survivor.kill()
        if victim.process.is_alive():
            victim.kill()
    victim_numbers = _audit(store_url, victim_id, victim.done, victim.started)
    survivor_numbers = _audit(store_url, survivor_id, survivor.done, survivor.started)
    for numbers in (victim_numbers, survivor_numbers):
        assert numbers["lost"] == 0 and numbers["damaged"] == 0, numbers
        assert numbers["foreign"] == 0 and numbers["duplicated"] == 0, numbers
        assert numbers["unreported_committed"] <= 1, numbers
    report(
        "victim killed, survivor carried on",
        victim_reported=victim_numbers["reported"],
        survivor_reported=survivor_numbers["reported"],
        lost=victim_numbers["lost"] + survivor_numbers["lost"],
        damaged=victim_numbers["damaged"] + survivor_numbers["damaged"],
        seconds=round(time.perf_counter() - start, 2),
    )


def test_payloads_are_distinct_and_realistic():
    assert payload(0) != payload(1)
    assert _seq_of(payload(12345)) == 12345
    assert len(json.dumps(payload(3))) > 5_000
