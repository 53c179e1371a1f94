"""The private names model._nutpie_internals borrows are still there and still behave.

Fails loudly, naming what changed, after an upgrade of nutpie, numba, PyTensor or PyMC: the
installed versions against the pins, every borrowed name against the signature or fields the
module was written for, and a tiny model compiled through the fenced path against
`nutpie.compile_pymc_model` (same log density, gradient, expanded draw and layout).
"""

import ast
import ctypes
import dataclasses
import importlib.metadata
import inspect
import pickle
import re
import sys
import tomllib
from pathlib import Path
from weakref import WeakKeyDictionary

import numba
import numpy as np
import nutpie
import pymc as pm
import pytest
from numba.core.caching import FunctionCache
from numba.core.ccallback import CFunc
from nutpie import compile_pymc as nutpie_pymc
from pymc.initial_point import make_initial_point_fn
from pytensor.link.numba import cache as pytensor_numba_cache

from model import _nutpie_internals as internals

ROOT = Path(__file__).resolve().parents[2]
SOURCE = Path(internals.__file__).read_text()
FENCE = "model/_nutpie_internals.py"

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

# What the fence uses of nutpie.compile_pymc, and the parameters it passes.
NUTPIE_FUNCTIONS = {
    "_make_functions": [
        ("model", "POSITIONAL_OR_KEYWORD"),
        ("mode", "KEYWORD_ONLY"),
        ("compute_grad", "KEYWORD_ONLY"),
        ("join_expanded", "KEYWORD_ONLY"),
        ("pymc_initial_point_fn", "KEYWORD_ONLY"),
        ("var_names", "KEYWORD_ONLY"),
    ],
    "_wrap_with_lock": [("func", "POSITIONAL_OR_KEYWORD")],
    "_prepare_dims_and_coords": [
        ("model", "POSITIONAL_OR_KEYWORD"),
        ("shape_info", "POSITIONAL_OR_KEYWORD"),
        ("reparameterized_names", "POSITIONAL_OR_KEYWORD"),
    ],
    "make_user_data": [
        ("shared_var_keys", "POSITIONAL_OR_KEYWORD"),
        ("shared_data", "POSITIONAL_OR_KEYWORD"),
    ],
}
NUTPIE_OTHERS = {"CompiledPyMCModel", "address_as_void_pointer"}
# The fields the fence fills in when it builds a CompiledPyMCModel.
COMPILED_FIELDS = {
    "dims",
    "reparameterized_names",
    "compiled_logp_func",
    "compiled_expand_func",
    "initial_point_func",
    "shared_data",
    "shared_var_keys",
    "user_data",
    "n_expanded",
    "shape_info",
    "logp_func",
    "expand_func",
    "_n_dim",
    "_shapes",
    "_coords",
}
# Every `from ... import ...` of another library's module in the fence.
FENCE_IMPORTS = {
    ("numba.core.caching", "FunctionCache"),
    ("nutpie", "compile_pymc"),
    ("pymc.initial_point", "make_initial_point_fn"),
    ("pytensor", "config"),
    ("pytensor.link.numba.cache", "CACHED_SRC_FUNCTIONS"),
    ("pytensor.link.numba.cache", "compile_numba_function_src"),
}


def _pins_in_pyproject() -> dict[str, str]:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = {}
    for dep in deps:
        name, _, version = dep.partition("==")
        pins[re.sub(r"\[.*\]", "", name).strip().lower()] = version.strip()
    return pins


# --- versions --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(internals.PINNED))
def test_installed_version_is_the_one_the_fence_was_written_against(name):
    written_for = internals.PINNED[name]
    pinned = _pins_in_pyproject().get(name)
    installed = importlib.metadata.version(name)
    assert pinned == written_for == installed, (
        f"{name}: installed {installed}, pinned in pyproject.toml {pinned}, {FENCE} written "
        f"against {written_for}. Check every name the fence borrows (its docstring lists them; "
        "this file tests them), then make the three agree."
    )
    assert f"{name} {written_for}" in internals.__doc__, (
        f"{FENCE}'s docstring must name {name} {written_for}, the version in PINNED"
    )


# --- every borrowed name, as the fence uses it -----------------------------------------------


