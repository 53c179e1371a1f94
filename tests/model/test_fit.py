"""Structure of model/fit.py's compile path: nutpie's callbacks, built by us and cached on disk.

No timing here (benchmarks/bench_fit.py measures speed).
"""

import ctypes
import inspect

import numba
import numpy as np
import nutpie
import pytensor
import pytest
from nutpie import compile_pymc as nutpie_pymc
from pytensor.link.numba.cache import NumbaPyTensorCacheLocator, compile_numba_function_src

from model._nutpie_internals import (
    _LOGP_SIG,
    _LOGP_SRC,
    _cache_key,
    _callback_source,
    _cfunc,
    _Slot,
    _user_data_slots,
)
from model._nutpie_internals import compile_model as _compile
from model.fit import GroupSampler, fit
from model.group import build_model, model_data
from tests.model.helpers import example_group

LOGP_C = ctypes.CFUNCTYPE(
    ctypes.c_int64,
    ctypes.c_uint64,
    ctypes.POINTER(ctypes.c_double),
    ctypes.POINTER(ctypes.c_double),
    ctypes.POINTER(ctypes.c_double),
    ctypes.c_void_p,
)
EXPAND_C = ctypes.CFUNCTYPE(
    ctypes.c_int64,
    ctypes.c_uint64,
    ctypes.c_uint64,
    ctypes.POINTER(ctypes.c_double),
    ctypes.POINTER(ctypes.c_double),
    ctypes.c_void_p,
)


def _ptr(a):
    return a.ctypes.data_as(ctypes.POINTER(ctypes.c_double))


def test_user_data_slots_point_at_nutpies_pointers_and_shapes():
    arrays = {"a": np.zeros((15, 4)), "b": np.arange(13), "c": np.array(2.0)}
    shared = {pytensor.shared(v, name=k): k for k, v in arrays.items()}
    data = {k: np.array(v, order="C") for k, v in arrays.items()}
    user_data = nutpie_pymc.make_user_data(shared, data)
    words = np.frombuffer(user_data.tobytes(), dtype=np.uint64)
    slots = _user_data_slots(user_data, data)
    for key, arr in data.items():
        assert words[slots[key].data_word] == arr.ctypes.data
        assert tuple(int(words[w]) for w in slots[key].shape_words) == arr.shape
        assert slots[key].dtype == arr.dtype.name


def test_callback_source_passes_the_shared_arrays_in_order():
    slots = [_Slot(0, (3, 4), "float64"), _Slot(1, (5,), "float64"), _Slot(2, (), "int64")]
    src = _callback_source(_LOGP_SRC, n_dim=21, n_expanded=40, n_words=6, slots=slots)
    compile(src, "<test>", "exec")  # valid Python
    assert "inner(x, s0, s1, s2)" in src
    assert "s0 = carray(as_pointer(ud[0]), (int(ud[3]), int(ud[4]), ), np.float64)" in src
    assert "s2 = carray(as_pointer(ud[2]), (), np.int64)" in src
    assert "if dim != 21:" in src


def test_cache_key_changes_with_the_source_and_the_graph():
    assert _cache_key("src", "graph") == _cache_key("src", "graph")
    assert _cache_key("src", "graph") != _cache_key("src2", "graph")
    assert _cache_key("src", "graph") != _cache_key("src", "graph2")


def test_public_signatures_are_unchanged():
    fit_params = inspect.signature(GroupSampler.fit).parameters
    assert list(fit_params) == [
        "self",
        "data",
        "draws",
        "tune",
        "chains",
        "cores",
        "random_seed",
        "progress",
        "target_accept",
    ]
    assert fit_params["draws"].default == 1000
    assert list(inspect.signature(fit).parameters) == [
        "data",
        "draws",
        "tune",
        "chains",
        "random_seed",
        "progress",
        "sampler",
    ]
    disk_cache = inspect.signature(GroupSampler).parameters["disk_cache"]
    assert disk_cache.kind is inspect.Parameter.KEYWORD_ONLY
    assert disk_cache.default is True


