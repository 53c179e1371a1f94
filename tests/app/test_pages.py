"""The pages through Streamlit's AppTest: each page's happy path, its errors, and the exports.

AppTest keeps query parameters on a page switch and a real browser does not, so state that
must survive navigation is checked here through session state; the browser tests prove the
navigation itself. Fits use CRUXBOARD_DRAWS=100, and every test that fits seeds the same
three answers, so the whole module fits the model only a few times.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from model.example import EXAMPLE_EVIDENCE
from model.figures import FIGURES
from model.io import parse_responses
from model.schema import validate_response
from model.summary import summary_json
from priors import parse_evidence
from tests.model.helpers import raw_response

APP = str(Path(__file__).parents[2] / "app.py")
NOT_ALLOWED = "Not allowed"
SCENARIOS = ("A", "B", "C", "D")
# Three members whose views differ (credences A-D, direct P(scheming), d_D reading).
MEMBERS = [
    ("Ada", (0.6, 0.2, 0.15, 0.05), 0.03, 0.3),
    ("Bo", (0.3, 0.3, 0.2, 0.2), 0.1, 0.05),
    ("Chidi", (0.1, 0.1, 0.4, 0.4), 0.4, 0.01),
]


def _rows(db, table: str) -> int:
    with closing(sqlite3.connect(db.path)) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def _page(path: str, **params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(params)
    return at.switch_page(path)


def _group(db, evidence: str = EXAMPLE_EVIDENCE) -> tuple[str, str]:
    group, token = db.create_group("Reading group", evidence=evidence)
    return group.id, token


def _answer(db, group_id: str, name: str, scen, direct: float, d_reading: float, round=1):
    raw = raw_response(name, scen, p_scheming=direct)
    raw["readings"]["monitoring_counts"]["D"] = d_reading
    payload = validate_response(raw, evidence=parse_evidence(EXAMPLE_EVIDENCE)).to_dict()
    participant, token = db.add_participant(group_id, name)
    db.add_revision(participant.id, round=round, payload=payload)
    return participant, token


def _seed_members(db, group_id: str) -> list[tuple]:
    return [_answer(db, group_id, *m) for m in MEMBERS]


def _texts(at: AppTest) -> str:
    """Everything the page shows as text, for checks that something is (not) shown."""
    parts = [
        e.value
        for kind in ("markdown", "text", "caption", "error", "info", "warning")
        for e in getattr(at, kind)
    ]
    parts += [str(m.value) for m in at.metric] + [t.value for t in at.title]
    return "\n".join(map(str, parts))


def _fill(at: AppTest, credences, *, name: str | None = None) -> None:
    for s, v in zip(SCENARIOS, credences, strict=True):
        if v is not None:
            at.number_input(key=f"el_cred_{s}").set_value(v)
    if name is not None:
        at.text_input(key="el_name").input(name)


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


# --- Elicit --------------------------------------------------------------------------------


def test_elicit_without_link_or_with_unknown_group(db):
    at = _page("app_pages/elicit.py").run()
    assert not at.exception and "participant link" in at.info[0].value
    at = _page("app_pages/elicit.py", group="nosuchgroup").run()
    assert not at.exception and "No group found" in at.error[0].value


def test_elicit_live_feedback_then_submit(db):
    gid, _ = _group(db)
    at = _page("app_pages/elicit.py", group=gid).run()
    assert not at.exception
    assert len(at.image) == 4  # one sketch per scenario
    # nothing is pre-entered, references are shown as captions
    assert all(n.value is None for n in at.number_input)
    assert any("reference: 60 %" in c.value for c in at.caption)
    assert "Feedback appears once" in at.info[0].value

    _fill(at, (40, 30, 20, 10), name="Ada [link](http://x.example) <b>")
    at.number_input(key="el_fac_non_corrigibility").set_value(50)
    at.number_input(key="el_fac_misaligned_goals").set_value(60)
    at.number_input(key="el_fac_evades_guardrails").set_value(70)
    at.number_input(key="el_fac_strategic_reasoning").set_value(10)
    at.number_input(key="el_p_scheming").set_value(20)
    at.number_input(key="el_read_monitoring_counts_D").set_value(1)
    at.text_area(key="el_rationale").input("Evals **track** behaviour. $x$")
    at.run()
    assert not at.exception
    assert at.success[0].value == "Total: 100 %"
    tables = {d.value.columns[0]: d.value for d in at.dataframe}
    assert list(tables["you said"]["you said"]) == ["40 %", "30 %", "20 %", "10 %"]
    log_odds = tables["B vs A"]
    assert list(log_odds.index) == [
        "your credences (prior)",
        "evidence: monitoring_counts",
        "evidence: no_collusion",
        "after the evidence (sum)",
    ]
    assert log_odds.loc["your credences (prior)", "B vs A"] == "-0.29"  # log(30/40)
    assert [m.value for m in at.metric] == ["2.1 %", "20.0 %", "10.0 %"]  # 0.5 * 0.6 * 0.7 * 0.1
    warnings = " ".join(w.value for w in at.warning)
    assert "Warning sign" in warnings and "multiply to" in warnings
    assert "monitoring_counts" in tables["A"].index  # undetected misalignment table
    assert _rows(db, "participants") == 0  # feedback writes nothing

    at.button(key="elicit_submit").click().run()
    assert not at.exception and not at.error
    assert "Saved your answers for round 1" in at.success[-1].value.replace("\\", "")
    (participant,) = db.participants(gid)
    assert participant.display_name == "Ada [link](http://x.example) <b>"
    (revision,) = db.revisions(participant.id)
    payload = revision.payload
    assert payload["scenarios"] == {"A": 0.4, "B": 0.3, "C": 0.2, "D": 0.1}
    assert payload["readings"]["monitoring_counts"] == {"A": None, "B": None, "C": None, "D": 0.01}
    assert payload["rationale"] == "Evals **track** behaviour. $x$"
    token = at.session_state["edit_tokens"][gid]
    assert db.participant_for_token(gid, token) == participant
    assert at.query_params == {"group": gid, "p": token}
    saved_link = at.get_by_key("elicit_saved_link")  # the come-back link, under the message
    assert saved_link.code[0].value == f"/elicit?group={gid}&p={token}"
    # the name and rationale are plain text, never Markdown
    assert participant.display_name in [t.value for t in at.text]
    assert "Evals **track** behaviour. $x$" in [t.value for t in at.text]
    # the group view: only this member so far, so only the pools (their own answers)
    assert "1 member(s) have answered in round 1" in _texts(at)
    assert "linear" in [d.value for d in at.dataframe][-1].columns


@pytest.mark.parametrize(
    ("credences", "name", "message"),
    [
        ((40, 30, 20, 0), "Bo", "add up to 90 %; they must sum to 100 %"),
        ((40, 30, 30, None), "Bo", "missing: D"),
        ((None, None, None, None), "Bo", "missing: A, B, C, D"),
        ((40, 30, 20, 10), None, "display name"),
    ],
)
def test_elicit_bad_input_shows_message_and_writes_nothing(db, credences, name, message):
    gid, _ = _group(db)
    at = _page("app_pages/elicit.py", group=gid).run()
    _fill(at, credences, name=name)
    at.run()
    at.button(key="elicit_submit").click().run()
    assert not at.exception
    assert len(at.error) == 1
    text = at.error[0].value.replace("\\", "")
    assert message in text and "Nothing was saved" in text
    assert _rows(db, "participants") == 0 and _rows(db, "revisions") == 0
    assert "edit_tokens" not in at.session_state


def test_elicit_refuses_evidence_impossible_under_every_scenario(db):
    gid, _ = _group(db)
    at = _page("app_pages/elicit.py", group=gid).run()
    _fill(at, (40, 30, 20, 10), name="Bo")
    for s in SCENARIOS:
        at.number_input(key=f"el_read_no_collusion_{s}").set_value(0)
    at.run()
    assert "impossible under every scenario" in at.warning[-1].value.replace("\\", "")
    at.button(key="elicit_submit").click().run()
    assert "impossible under every scenario" in at.error[0].value.replace("\\", "")
    assert _rows(db, "participants") == 0


def test_elicit_rescale_button_makes_credences_add_up(db):
    gid, _ = _group(db)
    at = _page("app_pages/elicit.py", group=gid).run()
    assert at.button(key="elicit_rescale").disabled
    _fill(at, (20, 20, 20, 10))
    at.run()
    assert "Total: 70 %" in at.warning[0].value
    at.button(key="elicit_rescale").click().run()
    assert [at.number_input(key=f"el_cred_{s}").value for s in SCENARIOS] == [29, 29, 28, 14]
    assert at.success[0].value == "Total: 100 %"


def test_elicit_come_back_prefills_shows_history_and_adds_a_revision(db):
    gid, _ = _group(db)
    members = _seed_members(db, gid)
    participant, token = members[0]
    at = _page("app_pages/elicit.py", group=gid, p=token).run()
    assert not at.exception
    assert [at.number_input(key=f"el_cred_{s}").value for s in SCENARIOS] == [60, 20, 15, 5]
    assert at.number_input(key="el_p_scheming").value == 3
    assert at.number_input(key="el_read_monitoring_counts_D").value == 30
    history = next(d.value for d in at.dataframe if "saved (UTC)" in d.value.columns)
    assert len(history) == 1 and history.iloc[0]["A"] == "60 %"
    assert "Ada" in [t.value for t in at.text]
    # three answered: below five the group view shows only the count, no one's answers
    assert "3 member(s) have answered in round 1" in _texts(at)
    assert not [d for d in at.dataframe if "group consensus μ" in d.value.columns]
    assert not [t.value for t in at.text if t.value in ("Bo", "Chidi")]

    at.number_input(key="el_cred_A").set_value(50)
    at.number_input(key="el_cred_B").set_value(30)
    at.run()
    at.button(key="elicit_submit").click().run()
    assert not at.exception and not at.error
    revisions = db.revisions(participant.id)
    assert [r.payload["scenarios"]["A"] for r in revisions] == [0.6, 0.5]  # never overwritten
    history = next(d.value for d in at.dataframe if "saved (UTC)" in d.value.columns)
    assert list(history["A"]) == ["60 %", "50 %"]
    assert _rows(db, "participants") == 3


@pytest.mark.parametrize("token", ["not-a-token", "x" * 43, "y" * 5000])
def test_elicit_wrong_come_back_token_is_not_allowed_and_leaks_nothing(db, token):
    gid, facilitator = _group(db)
    (ada, ada_token), *_ = _seed_members(db, gid)
    for p in (token, facilitator):  # a made-up token, or the facilitator's in the wrong place
        at = _page("app_pages/elicit.py", group=gid, p=p).run()
        assert not at.exception
        assert "Not allowed" in at.error[0].value
        text = _texts(at)
        assert "Ada" not in text and "member(s)" not in text and "60 %" not in text
        assert not at.number_input and not at.text_input and not at.button and not at.dataframe
    # another group's member link does not open this group
    other, _ = _group(db)
    _, stranger = _answer(db, other, "Zed", (0.25, 0.25, 0.25, 0.25), 0.1, 0.1)
    at = _page("app_pages/elicit.py", group=gid, p=stranger).run()
    assert "Not allowed" in at.error[0].value and not at.number_input
    assert _rows(db, "participants") == 4 and _rows(db, "revisions") == 4  # nothing written
    # the right link still opens Ada's own answers
    at = _page("app_pages/elicit.py", group=gid, p=ada_token).run()
    assert not at.error and at.number_input(key="el_cred_A").value == 60


def test_elicit_form_survives_a_page_switch(db):
    gid, _ = _group(db)
    at = _page("app_pages/elicit.py", group=gid).run()
    _fill(at, (40, 30, 20, 10), name="Ada")
    at.run()
    at.query_params.clear()  # as a real browser's navigation does
    at.switch_page("app_pages/start.py").run()
    at.query_params.clear()
    at.switch_page("app_pages/elicit.py").run()
    assert not at.exception
    assert at.query_params == {"group": gid}  # the group came back from session state
    assert [at.number_input(key=f"el_cred_{s}").value for s in SCENARIOS] == [40, 30, 20, 10]
    assert at.text_input(key="el_name").value == "Ada"


# --- Dashboard -----------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "wrong", "x" * 43])
def test_dashboard_refuses_without_the_facilitator_token(db, token):
    gid, right = _group(db)
    _seed_members(db, gid)
    params = {"group": gid} if token is None else {"group": gid, "token": token}
    at = _page("app_pages/dashboard.py", **params).run()
    assert not at.exception
    assert NOT_ALLOWED in at.error[0].value
    text = _texts(at)
    assert not at.metric and not at.dataframe and not at.image
    assert "Reading group" not in text and "3" not in text
    # another group's facilitator token does not open this one
    _, other = _group(db)
    at = _page("app_pages/dashboard.py", group=gid, token=other).run()
    assert NOT_ALLOWED in at.error[0].value and not at.metric


def test_dashboard_unknown_group_says_the_same(db):
    at = _page("app_pages/dashboard.py", group="nosuchgroup", token="x" * 43).run()
    assert NOT_ALLOWED in at.error[0].value and not at.metric


def test_dashboard_with_no_answers_yet(db):
    gid, token = _group(db)
    at = _page("app_pages/dashboard.py", group=gid, token=token).run()
    assert not at.exception
    assert at.metric[0].value == "0"
    assert any("Nobody has answered yet" in i.value for i in at.info)


def test_dashboard_shows_the_group_and_the_exports_work(db, monkeypatch):
    import model.figures
    import model.report
    from app_pages import ahead as app_ahead

    asked = []  # the figures the report draws itself
    real = model.report._rendered_pngs
    monkeypatch.setattr(
        model.report, "_rendered_pngs", lambda a, names: asked.append(names) or real(a, names)
    )
    ahead = []  # the figures drawn ahead, and their images
    real_draw = model.figures.draw_pngs

    def draw_pngs(a, names, **kwargs):
        ahead.append((tuple(names), kwargs["nice"], real_draw(a, names, **kwargs)))
        return ahead[-1][2]

    monkeypatch.setattr(model.figures, "draw_pngs", draw_pngs)
    monkeypatch.setattr(app_ahead, "_jobs", type(app_ahead._jobs)())
    monkeypatch.setattr(app_ahead, "DELAY_SECONDS", 0.0)
    unshown = []  # what each run of the page expects not to show (the report's to draw)
    real_ahead = app_ahead.draw_ahead
    monkeypatch.setattr(
        app_ahead,
        "draw_ahead",
        lambda k, a, names: unshown.append(names) or real_ahead(k, a, names),
    )
    gid, token = _group(db)
    _seed_members(db, gid)
    at = _page("app_pages/dashboard.py", group=gid, token=token).run()
    assert not at.exception and not at.error
    assert at.metric[0].label == "Answered in round 1" and at.metric[0].value == "3"
    assert at.session_state["facilitator_tokens"][gid] == token
    assert at.query_params == {"group": gid, "token": token}
    # one image per figure on the page (trajectories once, with its toggle; the
    # meta-predictions figure waits for five forecasts)
    assert len(at.image) == len(FIGURES) - 2
    consensus = next(d.value for d in at.dataframe if "consensus μ [94 % HDI]" in d.value.columns)
    assert len(consensus) == 4
    ranking = next(d.value for d in at.dataframe if "quantity" in d.value.columns)
    assert "credence:A" in set(ranking["quantity"])
    members = next(
        d.value for d in at.dataframe if "member" in d.value.columns and "A stated" in d.value
    )
    assert list(members["member"]) == ["Ada", "Bo", "Chidi"]
    keys = {b.key for b in at.download_button}
    assert {"db_dl_csv", "db_dl_json", "db_dl_evidence", "db_dl_netcdf"} <= keys
    # The report is made on request, then held by its download button.
    assert "db_dl_report" not in keys
    for job in app_ahead._jobs.values():  # drawn ahead: let it finish before the click
        job.future.result(timeout=120)
    at.button(key="db_make_report").click().run()
    assert not at.exception
    assert "db_dl_report" in {b.key for b in at.download_button}
    report = at.session_state["db_report"][1]
    assert report.startswith(b"<!DOCTYPE html>")
    assert report.count(b'src="data:image/png;base64,') == len(FIGURES)
    # the images the page showed are embedded as they are; the two it did not show (the
    # log trajectories, behind their toggle; the meta-predictions figure) were drawn ahead,
    # at a lower priority, once the page was drawn: the report draws nothing itself
    assert [names for names, *_ in ahead] == [("trajectories_log", "meta_predictions")]
    assert ahead[0][1] > 0
    assert asked == []
    for png in ahead[0][2].values():
        assert b'src="data:image/png;base64,' + base64.b64encode(png) + b'"' in report
    assert {f"db_dl_{f}_{fmt}" for f in FIGURES for fmt in ("png", "svg", "pdf")} <= keys
    # Live is on, and the downloads stay enabled (its check reruns only a fragment)
    assert at.toggle(key="db_live").value is True
    assert not any(b.disabled for b in at.download_button)
    at.toggle(key="db_live").set_value(False).run()
    assert not any(b.disabled for b in at.download_button)
    reproduce = next(c.value for c in at.code if c.value.startswith("python -m model"))
    assert "--evidence evidence.toml" in reproduce and "--draws 100 --seed" in reproduce

    # two members compared, term by term, with the gap the rows add up to
    at.selectbox(key="db_pair_second").select("Chidi").run()
    column = "log-odds D : A, Ada − Chidi"
    pair = next(d.value for d in at.dataframe if column in d.value.columns)
    assert list(pair.index) == [
        "prior (stated credences)",
        "evidence: 3 detected misaligned actions in 1000 monitored agentic episodes",
        "evidence: No significant scheming or collusion seen when models monitor other models",
        "gap (the sum of the rows)",
    ]
    # log(0.05/0.6) - log(0.4/0.1) = -2.48 - 1.39
    assert pair.loc["prior (stated credences)", column] == "-3.87"
    parts = [float(v) for v in pair[column].iloc[:3]]
    assert float(pair[column].iloc[3]) == pytest.approx(sum(parts), abs=0.015)
    # another reference scenario: D against C
    at.selectbox(key="db_crux_reference").select("C").run()
    assert not at.exception
    column = "log-odds D : C, Ada − Chidi"
    pair = next(d.value for d in at.dataframe if column in d.value.columns)
    # log(0.05/0.15) - log(0.4/0.4)
    assert pair.loc["prior (stated credences)", column] == "-1.10"

    # the trajectories on a log axis (the report's log view is then the page's), and with
    # another "what we need" factor (neither is the report's)
    at.toggle(key="db_traj_log").set_value(True).run()
    assert unshown[-1] == ("trajectories", "meta_predictions")
    at.number_input(key="db_need_factor").set_value(30.0).run()
    assert not at.exception
    assert unshown[-1] == ("trajectories", "trajectories_log", "meta_predictions")
    assert len(ahead) == 1  # once per fit

    # the export functions behind the download buttons
    from app_pages import exports

    data, analysis, summary = _fitted_round_one(db, gid)
    assert f"--seed {data.seed} " in reproduce
    name = "prior_vs_posterior"
    assert exports.named_figure_bytes(analysis, name, "png").startswith(b"\x89PNG")
    assert b"<svg" in exports.named_figure_bytes(analysis, name, "svg")[:500]
    assert exports.named_figure_bytes(analysis, name, "pdf").startswith(b"%PDF")
    assert exports.posterior_netcdf(analysis).startswith(b"\x89HDF")
    csv_text = exports.responses_csv(analysis)
    back = parse_responses(csv_text, fmt="csv", evidence=analysis.evidence)
    assert back == analysis.responses
    assert (
        parse_responses(exports.responses_json(analysis), fmt="json", evidence=analysis.evidence)
        == back
    )
    assert json.loads(exports.summary_json(analysis.result))["n_participants"] == 3
    report = exports.report_html(analysis, title="Reading group")
    assert report.count('src="data:image/png;base64,') == len(FIGURES)


def _fitted_round_one(db, gid):
    """The dashboard's cached fit of round 1 (fitted here if no page has fitted it yet)."""
    from app_pages import common

    group = db.get_group(gid)
    data = common.round_data(db, group, parse_evidence(group.evidence), round=1)
    analysis = common._fitted(data.key, 100, tuple(data.responses), group.evidence)
    return data, analysis, summary_json(analysis.result)


