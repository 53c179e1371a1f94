"""The questions as data: scenarios, factors, evidence items and hyperpriors, plus a loader.

May import only the standard library, NumPy and pydantic (never PyMC, Streamlit or store).
"""

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
