"""Builders for test responses."""

from __future__ import annotations

from model.example import example_responses
from model.schema import GroupData, to_group_data
from priors import SCENARIO_IDS


def raw_response(name="Ada", scen=(0.4, 0.3, 0.2, 0.1), **overrides):
    raw = {
        "participant": name,
        "scenarios": dict(zip(SCENARIO_IDS, scen, strict=True)),
        "factors": {
            "non_corrigibility": 0.3,
            "misaligned_goals": 0.4,
            "evades_guardrails": 0.5,
            "strategic_reasoning": 0.6,
        },
        "p_scheming": 0.05,
        "readings": {
            "monitoring_counts": {"A": 0.6, "B": 0.6, "C": 0.6, "D": 0.01},
            "no_collusion": {"A": 0.9, "B": 0.8, "C": 0.85, "D": 0.5},
        },
        "rationale": "",
    }
    raw.update(overrides)
    return raw


def example_group(defaults, n: int, seed: int, evidence=None) -> GroupData:
    """The group data of `model.example`'s group of `n` (seeded), on `evidence` or the defaults'."""
    responses = example_responses(n=n, seed=seed, defaults=defaults)
    return to_group_data(responses, evidence=evidence or defaults.evidence, defaults=defaults)
