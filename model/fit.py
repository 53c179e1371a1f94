"""Fitting the group model: compile once per model shape, swap the data, sample with nutpie.

The compile itself, with its on-disk cache of nutpie's callbacks, is
`model._nutpie_internals.compile_model` (the one module that reaches into nutpie's, numba's
and PyTensor's private names).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import nutpie

from model._nutpie_internals import compile_model
from model.derived import add_derived
from model.group import build_model, model_data
from model.sampling import DEFAULT_CHAINS, DEFAULT_DRAWS, DEFAULT_TUNE
from model.schema import GroupData
from priors import Defaults, load_defaults

if TYPE_CHECKING:
    import xarray as xr


@dataclass
class FitResult:
    """A fitted group: the posterior (an ArviZ DataTree with derived quantities) and timing."""

    data: GroupData
    idata: xr.DataTree
    seconds: float
    compile_seconds: float


@dataclass
class GroupSampler:
    """Holds compiled models, keyed by their shape, so a new group does not recompile.

    The model's data are sufficient statistics of fixed shape, so any group with the
    same number of evidence items reuses one compiled model (`nutpie`'s `with_data`).
    Keep one per process (the app keeps it as a resource; the command line makes one).

    Parameters
    ----------
    defaults : Defaults
    disk_cache : bool, keyword-only
        Keep nutpie's compiled callbacks in PyTensor's on-disk numba cache, so that a new
        process with the same model loads them instead of compiling (see
        `model._nutpie_internals`). False: compile with `nutpie.compile_pymc_model` every time.
    """

    defaults: Defaults = field(default_factory=load_defaults)
    disk_cache: bool = field(default=True, kw_only=True)
    _compiled: dict = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _compiled_for(self, data: GroupData) -> tuple[object, float]:
        # The app fits from several sessions' threads: one compiles, the others wait for it.
        # Fits themselves run in parallel; `with_data` gives each its own copy of the data.
        key = tuple(data.columns)
        with self._lock:
            if key in self._compiled:
                return self._compiled[key], 0.0
            start = time.perf_counter()
            model = build_model(data, defaults=self.defaults)
            self._compiled[key] = compile_model(model, disk_cache=self.disk_cache)
            return self._compiled[key], time.perf_counter() - start

    def fit(
        self,
        data: GroupData,
        *,
        draws: int = DEFAULT_DRAWS,
        tune: int = DEFAULT_TUNE,
        chains: int = DEFAULT_CHAINS,
        cores: int = 2,
        random_seed: int | None = None,
        progress: bool = False,
    ) -> FitResult:
        """Sample the group posterior and add the derived quantities.

        Parameters
        ----------
        data : GroupData
        draws, tune, chains : int
            Per chain; 4 x 1000 gives bulk ESS in the thousands for this model.
        cores : int
            Chains run in parallel on this many cores.
        random_seed : int, optional
        progress : bool
            Show nutpie's progress bar (terminal or notebook).
        """
        if draws < 10 or tune < 10 or chains < 1:
            raise ValueError("draws and tune must be at least 10 and chains at least 1")
        start = time.perf_counter()
        compiled, compile_seconds = self._compiled_for(data)
        compiled = compiled.with_data(**model_data(data, self.defaults))
        seed = int(np.random.default_rng(random_seed).integers(2**31))
        idata = nutpie.sample(
            compiled,
            draws=draws,
            tune=tune,
            chains=chains,
            cores=cores,
            seed=seed,
            progress_bar=progress,
            save_warmup=False,  # nothing reads the tuning draws; converting them costs time
        )
        idata = add_derived(idata, data, defaults=self.defaults, random_seed=seed)
        return FitResult(data, idata, time.perf_counter() - start, compile_seconds)


def fit(
    data: GroupData,
    *,
    draws: int = DEFAULT_DRAWS,
    tune: int = DEFAULT_TUNE,
    chains: int = DEFAULT_CHAINS,
    random_seed: int | None = None,
    progress: bool = False,
    sampler: GroupSampler | None = None,
) -> FitResult:
    """Fit the group model (see `GroupSampler.fit`); pass `sampler` to reuse compilation."""
    sampler = sampler or GroupSampler()
    return sampler.fit(
        data, draws=draws, tune=tune, chains=chains, random_seed=random_seed, progress=progress
    )
