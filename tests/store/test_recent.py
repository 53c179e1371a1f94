"""The groups answered most recently (what the app fits as it starts), on SQLite and PostgreSQL."""

from store import Store


def _member(store: Store, group_id: str, name: str, *, round: int = 1) -> int:
    member, _ = store.add_participant(group_id, name)
    store.add_revision(member.id, round=round, payload={"v": name})
    return member.id


def test_newest_answer_first_each_group_once_with_its_round(store):
    quiet, _ = store.create_group("Quiet", evidence="")
    old, _ = store.create_group("Old", evidence="")
    busy, _ = store.create_group("Busy", evidence="")
    later, _ = store.create_group("Later", evidence="")
    assert store.recently_answered(5) == []  # no answers yet: nothing to fit
    _member(store, old.id, "a")
    ada = _member(store, busy.id, "Ada")
    _member(store, later.id, "b")
    _member(store, busy.id, "Bo")
    store.open_next_round(busy.id)
    store.add_revision(ada, round=2, payload={"v": "Ada again"})

    assert store.recently_answered(5) == [(busy.id, 2), (later.id, 1), (old.id, 1)]
    assert store.recently_answered(2) == [(busy.id, 2), (later.id, 1)]
    assert store.recently_answered(0) == []
    assert quiet.id not in {g for g, _ in store.recently_answered(5)}

    _member(store, old.id, "c")  # a new answer moves its group to the front
    assert store.recently_answered(2) == [(old.id, 1), (busy.id, 2)]
