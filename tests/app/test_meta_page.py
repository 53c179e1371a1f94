"""“What will the group say?” on the member's page, and the dashboard's meta section.

The question: never pre-filled from the credences, pre-filled from the member's own earlier
forecast, skippable as a whole (nothing stored), a partial or mis-summed answer refused with
a message and nothing written. The member's own false-consensus gap shows once five members
have given a forecast, and never another member's forecast. The dashboard section shows the
group's numbers, or with too few answers only the count and the reason.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from model.example import EXAMPLE_EVIDENCE
from model.meta import MIN_META_ANSWERS, meta_predictions
from model.schema import validate_response
from priors import SCENARIO_IDS, load_defaults, parse_evidence
from tests.model.helpers import raw_response

ROOT = Path(__file__).parents[2]
APP = str(ROOT / "app.py")
ELICIT = "app_pages/elicit.py"
EVIDENCE = parse_evidence(EXAMPLE_EVIDENCE)
GAP = "elicit_meta_gap"
MAJORITY = ((0.6, 0.2, 0.1, 0.1), (0.7, 0.1, 0.1, 0.1))  # (credences, forecast of the group)
MINORITY = ((0.1, 0.1, 0.1, 0.7), (0.6, 0.1, 0.1, 0.2))


def _page(**params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(params)
    return at.switch_page(ELICIT).run()


def _payload(name: str, cred, meta) -> dict:
    raw = raw_response(name, scen=cred)
    if meta is not None:
        raw["meta"] = dict(zip(SCENARIO_IDS, meta, strict=True))
    return validate_response(raw, evidence=EVIDENCE).to_dict()


def _join(db, group_id: str, members) -> list[str]:
    """Each (name, credences, forecast) as a member's answer; returns their tokens."""
    tokens = []
    for name, cred, meta in members:
        participant, token = db.add_participant(group_id, name)
        db.add_revision(participant.id, round=1, payload=_payload(name, cred, meta))
        tokens.append(token)
    return tokens


def _fill(at: AppTest, cred, meta, *, name: str = "Ada") -> None:
    for s, v in zip(SCENARIO_IDS, cred, strict=True):
        at.number_input(key=f"el_cred_{s}").set_value(v)
    for s, v in zip(SCENARIO_IDS, meta, strict=True):
        at.number_input(key=f"el_meta_{s}").set_value(v)
    at.text_input(key="el_name").input(name)
    at.run()


def _meta_inputs(at: AppTest) -> list[int | None]:
    return [at.number_input(key=f"el_meta_{s}").value for s in SCENARIO_IDS]


def _texts(node) -> str:
    kinds = ("markdown", "text", "caption", "error", "info", "warning", "success")
    parts = [str(e.value) for kind in kinds for e in getattr(node, kind)]
    parts += [f"{m.label} {m.value}" for m in node.metric]
    return "\n".join(parts)


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        ((50, 50, None, None), "partly answered (missing: C, D)"),
        ((None, None, None, 100), "partly answered (missing: A, B, C)"),
        ((50, 20, 20, 20), "add up to 110 %; they must sum to 100 %"),
    ],
)
def test_a_partial_or_mis_summed_forecast_is_refused_and_nothing_is_written(db, meta, message):
    group, _ = db.create_group("Meta", evidence=EXAMPLE_EVIDENCE)
    at = _page(group=group.id)
    assert not at.exception
    _fill(at, (40, 30, 20, 10), meta)
    assert any("give all four, or leave all four blank" in w.value for w in at.warning)
    at.button(key="elicit_submit").click().run()
    assert not at.exception
    (error,) = at.error
    text = error.value.replace("\\", "")
    assert message in text and "Nothing was saved" in text
    assert "leave all four blank to skip" in text
    assert db.participants(group.id) == []
    # the feedback on the credences still shows: a half-filled forecast does not hide it
    assert at.get_by_key("elicit_feedback") is not None


def test_a_forecast_is_saved_never_pre_filled_and_comes_back_as_given(db):
    group, _ = db.create_group("Meta", evidence=EXAMPLE_EVIDENCE)
    at = _page(group=group.id)
    assert _meta_inputs(at) == [None] * 4  # never filled in for the member
    assert at.get_by_key("elicit_meta") is not None
    at.number_input(key="el_cred_A").set_value(40)
    at.run()
    assert _meta_inputs(at) == [None] * 4  # not copied from the credences either
    _fill(at, (40, 30, 20, 10), (50, 20, 20, 10))
    assert any(s.value == "Total: 100 %" for s in at.get_by_key("elicit_meta_total").success)
    at.button(key="elicit_submit").click().run()
    assert not at.exception and not at.error
    (participant,) = db.participants(group.id)
    (revision,) = db.revisions(participant.id)
    assert revision.payload["meta"] == {"A": 0.5, "B": 0.2, "C": 0.2, "D": 0.1}
    token = at.session_state["edit_tokens"][group.id]

    back = _page(group=group.id, p=token)
    assert not back.exception
    assert _meta_inputs(back) == [50, 20, 20, 10]  # their own earlier forecast
    assert [back.number_input(key=f"el_cred_{s}").value for s in SCENARIO_IDS] == [40, 30, 20, 10]
    # alone in the round: the count and the wait, no numbers about anyone
    gap = back.get_by_key(GAP)
    assert "1 member(s) have said what they expect the group to say" in _texts(gap)
    assert f"appears once {MIN_META_ANSWERS} have" in _texts(gap)
    assert not gap.metric


