"""Every private name the project borrows from nutpie, numba and PyTensor, in one module.

Written against nutpie 0.16.11, pytensor 3.3.8, pymc 6.4.0 and numba 0.68.0 (`PINNED`, the
pins in pyproject.toml). `tests/model/test_internals.py` fails, naming what changed, when
an upgrade moves any of them: run it first after changing a pin, and change `PINNED` only
once it passes.

Why: compiling dominates a fresh process (numba, through nutpie: 45-70 s from nothing on a
2-core machine). PyTensor keeps its numba kernels on disk, but nutpie wraps them in two C
callbacks (log density with gradient, and the trace's "expand" function) that it compiles
again in every process, 10-15 s even when every kernel is cached. `compile_model` builds the
same callbacks from source that depends only on the model's compiled graph and stores them
in PyTensor's numba cache, keyed by PyTensor's own hash of that graph, so a later process
with the same model loads them in well under a second. A model whose graph has no PyTensor
cache key gets uncached callbacks (compiled as nutpie does); `disk_cache=False` uses
nutpie's own `compile_pymc_model` unchanged.

Even with every kernel and callback cached, building and rewriting the PyTensor graph of
the log density, its gradient and the trace costs 5-10 s per process. So `compile_model`
can also keep the whole compiled model on disk (`store_as=key`): its layout (dimensions,
shapes, coordinates, the shared arrays' order), the callbacks' source and cache keys, and
the start point. `load_compiled(key)` rebuilds a `CompiledPyMCModel` from that record and
the numba cache without building any graph. The caller's key must change whenever the
graph could (`model.fit` hashes the model's source, its data shapes, the priors in the graph
and the installed versions). Records are pickles in `models_dir()`, beside PyTensor's numba
cache (the same trust: both are written and read only by this machine's processes).

The start point is the model's support point (PyMC's default) plus U(-1, 1) jitter in the
unconstrained space, as PyMC and nutpie do, but the jitter is drawn from
`np.random.default_rng(seed)` over the flat vector (`_JitteredStart`), so a loaded model
needs no PyTensor function to start and draws the same start as the process that built it.

Borrowed, and checked by the test:

- `nutpie.compile_pymc`: `_make_functions`, `_wrap_with_lock`, `_prepare_dims_and_coords`,
  `make_user_data` and the layout of its `user_data` record, `CompiledPyMCModel`'s fields,
  `address_as_void_pointer`; the C signatures and return codes of its callbacks
  (`_make_c_logp_func`, `_make_c_expand_func`), which `_LOGP_SRC` and `_EXPAND_SRC` repeat;
  how `with_data` and `make_user_data` read `shared_var_keys` (only `.name` and `.ndim`);
- numba: `numba.core.caching.FunctionCache` (to forget a damaged entry); a cached CFunc
  loads without compiling (so without its `inner` kernel);
- PyTensor: `pytensor.link.numba.cache.CACHED_SRC_FUNCTIONS` (a kernel's cache key) and
  `compile_numba_function_src` (to file our callbacks under a key of ours); a compiled
  function's numba kernel, `fn.vm.jit_fn`; `config.base_compiledir`.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numba
import numpy as np
import nutpie
from numba.core.caching import FunctionCache
from nutpie import compile_pymc as _nutpie_pymc
from pymc.initial_point import make_initial_point_fn
from pytensor import config as pytensor_config
from pytensor.link.numba.cache import CACHED_SRC_FUNCTIONS, compile_numba_function_src

if TYPE_CHECKING:
    import pymc as pm

PINNED = {"nutpie": "0.16.11", "pytensor": "3.3.8", "pymc": "6.4.0", "numba": "0.68.0"}
"""The versions this module was written against (and pyproject.toml pins)."""

# Bump when the callbacks' source or how they are built changes in a way the key misses.
_CACHE_FORMAT = "cruxboard-callbacks-3"
# Bump when the stored model record (`_record`) changes.
_MODEL_FORMAT = "cruxboard-model-1"

# The C signatures nutpie calls (see nutpie.compile_pymc._make_c_logp_func / _expand_func).
_LOGP_SIG = numba.types.int64(
    numba.types.uint64,
    numba.types.CPointer(numba.types.double),
    numba.types.CPointer(numba.types.double),
    numba.types.CPointer(numba.types.double),
    numba.types.voidptr,
)
_EXPAND_SIG = numba.types.int64(
    numba.types.uint64,
    numba.types.uint64,
    numba.types.CPointer(numba.types.double),
    numba.types.CPointer(numba.types.double),
    numba.types.voidptr,
)

# Same behaviour and return codes as nutpie's callbacks; the shared data (pm.Data) are read
# through the pointers nutpie keeps in `user_data`, so `with_data` swaps them as before.
_LOGP_SRC = """\
def cruxboard_logp(dim, x_, out_, logp_, user_data_):
    if dim != {n_dim}:
        return -1
    try:
        ud = carray(user_data_, ({n_words},), np.uint64)
{unpack}
        x = carray(x_, ({n_dim},))
        out = carray(out_, ({n_dim},))
        logp = carray(logp_, ())
        logp_val, grad = inner(x{args})
        logp[()] = logp_val
        out[...] = grad
        if not np.all(np.isfinite(out)):
            return 3
        if not np.isfinite(logp_val):
            return 4
    except Exception:
        return 1
    return 0