def test_disk_cache_off_is_nutpies_own_compile(defaults, monkeypatch):
    model = build_model(example_group(defaults, 5, 1), defaults=defaults)
    sentinel = object()
    monkeypatch.setattr(nutpie, "compile_pymc_model", lambda m: sentinel)
    assert _compile(model, disk_cache=False) is sentinel


def test_callbacks_agree_with_the_graph_after_a_data_swap(defaults, sampler):
    """The C callbacks read the swapped-in data: logp, gradient and expanded draw equal
    the PyTensor functions' (same numba kernels) evaluated on the new data directly."""
    compiled, _ = sampler._compiled_for(example_group(defaults, 12, 1))
    new = example_group(defaults, 300, 2)
    swapped = compiled.with_data(**model_data(new, defaults))
    shared = {v.name: swapped.shared_data[k] for v, k in swapped.shared_var_keys.items()}
    np.testing.assert_array_equal(shared["stick_n"], model_data(new, defaults)["stick_n"])
    rng = np.random.default_rng(3)
    for _ in range(3):
        x = rng.normal(0, 0.5, swapped.n_dim)
        grad, logp = np.zeros(swapped.n_dim), np.zeros(())
        logp_c = LOGP_C(swapped.compiled_logp_func.address)
        rc = logp_c(swapped.n_dim, _ptr(x), _ptr(grad), _ptr(logp), swapped.user_data.ctypes.data)
        assert rc == 0
        fn = swapped.logp_func
        ref_logp, ref_grad = fn.vm.jit_fn(x, *[shared[v.name] for v in fn.get_shared()])
        assert float(logp) == pytest.approx(float(ref_logp), rel=1e-12)
        np.testing.assert_allclose(grad, ref_grad, rtol=1e-12)

        out = np.zeros(swapped.n_expanded)
        expand_c = EXPAND_C(swapped.compiled_expand_func.address)
        rc = expand_c(
            swapped.n_dim, swapped.n_expanded, _ptr(x), _ptr(out), swapped.user_data.ctypes.data
        )
        assert rc == 0
        fe = swapped.expand_func
        (ref_out,) = fe.vm.jit_fn(x, *[shared[v.name] for v in fe.get_shared()])
        np.testing.assert_allclose(out, ref_out, rtol=1e-12)
    # a wrong dimension is refused, not read out of bounds
    assert logp_c(swapped.n_dim + 1, _ptr(x), _ptr(grad), _ptr(logp), 0) == -1


def test_second_compile_of_the_same_model_loads_the_callbacks(defaults, sampler):
    data = example_group(defaults, 12, 1)
    sampler._compiled_for(data)  # the session's compile wrote the cache (if it was cold)
    again = _compile(build_model(data, defaults=defaults))
    assert again.compiled_logp_func._cache_hits == 1
    assert again.compiled_expand_func._cache_hits == 1


def _tiny_inner(key):
    """A numba function registered in PyTensor's cache table, as the graph's kernels are."""
    src = "def tiny(x):\n    return (x * x).sum() * -0.5, -x\n"
    return numba.njit(compile_numba_function_src(src, "tiny", cache_key=key))


def test_a_cache_entry_that_cannot_be_loaded_is_replaced(tmp_path, monkeypatch):
    monkeypatch.setattr(NumbaPyTensorCacheLocator, "get_cache_path", lambda self: str(tmp_path))
    src = _callback_source(_LOGP_SRC, n_dim=3, n_expanded=3, n_words=0, slots=[])
    key = f"test-{tmp_path.name}"

    def make():
        return _cfunc(src, "cruxboard_logp", _LOGP_SIG, _tiny_inner(key), cache=True)

    assert make()[1] is False  # compiled and stored
    assert make()[1] is True  # loaded
    for entry in tmp_path.glob("*cruxboard_logp*.nbc"):
        entry.write_bytes(b"not a numba cache entry")
    cfunc, loaded = make()  # compiled again, not a crash
    assert loaded is False
    x, grad, logp = np.array([1.0, 2.0, 3.0]), np.zeros(3), np.zeros(())
    assert LOGP_C(cfunc.address)(3, _ptr(x), _ptr(grad), _ptr(logp), 0) == 0
    assert float(logp) == -7.0
    np.testing.assert_array_equal(grad, -x)
    assert make()[1] is True  # and stored again