def test_the_fence_borrows_only_names_checked_here():
    tree = ast.parse(SOURCE)
    from_nutpie = {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "_nutpie_pymc"
    }
    checked = set(NUTPIE_FUNCTIONS) | NUTPIE_OTHERS
    assert from_nutpie == checked, (
        f"{FENCE} now uses nutpie.compile_pymc names {sorted(from_nutpie - checked)} that this "
        f"test does not check (or no longer uses {sorted(checked - from_nutpie)}): update "
        "NUTPIE_FUNCTIONS / NUTPIE_OTHERS here"
    )
    imports = {
        (node.module, alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        and node.module.split(".")[0] not in {"model", *sys.stdlib_module_names}
        for alias in node.names
    }
    assert imports == FENCE_IMPORTS, (
        f"{FENCE} imports {sorted(imports - FENCE_IMPORTS)} from other libraries that this "
        f"test does not check: add them to FENCE_IMPORTS and check them below"
    )


@pytest.mark.parametrize("name", sorted(NUTPIE_FUNCTIONS))
def test_nutpie_helper_takes_the_parameters_the_fence_passes(name):
    assert hasattr(nutpie_pymc, name), f"nutpie.compile_pymc.{name} is gone ({FENCE} uses it)"
    params = inspect.signature(getattr(nutpie_pymc, name)).parameters.values()
    found = [(p.name, p.kind.name) for p in params]
    assert found == NUTPIE_FUNCTIONS[name], (
        f"nutpie.compile_pymc.{name} takes {found} now, not {NUTPIE_FUNCTIONS[name]}: "
        f"check how {FENCE} calls it"
    )


def test_compiled_pymc_model_has_the_fields_the_fence_fills():
    cls = nutpie_pymc.CompiledPyMCModel
    assert dataclasses.is_dataclass(cls), "nutpie's CompiledPyMCModel is no longer a dataclass"
    fields = {f.name: f for f in dataclasses.fields(cls)}
    required = {
        name
        for name, f in fields.items()
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    assert COMPILED_FIELDS <= set(fields), (
        f"CompiledPyMCModel lost fields {sorted(COMPILED_FIELDS - set(fields))} that {FENCE} fills"
    )
    assert required <= COMPILED_FIELDS, (
        f"CompiledPyMCModel has new required fields {sorted(required - COMPILED_FIELDS)} "
        f"that {FENCE} does not fill"
    )
    assert callable(getattr(cls, "with_data", None)), "CompiledPyMCModel.with_data is gone"


def test_address_as_void_pointer_is_a_numba_intrinsic():
    assert isinstance(nutpie_pymc.address_as_void_pointer, numba.core.extending._Intrinsic), (
        "nutpie.compile_pymc.address_as_void_pointer is no longer a numba intrinsic; the "
        f"callbacks {FENCE} writes call it inside numba"
    )


def test_user_data_record_is_words_of_pointers_sizes_and_shapes():
    """The layout `_user_data_slots` reads: shared/{data,size,shape}, 8-byte words."""
    import pytensor

    arrays = {"a": np.zeros((15, 4)), "b": np.arange(13), "c": np.array(2.0)}
    shared = {pytensor.shared(v, name=k): k for k, v in arrays.items()}
    user_data = nutpie_pymc.make_user_data(shared, arrays)
    assert user_data.shape == (), f"user_data has shape {user_data.shape}, not ()"
    assert list(user_data.dtype.names) == ["shared"], (
        f"user_data's fields are {user_data.dtype.names}, not ['shared']"
    )
    record = user_data.dtype.fields["shared"][0]
    assert list(record.names) == ["data", "size", "shape"], (
        f"user_data['shared'] has fields {record.names}, not data, size, shape"
    )
    words = np.frombuffer(user_data.tobytes(), dtype=np.uint64)
    slots = internals._user_data_slots(user_data, arrays)
    for key, arr in arrays.items():
        assert words[slots[key].data_word] == arr.ctypes.data, f"pointer of {key!r} moved"
        assert tuple(int(words[w]) for w in slots[key].shape_words) == arr.shape, (
            f"shape of {key!r} moved in user_data"
        )


def test_callback_return_codes_are_nutpies():
    for template, nutpie_fn in [
        (internals._LOGP_SRC, nutpie_pymc._make_c_logp_func),
        (internals._EXPAND_SRC, nutpie_pymc._make_c_expand_func),
    ]:
        ours = set(re.findall(r"return (-?\d+)", template))
        theirs = set(re.findall(r"return (-?\d+)", inspect.getsource(nutpie_fn)))
        assert ours == theirs, (
            f"nutpie's {nutpie_fn.__name__} returns {sorted(theirs)}, the callback in {FENCE} "
            f"{sorted(ours)}: read nutpie's callback again"
        )


def test_numba_names_the_fence_uses():
    params = list(inspect.signature(FunctionCache).parameters)
    assert params == ["py_func"], f"numba FunctionCache takes {params} now, not ['py_func']"
    assert callable(getattr(FunctionCache, "flush", None)), "numba FunctionCache.flush is gone"
    assert isinstance(getattr(CFunc, "cache_hits", None), property), (
        "numba CFunc.cache_hits is gone (the fence tells a loaded callback by it)"
    )
    assert "cache" in inspect.signature(numba.cfunc).parameters, "numba.cfunc lost `cache=`"


def test_pytensor_registers_a_source_function_under_its_cache_key():
    assert isinstance(pytensor_numba_cache.CACHED_SRC_FUNCTIONS, WeakKeyDictionary), (
        "pytensor.link.numba.cache.CACHED_SRC_FUNCTIONS is no longer a WeakKeyDictionary"
    )
    fn = pytensor_numba_cache.compile_numba_function_src(
        "def f(x):\n    return x + k\n",
        "f",
        global_env={"k": 1, "__name__": __name__},
        cache_key="cruxboard-test-key",
    )
    assert fn(1) == 2, "compile_numba_function_src no longer runs the source with global_env"
    assert pytensor_numba_cache.CACHED_SRC_FUNCTIONS.get(fn) == "cruxboard-test-key", (
        "compile_numba_function_src no longer files the function under its cache_key"
    )


def test_pytensor_compile_directory_holds_the_numba_cache():
    from pytensor import config

    base = Path(config.base_compiledir)
    assert base.is_dir(), "pytensor.config.base_compiledir is no longer a directory"
    assert Path(pytensor_numba_cache.NUMBA_CACHE_PATH).parent == base, (
        "PyTensor's numba cache no longer lives in base_compiledir; "
        f"{FENCE} keeps its compiled-model records beside it ({internals.models_dir()})"
    )


def test_pymc_initial_point_takes_the_fences_arguments():
    params = inspect.signature(make_initial_point_fn).parameters
    for name in ("model", "jitter_rvs", "default_strategy", "return_transformed"):
        assert name in params, f"pymc make_initial_point_fn lost `{name}` ({FENCE} passes it)"


# --- a tiny model through the fence and through nutpie -----------------------------------------


def _tiny_model(*, y, scale, counts) -> pm.Model:
    """A float vector, a float scalar and an int matrix of data; a transformed parameter."""
    with pm.Model(coords={"k": ["a", "b", "c"]}) as model:
        y_ = pm.Data("y", y)
        scale_ = pm.Data("scale", scale)
        counts_ = pm.Data("counts", counts)
        mu = pm.Normal("mu", 0, 1)
        sigma = pm.HalfNormal("sigma", 1)
        theta = pm.Normal("theta", mu, sigma, dims="k")
        pm.Normal("obs", theta, scale_, observed=y_, dims="k")
        pm.Potential("pull", -0.01 * (counts_ * theta[:, None] ** 2).sum())
        pm.Deterministic("spread", theta.std())
    return model


FIRST = {
    "y": np.array([0.3, -1.2, 2.0]),
    "scale": np.array(1.5),
    "counts": np.array([[3, 1], [5, 2], [2, 2]]),
}
SWAPPED = {
    "y": np.array([1.0, 0.5, -0.7]),
    "scale": np.array(0.8),
    "counts": np.arange(12).reshape(3, 4),  # a new shape: the shape words are read too
}


@pytest.fixture(scope="module")
def compiled_both_ways():
    model = _tiny_model(**FIRST)
    return internals.compile_model(model), nutpie.compile_pymc_model(model)


def _ptr(a):
    return a.ctypes.data_as(ctypes.POINTER(ctypes.c_double))


def _logp_grad(compiled, x):
    grad, logp = np.zeros(compiled.n_dim), np.zeros(())
    rc = LOGP_C(compiled.compiled_logp_func.address)(
        compiled.n_dim, _ptr(x), _ptr(grad), _ptr(logp), compiled.user_data.ctypes.data
    )
    return rc, float(logp), grad


def _expand(compiled, x):
    out = np.zeros(compiled.n_expanded)
    rc = EXPAND_C(compiled.compiled_expand_func.address)(
        compiled.n_dim, compiled.n_expanded, _ptr(x), _ptr(out), compiled.user_data.ctypes.data
    )
    return rc, out


def test_tiny_model_goes_through_the_fence_not_nutpies_fallback(compiled_both_ways):
    ours, _ = compiled_both_ways
    assert ours.compiled_logp_func.__name__ == "cruxboard_logp", (
        f"{FENCE} fell back to nutpie's compile for the tiny model; the comparison below "
        "would test nutpie against itself"
    )
    assert ours.compiled_expand_func.__name__ == "cruxboard_expand"
    for fn in (ours.logp_func, ours.expand_func):
        key = pytensor_numba_cache.CACHED_SRC_FUNCTIONS.get(fn.vm.jit_fn.py_func)
        assert key is not None, (
            "PyTensor no longer files the compiled graph's numba kernel (fn.vm.jit_fn) in "
            "CACHED_SRC_FUNCTIONS: the callbacks would compile again in every process"
        )


def test_fenced_gradient_is_fused_as_nutpies_own_compile():
    """The log density is compiled with PyTensor's full fusion, as nutpie compiles it.

    Without a C compiler configured (`cxx=""`) PyTensor caps a fused elementwise kernel at
    32 operands, and the group model's numba gradient was twice as slow. A model with one
    elementwise expression over 40 parameters must give as few kernels as nutpie's compile.
    """
    with pm.Model() as model:
        x = pm.Normal("x", 0, 1, shape=40)
        pm.Potential("wide", sum(pm.math.exp(-0.1 * x[i] ** 2) * (i + 1) for i in range(40)))
    ours = internals.compile_model(model)
    theirs = nutpie.compile_pymc_model(model)

    def kernels(fn):
        return sum(type(n.op).__name__ == "Elemwise" for n in fn.maker.fgraph.apply_nodes)

    assert kernels(ours.logp_func) == kernels(theirs.logp_func), (
        f"{FENCE} compiles the log density with fewer fused kernels than nutpie does: "
        "is it compiled under cxx=''?"
    )


def test_tiny_model_layout_equals_nutpies(compiled_both_ways):
    ours, theirs = compiled_both_ways
    assert (ours.n_dim, ours.n_expanded) == (theirs.n_dim, theirs.n_expanded)
    assert ours.shapes == theirs.shapes
    assert ours.dims == theirs.dims
    assert ours.coords.keys() == theirs.coords.keys()
    for name, index in theirs.coords.items():
        assert list(ours.coords[name]) == list(index), f"coordinate {name!r} differs"
    assert ours.shape_info[0] == theirs.shape_info[0]
    assert ours.reparameterized_names == theirs.reparameterized_names


def test_tiny_model_starts_at_nutpies_support_point_jittered_by_at_most_one():
    """Our start is nutpie's unjittered start (PyMC's support point) + U(-1, 1), seeded."""
    model = _tiny_model(**FIRST)
    ours = internals.compile_model(model)
    support = nutpie.compile_pymc_model(model, jitter_rvs=set()).initial_point_func(5)
    starts = np.array([ours.initial_point_func(seed) for seed in range(200)])
    np.testing.assert_array_equal(ours.initial_point_func(7), ours.initial_point_func(7))
    assert np.all(np.abs(starts - support) <= 1.0)
    assert np.all(starts.min(axis=0) - support < -0.9) and np.all(
        starts.max(axis=0) - support > 0.9
    )


@pytest.mark.parametrize("data", [None, SWAPPED], ids=["as built", "after with_data"])
def test_tiny_model_logp_gradient_and_draws_equal_nutpies(compiled_both_ways, data):
    ours, theirs = compiled_both_ways
    if data is not None:
        ours, theirs = ours.with_data(**data), theirs.with_data(**data)
    rng = np.random.default_rng(11)
    for _ in range(4):
        x = rng.normal(0, 0.7, ours.n_dim)
        rc, logp, grad = _logp_grad(ours, x)
        rc_ref, logp_ref, grad_ref = _logp_grad(theirs, x)
        assert rc == rc_ref == 0, f"logp callback returned {rc}, nutpie's {rc_ref}"
        assert logp == pytest.approx(logp_ref, rel=1e-12), "log density differs from nutpie's"
        np.testing.assert_allclose(grad, grad_ref, rtol=1e-12, err_msg="gradient differs")
        rc, out = _expand(ours, x)
        rc_ref, out_ref = _expand(theirs, x)
        assert rc == rc_ref == 0, f"expand callback returned {rc}, nutpie's {rc_ref}"
        np.testing.assert_allclose(out, out_ref, rtol=1e-12, err_msg="expanded draw differs")
    # the same refusal of a wrong dimension
    x, logp = np.zeros(ours.n_dim + 1), np.zeros(())
    for compiled in (ours, theirs):
        logp_c = LOGP_C(compiled.compiled_logp_func.address)
        rc = logp_c(ours.n_dim + 1, _ptr(x), _ptr(x), _ptr(logp), compiled.user_data.ctypes.data)
        assert rc == -1, f"a wrong dimension gave {rc}, not -1"


def test_tiny_model_second_compile_loads_and_samples(compiled_both_ways):
    ours, _ = compiled_both_ways
    again = internals.compile_model(_tiny_model(**FIRST))
    assert (again.compiled_logp_func.cache_hits, again.compiled_expand_func.cache_hits) == (
        1,
        1,
    ), "the callbacks were compiled again, not loaded from PyTensor's numba cache"
    idata = nutpie.sample(
        again.with_data(**SWAPPED), draws=50, tune=50, chains=1, seed=1, progress_bar=False
    )
    assert idata.posterior["theta"].shape == (1, 50, 3)
    assert np.isfinite(idata.posterior["spread"].values).all()


# --- the compiled model kept on disk ----------------------------------------------------------


@pytest.fixture
def stored_tiny(monkeypatch, tmp_path):
    """The tiny model compiled and stored under a key in a temporary models directory."""
    monkeypatch.setattr(internals, "models_dir", lambda: tmp_path)
    built = internals.compile_model(_tiny_model(**FIRST), store_as="tiny-test")
    return built, internals.load_compiled("tiny-test")


def test_tiny_model_loads_without_a_graph_and_equals_the_built_one(stored_tiny):
    built, loaded = stored_tiny
    assert loaded is not None, f"{FENCE} could not load the record it had just stored"
    assert loaded.logp_func is None and loaded.expand_func is None  # no rebuild given
    assert loaded.compiled_logp_func.cache_hits == loaded.compiled_expand_func.cache_hits == 1
    assert (loaded.n_dim, loaded.n_expanded) == (built.n_dim, built.n_expanded)
    assert loaded.shapes == built.shapes and loaded.dims == built.dims
    names, slices, shapes = loaded.shape_info
    assert (names, slices) == tuple(built.shape_info[:2])
    assert [tuple(x) for x in shapes] == [tuple(x) for x in built.shape_info[2]]
    for name, index in built.coords.items():
        assert list(loaded.coords[name]) == list(index)
    np.testing.assert_array_equal(loaded.initial_point_func(3), built.initial_point_func(3))
    for data in (None, SWAPPED):
        a, b = (
            (built, loaded) if data is None else (built.with_data(**data), loaded.with_data(**data))
        )
        x = np.random.default_rng(2).normal(0, 0.7, a.n_dim)
        rc, logp, grad = _logp_grad(b, x)
        rc_ref, logp_ref, grad_ref = _logp_grad(a, x)
        assert rc == rc_ref == 0
        assert logp == logp_ref  # the same machine code
        np.testing.assert_array_equal(grad, grad_ref)
        np.testing.assert_array_equal(_expand(b, x)[1], _expand(a, x)[1])


def test_tiny_model_loaded_samples_the_built_ones_draws(stored_tiny):
    built, loaded = stored_tiny
    draws = [
        nutpie.sample(
            c.with_data(**SWAPPED), draws=30, tune=30, chains=2, seed=4, progress_bar=False
        )
        .posterior["theta"]
        .values
        for c in (built, loaded)
    ]
    np.testing.assert_array_equal(draws[0], draws[1])


def test_a_record_is_not_loaded_when_it_cannot_be_used(stored_tiny, tmp_path):
    assert internals.load_compiled("no-such-key") is None
    record = pickle.loads((tmp_path / "tiny-test.pkl").read_bytes())
    for name, change in [
        ("format", lambda r: r | {"format": "older"}),
        (
            "callback",
            lambda r: r | {"callbacks": [(s, n, k + "-gone") for s, n, k in r["callbacks"]]},
        ),
        ("layout", lambda r: r | {"user_data_descr": []}),
    ]:
        (tmp_path / f"{name}.pkl").write_bytes(pickle.dumps(change(record)))
        assert internals.load_compiled(name) is None, f"a record with a changed {name} loaded"
    (tmp_path / "damaged.pkl").write_bytes(b"not a pickle")
    assert internals.load_compiled("damaged") is None
    with pytest.raises(ValueError, match="letters, digits"):
        internals.load_compiled("../elsewhere")


def test_loaded_model_builds_its_graph_only_when_asked(stored_tiny):
    built, _ = stored_tiny
    calls = []

    def rebuild():
        calls.append(1)
        return _tiny_model(**FIRST)

    loaded = internals.load_compiled("tiny-test", rebuild=rebuild)
    assert calls == []
    shared = [v.name for v in loaded.logp_func.get_shared()]
    assert calls == [1] and shared == [v.name for v in built.logp_func.get_shared()]
    loaded.expand_func.get_shared()
    assert calls == [1]  # one build serves both
