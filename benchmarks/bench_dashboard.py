"""How long the dashboard takes to show a new submission, in a real browser.

Starts the app on a fresh SQLite file, fills a group with N example members through the
store, opens the dashboard once (the process compiles the model), then for each of
REPEATS new submissions adds a revision and times a reload of the dashboard until the
"Answered" metric shows the new count and the fit is drawn (the exports, which follow
it). Prints a table of medians.
Usage: python benchmarks/bench_dashboard.py [--sizes 12 100] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from model.example import EXAMPLE_EVIDENCE, example_responses  # noqa: E402
from store import Store  # noqa: E402
from tests.e2e.server import CHROMIUM, CHROMIUM_ARGS, streamlit_app  # noqa: E402


def measure(n: int, repeats: int, tmp: Path) -> dict:
    db = tmp / f"bench-{n}.db"
    store = Store(f"sqlite:///{db}")
    group, token = store.create_group(f"bench {n}", evidence=EXAMPLE_EVIDENCE)
    people = example_responses(n=n + repeats, seed=11)
    for r in people[:n]:
        p, _ = store.add_participant(group.id, r.participant)
        store.add_revision(p.id, round=1, payload=r.to_dict())
    times = []
    try:
        with streamlit_app(db) as base, sync_playwright() as pw:
            url = f"{base}/dashboard?group={group.id}&token={token}"
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            start = time.perf_counter()
            page.goto(url)
            metric = page.get_by_test_id("stMetric").filter(has_text="Answered in round 1")
            expect(metric.get_by_test_id("stMetricValue")).to_have_text(str(n), timeout=150_000)
            expect(page.locator(".st-key-db_reproduce")).to_be_visible(timeout=150_000)
            first = time.perf_counter() - start
            for k in range(repeats):
                r = people[n + k]
                p, _ = store.add_participant(group.id, r.participant)
                submitted = time.perf_counter()
                store.add_revision(p.id, round=1, payload=r.to_dict())
                page.reload()
                value = metric.get_by_test_id("stMetricValue")
                expect(value).to_have_text(str(n + k + 1), timeout=120_000)
                expect(page.locator(".st-key-db_reproduce")).to_be_visible(timeout=120_000)
                times.append(time.perf_counter() - submitted)
            browser.close()
    finally:
        store.close()
    return {"n": n, "first": first, "median": statistics.median(times), "all": times}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", type=int, nargs="+", default=[12, 100])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    import tempfile

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            rows.append(measure(n, args.repeats, Path(tmp)))
    print(
        "| group size | first view (compile + fit), s | after a new submission, median s | all, s |"
    )
    print("|---|---|---|---|")
    for r in rows:
        runs = ", ".join(f"{t:.2f}" for t in r["all"])
        print(f"| {r['n']} | {r['first']:.1f} | {r['median']:.2f} | {runs} |")


if __name__ == "__main__":
    main()
