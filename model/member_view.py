"""What a member may see of the group: never enough to work out another member's answer.

A member knows their own answer. With it, an exact mean of two answers gives away the other,
and an order statistic (the median) of three gives away a member's value directly, so the
member's view holds no median, no per-member mark, and appears only from `MIN_GROUP_VIEW`
members: the model's consensus (before and after the evidence) and the linear and log pools,
each a symmetric function of everyone's answers. From five members on, many different sets
of the others' answers give exactly the same view (the credences enter the model only
through each scenario's sum of log credences; the pools through its sum and its product):
`tests/model/test_member_view.py` builds such a second set and shows the views are equal.
The facilitator's view is not limited by this.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from model.results import Result, Stat

MIN_GROUP_VIEW = 5
"""Fewest members before a member sees the group's numbers."""


@dataclass(frozen=True)
class MemberView:
    """The group's numbers a member is shown, or why none are shown yet.

    Attributes
    ----------
    shown : bool
    reason : str or None
        Why nothing is shown (too few members; the model not fitted).
    consensus_prior, consensus_posterior : dict or None
        Per scenario, the consensus μ and the consensus after the evidence.
    linear_pool, log_pool : dict or None
        Per scenario, the mean of the members' stated credences and the normalised
        geometric mean.
    """

    n: int
    shown: bool
    reason: str | None
    consensus_prior: Mapping[str, Stat] | None = None
    consensus_posterior: Mapping[str, Stat] | None = None
    linear_pool: Mapping[str, float] | None = None
    log_pool: Mapping[str, float] | None = None


def member_view(result: Result) -> MemberView:
    """The group as a member may see it (see the module docstring)."""
    n = result.n_participants
    if n < MIN_GROUP_VIEW:
        return MemberView(
            n,
            False,
            f"The group's view appears once {MIN_GROUP_VIEW} members have answered this round "
            "(with fewer it could reveal another member's answers).",
        )
    if not result.fitted:  # cannot happen above three members; kept for safety
        return MemberView(n, False, f"The group model is {result.group_model}.")
    return MemberView(
        n,
        True,
        None,
        consensus_prior=result.consensus_prior,
        consensus_posterior=result.consensus_posterior,
        linear_pool=result.pools.prior["linear"],
        log_pool=result.pools.prior["log"],
    )
