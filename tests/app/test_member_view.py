"""A member's view of the group on the Elicit page (opened with their come-back link, `p=`).

Until `MIN_GROUP_VIEW` members have answered the current round, a member sees how many have
answered and a message, never an aggregate: with two members the pools would give away the
other's answers, and with one member who is not me they would be that member's answers.
Alone, a member sees the pools of their own answers; from the threshold on, the consensus.

The tests read the threshold from the page, so they follow it when it changes.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block

from model.example import EXAMPLE_EVIDENCE, example_responses
from model.member_view import MIN_GROUP_VIEW
from priors import SCENARIO_IDS, parse_evidence

ROOT = Path(__file__).parents[2]
APP = str(ROOT / "app.py")
ELICIT = "app_pages/elicit.py"
EVIDENCE = parse_evidence(EXAMPLE_EVIDENCE)
VIEW = "elicit_group_view"
CONSENSUS_TABLE = "elicit_consensus_table"
POOLS_TABLE = "elicit_pools_table"


WAIT = f"appears once {MIN_GROUP_VIEW} members have answered"


def _members(n: int, seed: int = 3):
    """`n` differing answers, each with a name and a rationale found nowhere else on a page."""
    return [
        dataclasses.replace(r, participant=f"Zq{seed}x{k}", rationale=f"secret of Zq{seed}x{k}")
        for k, r in enumerate(example_responses(n=n, seed=seed, evidence=EVIDENCE))
    ]


def _join(db, group_id: str, responses, *, round: int = 1) -> list[str]:
    """Each response as a new member's answer in `round`; returns their come-back tokens."""
    tokens = []
    for r in responses:
        participant, token = db.add_participant(group_id, r.participant)
        db.add_revision(participant.id, round=round, payload=r.to_dict())
        tokens.append(token)
    return tokens


def _open_as_member(group_id: str, token: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update({"group": group_id, "p": token})
    at.switch_page(ELICIT).run()
    assert not at.exception and not at.error
    return at


def _has_key(at: AppTest, key: str) -> bool:
    try:
        at.get_by_key(key)
    except KeyError:
        return False
    return True


def _texts(node) -> str:
    """Every text a node (the page, or a block of it) shows."""
    kinds = ("markdown", "text", "caption", "error", "info", "warning", "success")
    parts = [str(e.value) for kind in kinds for e in getattr(node, kind)]
    parts += [f"{m.label} {m.value}" for m in node.metric]
    return "\n".join(parts)


def _assert_no_aggregate(at: AppTest, *, answered: int, round: int, others) -> None:
    """The group view holds the count and the wait message only; nobody else's answers show."""
    view = at.get_by_key(VIEW)
    assert isinstance(view, Block)
    assert [m.value for m in view.markdown] == [
        f"{answered} member(s) have answered in round {round}."
    ]
    (message,) = view.info
    assert WAIT in message.value and "reveal another member's answers" in message.value
    assert not view.dataframe and not view.image and not view.metric and not view.caption
    assert "%" not in _texts(view)
    assert not _has_key(at, CONSENSUS_TABLE) and not _has_key(at, POOLS_TABLE)
    page = _texts(at)
    for r in others:
        assert r.participant not in page and r.rationale not in page


def test_the_threshold_keeps_two_members_from_seeing_each_other():
    assert isinstance(MIN_GROUP_VIEW, int) and MIN_GROUP_VIEW >= 5  # see model.member_view


def test_alone_a_member_sees_the_pools_of_their_own_answers(db):
    group, _ = db.create_group("Reading group", evidence=EXAMPLE_EVIDENCE)
    (me,) = _members(1)
    (token,) = _join(db, group.id, [me])
    at = _open_as_member(group.id, token)
    view = at.get_by_key(VIEW)
    assert view.markdown[0].value == "1 member(s) have answered in round 1."
    assert "first to answer" in view.info[0].value and WAIT in view.info[0].value
    (pools,) = view.dataframe
    assert list(pools.value.index) == list(SCENARIO_IDS)
    mine = [f"{round(100 * me.scenarios[s])} %" for s in SCENARIO_IDS]
    for pool in pools.value.columns:  # every pool of one answer is that answer
        assert list(pools.value[pool]) == mine, pool
    assert not _has_key(at, CONSENSUS_TABLE)


@pytest.mark.parametrize("answered", range(2, MIN_GROUP_VIEW))
def test_with_fewer_than_the_threshold_including_me_no_aggregate_is_shown(db, answered):
    """Exactly two (and any count below the threshold): no pools, no consensus."""
    group, _ = db.create_group("Reading group", evidence=EXAMPLE_EVIDENCE)
    me, *others = _members(answered)
    my_token, *_ = _join(db, group.id, [me, *others])
    at = _open_as_member(group.id, my_token)
    _assert_no_aggregate(at, answered=answered, round=1, others=others)


@pytest.mark.parametrize("answered", range(MIN_GROUP_VIEW))
def test_members_who_are_not_me_in_a_round_i_have_not_answered_show_no_aggregate(db, answered):
    """I answered round 1 only; in round 2, `answered` others have (one: the case that matters,
    as the pools of one answer are that answer)."""
    group, _ = db.create_group("Reading group", evidence=EXAMPLE_EVIDENCE)
    me, *round_one = _members(3, seed=5)
    my_token, *_ = _join(db, group.id, [me, *round_one])
    assert db.open_next_round(group.id) == 2
    others = _members(answered, seed=11)
    _join(db, group.id, others, round=2)
    at = _open_as_member(group.id, my_token)
    assert at.number_input(key="el_cred_A").value == round(100 * me.scenarios["A"])  # my own
    _assert_no_aggregate(at, answered=answered, round=2, others=[*round_one, *others])


def test_at_the_threshold_the_consensus_shows_and_no_ones_answers(db):
    group, _ = db.create_group("Reading group", evidence=EXAMPLE_EVIDENCE)
    me, *others = _members(MIN_GROUP_VIEW)
    my_token, *_ = _join(db, group.id, [me, *others])
    at = _open_as_member(group.id, my_token)
    view = at.get_by_key(VIEW)
    assert view.markdown[0].value == f"{MIN_GROUP_VIEW} member(s) have answered in round 1."
    (consensus,) = view.dataframe
    assert list(consensus.value.columns) == [
        "group consensus μ",
        "after the evidence",
        "average (linear pool)",
        "log pool",
    ]  # no median: with my own answer, an order statistic would give others away
    assert len(consensus.value) == len(SCENARIO_IDS)
    assert "Individual answers, and anything that would reveal one (a median), are not shown" in (
        _texts(view)
    )
    assert not _has_key(at, POOLS_TABLE) and not view.info
    page = _texts(at)
    for r in others:
        assert r.participant not in page and r.rationale not in page
