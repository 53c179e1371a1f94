"""Members who submit at once: how long each waits for "The group so far", and how many fits.

After a member saves, their page shows the group's fit from five answers on. In a burst
(a workshop told "submit now") every save is new data. Two ways of getting that fit are timed
side by side, in one long-lived process with the app's cache, sampler and draws:

- `each`: the page reads the round's answers and fits them (`round_data` then `fitted`), as
  the pages did until 2026-12-07: one fit per version of the data, all sharing the cores.
- `latest`: `common.fitted_latest`, one fit of a round at a time, of its newest answers;
  pages that find a fit under way wait for it and then use (or make) the fit of the
  answers saved by then.

A group starts with BASE answers; MEMBERS threads then save one answer each, one every
STAGGER seconds, and each asks for the fit as soon as it has saved. Each row: the members'
wait from their save until their fit (median and max), the fits made (calls of `analyse`),
the burst's wall time and the process's CPU seconds. Modes alternate; medians over REPEATS.

Usage: python benchmarks/bench_burst.py [--members 20] [--stagger 0.1] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BASE = 5  # the group view's threshold: every page in the burst fits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=20)
    parser.add_argument("--stagger", type=float, default=0.1, help="seconds between saves")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="cruxboard-burst-"))
    os.environ.pop("DATABASE_URL", None)
    os.environ["CRUXBOARD_DB"] = str(tmp / "burst.db")

    from app_pages import common, settings
    from model import validate_response
    from model.example import EXAMPLE_EVIDENCE, example_responses
    from priors import parse_evidence
    from store import Store

    evidence = parse_evidence(EXAMPLE_EVIDENCE)
    url = settings.database_url()
    warm = common.warm_up()
    warm.done.wait()
    if warm.error:
        raise SystemExit(f"the warm-up failed: {warm.error}")

    fits = [0]
    real_analyse = common.analyse

    def counting_analyse(*a, **kw):
        fits[0] += 1
        return real_analyse(*a, **kw)

    common.analyse = counting_analyse

    def burst(mode: str, seed: int) -> dict[str, float]:
        responses = example_responses(n=BASE + args.members, seed=seed, evidence=evidence)
        with Store(url) as store:
            group, _ = store.create_group(f"burst {mode} {seed}", evidence=EXAMPLE_EVIDENCE)
            for r in responses[:BASE]:
                p, _ = store.add_participant(group.id, r.participant)
                store.add_revision(p.id, round=1, payload=r.to_dict())
            data = common.round_data(store, group, evidence, round=1)
            common.fitted(data)  # the group as it was before the burst, fitted
        waits: list[float] = []
        lock = threading.Lock()

        def member(k: int) -> None:
            time.sleep(k * args.stagger)
            r = responses[BASE + k]
            payload = validate_response(r.to_dict(), evidence=evidence).to_dict()
            with Store(url) as store:
                p, _ = store.add_participant(group.id, r.participant)
                store.add_revision(p.id, round=1, payload=payload)
                start = time.monotonic()
                if mode == "each":
                    common.fitted(common.round_data(store, group, evidence, round=1))
                else:
                    common.fitted_latest(store, group, evidence, round=1)
                with lock:
                    waits.append(time.monotonic() - start)

        fits[0] = 0
        cpu0, wall0 = time.process_time(), time.monotonic()
        threads = [threading.Thread(target=member, args=(k,)) for k in range(args.members)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return {
            "wait_median": statistics.median(waits),
            "wait_max": max(waits),
            "fits": fits[0],
            "wall": time.monotonic() - wall0,
            "cpu": time.process_time() - cpu0,
        }

    rows: dict[str, list[dict[str, float]]] = {"each": [], "latest": []}
    for rep in range(args.repeats):
        for mode in ("each", "latest") if rep % 2 == 0 else ("latest", "each"):
            # answers of their own: a fit is cached by the answers, whichever the group
            rows[mode].append(burst(mode, seed=100 + 2 * rep + (mode == "latest")))
            r = rows[mode][-1]
            print(f"  {mode:6s} rep {rep}: {r}", flush=True)

    load = os.getloadavg()[0]
    print(
        f"\n{args.members} members saving one every {args.stagger:g} s onto a group of {BASE}; "
        f"draws per chain {common.draws()}; medians of {args.repeats}; load average {load:.2f}"
    )
    print("| mode | wait, median s | wait, max s | fits | burst wall s | CPU s |")
    print("|---|---|---|---|---|---|")
    for mode, runs in rows.items():

        def med(key: str, runs=runs) -> float:
            return statistics.median(r[key] for r in runs)

        print(
            f"| {mode} | {med('wait_median'):.2f} | {med('wait_max'):.2f} | {med('fits'):.0f} "
            f"| {med('wall'):.2f} | {med('cpu'):.1f} |"
        )


if __name__ == "__main__":
    main()
