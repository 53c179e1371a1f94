"""Imports cost only what is used: reading, validating, the exact update, the pools and the
command line's refusal of a bad file load none of PyMC, PyTensor, nutpie, numba, ArviZ,
matplotlib or xarray. Each check runs in a fresh interpreter (this one has them all loaded).

Speed is measured by benchmarks/bench_cli.py (goal: a bad file refused in under 1.5 s); the
bound here only catches a heavy import creeping back in.
"""

import ast
import importlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import model

ROOT = Path(__file__).resolve().parents[2]
HEAVY = {
    "pymc",
    "pytensor",
    "nutpie",
    "numba",
    "llvmlite",
    "arviz",
    "arviz_base",
    "arviz_stats",
    "arviz_plots",
    "matplotlib",
    "xarray",
}


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def _heavy_loaded_after(code: str) -> list[str]:
    proc = _python(
        f"{code}\nimport json, sys\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    assert proc.returncode == 0, proc.stderr
    return sorted(HEAVY.intersection(json.loads(proc.stdout.splitlines()[-1])))


def test_importing_the_light_modules_loads_no_heavy_library():
    heavy = _heavy_loaded_after("import model, model.individual, model.pools, model.io, model.cli")
    assert heavy == [], f"importing model's light modules loaded {heavy}"


def test_reading_validating_updating_and_pooling_load_no_heavy_library():
    code = """
import numpy as np
from model import coherence, parse_responses, update
from model.example import example_responses
from model.io import responses_to_json
from model.pools import binary_pools, scenario_pools
from priors import SCENARIO_IDS, load_defaults

defaults = load_defaults()
text = responses_to_json(example_responses(n=8, seed=1, defaults=defaults))
responses = parse_responses(text, fmt="json", evidence=defaults.evidence, defaults=defaults)
for r in responses:
    update(r, evidence=defaults.evidence, defaults=defaults)
    coherence(r)
scenario_pools(np.array([[r.scenarios[s] for s in SCENARIO_IDS] for r in responses]))
binary_pools(np.array([0.1, 0.2, 0.3]))
"""
    heavy = _heavy_loaded_after(code)
    assert heavy == [], f"reading, validating, the exact update or the pools loaded {heavy}"


def test_exported_names_agree_in_the_three_places():
    """`_EXPORTS` (run time), the TYPE_CHECKING imports (type checkers) and `__all__`."""
    tree = ast.parse(Path(model.__file__).read_text())
    checked = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            for imp in node.body:
                checked |= {alias.name: imp.module for alias in imp.names}
    assert checked == model._EXPORTS, "the TYPE_CHECKING imports differ from _EXPORTS"
    assert sorted(model.__all__) == sorted(model._EXPORTS), "__all__ differs from _EXPORTS"
    for name, module in model._EXPORTS.items():
        assert getattr(model, name) is getattr(importlib.import_module(module), name)
    assert set(model.__all__) <= set(dir(model))


def test_fit_is_the_function_even_once_the_submodule_is_imported():
    proc = _python(
        "import model.fit\nfrom model import fit\nimport model\n"
        "assert callable(fit) and model.fit is fit, model.fit\n"
        "from model import GroupSampler\nassert model.fit is fit\n"
    )
    assert proc.returncode == 0, proc.stderr


def test_unknown_names_and_submodules():
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        model.nothing_here  # noqa: B018
    from model import pools

    assert pools.__name__ == "model.pools"


def _aggregate_bad_file(tmp_path, *flags: str) -> tuple[subprocess.CompletedProcess, Path]:
    bad = tmp_path / "bad.csv"
    bad.write_text("participant,A,B,C,D\nx,40,30,20,10\n")
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, *flags, "-m", "model", "aggregate", str(bad), "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return proc, out


def test_command_line_refuses_a_bad_file_and_writes_nothing(tmp_path):
    """How fast: `test_command_line_refusal_loads_no_heavy_library` below checks why it is
    fast; the time is the benchmarks' (benchmarks/bench_cli.py, bench_fit.py), not asserted
    here."""
    proc, out = _aggregate_bad_file(tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "looks like a percentage" in proc.stderr
    assert proc.stdout == ""
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]


def test_command_line_refusal_loads_no_heavy_library(tmp_path):
    proc, _ = _aggregate_bad_file(tmp_path, "-X", "importtime")
    assert proc.returncode == 2, proc.stderr
    imported = {
        m.group(1).split(".")[0]
        for m in re.finditer(r"^import time:\s+\d+ \|\s+\d+ \|\s*([\w.]+)$", proc.stderr, re.M)
    }
    assert "model.cli" in proc.stderr and "priors" in imported  # the parse found the imports
    assert imported & HEAVY == set(), f"refusing a bad file imported {imported & HEAVY}"
