"""The dashboard of a group too small for the group model: it says so and shows the pools."""

from __future__ import annotations

from tests.app.helpers import _answer, _group, _page, _texts


def test_one_member_dashboard_says_the_model_is_not_fitted_and_shows_her_own_pools(db):
    gid, token = _group(db)
    _answer(db, gid, "Ada", (0.75, 0.13, 0.07, 0.05), 0.021, 0.02)
    at = _page("app_pages/dashboard.py", group=gid, token=token).run()
    assert not at.exception
    note = at.get_by_key("db_not_fitted")
    assert note is not None
    text = _texts(at)
    assert "the group model is fitted from three members on" in text
    assert "What the group believes" not in [h.value for h in at.header]
    pools = next(d.value for d in at.dataframe if "linear (prior)" in d.value.columns)
    # one member: every pool of the stated credences is her answer, and of the posteriors
    # her own exact posterior
    for column in pools.columns:
        if "(prior)" in column:
            assert list(pools[column]) == ["75 %", "13 %", "7 %", "5 %"]
    assert len({tuple(pools[c]) for c in pools.columns if "(posterior)" in c}) == 1
    labels = [b.label for b in at.get("download_button")]
    assert "Posterior (NetCDF)" not in labels
