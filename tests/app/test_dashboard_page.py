"""The facilitator's dashboard through Streamlit's AppTest: access, the group, exports, rounds.

Without the group's facilitator token the dashboard shows nothing; with it, the group's
figures, tables and downloads (the report's unshown figures drawn ahead), the export
functions behind the buttons, the command line that reproduces the numbers shown, and a
second round compared with the first (refused once a group has the most rounds). Fits
use CRUXBOARD_DRAWS=100, and every test that fits seeds the same three answers, so the
module fits the model only a few times.
"""

from __future__ import annotations

import base64
import json

import pytest

from model.example import EXAMPLE_EVIDENCE
from model.figures import FIGURES
from model.io import parse_responses
from model.schema import validate_response
from model.summary import summary_json
from priors import parse_evidence
from tests.app.helpers import _group, _page, _seed_members, _texts
from tests.model.helpers import raw_response

NOT_ALLOWED = "Not allowed"


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
