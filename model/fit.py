"""Fitting the group model: compile once per model shape, swap the data, sample with nutpie.

The compile itself, with its on-disk cache of nutpie's callbacks and of the whole compiled
model, is `model._nutpie_internals` (the one module that reaches into nutpie's, numba's and
PyTensor's private names). Here: the key a compiled model is kept under (`model_key`), and
the sampler that holds compiled models in memory and on disk.
"""

from __future__ import annotations

import dataclasses
import hashlib
import platform
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numba
import numpy as np
import nutpie
import pymc
import pytensor

from model import group
from model._nutpie_internals import compile_model, load_compiled
from model.derived import add_derived
from model.group import build_model, model_data
from model.sampling import DEFAULT_CHAINS, DEFAULT_DRAWS, DEFAULT_TUNE, target_accept_for
from model.schema import GroupData
from priors import Defaults, load_defaults

if TYPE_CHECKING:
    import xarray as xr


_KEY_FORMAT = "cruxboard-group-model-1"


def model_key(data: GroupData, defaults: Defaults, values: dict[str, np.ndarray]) -> str:
    """The key a compiled group model is kept under, in memory and on disk.

    It changes whenever the compiled graph or its start point could: the source of the
    module that builds the graph (`model.group`) and of the compile path (the fence), the
    installed PyMC, PyTensor, nutpie, numba and NumPy, Python and the machine, the priors
    (`defaults`, whose hyperpriors are constants in the graph), the group's columns, the
    shapes of its `pm.Data` arrays, and the values of those that come from the priors, not
    from the answers (the answers' sufficient statistics, `group.ModelInputs`, are swapped
    in with `with_data` and never change the graph). `values` is `model_data(data, defaults)`.
    """
    from model import _nutpie_internals

    answers = {f.name for f in dataclasses.fields(group.ModelInputs)}
    h = hashlib.sha256()
    for part in (
        _KEY_FORMAT,
        Path(group.__file__).read_bytes(),
        Path(_nutpie_internals.__file__).read_bytes(),
        repr(
            (pymc.__version__, pytensor.__version__, nutpie.__version__, numba.__version__)
            + (np.__version__, sys.version, platform.machine())
        ),
        defaults.model_dump_json(),
        repr(tuple(data.columns)),
    ):
        h.update(part if isinstance(part, bytes) else part.encode())
        h.update(b"\0")
    for name in sorted(values):
        v = np.ascontiguousarray(values[name])
        h.update(f"{name}:{v.dtype.str}:{v.shape}".encode())
        if name not in answers:
            h.update(v.tobytes())
    return "group-" + h.hexdigest()[:40]


@dataclass
class FitResult:
    """A fitted group: the posterior (an ArviZ DataTree with derived quantities) and timing."""

    data: GroupData
    idata: xr.DataTree
    seconds: float
    compile_seconds: float
    target_accept: float


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
        Keep the compiled model on disk (its layout and start point beside nutpie's compiled
        callbacks in PyTensor's numba cache), keyed by `model_key`, so that a new process
        with the same model loads it in well under a second instead of building and
        compiling the graph (see `model._nutpie_internals`). False: compile with
        `nutpie.compile_pymc_model` every time.
    """

    defaults: Defaults = field(default_factory=load_defaults)
    disk_cache: bool = field(default=True, kw_only=True)
    _compiled: dict = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _compiled_for(
        self, data: GroupData, values: dict[str, np.ndarray] | None = None
    ) -> tuple[object, float]:
        """The compiled model for `data` and the seconds it took (0 when it was in memory).

        From memory, else from disk, else built (and kept in both).
        """
        # The app fits from several sessions' threads: one compiles, the others wait for it.
        # Fits themselves run in parallel; `with_data` gives each its own copy of the data.
        if values is None:
            values = model_data(data, self.defaults)
        key = model_key(data, self.defaults, values)
        with self._lock:
            if key in self._compiled:
                return self._compiled[key], 0.0
            start = time.perf_counter()
            compiled = None
            if self.disk_cache:

                def rebuild():
                    return build_model(data, defaults=self.defaults)

                compiled = load_compiled(key, rebuild=rebuild)
            if compiled is None:
                model = build_model(data, defaults=self.defaults)
                compiled = compile_model(
                    model, disk_cache=self.disk_cache, store_as=key if self.disk_cache else None
                )
            self._compiled[key] = compiled
            return compiled, time.perf_counter() - start

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
        target_accept: float | None = None,
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
        target_accept : float, optional
            The mean acceptance the step size is tuned to; by default
            `model.sampling.target_accept_for(data.n)`: 0.99 below 6 members, 0.95 below 12,
            0.8 from 12.
        """
        if draws < 10 or tune < 10 or chains < 1:
            raise ValueError("draws and tune must be at least 10 and chains at least 1")
        if target_accept is None:
            target_accept = target_accept_for(data.n)
        if not 0.0 < target_accept < 1.0:
            raise ValueError("target_accept must lie between 0 and 1")
        start = time.perf_counter()
        values = model_data(data, self.defaults)
        compiled, compile_seconds = self._compiled_for(data, values)
        compiled = compiled.with_data(**values)
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
            target_accept=target_accept,
        )
        idata = add_derived(idata, data, defaults=self.defaults, random_seed=seed)
        return FitResult(data, idata, time.perf_counter() - start, compile_seconds, target_accept)


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
