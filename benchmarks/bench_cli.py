"""How long the command line takes to refuse a bad file, and `import model`, in fresh processes.

Each row is the wall time of a child `python` from spawn to exit, the median of RUNS runs
(with the fastest and slowest beside it), after one untimed run that writes the bytecode
caches. "before" runs the same commands with the same interpreter in a temporary git
worktree of BEFORE (the commit before imports were made lazy), "after" in this checkout;
the runs alternate, so both see the same load. The worktree is removed afterwards.

Goal: a bad responses file refused (exit status 2) in under 1.5 s.

Usage: python benchmarks/bench_cli.py [--runs 7] [--before 4aad7a2 | --no-before]
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BEFORE = "4aad7a2"
GOAL_SECONDS = 1.5
BAD_CSV = "participant,A,B,C,D\nx,40,30,20,10\n"  # percentages where fractions belong


def _commands(tmp: Path) -> dict[str, tuple[list[str], int]]:
    """Label -> (arguments after `python`, the exit status it must end with)."""
    bad = tmp / "bad.csv"
    bad.write_text(BAD_CSV)
    aggregate = ["-m", "model", "aggregate", str(bad), "--out", str(tmp / "out")]
    return {
        "`python -m model aggregate bad.csv --out DIR` (exit 2)": (aggregate, 2),
        '`python -c "import model"`': (["-c", "import model"], 0),
    }


def _run(args: list[str], cwd: Path, status: int, out: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )
    seconds = time.perf_counter() - start
    if proc.returncode != status:
        raise SystemExit(f"{args} in {cwd}: exit {proc.returncode}, not {status}\n{proc.stderr}")
    if out.exists():
        raise SystemExit(f"{args} in {cwd} wrote {out}")
    return seconds


def _imports_from(cwd: Path) -> Path:
    """Where `model` is imported from when the interpreter runs in `cwd`."""
    proc = subprocess.run(
        [sys.executable, "-c", "import model; print(model.__file__)"],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(proc.stdout.strip()).resolve().parents[1]


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()


def _cell(times: list[float]) -> str:
    return f"{statistics.median(times):.2f} s ({min(times):.2f}-{max(times):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--before", default=BEFORE, help=f"commit to compare (default {BEFORE})")
    parser.add_argument("--no-before", action="store_true", help="time this checkout only")
    args = parser.parse_args()

    load_start = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp_name:
        tmp = Path(tmp_name)
        commands = _commands(tmp)
        trees = {"after": ROOT}
        worktree = tmp / "before"
        if not args.no_before:
            _git("worktree", "add", "--detach", str(worktree), args.before)
            trees = {"before": worktree, "after": ROOT}
        try:
            for label, tree in trees.items():
                found = _imports_from(tree)
                if found != tree.resolve():
                    raise SystemExit(f"{label}: `model` comes from {found}, not {tree}")
            times = {(c, t): [] for c in commands for t in trees}
            for i in range(args.runs + 1):  # run 0 writes the bytecode caches, untimed
                for command, (argv, status) in commands.items():
                    for label, tree in trees.items():
                        seconds = _run(argv, tree, status, tmp / "out")
                        if i:
                            times[command, label].append(seconds)
        finally:
            if not args.no_before:
                _git("worktree", "remove", "--force", str(worktree))
    load_end = os.getloadavg()

    today = datetime.date.today().isoformat()
    head = _git("rev-parse", "--short", "HEAD")
    names = {"before": f"before ({args.before})", "after": f"after (this checkout, {head})"}
    load = " ".join(f"{x:.2f}" for x in load_start) + " / " + " ".join(f"{x:.2f}" for x in load_end)
    print(f"{today}; {os.cpu_count()} cores; load average (1, 5, 15 min) {load} at start / end;")
    print(f"median of {args.runs} fresh processes (fastest-slowest)\n")
    print("| command | " + " | ".join(names[t] for t in trees) + " | goal |")
    print("|---|" + "---|" * len(trees) + "---|")
    for command in commands:
        goal = f"< {GOAL_SECONDS} s" if "aggregate" in command else ""
        cells = " | ".join(_cell(times[command, t]) for t in trees)
        print(f"| {command} | {cells} | {goal} |")
    refusal = statistics.median(times[next(iter(commands)), "after"])
    verdict = "met" if refusal < GOAL_SECONDS else "NOT met"
    print(f"\nGoal (bad file refused in under {GOAL_SECONDS} s): {verdict} ({refusal:.2f} s).")


if __name__ == "__main__":
    main()
