"""How long the analysis's member-level parts take, alone, in one long-lived process.

The parts whose cost grows with the group: the camps (`find_camps`; above 2,000 members fitted
on a subsample), the meta-predictions' bootstrap (`meta_predictions`; members x resamples
capped at 2,000,000) and what would settle the disagreement (`what_would_settle_it`; pairs of
members capped). Their times were once asserted in unit tests; on a shared 2-core machine
those failed under load, so they are measured here instead, as every speed goal is.

Each row: median and fastest of REPEATS runs after one untimed run, wall seconds.
The goals (set when each part was built): camps of 100 under 0.2 s and of 10,000 under 3 s;
the bootstrap of 1,000 under 0.05 s and bounded at 10,000; what would settle it under 0.1 s at
100 and bounded at 10,000.

Usage: python benchmarks/bench_parts.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from model.camps import find_camps  # noqa: E402
from model.example import example_responses  # noqa: E402
from model.individual import update  # noqa: E402
from model.meta import meta_predictions  # noqa: E402
from model.schema import Response, to_group_data  # noqa: E402
from model.settle import what_would_settle_it  # noqa: E402
from priors import SCENARIO_IDS, load_defaults, parse_evidence  # noqa: E402

QUESTION = (
    '[[evidence]]\nid = "q"\nkind = "question"\ntext = "t"\n'
    "default_likelihood = { A = 0.2, B = 0.5, C = 0.3, D = 0.6 }\n"
)


def _with_forecasts(n: int, seed: int = 0) -> list[Response]:
    """Members with credences and forecasts of the others' (all the bootstrap reads)."""
    rng = np.random.default_rng(seed)
    cred, fore = rng.dirichlet([2, 1, 1, 1], size=n), rng.dirichlet([3, 1, 1, 1], size=n)
    return [
        Response(
            f"m{i}",
            dict(zip(SCENARIO_IDS, map(float, c), strict=True)),
            {},
            None,
            {},
            "",
            dict(zip(SCENARIO_IDS, map(float, f), strict=True)),
        )
        for i, (c, f) in enumerate(zip(cred, fore, strict=True))
    ]


def _timed(run: Callable[[], object], repeats: int) -> tuple[float, float]:
    run()  # untimed: imports and caches
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), min(seconds)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    defaults = load_defaults()
    evidence = (*defaults.evidence, *parse_evidence(QUESTION))
    consensus = np.random.default_rng(0).dirichlet(np.ones(4) * 20, size=4000)
    rows = []
    for n in (100, 10_000):
        responses = example_responses(n=n, evidence=evidence, defaults=defaults)
        data = to_group_data(responses, evidence=evidence, defaults=defaults)
        rows.append(("find_camps", n, *_timed(lambda d=data: find_camps(d), args.repeats)))
        ups = [update(r, evidence=evidence, defaults=defaults) for r in responses]
        rows.append(
            (
                "what_would_settle_it (4,000 consensus draws, a question item)",
                n,
                *_timed(
                    lambda u=ups: what_would_settle_it(u, evidence, defaults, consensus),
                    args.repeats,
                ),
            )
        )
    for n in (1000, 10_000):
        group = _with_forecasts(n)
        timed = _timed(lambda g=group: meta_predictions(g), args.repeats)
        rows.append(("meta_predictions", n, *timed))
    print(f"load average: {os.getloadavg()[0]:.2f} (2 cores); medians of {args.repeats}")
    print("| part | members | median s | fastest s |")
    print("|---|---|---|---|")
    for part, n, median, fastest in rows:
        print(f"| {part} | {n:,} | {median:.3f} | {fastest:.3f} |")


if __name__ == "__main__":
    main()
