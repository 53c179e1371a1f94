"""The compiled group model kept on disk: a fresh process loads it, and a changed key rebuilds.

`GroupSampler` keeps each compiled model under `model.fit.model_key` (the model's source, its
data shapes, the priors in the graph, the installed versions) as a record beside PyTensor's
numba cache (`model._nutpie_internals.load_compiled`). Records go to a temporary folder here;
the numba cache is the machine's own, so only the first run on a machine compiles kernels.
No timing here (benchmarks/bench_fit.py measures speed).
"""

import importlib
import json
import subprocess
import sys
from pathlib import Path

import nutpie
import pytest

from model import _nutpie_internals as internals
from model import group
from model.fit import GroupSampler, model_key
from model.group import model_data
from priors import load_evidence
from tests.model.helpers import example_group

ROOT = Path(__file__).resolve().parents[2]
fit_module = importlib.import_module("model.fit")  # `model.fit` is the function `fit`

# Runs in a fresh interpreter: argv[1] is the records folder, argv[2] "build" (must build
# and store) or "load" (must load: building the graph raises). Prints the draws as JSON.
CHILD = """
import json, sys
from pathlib import Path
import importlib
from model import _nutpie_internals as internals
from model.example import example_responses
from model.schema import to_group_data
from priors import load_defaults

fit_module = importlib.import_module("model.fit")
internals.models_dir = lambda: Path(sys.argv[1])
built = []
compile_model = fit_module.compile_model
def spy(model, **kwargs):
    built.append(kwargs)
    return compile_model(model, **kwargs)
def refuse(*args, **kwargs):
    raise AssertionError("the graph was built although a record was stored")
if sys.argv[2] == "load":
    fit_module.build_model = fit_module.compile_model = refuse
else:
    fit_module.compile_model = spy
defaults = load_defaults()
responses = example_responses(n=30, seed=4, defaults=defaults)
data = to_group_data(responses, evidence=defaults.evidence, defaults=defaults)
result = fit_module.GroupSampler(defaults=defaults).fit(
    data, draws=40, tune=40, chains=2, random_seed=11
)
post = result.idata["posterior"]
print("CHILD " + json.dumps({
    "built": [k.get("store_as") for k in built],
    "mu": post["mu"].values.tolist(),
    "theta": post["theta"].values.tolist(),
}))
"""


def _child(records: Path, mode: str) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(records), mode],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    line = [x for x in proc.stdout.splitlines() if x.startswith("CHILD ")][-1]
    return json.loads(line.removeprefix("CHILD "))


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    """A records folder filled by one fresh process, and what it sampled."""
    folder = tmp_path_factory.mktemp("models")
    return folder, _child(folder, "build")


def _key(data, defaults):
    return model_key(data, defaults, model_data(data, defaults))


def test_first_fresh_process_builds_and_stores_the_model(records, defaults):
    folder, first = records
    key = _key(example_group(defaults, 30, 4), defaults)
    assert first["built"] == [key]
    assert (folder / f"{key}.pkl").is_file()


def test_second_fresh_process_loads_it_and_samples_the_same_draws(records):
    folder, first = records
    second = _child(folder, "load")  # building the graph there raises
    assert second["built"] == []
    assert second["mu"] == first["mu"]
    assert second["theta"] == first["theta"]


def test_a_changed_key_builds_again(records, defaults, monkeypatch, tmp_path):
    folder, _ = records
    monkeypatch.setattr(internals, "models_dir", lambda: folder)
    built = []
    monkeypatch.setattr(fit_module, "compile_model", lambda model, **kw: built.append(kw))
    data = example_group(defaults, 30, 4)
    compiled, _ = GroupSampler(defaults=defaults)._compiled_for(data)
    assert built == [] and compiled.n_dim > 0  # the stored model, loaded

    edited = tmp_path / "group.py"
    edited.write_text(Path(group.__file__).read_text() + "\n# an edit\n")
    monkeypatch.setattr(group, "__file__", str(edited))
    new_key = _key(data, defaults)
    GroupSampler(defaults=defaults)._compiled_for(data)
    assert [kw["store_as"] for kw in built] == [new_key]


def test_key_is_the_same_for_other_answers_of_the_same_shape(defaults):
    a, b = example_group(defaults, 30, 4), example_group(defaults, 30, 5)
    assert (a.values != b.values).any()
    assert _key(a, defaults) == _key(b, defaults)
    # a group of another size has the same shapes too (sufficient statistics)
    assert _key(example_group(defaults, 300, 4), defaults) == _key(a, defaults)


def test_key_changes_with_the_source_versions_priors_and_columns(defaults, monkeypatch, tmp_path):
    data = example_group(defaults, 30, 4)
    base = _key(data, defaults)

    stiffer = defaults.model_copy(
        update={
            "hyperpriors": defaults.hyperpriors.model_copy(
                update={
                    "credences": defaults.hyperpriors.credences.model_copy(
                        update={"kappa_max": defaults.hyperpriors.credences.kappa_max * 2}
                    )
                }
            )
        }
    )
    assert _key(data, stiffer) != base, "a prior that is a constant in the graph"

    other = example_group(defaults, 30, 4, evidence=defaults.evidence[:1])
    assert _key(other, defaults) != base, "other columns"

    shifted = tmp_path / "shifted.toml"
    text = (ROOT / "priors" / "evidence.toml").read_text()
    shifted.write_text(text.replace("D = 0.5 }", "D = 0.4 }"))
    assert shifted.read_text() != text
    same_ids = example_group(defaults, 30, 4, evidence=load_evidence(shifted))
    assert same_ids.columns == data.columns
    assert _key(same_ids, defaults) != base, "a reading's default (its prior mean, the start)"

    monkeypatch.setattr(nutpie, "__version__", "0.0.0")
    assert _key(data, defaults) != base, "another nutpie"
    monkeypatch.undo()

    edited = tmp_path / "group.py"
    edited.write_text(Path(group.__file__).read_text() + "\n")
    monkeypatch.setattr(group, "__file__", str(edited))
    assert _key(data, defaults) != base, "the model's source"