def test_command_line_reproduces_the_dashboard_numbers(db, tmp_path):
    """The exported responses and evidence with the shown seed give the same summary."""
    from app_pages import exports
    from model.cli import main as cli

    gid, _ = _group(db)
    _seed_members(db, gid)
    data, analysis, summary = _fitted_round_one(db, gid)
    (tmp_path / "responses.csv").write_text(exports.responses_csv(analysis), encoding="utf-8")
    (tmp_path / "evidence.toml").write_text(db.get_group(gid).evidence, encoding="utf-8")
    command = exports.reproduce_command(data.seed, 100)
    argv = command.split()[3:]  # after "python -m model"
    argv = [str(tmp_path / a) if a in ("responses.csv", "evidence.toml") else a for a in argv]
    argv[argv.index("--out") + 1] = str(tmp_path / "result")
    assert cli(argv) == 0  # compiles its own model, as a fresh process would
    cli_summary = json.loads((tmp_path / "result" / "summary.json").read_text())
    for key in ("consensus_prior", "consensus_posterior", "agreement", "factors", "scheming"):
        assert cli_summary[key] == json.loads(json.dumps(summary[key]))


def test_dashboard_second_round_compares_rounds(db):
    gid, token = _group(db)
    # opened before anyone answers, so the page draws its figures only once in this test
    at = _page("app_pages/dashboard.py", group=gid, token=token).run()
    assert at.button(key="db_open_round").disabled
    at.checkbox(key="db_confirm_round").check().run()
    at.button(key="db_open_round").click().run()
    assert not at.exception
    assert db.get_group(gid).current_round == 2
    assert "Round 2 is open" in at.success[0].value
    assert at.metric[0].label == "Answered in round 2" and at.metric[0].value == "0"
    assert not at.checkbox(key="db_confirm_round").value  # unticked for the next time
    members = _seed_members(db, gid)  # round 1 (still open to answers)
    # after discussion the three move closer together
    closer = [(0.4, 0.25, 0.2, 0.15), (0.35, 0.25, 0.2, 0.2), (0.3, 0.2, 0.25, 0.25)]
    for (participant, _), scen in zip(members, closer, strict=True):
        raw = raw_response(participant.display_name, scen)
        payload = validate_response(raw, evidence=parse_evidence(EXAMPLE_EVIDENCE)).to_dict()
        db.add_revision(participant.id, round=2, payload=payload)
    at.run()
    assert not at.exception and not at.error
    assert at.metric[0].value == "3"
    assert at.selectbox(key="db_round").value == 2  # the newest round is shown
    rounds = next(d.value for d in at.dataframe if "round 1 (n = 3)" in d.value.columns)
    assert list(rounds.columns) == ["round 1 (n = 3)", "round 2 (n = 3)"]
    assert list(rounds.index) == [
        "consensus A",
        "consensus B",
        "consensus C",
        "consensus D",
        "agreement κ",
    ]
    verdict = at.get_by_key("db_rounds_verdict").markdown[0].value.replace("\\", "")
    assert verdict.startswith("The group converged from round 1 to round 2")
    assert "the 3 members who answered both" in verdict and "94 % interval" in verdict


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


def test_dashboard_says_so_when_the_group_has_the_most_rounds(db):
    gid, _ = _group(db)
    full = db.export_group(gid)
    full["group"]["current_round"] = 1000
    imported = db.import_group(full)
    new, token = imported.group.id, imported.facilitator_token
    at = _page("app_pages/dashboard.py", group=new, token=token).run()
    at.checkbox(key="db_confirm_round").check().run()
    at.button(key="db_open_round").click().run()
    assert not at.exception
    assert "already has 1000 rounds" in at.error[0].value
    assert db.get_group(new).current_round == 1000
