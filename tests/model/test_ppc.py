"""The posterior predictive check of spreads: it passes on data from the model, flags misfit."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from model.analysis import analyse
from model.ppc import spread_checks
from model.schema import validate_response
from priors import parse_evidence
from tests.model.helpers import raw_response

EVIDENCE = parse_evidence(
    '[[evidence]]\nid = "seen"\nkind = "likelihood"\ntext = "x"\n'
    "default_likelihood = {A = 0.5, B = 0.5, C = 0.5, D = 0.5}\n"
)


def _group(credences, factor_values, defaults):
    raws = []
    for i, (c, f) in enumerate(zip(credences, factor_values, strict=True)):
        factors = dict.fromkeys(defaults.factor_ids, float(f))
        raws.append(raw_response(f"m{i}", tuple(c), factors=factors, readings={}))
    return [validate_response(r, evidence=EVIDENCE, defaults=defaults) for r in raws]


def _round(x):
    """Whole percents that still sum to 1 (the form's resolution)."""
    x = np.round(np.asarray(x) * 100)
    x[np.argmax(x)] += 100 - x.sum()
    return x / 100


def test_a_group_drawn_from_the_model_passes(sampler, defaults):
    rng = np.random.default_rng(3)
    cred = [_round(rng.dirichlet(8 * np.array([0.4, 0.3, 0.2, 0.1]))) for _ in range(60)]
    facs = np.round(1 / (1 + np.exp(-rng.normal(-0.5, 0.8, 60))), 2)
    a = analyse(
        _group(cred, facs, defaults),
        evidence=EVIDENCE,
        defaults=defaults,
        sampler=sampler,
        draws=300,
        tune=300,
        random_seed=4,
    )
    checks = spread_checks(a, seed=1)
    assert not any(c.misfit for q, c in checks.items() if q.startswith("credence:")), checks
    assert not checks["non_corrigibility"].misfit


def test_a_spread_the_model_cannot_produce_is_flagged(sampler, defaults):
    """Everyone gives A and B 25 % each and splits the rest 0/50 between C and D: the
    sticks are independent (B's share of B and C cannot know that D took half), so the
    model cannot give C and D their huge spread while A and B stay identical; the check
    flags A and B, whose actual SD, 0, lies below every simulated group's (p = 1)."""
    cred = [(0.25, 0.25, 0.5, 0.0) if i % 2 else (0.25, 0.25, 0.0, 0.5) for i in range(40)]
    facs = np.full(40, 0.3)
    a = analyse(
        _group(cred, facs, defaults),
        evidence=EVIDENCE,
        defaults=defaults,
        sampler=sampler,
        draws=300,
        tune=300,
        random_seed=4,
    )
    checks = spread_checks(a, seed=1)
    flagged = {q for q, c in checks.items() if c.misfit}
    assert {"credence:A", "credence:B"} <= flagged
    assert checks["credence:A"].p_value == checks["credence:B"].p_value == 1.0
    assert all(0 <= c.p_value <= 1 for c in checks.values())
    entry = next(d for d in a.result.disagreement if d.quantity == "credence:B")
    assert entry.misfit == checks["credence:B"].misfit


def test_the_p_value_is_the_share_of_simulated_sds_at_or_above_the_actual(monkeypatch):
    from model import ppc

    sims = np.linspace(0, 1, 101)
    c = ppc._check("q", 0.5, sims)
    assert c.p_value == pytest.approx(51 / 101)
    assert not c.misfit
    assert ppc._check("q", 0.999, sims).misfit and ppc._check("q", -0.1, sims).misfit
    assert dataclasses.is_dataclass(c)
