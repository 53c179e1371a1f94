"""Shared fixtures: defaults, seeded generators, one compiled sampler for the session."""

from __future__ import annotations

import numpy as np
import pytest

from model.fit import GroupSampler
from priors import load_defaults


@pytest.fixture(scope="session")
def defaults():
    return load_defaults()


@pytest.fixture
def rng():
    return np.random.default_rng(20261127)


@pytest.fixture(scope="session")
def sampler(defaults):
    """One GroupSampler per test session: the model compiles once (about 20-30 s)."""
    return GroupSampler(defaults=defaults)
