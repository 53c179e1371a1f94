"""The questions as data: scenarios, factors, evidence items and hyperpriors, plus a loader.

The project's ground layer: also the limits (`priors.limits`) and the error family
(`priors.errors`) that every other layer shares. May import only the standard library, NumPy
and pydantic, and nothing else of the project (never model, store, PyMC or Streamlit).
"""

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from priors.loader import (
        SCENARIO_IDS,
        CountsEvidence,
        Defaults,
        EvidenceItem,
        Factor,
        Hyperpriors,
        LikelihoodEvidence,
        Scenario,
        load_defaults,
        load_evidence,
        parse_evidence,
    )

__all__ = [
    "SCENARIO_IDS",
    "CountsEvidence",
    "Defaults",
    "EvidenceItem",
    "Factor",
    "Hyperpriors",
    "LikelihoodEvidence",
    "Scenario",
    "load_defaults",
    "load_evidence",
    "parse_evidence",
]


def __getattr__(name: str):
    # Loaded on first use, so `import priors.limits` or `priors.errors` (the store does)
    # costs neither NumPy nor pydantic.
    if name in __all__:
        return getattr(importlib.import_module("priors.loader"), name)
    raise AttributeError(f"module 'priors' has no attribute {name!r}")
