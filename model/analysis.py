"""One group analysed: validated responses, exact individual updates, pools and the fit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from model.fit import FitResult, GroupSampler
from model.individual import IndividualUpdate, update
from model.pools import binary_pools, scenario_pools
from model.sampling import DEFAULT_CHAINS, DEFAULT_DRAWS, DEFAULT_TUNE
from model.schema import GroupData, Response, to_group_data
from priors import Defaults, EvidenceItem, load_defaults


@dataclass(frozen=True)
class Analysis:
    """Everything the summaries, figures and pages need about one group."""

    responses: list[Response]
    data: GroupData
    defaults: Defaults
    updates: list[IndividualUpdate]
    fit: FitResult

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
) -> Analysis:
    """Update every participant exactly and fit the group model."""
    defaults = defaults or load_defaults()
    responses = list(responses)
    data = to_group_data(responses, evidence=evidence, defaults=defaults)
    updates = [update(r, evidence=evidence, defaults=defaults) for r in responses]
    sampler = sampler or GroupSampler(defaults=defaults)
    result = sampler.fit(
        data, draws=draws, tune=tune, chains=chains, random_seed=random_seed, progress=progress
    )
    return Analysis(responses, data, defaults, updates, result)
