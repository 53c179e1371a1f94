"""Rounds compared over the members who answered both, with the uncertainty of the change."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from model.results import Participant
from model.rounds import compare_rounds
from tests.model.result_fixtures import hand_made_result, stat


def _round(defaults, credences: dict[str, tuple[float, ...]]):
    """A hand-made result whose members stated these credences."""
    base = hand_made_result(defaults)
    template = base.participants[0]
    people = tuple(
        dataclasses.replace(template, id=name, prior=dict(zip("ABCD", c, strict=True)))
        for name, c in credences.items()
    )
    assert all(isinstance(p, Participant) for p in people)
    return dataclasses.replace(base, participants=people, n_participants=len(people))


def _tv_mean(rows) -> float:
    """Mean total-variation distance over distinct pairs, written out (the reference)."""
    pairs = list(itertools.combinations(rows, 2))
    return sum(0.5 * sum(abs(x - y) for x, y in zip(a, b, strict=True)) for a, b in pairs) / len(
        pairs
    )


SPREAD = {  # six members far apart in round 1
    "Ada": (0.7, 0.1, 0.1, 0.1),
    "Bo": (0.1, 0.7, 0.1, 0.1),
    "Cy": (0.1, 0.1, 0.7, 0.1),
    "Di": (0.1, 0.1, 0.1, 0.7),
    "Ed": (0.55, 0.15, 0.15, 0.15),
    "Fay": (0.15, 0.15, 0.15, 0.55),
}
CLOSE = {name: (0.4, 0.2, 0.2, 0.2) for name in SPREAD}  # ...and all alike in round 2


def test_converged_members_with_the_distance_as_a_closed_form(defaults):
    c = compare_rounds(_round(defaults, SPREAD), _round(defaults, CLOSE), rounds=(1, 2))
    assert c.members == tuple(SPREAD)
    assert c.distance[0] == pytest.approx(_tv_mean(list(SPREAD.values())))
    assert c.distance[1] == pytest.approx(0.0)
    assert c.change.hdi[1] < 0
    assert c.verdict.startswith("The group converged from round 1 to round 2")
    back = compare_rounds(_round(defaults, CLOSE), _round(defaults, SPREAD), rounds=(2, 3))
    assert back.verdict.startswith("The group moved apart from round 2 to round 3")


def test_a_newcomer_changes_nothing_the_comparison_is_over_members_in_both(defaults):
    """The audit's case: round 2 has two answers, one from a new member."""
    later = {"Ada": (0.4, 0.2, 0.2, 0.2), "Newcomer": (0.4, 0.2, 0.2, 0.2)}
    c = compare_rounds(_round(defaults, SPREAD), _round(defaults, later))
    assert c.members == ("Ada",)
    assert c.change is None
    assert c.verdict.startswith("Too few answers to tell")
    assert "1 member(s) answered both" in c.verdict


def test_no_change_is_too_few_to_tell(defaults):
    """Members who swap places: the spread is the same, the interval holds 0."""
    swapped = dict(zip(SPREAD, reversed(list(SPREAD.values())), strict=True))
    c = compare_rounds(_round(defaults, SPREAD), _round(defaults, swapped))
    assert c.change.hdi[0] <= 0 <= c.change.hdi[1]
    assert c.verdict.startswith("Too few answers to tell")
    assert "holds no change" in c.verdict


def test_the_bootstrap_interval_matches_an_independent_resampling(defaults):
    """Percentile interval of the change in mean pairwise distance, resampling members."""
    rng = np.random.default_rng(4)
    names = [f"m{i}" for i in range(12)]
    a = {n: tuple(rng.dirichlet([2, 2, 2, 2])) for n in names}
    b = {n: tuple(0.5 * np.array(a[n]) + 0.5 * np.array([0.25] * 4)) for n in names}
    c = compare_rounds(_round(defaults, a), _round(defaults, b))
    xa, xb = np.array(list(a.values())), np.array(list(b.values()))
    ref_rng = np.random.default_rng(99)
    changes = []
    for _ in range(3000):
        idx = ref_rng.integers(0, 12, 12)
        keep = [(i, j) for i in range(12) for j in range(12) if idx[i] != idx[j]]
        if not keep:  # one member drawn twelve times: no pair
            continue

        def mean(x, idx=idx, keep=keep):
            return np.mean([0.5 * np.abs(x[idx[i]] - x[idx[j]]).sum() for i, j in keep])

        changes.append(mean(xb) - mean(xa))
    lo, hi = np.quantile(changes, [0.03, 0.97])
    assert c.change.mean == pytest.approx(np.mean(changes), abs=0.01)
    assert c.change.hdi == pytest.approx((lo, hi), abs=0.015)
    assert c.verdict.startswith("The group converged")


def test_kappa_and_consensus_are_reported_for_reference(defaults):
    one = _round(defaults, SPREAD)
    two = dataclasses.replace(
        _round(defaults, CLOSE),
        agreement=dataclasses.replace(one.agreement, kappa=stat(9.0, 5.0, 14.0)),
    )
    c = compare_rounds(one, two)
    assert c.kappa == (one.agreement.kappa.mean, 9.0)
    assert c.consensus["A"] == (one.consensus_prior["A"].mean, two.consensus_prior["A"].mean)
