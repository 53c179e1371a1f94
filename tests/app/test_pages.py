"""The Start page through Streamlit's AppTest: a new group, and a whole group's round trip.

A group is made from its name and evidence, or refused with the error and nothing written.
A group downloaded from the dashboard is imported on Start as a new group with the same
answers and the same numbers, a new facilitator link and new come-back links (their CSV
keeps names as text); a bad file or an invalid answer is refused with nothing written.
Fits use CRUXBOARD_DRAWS=100 and the same three answers as the other page tests.
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from model.example import EXAMPLE_EVIDENCE
from priors import parse_evidence
from tests.app.helpers import APP, _group, _page, _rows, _seed_members, _texts

# --- Start ---------------------------------------------------------------------------------


def test_start_creates_group_and_shows_both_links(db):
    at = AppTest.from_file(APP, default_timeout=120)
    at.context["url"] = "http://cruxboard.example:8501/"
    at.run()
    assert not at.exception
    assert at.text_area(key="start_evidence").value == EXAMPLE_EVIDENCE
    at.text_input(key="start_name").input("Reading group")
    at.form_submit_button(key="start_create").click().run()
    assert not at.exception and not at.error
    assert "2 evidence item(s)" in at.success[0].value
    gid = at.session_state["group_id"]
    token = at.session_state["facilitator_tokens"][gid]
    group = db.get_group(gid)
    assert group.name == "Reading group" and group.evidence == EXAMPLE_EVIDENCE
    assert db.is_facilitator(gid, token)
    links = [c.value for c in at.code]
    assert f"http://cruxboard.example:8501/elicit?group={gid}" in links
    assert f"http://cruxboard.example:8501/dashboard?group={gid}&token={token}" in links
    assert "keep this one private" in _texts(at)


@pytest.mark.parametrize(
    ("evidence", "message"),
    [
        ("[[evidence]\nid = 1", "not valid TOML"),
        (EXAMPLE_EVIDENCE.replace('id = "no_collusion"', 'id = "No Collusion"'), "lower-case"),
        (EXAMPLE_EVIDENCE.replace("detected = 3", "detected = 3000"), "larger than episodes"),
        ("# nothing here\n", "no [[evidence]] items"),
    ],
)
def test_start_invalid_evidence_shows_error_and_writes_nothing(db, evidence, message):
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.text_input(key="start_name").input("Reading group")
    at.text_area(key="start_evidence").input(evidence)
    at.form_submit_button(key="start_create").click().run()
    assert not at.exception
    assert len(at.error) == 1 and message in at.error[0].value.replace("\\", "")
    assert _rows(db, "groups") == 0
    assert not at.code  # no links


def test_start_without_name_writes_nothing(db):
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.form_submit_button(key="start_create").click().run()
    assert "name" in at.error[0].value
    assert _rows(db, "groups") == 0


# --- Whole group: download on the dashboard, import on Start ---------------------------------


def _upload(at: AppTest, content: bytes) -> AppTest:
    at.file_uploader(key="start_import_file").set_value(("group.json", content, "application/json"))
    at.run()
    return at.button(key="start_import").click().run()


def test_whole_group_round_trip_through_the_pages(db):
    import numpy as np

    from app_pages import common
    from model import update
    from priors import load_defaults
    from store import export_json

    def shown(at: AppTest) -> dict:
        """Every number the dashboard shows: its metrics, the seed and every table.

        The members tool lists when each member joined, which an import sets anew.
        """
        assert not at.exception and not at.error
        return {
            "metrics": [(m.label, m.value) for m in at.metric],
            "seed": at.get_by_key("db_seed").markdown[0].value,
            "tables": [
                d.value.to_dict("split")
                for d in at.dataframe
                if "joined (UTC)" not in d.value.columns
            ],
        }

    gid, token = _group(db)
    members = _seed_members(db, gid)
    ada = members[0][0]
    db.add_revision(ada.id, round=1, payload=dict(db.revisions(ada.id)[0].payload, rationale="v2"))
    at = _page("app_pages/dashboard.py", group=gid, token=token).run()
    assert "db_dl_group" in {b.key for b in at.download_button}
    original = shown(at)
    exported = db.export_group(gid)  # what the button's callable returns, as JSON text
    text = export_json(exported)

    at = AppTest.from_file(APP, default_timeout=120)
    at.context["url"] = "http://cruxboard.example:8501/"
    at.run()
    at = _upload(at, text.encode())
    assert not at.exception and not at.error
    assert "Imported 3 member(s) and 4 revision(s)" in at.success[0].value
    new_gid = at.session_state["start_created_group"]
    new_token = at.session_state["facilitator_tokens"][new_gid]
    assert new_gid != gid and db.is_facilitator(new_gid, new_token)
    assert not db.is_facilitator(new_gid, token)  # the old link does not open the copy
    again = db.export_group(new_gid)
    for part in ("participants", "revisions"):
        strip = [{k: v for k, v in x.items() if "id" not in k} for x in exported[part]]
        assert [{k: v for k, v in x.items() if "id" not in k} for x in again[part]] == strip
    assert {k: v for k, v in again["group"].items() if k != "id"} == {
        k: v for k, v in exported["group"].items() if k != "id"
    }
    # each member gets a new come-back link that opens their own answers in the copy
    links = at.session_state["start_imported"][new_gid]
    assert [name for name, _ in links] == ["Ada", "Bo", "Chidi"]
    ada_link = links[0][1]
    assert ada_link.startswith(f"http://cruxboard.example:8501/elicit?group={new_gid}&p=")
    new_ada = db.participant_for_token(new_gid, ada_link.rsplit("p=", 1)[1])
    assert new_ada is not None and new_ada.display_name == "Ada"
    assert "start_dl_member_links" in {b.key for b in at.download_button}
    # every member's latest answer is the same: credences, factors, direct P(scheming),
    # readings and rationale; so is each member's exact update by the evidence
    evidence, defaults = parse_evidence(EXAMPLE_EVIDENCE), load_defaults()
    before = common.round_data(db, db.get_group(gid), evidence, round=1)
    after = common.round_data(db, db.get_group(new_gid), evidence, round=1)
    assert [r.participant for r in after.responses] == ["Ada", "Bo", "Chidi"]
    assert after.responses[0].rationale == "v2"  # Ada's second revision, not her first
    for old, new in zip(before.responses, after.responses, strict=True):
        assert new.to_dict() == old.to_dict()
        old_update = update(old, evidence=evidence, defaults=defaults)
        new_update = update(new, evidence=evidence, defaults=defaults)
        assert np.array_equal(new_update.posterior, old_update.posterior)
        assert np.array_equal(new_update.terms, old_update.terms)
    assert after.key == before.key  # the fit's key (and seed) hashes the evidence and answers
    # and the imported group opens on the dashboard with the same numbers as the original:
    # the consensus, pools, factors, members (stated and updated credences) and cruxes
    at = _page("app_pages/dashboard.py", group=new_gid, token=new_token).run()
    copy = shown(at)
    assert copy["metrics"][0] == ("Answered in round 1", "3")
    assert len(copy["tables"]) >= 6
    assert copy == original


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe not utf-8", "not UTF-8"),
        (b"{not json", "not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
        (b"[1, 2]", "JSON list"),
        (b'{"format": "something else"}', "not a Cruxboard group export"),
    ],
)
def test_import_refuses_a_bad_file_and_writes_nothing(db, content, message):
    at = AppTest.from_file(APP, default_timeout=120).run()
    at = _upload(at, content)
    assert not at.exception
    assert "Nothing was imported" in at.error[0].value
    assert message in at.error[0].value.replace("\\", "")
    assert _rows(db, "groups") == 0 and _rows(db, "participants") == 0


def test_import_refuses_an_invalid_answer_and_writes_nothing(db):
    from store import export_json

    gid, _ = _group(db)
    _seed_members(db, gid)
    data = db.export_group(gid)
    data["revisions"][2]["payload"]["scenarios"]["A"] = 1.7  # over 100 %
    before = (_rows(db, "groups"), _rows(db, "participants"), _rows(db, "revisions"))
    at = AppTest.from_file(APP, default_timeout=120).run()
    at = _upload(at, export_json(data).encode())
    error = at.error[0].value.replace("\\", "")
    assert "revisions[2] (member 'Chidi', round 1)" in error and "credence in A" in error
    assert (_rows(db, "groups"), _rows(db, "participants"), _rows(db, "revisions")) == before


def test_member_links_csv_keeps_names_as_text():
    import csv
    import io

    from app_pages.exports import member_links_csv

    rows = [("Ada", "http://x/elicit?group=g&p=1"), ('=HYPERLINK("http://evil")', "l2")]
    rows += [("-1", "l3"), ("@SUM(A1)", "l4"), ('Bo, "the" second', "l5")]
    back = list(csv.reader(io.StringIO(member_links_csv(rows))))
    assert back[0] == ["member", "come-back link"]
    assert back[1:] == [
        ["Ada", "http://x/elicit?group=g&p=1"],
        ['\'=HYPERLINK("http://evil")', "l2"],
        ["'-1", "l3"],
        ["'@SUM(A1)", "l4"],
        ['Bo, "the" second', "l5"],
    ]
