"""How long the dashboard takes to show a new submission, in a real browser.

Starts the app on a fresh SQLite file, fills a group with N example members through the
store, opens the dashboard once (the process compiles the model), then for each of
REPEATS new submissions adds a revision (as the Elicit page's submit does) while the
dashboard stays open, as a facilitator watches it: its live check (once a second) sees the
answer, refits and redraws. Two times from the commit of the new revision: until the new
numbers show (the line "Fitted to N+1 answers" above the consensus table, written once the
new fit is in), and until the whole page is drawn again (the exports tab, shown, and drawn
after every figure, holds the new fit's seed). The fit is the dashboard's own: no other
page has fitted the new data first. Prints a table of medians.
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

# Checked on every animation frame: Playwright's expect() polls at up to 1 s intervals,
# which would add its own delay to the times measured.
_HAS_TEXT = """([key, text]) => {
    const e = document.querySelector(`.st-key-${key}`);
    return e !== null && e.innerText.includes(text);
}"""
_NEW_TEXT = """([key, old]) => {
    const e = document.querySelector(`.st-key-${key}`);
    return e !== null && e.innerText.trim() !== "" && e.innerText !== old;
}"""


def _wait_for_text(page, key: str, text: str) -> None:
    page.wait_for_function(_HAS_TEXT, arg=[key, text], polling="raf", timeout=120_000)


def _wait_for_new_text(page, key: str, old: str) -> None:
    page.wait_for_function(_NEW_TEXT, arg=[key, old], polling="raf", timeout=120_000)


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
            fit_note = page.locator(".st-key-db_fit_note")
            expect(fit_note).to_contain_text(f"Fitted to {n} answers", timeout=150_000)
            # The exports sit in the last tab, drawn in the page only while it is shown.
            page.get_by_role("tab", name="Exports").click()
            expect(page.locator(".st-key-db_reproduce")).to_be_visible(timeout=150_000)
            first = time.perf_counter() - start
            seed_before = page.locator(".st-key-db_seed").inner_text()
            for k in range(repeats):
                r = people[n + k]
                p, _ = store.add_participant(group.id, r.participant)
                store.add_revision(p.id, round=1, payload=r.to_dict())
                submitted = time.perf_counter()  # the new answer is committed
                _wait_for_text(page, "db_fit_note", f"Fitted to {n + k + 1} answers")
                numbers = time.perf_counter() - submitted
                _wait_for_new_text(page, "db_seed", seed_before)
                times.append((numbers, time.perf_counter() - submitted))
                seed_before = page.locator(".st-key-db_seed").inner_text()
            browser.close()
    finally:
        store.close()
    return {"n": n, "first": first, "times": times}


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
        "| group size | first view (compile + fit + page), s | new numbers shown, median s "
        "| whole page drawn, median s | new numbers, each run, s |"
    )
    print("|---|---|---|---|---|")
    for r in rows:
        numbers = [t[0] for t in r["times"]]
        page = [t[1] for t in r["times"]]
        runs = ", ".join(f"{t:.2f}" for t in numbers)
        print(
            f"| {r['n']} | {r['first']:.1f} | {statistics.median(numbers):.2f} "
            f"| {statistics.median(page):.2f} | {runs} |"
        )


if __name__ == "__main__":
    main()