"""

_EXPAND_SRC = """\
def cruxboard_expand(dim, expanded, x_, out_, user_data_):
    if dim != {n_dim}:
        return -1
    if expanded != {n_expanded}:
        return -1
    try:
        ud = carray(user_data_, ({n_words},), np.uint64)
{unpack}
        x = carray(x_, ({n_dim},))
        out = carray(out_, ({n_expanded},))
        (values,) = inner(x{args})
        out[...] = values
    except Exception:
        return -2
    return 0
"""


@dataclass(frozen=True)
class _Slot:
    """Where one shared array's pointer and shape sit in nutpie's `user_data` record."""

    data_word: int
    shape_words: tuple[int, ...]
    dtype: str


def _user_data_slots(user_data: np.ndarray, arrays: dict[str, np.ndarray]) -> dict[str, _Slot]:
    """Word (uint64) offsets of each array's data pointer and shape in nutpie's packed record."""
    shared, base = user_data.dtype.fields["shared"][:2]
    data_t, data_off = shared.fields["data"][:2]
    shape_t, shape_off = shared.fields["shape"][:2]
    slots = {}
    for key, array in arrays.items():
        d_off = base + data_off + data_t.fields[key][1]
        sub, s_off = shape_t.fields[key][:2]
        s_off += base + shape_off
        if d_off % 8 or s_off % 8 or sub.base.itemsize != 8 or data_t.fields[key][0].itemsize != 8:
            raise ValueError("nutpie's user_data record is not made of 8-byte words")
        shape_words = tuple(s_off // 8 + i for i in range(array.ndim))
        slots[key] = _Slot(d_off // 8, shape_words, array.dtype.name)
    return slots


def _callback_source(
    template: str, *, n_dim: int, n_expanded: int, n_words: int, slots: list[_Slot]
) -> str:
    """Python source of one C callback, unpacking `slots` (in the inner function's order)."""
    lines, args = [], ""
    for i, slot in enumerate(slots):
        dims = "".join(f"int(ud[{w}]), " for w in slot.shape_words)
        lines.append(
            f"        s{i} = carray(as_pointer(ud[{slot.data_word}]), ({dims}), np.{slot.dtype})"
        )
        args += f", s{i}"
    return template.format(
        n_dim=n_dim,
        n_expanded=n_expanded,
        n_words=n_words,
        unpack="\n".join(lines),
        args=args,
    )


def _cache_key(src: str, inner_key: str) -> str:
    """Key of a callback in PyTensor's numba cache: its source, the graph's key, versions."""
    text = "\n".join([_CACHE_FORMAT, src, inner_key, nutpie.__version__, numba.__version__])
    return "cruxboard-" + hashlib.sha256(text.encode()).hexdigest()


def _globals(inner) -> dict:
    return {
        # numba rebuilds a cached function's environment by importing this module name
        # (entries written before this module existed name `model.fit`, which still loads).
        "__name__": __name__,
        "np": np,
        "carray": numba.carray,
        "as_pointer": _nutpie_pymc.address_as_void_pointer,
        "inner": inner,
    }


def _cfunc(src: str, name: str, sig, inner, *, cache: bool) -> tuple[object, bool]:
    """Compile (or load from PyTensor's numba cache) one C callback around `inner`.

    Returns the numba CFunc and whether it was loaded from the cache.
    """
    inner_key = CACHED_SRC_FUNCTIONS.get(getattr(inner, "py_func", None))
    cache = cache and inner_key is not None
    func = compile_numba_function_src(
        src,
        name,
        global_env=_globals(inner),
        cache_key=_cache_key(src, inner_key) if cache else None,
    )
    with warnings.catch_warnings():
        # A graph numba cannot cache is still correct, only compiled again next time.
        warnings.filterwarnings("ignore", "Cannot cache compiled function", numba.NumbaWarning)
        try:
            cfunc = numba.cfunc(sig, cache=cache)(func)
        except Exception:
            if not cache:
                raise
            # An entry that cannot be loaded (damaged, or written by other code under the
            # same key): forget it and compile afresh, which writes a good one.
            FunctionCache(func).flush()
            cfunc = numba.cfunc(sig, cache=True)(func)
    return cfunc, cfunc.cache_hits > 0


def _cached_cfunc(src: str, name: str, sig, key: str):
    """The C callback stored under `key` in PyTensor's numba cache, or None if it is not there.

    A cached CFunc is loaded whole (the graph's kernel is linked into it), so no kernel is
    given; if nothing is cached numba tries to compile and fails on the missing kernel,
    which writes nothing.
    """
    func = compile_numba_function_src(src, name, global_env=_globals(None), cache_key=key)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cfunc = numba.cfunc(sig, cache=True)(func)
    except Exception:
        return None
    return cfunc if cfunc.cache_hits > 0 else None


class _JitteredStart:
    """nutpie's start point: the support point plus U(-1, 1) jitter, seeded.

    Called by nutpie with each chain's seed; returns the flat unconstrained vector.
    """

    def __init__(self, point: np.ndarray):
        self.point = np.array(point, dtype=np.float64, copy=True)
        self.point.flags.writeable = False

    def __call__(self, seed=None) -> np.ndarray:
        rng = np.random.default_rng(seed)
        return self.point + rng.uniform(-1.0, 1.0, self.point.shape)


@dataclass(frozen=True)
class _SharedVar:
    """Stands in for a pm.Data variable in a loaded model's `shared_var_keys`.

    nutpie reads only `.name` (`with_data`) and `.ndim` (`make_user_data`) of those keys.
    """

    name: str
    ndim: int


class _GraphOnDemand:
    """A loaded model's `logp_func` / `expand_func`: the PyTensor function, built on first use.

    Sampling never needs them (nutpie calls the C callbacks); a check that compares the
    callbacks with the graph can still have them, at the cost of one full compile.
    """

    def __init__(self, build: Callable[[], pm.Model], which: str, shared: dict):
        self._build, self._which, self._shared = build, which, shared

    def _function(self):
        with self._shared.setdefault("lock", threading.Lock()):
            if "compiled" not in self._shared:
                self._shared["compiled"] = compile_model(self._build())
        return getattr(self._shared["compiled"], self._which)

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._function(), name)


