"""Members who submit at once share fits: one fit of a round at a time, of its newest answers.

Each save is new data. A page that read the answers and fitted them would fit its own
version: N answers in a burst, N fits on the same cores. `common.fitted_latest` reads the
answers under the round's lock, so a page that finds a fit under way waits, then fits the
answers saved by then, and the pages still waiting find that fit made.
"""

from __future__ import annotations

import threading
from types import SimpleNamespace

from sqlalchemy import URL

from app_pages import common
from model import validate_response
from model.example import EXAMPLE_EVIDENCE
from priors import parse_evidence
from store import Store
from tests.model.helpers import raw_response

MEMBERS = 6
WAIT = 60.0  # seconds: generous, for a loaded machine; the test takes well under one


def test_a_burst_of_answers_costs_two_fits_and_each_page_fit_includes_its_own_answer(
    db, monkeypatch
):
    group, _ = db.create_group("Burst", evidence=EXAMPLE_EVIDENCE)
    evidence = parse_evidence(EXAMPLE_EVIDENCE)
    url = URL.create("sqlite", database=str(db.path)).render_as_string()
    fits: list[int] = []  # the number of answers in each fit made
    made: dict[str, SimpleNamespace] = {}  # the fits by data key, as the fit cache keeps them
    made_lock = threading.Lock()
    first_fit_started = threading.Event()
    all_saved = threading.Event()

    def fake_fitted(data):
        # the cached fit of these answers, else a new one; the first blocks until all saved
        with made_lock:
            if data.key in made:
                return made[data.key]
        first_fit_started.set()
        assert all_saved.wait(WAIT)
        with made_lock:
            fits.append(data.n)
            made[data.key] = SimpleNamespace(key=data.key, n=data.n)
            return made[data.key]

    monkeypatch.setattr(common, "fitted", fake_fitted)
    saved = [threading.Event() for _ in range(MEMBERS)]
    seen: dict[int, tuple] = {}
    errors: list[BaseException] = []

    def member(k: int) -> None:
        try:
            name = f"Member {k}"
            raw = raw_response(name, (0.4, 0.3, 0.2, 0.1), p_scheming=0.05 + 0.01 * k)
            payload = validate_response(raw, evidence=evidence).to_dict()
            with Store(url) as store:
                participant, _ = store.add_participant(group.id, name)
                store.add_revision(participant.id, round=1, payload=payload)
                saved[k].set()
                data, analysis = common.fitted_latest(store, group, evidence, round=1)
            seen[k] = (name, [r.participant for r in data.responses], data.key, analysis)
        except BaseException as exc:  # noqa: BLE001  (reported by the test's thread)
            errors.append(exc)

    threads = [threading.Thread(target=member, args=(k,)) for k in range(MEMBERS)]
    threads[0].start()
    assert first_fit_started.wait(WAIT)  # the first page's fit is under way
    for k in range(1, MEMBERS):  # the others save one by one while it runs
        threads[k].start()
        assert saved[k].wait(WAIT)
    all_saved.set()
    for t in threads:
        t.join(WAIT)
    assert not errors, errors
    assert sorted(seen) == list(range(MEMBERS))

    # the first page's fit (its own answer), then one of all six, which every other page used
    assert fits == [1, MEMBERS]
    for name, names, key, analysis in seen.values():
        assert name in names  # each page's fit includes its own answer
        assert analysis.key == key  # and the answers shown are those fitted
    assert sum(len(names) == MEMBERS for _, names, _, _ in seen.values()) == MEMBERS - 1
