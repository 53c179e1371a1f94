"""Small groups are sampled with a smaller step (`model.sampling.target_accept_for`).

With fewer members than about twice the four factors, the members' factor answers leave the
factors' belief covariance nearly singular in some direction, and NUTS at its default 0.8
acceptance diverges there (tens of divergences per fit of 4 x 1,000 draws for 3-5 members).
"""

import nutpie
import pytest

from model.analysis import analyse
from model.example import example_responses
from model.sampling import SMALL_GROUP_TARGET_ACCEPT, target_accept_for
from tests.model.helpers import example_group


def test_the_target_acceptance_follows_the_group_size():
    assert SMALL_GROUP_TARGET_ACCEPT == ((6, 0.99), (12, 0.95))
    sizes = (3, 5, 6, 11, 12, 100, 10_000)
    assert [target_accept_for(n) for n in sizes] == [0.99, 0.99, 0.95, 0.95, 0.8, 0.8, 0.8]


def test_fit_tunes_the_step_to_the_groups_target_and_records_it(defaults, sampler, monkeypatch):
    seen = []
    real = nutpie.sample

    def spy(*args, **kwargs):
        seen.append(kwargs["target_accept"])
        return real(*args, **kwargs)

    monkeypatch.setattr(nutpie, "sample", spy)
    small, middle, large = (example_group(defaults, n, 1) for n in (4, 8, 12))
    fits = [
        sampler.fit(small, draws=20, tune=20, random_seed=1),
        sampler.fit(middle, draws=20, tune=20, random_seed=1),
        sampler.fit(large, draws=20, tune=20, random_seed=1),
        sampler.fit(small, draws=20, tune=20, random_seed=1, target_accept=0.9),
    ]
    assert seen == [0.99, 0.95, 0.8, 0.9]
    assert [f.target_accept for f in fits] == [0.99, 0.95, 0.8, 0.9]
    for bad in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError, match="target_accept must lie between 0 and 1"):
            sampler.fit(small, draws=20, tune=20, target_accept=bad)
    assert len(seen) == 4  # refused before sampling


def test_the_diagnostics_say_what_the_step_was_tuned_to(defaults, sampler):
    responses = example_responses(n=4, seed=1, defaults=defaults)
    analysis = analyse(
        responses,
        evidence=defaults.evidence,
        defaults=defaults,
        sampler=sampler,
        draws=20,
        tune=20,
        random_seed=1,
    )
    assert analysis.result.diagnostics.target_accept == 0.99


@pytest.mark.slow
def test_small_groups_diverge_far_less_than_at_the_default_step(defaults, sampler):
    """Groups of 3, 4 and 5 at 4 x 1,000 draws, each fitted at 0.8 and at their own target."""
    groups = [(example_group(defaults, n, seed), seed) for n, seed in ((3, 1), (4, 2), (5, 2))]

    def divergences(target_accept):
        return [
            int(
                sampler.fit(g, random_seed=seed, target_accept=target_accept)
                .idata["sample_stats"]["diverging"]
                .sum()
            )
            for g, seed in groups
        ]

    at_default_step, now = divergences(0.8), divergences(None)
    print("divergences at 0.8:", at_default_step, "at their own target:", now)
    assert sum(now) <= 12  # at most 0.1 % of the 12,000 draws
    assert sum(at_default_step) > 4 * max(sum(now), 3)
