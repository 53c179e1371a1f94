"""Coherence notes: correct, in percent, beyond the form's resolution, for any reader.

The form takes whole percents, so a note is made only when its condition survives moving
every answer it uses by half a step (0.5 percentage point) towards coherence.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from model.individual import (
    COHERENCE_FACTOR,
    IMPLICATION_FACTOR,
    THIS_MEMBER,
    CoherenceNote,
    coherence,
    rising_factors_warning,
)
from model.schema import validate_response
from tests.model.helpers import raw_response

FACTOR_IDS = ("non_corrigibility", "misaligned_goals", "evades_guardrails", "strategic_reasoning")


def resp(defaults, *, factors=(0.3, 0.4, 0.5, 0.6), d=0.1, direct=0.05, name="Ada"):
    scen = (round(0.6 - d, 10), 0.2, 0.2, d)
    raw = raw_response(
        name, scen=scen, factors=dict(zip(FACTOR_IDS, factors, strict=True)), p_scheming=direct
    )
    return validate_response(raw, evidence=defaults.evidence, defaults=defaults)


def kinds(r):
    return [n.kind for n in coherence(r).records]


def test_a_direct_answer_above_d_is_not_blamed_for_the_products_shortfall(defaults):
    """Direct P(scheming) 12 % is above P(D) 10 %; the factors (31, 50, 40, 50 %) multiply
    to 0.31 * 0.5 * 0.4 * 0.5 = 3.1 %, which is below 10 % by 6.9 points."""
    c = coherence(resp(defaults, factors=(0.31, 0.5, 0.4, 0.5), d=0.1, direct=0.12))
    assert [n.kind for n in c.records] == ["product_vs_direct", "product_below_d"]
    below = c.records[1]
    assert below.value == pytest.approx(0.031) and below.reference == 0.1
    assert below.gap == pytest.approx(0.069)
    assert c.notes[1].startswith(
        "Your factor product is 3.1 %, below your credence in D of 10 % by 6.9 points."
    )
    assert not any("direct P(scheming) is 12 %, below" in n for n in c.notes)
    assert c.notes[0].startswith(
        "Your four factors multiply to 3.1 %, but your direct P(scheming) is 12 %: "
        "the direct answer is 3.9 times the product, 8.9 points higher."
    )


def test_a_direct_answer_below_d_says_so_in_percent(defaults):
    """P(D) 10 %, direct 5 %: below by 5 points (and the product 3.6 % is below too)."""
    c = coherence(resp(defaults))
    assert [n.kind for n in c.records] == ["product_below_d", "direct_below_d"]
    assert c.notes[1].startswith(
        "Your direct P(scheming) is 5 %, below your credence in D of 10 % by 5 points."
    )
    assert "must be at least P(D)" in c.notes[1]
    assert "0.036" not in " ".join(c.notes) and "3.6 %" in c.notes[0]


@pytest.mark.parametrize(
    ("change", "kind"),
    [
        # direct below D: 5 % - 0.5 = 4.5 % against 1.5 * (3 % + 0.5) = 5.25 %: no note;
        # against 1.5 * (2 % + 0.5) = 3.75 %: a note (the old rule noted both: 5 >= 1.5 * 3);
        # the product 0.4 * 0.5 * 0.5 * 0.3 = 3 % is within both rules' allowance
        ({"d": 0.05, "direct": 0.03, "factors": (0.4, 0.5, 0.5, 0.3)}, None),
        ({"d": 0.05, "direct": 0.02, "factors": (0.4, 0.5, 0.5, 0.3)}, "direct_below_d"),
        # product 3.6 % below D: each factor half a step up gives
        # 0.305 * 0.405 * 0.505 * 0.605 = 3.774 %; D 6 % - 0.5 = 5.5 % < 1.5 * 3.774 = 5.66 %:
        # no note (the old rule noted it: 6 >= 1.5 * 3.6); D 7 %: 6.5 % >= 5.66 %, a note
        ({"d": 0.06, "direct": 0.05}, None),
        ({"d": 0.07, "direct": 0.05}, "product_below_d"),
        # product 3.6 % against direct 11 %: 10.5 % < 3 * 3.774 = 11.32 %, no note (the old
        # rule noted it: 11 / 3.6 = 3.06); direct 12 %: 11.5 % >= 11.32 %, a note
        ({"d": 0.02, "direct": 0.11}, None),
        ({"d": 0.02, "direct": 0.12}, "product_vs_direct"),
        # product above direct: factors 0.9^4 = 65.61 %, half a step down 0.895^4 = 64.16 %,
        # against 3 * (21 % + 0.5) = 64.5 %: no note; direct 20 %: 61.5 % <= 64.16 %, a note
        ({"d": 0.02, "direct": 0.21, "factors": (0.9, 0.9, 0.9, 0.9)}, None),
        ({"d": 0.02, "direct": 0.20, "factors": (0.9, 0.9, 0.9, 0.9)}, "product_vs_direct"),
    ],
)
def test_a_gap_within_half_a_step_of_each_answer_is_no_note(defaults, change, kind):
    assert kinds(resp(defaults, **change)) == ([] if kind is None else [kind])


def _survives(direct, d, factors, h=0.005):
    """Brute force: which conditions hold at every corner of the half-step box."""
    out = set()
    corners = list(itertools.product((-h, h), repeat=6))
    for kind in ("product_vs_direct_low", "product_vs_direct_high", "product", "direct"):
        holds = True
        for c in corners:
            q = min(max(direct + c[0], 0), 1)
            dd = min(max(d + c[1], 0), 1)
            moved = [min(max(f + e, 0), 1) for f, e in zip(factors, c[2:], strict=True)]
            prod = float(np.prod(moved))
            if kind == "product_vs_direct_low":
                holds &= q >= COHERENCE_FACTOR * prod
            elif kind == "product_vs_direct_high":
                holds &= prod >= COHERENCE_FACTOR * q
            elif kind == "product":
                holds &= dd >= IMPLICATION_FACTOR * prod
            else:
                holds &= dd >= IMPLICATION_FACTOR * q
        if holds:
            out.add(kind.removesuffix("_low").removesuffix("_high"))
    return out


def test_notes_agree_with_a_brute_force_over_the_half_step_box(defaults, rng):
    """Independent check: a note is made exactly when its condition holds at all 64
    corners of the box of answers within half a step of those given."""
    names = {"product_vs_direct": "product_vs_direct", "product_below_d": "product"}
    names["direct_below_d"] = "direct"
    for _ in range(300):
        factors = tuple(rng.integers(0, 101, 4) / 100)
        direct = rng.integers(0, 101) / 100
        d = rng.integers(0, 61) / 100
        made = kinds(resp(defaults, factors=factors, d=d, direct=direct))
        got = {names[k] for k in made if k != "warning_sign"}
        assert got == _survives(direct, d, factors), (factors, direct, d)


def test_records_word_the_note_for_the_member_or_for_someone_else(defaults):
    warn = resp(defaults, factors=(0.8, 0.7, 0.9, 0.05), d=0.3, direct=0.5)
    c = coherence(warn)
    assert [n.kind for n in c.records] == [
        "product_vs_direct",
        "product_below_d",
        "warning_sign",
    ]
    assert c.notes == tuple(n.text() for n in c.records)
    for note in c.records:
        assert isinstance(note, CoherenceNote)
        you, ada, this = note.text(), note.text("Ada"), note.text(THIS_MEMBER)
        assert "your" in you.lower() and "Ada" not in you
        assert "Ada's" in ada and "your" not in ada.lower()
        assert "This member's" in this or "this member's" in this
        assert "your" not in this.lower()
    assert c.records[0].text("Ada").startswith("Ada's four factors multiply to 2.5 %")
    assert c.records[1].text(THIS_MEMBER).startswith("This member's factor product is 2.5 %")
    assert c.records[2].text("Ada") == (
        "Warning sign: three factors are at 50 % or above and only strategic_reasoning (5 %) "
        "keeps Ada's factor product at 2.5 %; if that one factor moves, the product moves "
        "with it."
    )


def test_a_coherent_member_gets_no_notes(defaults):
    c = coherence(resp(defaults, d=0.02, direct=0.05))
    assert c.notes == () and c.records == ()


def test_the_warning_across_revisions_is_in_percent(defaults):
    before = resp(defaults, factors=(0.3, 0.3, 0.3, 0.5))
    after = resp(defaults, factors=(0.5, 0.5, 0.5, 0.12))
    text = rising_factors_warning(before, after)
    assert "from 1.35 %" not in text and "to 1.5 %" in text and "0.015" not in text
