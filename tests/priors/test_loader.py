import numpy as np
import pytest
from scipy import special

from priors import SCENARIO_IDS, load_defaults, parse_evidence


def test_defaults_load_and_are_complete(defaults):
    assert [s.id for s in defaults.scenarios] == list(SCENARIO_IDS)
    assert defaults.factor_ids == (
        "non_corrigibility",
        "misaligned_goals",
        "evades_guardrails",
        "strategic_reasoning",
    )
    assert {e.id for e in defaults.evidence} == {"monitoring_counts", "no_collusion"}
    assert all(f.question.endswith("?") for f in defaults.factors)
    assert load_defaults() is defaults  # cached


def test_curves_hit_the_given_points_and_interpolate_on_the_logit_scale(defaults):
    """At x = 0.5, between C's points at x = 0 and x = 1 (p0, p1), the interpolation is
    expit((logit p0 + logit p1) / 2), not the linear (p0 + p1) / 2."""
    p0, p1, *_, last = defaults.scenario("C").misalignment
    c = defaults.curves(np.array([0.0, 0.5, 4.0, 9.0]))["C"]["misalignment"]
    assert c[0] == pytest.approx(p0)
    assert c[1] == pytest.approx(special.expit((special.logit(p0) + special.logit(p1)) / 2))
    assert p0 != p1 and c[1] != pytest.approx((p0 + p1) / 2, rel=1e-6)
    assert c[2] == pytest.approx(last)
    assert c[3] == pytest.approx(last)  # held at the end value beyond the last point


def test_tolerable_falls_by_the_factor_per_decade(defaults):
    x = np.array([0.0, 1.0, 2.0])
    need = defaults.tolerable(x, factor_per_decade=10.0)
    np.testing.assert_allclose(need, defaults.need.tolerable_now * np.array([1, 0.1, 0.01]))
    with pytest.raises(ValueError, match="at least 1"):
        defaults.tolerable(x, factor_per_decade=0.5)


GOOD = """
[[evidence]]
id = "counts1"
kind = "counts"
text = "2 in 100"
detected = 2
episodes = 100
"""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD.replace("counts1", "Bad Id"), r"evidence\[0\]\.id: ids use only lower-case"),
        (GOOD.replace("detected = 2", "detected = 200"), "must be at most episodes"),
        (GOOD.replace("detected = 2", "detected = -1"), r"detected: Input should be greater"),
        (GOOD.replace("detected = 2", 'detected = "two"'), "detected: must be a whole number"),
        (GOOD.replace('kind = "counts"', 'kind = "votes"'), 'kind must be "counts"'),
        (GOOD.replace('text = "2 in 100"', 'text = "2 in 100"\nextra = 1'), "extra: unknown field"),
        (GOOD.replace("episodes = 100", ""), "episodes: required field is missing"),
        (GOOD + GOOD, "appears twice"),
        ("[[evidence]\nid=", "not valid TOML"),
        ("title = 'x'", r"no \[\[evidence\]\] items"),
        (GOOD + "false_alarm_rate = nan\n", "false_alarm_rate: must be a finite number"),
        (GOOD + "misalignment_rate = { A = 0.1 }\n", "must give all of A, B, C, D"),
        (
            GOOD + "misalignment_rate = { A = 0.1, B = 0.1, C = 0.1, E = 0.1 }\n",
            "misalignment_rate",
        ),
        ("x" * 300_000, "larger than 200 kB"),
    ],
)
def test_evidence_errors_name_the_field_and_the_fix(text, message):
    with pytest.raises(ValueError, match=message):
        parse_evidence(text)


def test_likelihood_item_parses_with_and_without_defaults():
    items = parse_evidence(
        '[[evidence]]\nid = "a"\nkind = "likelihood"\ntext = "t"\n'
        '[[evidence]]\nid = "b"\nkind = "likelihood"\ntext = "u"\n'
        "default_likelihood = { A = 0.5, B = 0.5, C = 0.5, D = 0.1 }\n"
    )
    assert items[0].default_likelihood is None
    assert items[1].default_likelihood["D"] == 0.1