def test_a_skipped_forecast_stores_nothing_and_comes_back_blank(db):
    group, _ = db.create_group("Meta", evidence=EXAMPLE_EVIDENCE)
    at = _page(group=group.id)
    _fill(at, (40, 30, 20, 10), (None, None, None, None), name="Bo")
    assert "Skipped (all four blank)." in [c.value for c in at.caption]
    at.button(key="elicit_submit").click().run()
    assert not at.exception and not at.error
    (participant,) = db.participants(group.id)
    (revision,) = db.revisions(participant.id)
    assert "meta" not in revision.payload
    back = _page(group=group.id, p=at.session_state["edit_tokens"][group.id])
    assert _meta_inputs(back) == [None] * 4
    assert "You skipped" in _texts(back.get_by_key(GAP))


def test_below_five_forecasts_a_member_sees_only_the_count(db):
    """Two members, both with a forecast: no gap, no numbers, nobody else's forecast."""
    group, _ = db.create_group("Meta", evidence=EXAMPLE_EVIDENCE)
    other = (MINORITY[0], (0.37, 0.21, 0.21, 0.21))
    tokens = _join(db, group.id, [("Ada", *MAJORITY), ("Zq9", *other)])
    at = _page(group=group.id, p=tokens[0])
    assert not at.exception
    gap = at.get_by_key(GAP)
    assert "2 member(s) have said" in _texts(gap)
    assert not gap.metric and "points" not in _texts(gap)
    page = _texts(at)
    assert "Zq9" not in page
    assert "37" not in page and "21" not in page  # Zq9's forecast
    assert [at.number_input(key=f"el_meta_{s}").value for s in SCENARIO_IDS] == [70, 10, 10, 10]


def test_with_five_forecasts_a_member_sees_their_own_gap(db):
    """Four members like A and forecast more A, one likes D; a sixth skipped the forecast.

    Over the five who forecast: ā = (4·(.6, .2, .1, .1) + (.1, .1, .1, .7))/5
    = (.5, .18, .1, .22). Ada (a majority member): E = ½‖(.7, .1, .1, .1) − (.6, .2, .1, .1)‖₁
    = .1 (10 points); A = ½(.1 + .02 + 0 + .12) = .12 (12 points); gap +2 points.
    """
    group, _ = db.create_group("Meta", evidence=EXAMPLE_EVIDENCE)
    members = [("Ada", *MAJORITY), *((f"Maj{k}", *MAJORITY) for k in range(3))]
    members += [("Mina", *MINORITY), ("Skip", (0.25, 0.25, 0.25, 0.25), None)]
    tokens = _join(db, group.id, members)
    at = _page(group=group.id, p=tokens[0])
    assert not at.exception and not at.error
    gap = at.get_by_key(GAP)
    assert [(m.label, m.value) for m in gap.metric] == [
        ("You expected the group to be", "10 points away"),
        ("The group is", "12 points away"),
        ("Your false-consensus gap", "+2 points"),
    ]
    assert "further from you than you expected" in _texts(gap)
    assert "5 members who gave both" in _texts(gap)
    page = _texts(at)
    assert "Mina" not in page and "Skip" not in page
    # the skipper sees that they skipped, nothing of the others
    skipper = _page(group=group.id, p=tokens[-1])
    assert "You skipped" in _texts(skipper.get_by_key(GAP))
    assert not skipper.get_by_key(GAP).metric


# --- the dashboard section ---------------------------------------------------------------------


def _section(meta, key: str) -> None:
    from app_pages.sections import meta as section
    from priors import load_defaults

    section.render(meta, key=key, defaults=load_defaults())


def _group_of(n_major: int, n_minor: int) -> list:
    defaults = load_defaults()
    out = []
    for k, (cred, meta) in enumerate([MAJORITY] * n_major + [MINORITY] * n_minor):
        raw = raw_response(f"m{k}", scen=cred)
        raw["meta"] = dict(zip(SCENARIO_IDS, meta, strict=True))
        out.append(validate_response(raw, evidence=defaults.evidence, defaults=defaults))
    return out


def test_the_dashboard_section_shows_the_surprise_and_what_it_means(monkeypatch):
    monkeypatch.setenv("CRUXBOARD_DRAWS", "100")
    meta = meta_predictions(_group_of(6, 3))
    at = AppTest.from_function(_section, args=(meta, "k1"), default_timeout=60).run()
    assert not at.exception
    (table,) = [d.value for d in at.dataframe]
    assert list(table["actual mean"]) == ["43 %", "17 %", "10 %", "30 %"]
    assert list(table["predicted mean"]) == ["67 %", "10 %", "10 %", "13 %"]
    assert table["surprise, points [94 % interval]"].iloc[3].startswith("+16.7 [")
    text = _texts(at)
    assert "**D is surprisingly popular**" in text
    assert "Prelec" in text and "small group" in text and "misperception" in text
    assert "bootstrap over members" in text
    assert len(at.image) == 1


def test_the_dashboard_section_with_too_few_shows_only_the_count():
    meta = meta_predictions(_group_of(3, 1))
    at = AppTest.from_function(_section, args=(meta, "k2"), default_timeout=60).run()
    assert not at.exception
    assert not at.dataframe and not at.image and not at.metric
    (info,) = at.info
    assert info.value.replace("\\", "").startswith(
        "4 member(s) have said what they expect the group to say: shown once 5 members"
    )
