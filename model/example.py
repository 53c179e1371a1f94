"""A realistic example group and an example evidence file, for the command line and demos."""

from __future__ import annotations

import numpy as np

from model.schema import Response, validate_response
from priors import SCENARIO_IDS, Defaults, EvidenceItem, load_defaults

# Worldviews: credences A-D, factors (4), direct P(scheming), detection reading for D
# on the monitoring item, and a one-line rationale. Each example member is one of these
# with individual noise.
_VIEWS = [
    (
        "optimist",
        [0.70, 0.15, 0.10, 0.05],
        [0.15, 0.25, 0.30, 0.50],
        0.03,
        0.30,
        "Evals have tracked behaviour well so far; the gap is real but bounded.",
    ),
    (
        "empiricist",
        [0.45, 0.30, 0.15, 0.10],
        [0.25, 0.35, 0.40, 0.60],
        0.08,
        0.10,
        "Detected misalignment is rising; I expect to keep seeing it.",
    ),
    (
        "hidden-risk",
        [0.20, 0.20, 0.40, 0.20],
        [0.45, 0.55, 0.60, 0.80],
        0.25,
        0.02,
        "Capability will outrun our monitors; low detected rates tell us little.",
    ),
    (
        "doomer",
        [0.05, 0.10, 0.35, 0.50],
        [0.70, 0.70, 0.80, 0.90],
        0.55,
        0.01,
        "Current models may already be playing along; we would not see it.",
    ),
]
_NAMES = [
    "Ada",
    "Bo",
    "Chidi",
    "Dana",
    "Emil",
    "Farah",
    "Gus",
    "Hana",
    "Ivo",
    "Jun",
    "Kemi",
    "Lior",
]


def _round_credences(p: np.ndarray) -> np.ndarray:
    """Round to whole percent keeping the sum at 100 (largest remainder), as the form does."""
    raw = p * 100
    out = np.floor(raw)
    short = int(100 - out.sum())
    out[np.argsort(raw - out)[::-1][:short]] += 1
    return out / 100


def example_responses(
    *,
    n: int = 12,
    seed: int = 7,
    evidence: tuple[EvidenceItem, ...] | None = None,
    defaults: Defaults | None = None,
) -> list[Response]:
    """A group of `n` members with differing views (seeded; some answers left blank)."""
    defaults = defaults or load_defaults()
    evidence = defaults.evidence if evidence is None else evidence
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        label, cred, facs, direct, d_detect, why = _VIEWS[i % len(_VIEWS)]
        c = _round_credences(rng.dirichlet(np.asarray(cred) * 30))
        f = np.clip(np.round(np.asarray(facs) * np.exp(rng.normal(0, 0.25, 4)), 2), 0.01, 0.99)
        readings: dict[str, dict[str, float | None]] = {}
        for item in evidence:
            per: dict[str, float | None] = {}
            for s in SCENARIO_IDS:
                if item.kind == "counts":
                    base = d_detect if s == "D" else defaults.scenario(s).detection_now
                elif item.default_likelihood is not None:
                    base = item.default_likelihood[s]
                else:
                    base = 0.5
                per[s] = float(np.clip(np.round(base * np.exp(rng.normal(0, 0.3)), 3), 0.001, 0.99))
            if rng.random() < 0.15:  # some members leave an item unanswered
                per = dict.fromkeys(SCENARIO_IDS)
            readings[item.id] = per
        name = _NAMES[i] if i < len(_NAMES) else f"member-{i + 1}"
        raw = {
            "participant": name,
            "scenarios": dict(zip(SCENARIO_IDS, c.tolist(), strict=True)),
            "factors": dict(zip(defaults.factor_ids, f.tolist(), strict=True)),
            "p_scheming": None
            if i % 5 == 4
            else round(min(direct * float(np.exp(rng.normal(0, 0.3))), 0.99), 3),
            "readings": readings,
            "rationale": f"({label}) {why}",
        }
        out.append(validate_response(raw, evidence=evidence, defaults=defaults))
    return out


EXAMPLE_EVIDENCE = """\
# Example evidence for Cruxboard (see priors/evidence.toml for the format).

[[evidence]]
id = "monitoring_counts"
kind = "counts"
text = "3 detected misaligned actions in 1000 monitored agentic episodes"
detected = 3
episodes = 1000
# optional: misalignment_rate = { A = 0.005, B = 0.01, C = 0.005, D = 0.2 }
# optional: false_alarm_rate = 0.0005

[[evidence]]
id = "no_collusion"
kind = "likelihood"
text = "No significant scheming or collusion seen when models monitor other models"
default_likelihood = { A = 0.9, B = 0.8, C = 0.85, D = 0.5 }
"""
