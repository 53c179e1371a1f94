"""A member's view of the group never lets them work out another member's answer.

The attack: a member knows their own answer and sees the view. For n = 3 and 4 the view is
withheld. For n = 5 and 6 we build, by constrained optimisation, a second set of the others'
credences that is far from the first (not a reordering of the members) yet gives the same
view: the same linear and log pools, and the same sufficient statistics of the group model
(per zero pattern, the count and each scenario's sum of log credences), hence the same
posterior and the same consensus. Since two different groups look the same, the view cannot
reveal which one it came from.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy.optimize import least_squares

from model.group import model_inputs
from model.member_view import MIN_GROUP_VIEW, member_view
from model.pools import scenario_pools
from model.schema import to_group_data, validate_response
from tests.model.helpers import raw_response
from tests.model.result_fixtures import hand_made_result

ME = (0.4, 0.3, 0.2, 0.1)


def _others(n: int, rng) -> np.ndarray:
    x = np.clip(rng.dirichlet([3, 2, 2, 1.5], size=n - 1), 0.05, None)
    return x / x.sum(axis=1, keepdims=True)


def _twin(others: np.ndarray, rng) -> np.ndarray:
    """Other credences far away with the same row sums (1), column sums and column log-sums
    (the pools), and the same sums of log(1 - pi_A) and log(pi_B + pi_C): with the column
    log-sums these fix the credence model's sticks' sums of log V and log(1 - V)."""
    k = others.shape[0]

    def stats_of(m):
        sticks = [np.log(1 - m[:, 0]).sum(), np.log(m[:, 1] + m[:, 2]).sum()]
        return np.concatenate([m.sum(0), np.log(m).sum(0), sticks])

    target = stats_of(others)

    def violation(x):
        m = x.reshape(k, 4)
        return np.concatenate([m.sum(1) - 1, stats_of(m) - target])

    best = None
    for _ in range(50):  # from a start well away from `others`, project onto the constraints
        start = np.clip(others + rng.normal(0, 0.1, others.shape), 0.02, 0.95).ravel()
        res = least_squares(
            violation, start, bounds=(0.005, 0.99), xtol=1e-15, ftol=1e-15, gtol=1e-15
        )
        m = res.x.reshape(k, 4)
        if np.max(np.abs(violation(res.x))) < 1e-11 and np.abs(m - others).max() >= 0.05:
            best = m
            break
    assert best is not None, "no second set of answers found"
    return best


def _group(me, others, defaults):
    raws = [raw_response("me", tuple(me))] + [
        raw_response(f"o{i}", tuple(c)) for i, c in enumerate(others)
    ]
    responses = [validate_response(r, evidence=defaults.evidence, defaults=defaults) for r in raws]
    return to_group_data(responses, evidence=defaults.evidence, defaults=defaults)


@pytest.mark.parametrize("n", [3, 4])
def test_below_five_members_a_member_sees_nothing_of_the_group(n, defaults):
    base = hand_made_result(defaults)
    result = dataclasses.replace(base, n_participants=n)
    view = member_view(result)
    assert not view.shown and view.consensus_prior is None and view.linear_pool is None
    assert f"appears once {MIN_GROUP_VIEW} members" in view.reason


@pytest.mark.parametrize("n", [5, 6])
def test_two_far_apart_groups_give_the_same_view(n, defaults):
    rng = np.random.default_rng(n)
    others = _others(n, rng)
    twin = _twin(others, rng)
    # far apart: some other member's credence moved by 5 points or more, whatever the order
    moved = min(np.abs(np.sort(twin[:, s]) - np.sort(others[:, s])).max() for s in range(4))
    assert np.abs(twin - others).max() >= 0.05 and moved > 1e-3
    a, b = _group(ME, others, defaults), _group(ME, twin, defaults)
    # the model sees the credences only through these: equal, so the posterior is the same
    ia, ib = model_inputs(a), model_inputs(b)
    fields = ("stick_n", "stick_logv", "stick_log1mv", "stick_low", "stick_high")
    for field in (*fields, "col_n", "col_mean", "col_ss", "col_low", "col_high"):
        np.testing.assert_allclose(getattr(ia, field), getattr(ib, field), atol=1e-9)
    # and the two pools in the view are equal
    pa, pb = scenario_pools(a.credences), scenario_pools(b.credences)
    for pool in ("linear", "log"):
        np.testing.assert_allclose(pa[pool], pb[pool], atol=1e-9)
    # the median, which the member's view does not show, would tell them apart
    assert np.abs(pa["median"] - pb["median"]).max() > 1e-4


def test_the_view_shows_no_median_and_no_member(defaults):
    result = dataclasses.replace(hand_made_result(defaults), n_participants=MIN_GROUP_VIEW)
    view = member_view(result)
    assert view.shown
    fields = {f.name for f in dataclasses.fields(view)}
    assert not any("median" in f or "participant" in f or "member" in f for f in fields)
    assert view.linear_pool == result.pools.prior["linear"]
