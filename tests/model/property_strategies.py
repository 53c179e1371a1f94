"""What the property tests of responses share: the defaults, settings, a base response.

Used by test_properties.py (the validator), test_file_properties.py (the importer and the
command line) and test_property_regressions.py.
"""

from __future__ import annotations

import re

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from model.io import csv_columns
from priors import load_defaults

DEFAULTS = load_defaults()
EVIDENCE = DEFAULTS.evidence
FACTORS = DEFAULTS.factor_ids
EVIDENCE_IDS = tuple(e.id for e in EVIDENCE)
FIELDS = ("participant", "scenarios", "factors", "p_scheming", "readings", "rationale")
COLUMNS = csv_columns(EVIDENCE, DEFAULTS)

# 1000 examples per property (so at least 1000 bad inputs each); every strategy is cheap.
MANY = settings(
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Words that tell the reader what to do. A message must contain one of them outside the
# values the user gave (a junk key "give" must not count).
FIX = re.compile(r"\b(give|must|use|remove|shorten|rescale|add|check|save|enter|split)\b", re.I)

# Junk text that float() can never read (no digits, no letters of "nan"/"inf"/"e").
_JUNK = "xyzqjwXYZQJW#@!?~;:,._-/ \u00e9\u6f22\U0001f9e8"
junk_text = st.text(_JUNK, min_size=1, max_size=30).filter(lambda s: s.strip())
# Any position, taken modulo the length of what it indexes.
index = st.integers(0, 10**6)


def cheap_raw() -> dict:
    """A valid response with fixed values, cheap to build and to break."""
    return {
        "participant": "Ada",
        "scenarios": {"A": 0.4, "B": 0.3, "C": 0.2, "D": 0.1},
        "factors": dict.fromkeys(FACTORS, 0.3),
        "p_scheming": 0.05,
        "readings": {e: {"A": 0.6, "B": 0.6, "C": 0.6, "D": 0.01} for e in EVIDENCE_IDS},
        "rationale": "",
    }
