"""One group analysed: validated responses, exact individual updates, pools, the fit, results."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from model.build import build_result
from model.individual import IndividualUpdate, update_all
from model.pools import binary_pools, scenario_pools
from model.results import Result
from model.sampling import DEFAULT_CHAINS, DEFAULT_DRAWS, DEFAULT_TUNE
from model.schema import GroupData, Response, to_group_data
from priors import Defaults, EvidenceItem, load_defaults

if TYPE_CHECKING:
    from model.fit import FitResult, GroupSampler

MIN_GROUP_FIT = 3
"""Fewest members the group model is fitted to. With one or two the "consensus" would be
mostly the hyperprior (and the sampler diverges): their own numbers and the pools are shown."""

NOT_FITTED = f"not fitted: fewer than {MIN_GROUP_FIT} members"
"""`Result.group_model` when the group is too small to fit."""


@dataclass(frozen=True)
class Analysis:
    """Everything the summaries, figures and pages need about one group.

    `result` holds every reported number as typed records (`model.results`), computed once;
    `seed` is the seed of the fit and of every predictive draw made from it. `fit` is None
    when the group has fewer than `MIN_GROUP_FIT` members (the model is not fitted).
    """

    responses: list[Response]
    data: GroupData
    defaults: Defaults
    updates: list[IndividualUpdate]
    fit: FitResult | None
    seed: int

    @cached_property
    def result(self) -> Result:
        """Every reported number of this group (`model.build.build_result`)."""
        return build_result(self)

    @property
    def evidence(self) -> tuple[EvidenceItem, ...]:
        """The group's evidence items."""
        return self.data.evidence

    @property
    def posteriors(self) -> np.ndarray:
        """Each participant's exact posterior over A-D, shape (N, 4)."""
        return np.array([u.posterior for u in self.updates])

    def prior_pools(self) -> dict[str, np.ndarray]:
        """Linear, log and median pools of the stated credences."""
        return scenario_pools(self.data.credences)

    def posterior_pools(self) -> dict[str, np.ndarray]:
        """The same pools of the participants' exact posteriors."""
        return scenario_pools(self.posteriors)

    def factor_pools(self) -> dict[str, np.ndarray]:
        """Pools of each factor and of the direct P(scheming) (columns as in `data`)."""
        n = len(self.defaults.factor_ids) + 1
        return binary_pools(self.data.values[:, :n])


def analyse(
    responses: Sequence[Response],
    *,
    evidence: Sequence[EvidenceItem],
    defaults: Defaults | None = None,
    sampler: GroupSampler | None = None,
    draws: int = DEFAULT_DRAWS,
    tune: int = DEFAULT_TUNE,
    chains: int = DEFAULT_CHAINS,
    random_seed: int | None = None,
    progress: bool = False,
    target_accept: float | None = None,
) -> Analysis:
    """Update every participant exactly, fit the group model and compute the results.

    Without `random_seed` a fresh one is drawn and kept in `Analysis.seed`. Below
    `MIN_GROUP_FIT` members the group model is not fitted (nothing imports PyMC then).
    `target_accept` is passed to `GroupSampler.fit` (None: by the group's size).
    """
    defaults = defaults or load_defaults()
    responses = list(responses)
    data = to_group_data(responses, evidence=evidence, defaults=defaults)
    updates = update_all(responses, evidence=evidence, defaults=defaults)
    if random_seed is None:
        random_seed = int(np.random.default_rng().integers(2**31))
    fitted = None
    if data.n >= MIN_GROUP_FIT:
        if sampler is None:
            from model.fit import GroupSampler

            sampler = GroupSampler(defaults=defaults)
        fitted = sampler.fit(
            data,
            draws=draws,
            tune=tune,
            chains=chains,
            random_seed=random_seed,
            progress=progress,
            target_accept=target_accept,
        )
    analysis = Analysis(responses, data, defaults, updates, fitted, random_seed)
    analysis.result  # noqa: B018  (computed now, so a fit and its numbers come together)
    return analysis
