"""A likelihood item without reference values: all four readings or none.

A blank reading on such an item used to count as likelihood 1 for that scenario, so a
member who read A = B = C = 0.2 and left D blank moved a flat prior's D to
1 / (3 * 0.2 + 1) = 0.625 without saying anything about D.
"""

from __future__ import annotations

import numpy as np
import pytest

from model.individual import filled_readings, update
from model.io import parse_responses, responses_to_csv
from model.schema import Response, ResponseError, validate_group, validate_response
from priors import parse_evidence
from tests.model.helpers import raw_response

NO_DEFAULT = parse_evidence(
    '[[evidence]]\nid = "audit"\nkind = "likelihood"\ntext = "An audit found nothing"\n'
)
WITH_DEFAULT = parse_evidence(
    '[[evidence]]\nid = "obs"\nkind = "likelihood"\ntext = "t"\n'
    "default_likelihood = { A = 0.9, B = 0.8, C = 0.85, D = 0.5 }\n"
)
FLAT = (0.25, 0.25, 0.25, 0.25)


def _raw(readings, evidence=NO_DEFAULT, name="Ada"):
    return raw_response(name, scen=FLAT, readings={evidence[0].id: readings})


def test_a_partial_answer_is_refused_naming_the_item_and_the_blank_scenarios(defaults):
    raw = _raw({"A": 0.2, "B": 0.2, "C": 0.2, "D": None})
    with pytest.raises(
        ResponseError,
        match=r"participant 'Ada': audit: no reading for D \(readings given for A, B, C\); "
        r".*give all four or leave all blank",
    ):
        validate_response(raw, evidence=NO_DEFAULT, defaults=defaults)


@pytest.mark.parametrize(
    ("readings", "missing"),
    [
        ({"A": 0.2}, "B, C, D"),
        ({"A": 0.2, "B": "", "C": "  ", "D": 0.3}, "B, C"),
        ({"D": "40%"}, "A, B, C"),
    ],
)
def test_every_partial_pattern_is_refused(defaults, readings, missing):
    with pytest.raises(ResponseError, match=f"no reading for {missing} "):
        validate_response(_raw(readings), evidence=NO_DEFAULT, defaults=defaults)


@pytest.mark.parametrize(
    "readings", [{}, dict.fromkeys("ABCD"), dict.fromkeys("ABCD", ""), None], ids=str
)
def test_all_blank_is_no_answer_and_no_update(defaults, readings):
    raw = raw_response(scen=FLAT, readings={} if readings is None else {"audit": readings})
    r = validate_response(raw, evidence=NO_DEFAULT, defaults=defaults)
    u = update(r, evidence=NO_DEFAULT, defaults=defaults)
    np.testing.assert_allclose(u.posterior, FLAT)
    assert u.defaulted.all()


def test_all_four_given_update_as_stated(defaults):
    """Flat prior, readings (0.2, 0.2, 0.2, 0.6): posterior (0.2, 0.2, 0.2, 0.6) / 1.2."""
    r = validate_response(
        _raw({"A": 0.2, "B": 0.2, "C": 0.2, "D": 0.6}), evidence=NO_DEFAULT, defaults=defaults
    )
    u = update(r, evidence=NO_DEFAULT, defaults=defaults)
    np.testing.assert_allclose(u.posterior, np.array([0.2, 0.2, 0.2, 0.6]) / 1.2)
    assert not u.defaulted.any()


def test_items_with_reference_values_still_fill_blanks_with_them(defaults):
    r = validate_response(_raw({"A": 0.2}, WITH_DEFAULT), evidence=WITH_DEFAULT, defaults=defaults)
    readings, defaulted = filled_readings(r, WITH_DEFAULT, defaults)
    np.testing.assert_array_equal(readings[0], [0.2, 0.8, 0.85, 0.5])
    np.testing.assert_array_equal(defaulted[0], [False, True, True, True])


def test_a_response_built_without_validation_is_refused_by_the_update(defaults):
    """`update` checks too: a Response built by hand cannot slip a blank through as 1."""
    r = Response(
        "Ada",
        dict(zip("ABCD", FLAT, strict=True)),
        dict.fromkeys(defaults.factor_ids),
        None,
        {"audit": {"A": 0.2, "B": 0.2, "C": 0.2, "D": None}},
    )
    with pytest.raises(ResponseError, match="give all four or leave all blank"):
        update(r, evidence=NO_DEFAULT, defaults=defaults)


def test_a_group_and_a_file_report_the_partial_row(defaults):
    rows = [_raw({"A": 0.2, "B": 0.2, "C": 0.2, "D": 0.2}), _raw({"A": 0.2}, name="Bo")]
    with pytest.raises(ResponseError, match=r"row 2: participant 'Bo': audit: no reading for B"):
        validate_group(rows, evidence=NO_DEFAULT, defaults=defaults)

    ok = validate_response(rows[0], evidence=NO_DEFAULT, defaults=defaults)
    text = responses_to_csv([ok], evidence=NO_DEFAULT, defaults=defaults)
    assert parse_responses(text, fmt="csv", evidence=NO_DEFAULT, defaults=defaults) == [ok]
    header, line = text.splitlines()
    cells = line.split(",")
    cells[header.split(",").index("audit:D")] = ""
    broken = f"{header}\n{','.join(cells)}\n"
    with pytest.raises(ResponseError, match=r"row 1: .*audit: no reading for D .*leave all blank"):
        parse_responses(broken, fmt="csv", evidence=NO_DEFAULT, defaults=defaults)
