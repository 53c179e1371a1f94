"""The maths of Cruxboard: validation, updates, pools, the group model, figures, command line.

May import priors/, NumPy, SciPy, PyMC, nutpie, ArviZ, xarray and matplotlib; never
Streamlit or store/. Reading and validating (`model.io`, `model.schema`), the exact
individual update (`model.individual`) and the pools (`model.pools`) need only NumPy, SciPy
and priors/; so does the command line up to the end of validation. The names below load
their module on first use, so `import model` costs none of PyMC, PyTensor, nutpie, numba,
ArviZ, matplotlib or xarray (tests/model/test_imports.py checks it).
"""

import importlib
import sys
import types
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # for type checkers and editors; at run time `__getattr__` loads them
    from model.analysis import Analysis, analyse
    from model.fit import FitResult, GroupSampler, fit
    from model.individual import coherence, update
    from model.io import parse_responses, read_responses
    from model.schema import GroupData, Response, ResponseError, to_group_data, validate_response

# Each public name and the module that defines it. To export a name, add it here, to the
# TYPE_CHECKING imports above and to `__all__` (tests/model/test_imports.py checks all three).
_EXPORTS = {
    "Analysis": "model.analysis",
    "analyse": "model.analysis",
    "FitResult": "model.fit",
    "GroupSampler": "model.fit",
    "fit": "model.fit",
    "coherence": "model.individual",
    "update": "model.individual",
    "parse_responses": "model.io",
    "read_responses": "model.io",
    "GroupData": "model.schema",
    "Response": "model.schema",
    "ResponseError": "model.schema",
    "to_group_data": "model.schema",
    "validate_response": "model.schema",
}

__all__ = [
    "Analysis",
    "FitResult",
    "GroupData",
    "GroupSampler",
    "Response",
    "ResponseError",
    "analyse",
    "coherence",
    "fit",
    "parse_responses",
    "read_responses",
    "to_group_data",
    "update",
    "validate_response",
]


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'model' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value  # found directly from now on
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


class _Package(types.ModuleType):
    def __setattr__(self, name: str, value: object) -> None:
        # Importing the submodule `model.fit` binds it as the package's `fit`, which would
        # hide the function `fit` exported above: the exported name wins.
        if isinstance(value, types.ModuleType) and _EXPORTS.get(name) == value.__name__:
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