def models_dir() -> Path:
    """Where compiled-model records are kept: beside PyTensor's numba cache."""
    return Path(pytensor_config.base_compiledir) / "cruxboard-models"


def _record_path(key: str) -> Path:
    if not key or not all(c.isalnum() or c in "-_" for c in key):
        raise ValueError(f"a compiled-model key is letters, digits, - and _ only, not {key!r}")
    return models_dir() / f"{key}.pkl"


def _store(key: str, record: dict) -> None:
    """Write `record` under `key` atomically (a concurrent reader sees all of it or nothing)."""
    path = _record_path(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        with os.fdopen(fd, "wb") as f:
            pickle.dump(record, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_compiled(
    key: str, *, rebuild: Callable[[], pm.Model] | None = None
) -> _nutpie_pymc.CompiledPyMCModel | None:
    """The compiled model stored under `key` by `compile_model(..., store_as=key)`, or None.

    None when there is no record, it was written by another format, or its callbacks are no
    longer in the numba cache: the caller then builds the model (which stores it again).
    No PyTensor graph is built. `rebuild` makes the PyMC model if something asks the loaded
    model for its PyTensor functions (`logp_func`, `expand_func`); without it they are None.
    """
    path = _record_path(key)
    try:
        record = pickle.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except Exception:  # damaged or unreadable: build again, which replaces it
        return None
    if not isinstance(record, dict) or record.get("format") != _MODEL_FORMAT:
        return None
    shared_keys = {_SharedVar(name, ndim): name for name, ndim in record["shared"]}
    shared_data = {}
    for name, value in record["shared_data"].items():
        shared_data[name] = np.array(value, order="C", copy=True)
        shared_data[name].flags.writeable = False
    user_data = _nutpie_pymc.make_user_data(shared_keys, shared_data)
    if user_data.dtype.descr != record["user_data_descr"]:
        return None  # nutpie lays out its record differently now: the callbacks would misread
    callbacks = []
    for (src, name, cache_key), sig in zip(
        record["callbacks"], (_LOGP_SIG, _EXPAND_SIG), strict=True
    ):
        cfunc = _cached_cfunc(src, name, sig, cache_key)
        if cfunc is None:
            return None
        callbacks.append(cfunc)
    on_demand: dict = {}
    logp_func = expand_func = None
    if rebuild is not None:
        logp_func = _GraphOnDemand(rebuild, "logp_func", on_demand)
        expand_func = _GraphOnDemand(rebuild, "expand_func", on_demand)
    return _nutpie_pymc.CompiledPyMCModel(
        _n_dim=record["n_dim"],
        dims=record["dims"],
        _coords=record["coords"],
        _shapes=record["shapes"],
        compiled_logp_func=callbacks[0],
        compiled_expand_func=callbacks[1],
        initial_point_func=_JitteredStart(record["start"]),
        shared_data=shared_data,
        shared_var_keys=shared_keys,
        user_data=user_data,
        n_expanded=record["n_expanded"],
        shape_info=record["shape_info"],
        logp_func=logp_func,
        expand_func=expand_func,
        reparameterized_names=record["reparameterized_names"],
    )


def compile_model(
    model: pm.Model, *, disk_cache: bool = True, store_as: str | None = None
) -> _nutpie_pymc.CompiledPyMCModel:
    """Compile `model` for nutpie, as `nutpie.compile_pymc_model(model)` does.

    With `disk_cache`, the C callbacks come from (and go to) PyTensor's numba cache, and
    with `store_as` the compiled model's record is kept under that key for `load_compiled`.
    The start point is `_JitteredStart` of the support point (see the module docstring).
    """
    if not disk_cache:
        return nutpie.compile_pymc_model(model)
    # The start point is computed in PyTensor's default mode, whose C thunks (a Scan's inner
    # function) cost a C compile and a BLAS search, so it runs on Python thunks (`cxx=""`).
    # The log density and the trace must not: without a C compiler PyTensor caps a fused
    # elementwise kernel at 32 operands, and the numba-compiled gradient is then about twice
    # as slow (160 against 80 us per call for this model).
    with pytensor_config.change_flags(cxx=""):
        support_point = make_initial_point_fn(
            model=model,
            jitter_rvs=set(),
            default_strategy="support_point",
            return_transformed=True,
        )
    n_dim, n_expanded, logp_pt, expand_pt, initial_point_fn, shape_info, reparam = (
        _nutpie_pymc._make_functions(
            model,
            mode="NUMBA",
            compute_grad=True,
            join_expanded=True,
            pymc_initial_point_fn=_nutpie_pymc._wrap_with_lock(support_point),
        )
    )
    with pytensor_config.change_flags(cxx=""):
        start = _JitteredStart(initial_point_fn(0))  # no jitter in it: the same for every seed
    shared_vars = list(dict.fromkeys([*logp_pt.get_shared(), *expand_pt.get_shared()]))
    names = [v.name for v in shared_vars]
    if None in names or len(set(names)) != len(names):
        return nutpie.compile_pymc_model(model)
    shared_keys = dict(zip(shared_vars, names, strict=True))
    shared_data = {}
    for var, key in shared_keys.items():
        shared_data[key] = np.array(var.get_value(), order="C", copy=True)
        shared_data[key].flags.writeable = False
    user_data = _nutpie_pymc.make_user_data(shared_keys, shared_data)
    slots = _user_data_slots(user_data, shared_data)
    n_words = user_data.dtype.itemsize // 8

    callbacks, stored = [], []
    for template, name, sig, fn_pt in [
        (_LOGP_SRC, "cruxboard_logp", _LOGP_SIG, logp_pt),
        (_EXPAND_SRC, "cruxboard_expand", _EXPAND_SIG, expand_pt),
    ]:
        src = _callback_source(
            template,
            n_dim=n_dim,
            n_expanded=n_expanded,
            n_words=n_words,
            slots=[slots[shared_keys[v]] for v in fn_pt.get_shared()],
        )
        inner = fn_pt.vm.jit_fn
        callbacks.append(_cfunc(src, name, sig, inner, cache=True)[0])
        inner_key = CACHED_SRC_FUNCTIONS.get(getattr(inner, "py_func", None))
        stored.append(None if inner_key is None else (src, name, _cache_key(src, inner_key)))

    dims, coords = _nutpie_pymc._prepare_dims_and_coords(model, shape_info, reparam)
    shapes = {name: tuple(shape) for name, _, shape in zip(*shape_info, strict=True)}
    if store_as is not None and None not in stored:
        _store(
            store_as,
            {
                "format": _MODEL_FORMAT,
                "n_dim": n_dim,
                "n_expanded": n_expanded,
                "shape_info": shape_info,
                "shapes": shapes,
                "dims": dims,
                "coords": coords,
                "reparameterized_names": reparam,
                "shared": [(key, var.ndim) for var, key in shared_keys.items()],
                "shared_data": shared_data,
                "user_data_descr": user_data.dtype.descr,
                "callbacks": stored,
                "start": start.point,
            },
        )
    return _nutpie_pymc.CompiledPyMCModel(
        _n_dim=n_dim,
        dims=dims,
        _coords=coords,
        _shapes=shapes,
        compiled_logp_func=callbacks[0],
        compiled_expand_func=callbacks[1],
        initial_point_func=start,
        shared_data=shared_data,
        shared_var_keys=shared_keys,
        user_data=user_data,
        n_expanded=n_expanded,
        shape_info=shape_info,
        logp_func=logp_pt,
        expand_func=expand_pt,
        reparameterized_names=reparam,
    )
