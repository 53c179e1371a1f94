import json
import subprocess
import sys
from pathlib import Path

import pytest

from model.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_example_writes_a_realistic_group(tmp_path, defaults):
    from model.io import read_responses

    out = tmp_path / "group.csv"
    assert main(["example", "--out", str(out)]) == 0
    rs = read_responses(out, evidence=defaults.evidence, defaults=defaults)
    assert len(rs) == 12
    d_credences = sorted(r.scenarios["D"] for r in rs)
    assert d_credences[0] < 0.15 < d_credences[-1]  # views differ
    assert any(r.p_scheming is None for r in rs)  # some answers left blank


def test_evidence_example_is_valid(tmp_path):
    from priors import load_evidence

    out = tmp_path / "ev.toml"
    assert main(["evidence-example", "--out", str(out)]) == 0
    assert [e.kind for e in load_evidence(out)] == ["counts", "likelihood"]


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        ("participant,A,B,C,D\nx,40,30,20,10\n", "r.csv", "looks like a percentage"),
        (
            "participant,A,B,C,D\nx,0.5,0.3,0.2,0.1\n",
            "r.csv",
            "participant 'x': scenario credences sum",
        ),
        ('[{"participant": "x"}]', "r.json", "scenarios must map"),
        ("", "r.txt", "give a .csv or .json"),
    ],
)
def test_bad_input_exits_2_with_a_message_and_writes_nothing(
    tmp_path, capsys, content, name, message
):
    src = tmp_path / name
    src.write_text(content)
    out = tmp_path / "out"
    assert main(["aggregate", str(src), "--out", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_bad_evidence_file_exits_2(tmp_path, capsys):
    src = tmp_path / "r.csv"
    assert main(["example", "--out", str(src)]) == 0
    ev = tmp_path / "ev.toml"
    ev.write_text(
        '[[evidence]]\nid = "x"\nkind = "counts"\ntext = "t"\ndetected = 5\nepisodes = 2\n'
    )
    out = tmp_path / "out"
    out.mkdir()
    assert main(["aggregate", str(src), "--out", str(out), "--evidence", str(ev)]) == 2
    assert "must be at most episodes" in capsys.readouterr().err
    assert list(out.iterdir()) == []


def test_aggregate_end_to_end_in_a_fresh_process(tmp_path):
    """The real command, as a user runs it: summary.json, posterior.nc and every figure in
    every format (`--figures all`)."""
    src = tmp_path / "group.json"
    assert main(["example", "--out", str(src)]) == 0
    out = tmp_path / "result"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "model",
            "aggregate",
            str(src),
            "--out",
            str(out),
            "--draws",
            "300",
            "--tune",
            "300",
            "--seed",
            "3",
            "--figures",
            "all",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_participants"] == 12
    for key in (
        "consensus_prior",
        "consensus_posterior",
        "agreement",
        "factors",
        "scheming",
        "pools",
        "participants",
        "disagreement",
        "diagnostics",
    ):
        assert key in summary
    assert set(summary["consensus_prior"]) == {"A", "B", "C", "D"}
    lo, hi = summary["consensus_prior"]["A"]["hdi"]
    assert lo < summary["consensus_prior"]["A"]["mean"] < hi
    assert summary["diagnostics"]["max_rhat"] < 1.05
    # ordered by the decision measure (model.decisive), unknown ones last
    measures = [d["log_odds_sd"] for d in summary["disagreement"]]
    known = [m for m in measures if m is not None]
    assert measures[: len(known)] == sorted(known, reverse=True)
    p0 = summary["participants"][0]
    assert set(p0["log_odds"]["D"]) == {"prior", "monitoring_counts", "no_collusion", "posterior"}
    assert (out / "posterior.nc").stat().st_size > 10_000
    pngs = sorted(out.glob("*.png"))
    assert len(pngs) >= 8
    for png in pngs:
        for ext in (".png", ".svg", ".pdf"):
            assert png.with_suffix(ext).stat().st_size > 1000
    assert "fitting the group model" in proc.stderr


@pytest.mark.parametrize(("figures", "suffixes"), [(None, {".png"}), ("none", set())])
def test_figures_option_chooses_the_files(tmp_path, capsys, figures, suffixes):
    """Default PNG only (drawn in worker processes); `none` writes no figure."""
    from model.figures import FIGURES

    src = tmp_path / "group.csv"
    assert main(["example", "--out", str(src), "--n", "5"]) == 0
    out = tmp_path / "result"
    argv = ["aggregate", str(src), "--out", str(out), "--draws", "50", "--tune", "50"]
    argv += ["--seed", "1", "--chains", "2"]
    if figures:
        argv += ["--figures", figures]
    assert main(argv) == 0
    files = {p.name for p in out.iterdir()}
    figure_files = {p for p in files if p not in {"summary.json", "posterior.nc"}}
    assert figure_files == {f"{name}{ext}" for name in FIGURES for ext in suffixes}
    assert {"summary.json", "posterior.nc"} <= files
    err = capsys.readouterr().err
    assert ("figures (png)" if suffixes else "no figures") in err


def test_figures_option_refuses_other_values(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["aggregate", "x.csv", "--out", str(tmp_path), "--figures", "jpeg"])
    assert exc.value.code == 2
    assert "invalid choice: 'jpeg'" in capsys.readouterr().err


def test_target_accept_option_reaches_the_sampler_and_the_summary(tmp_path):
    """Given, it is the fit's target (the summary's diagnostics say so); by default a group
    of 5 is sampled at 0.99 (`model.sampling.target_accept_for`)."""
    src = tmp_path / "group.csv"
    assert main(["example", "--out", str(src), "--n", "5"]) == 0
    base = ["--draws", "20", "--tune", "20", "--seed", "1", "--chains", "2", "--figures", "none"]
    for given, expected in ((["--target-accept", "0.9"], 0.9), ([], 0.99)):
        out = tmp_path / f"result-{expected}"
        assert main(["aggregate", str(src), "--out", str(out), *base, *given]) == 0
        summary = json.loads((out / "summary.json").read_text())
        assert summary["diagnostics"]["target_accept"] == expected


@pytest.mark.parametrize("value", ["1", "0", "1.5", "-0.2", "nan"])
def test_target_accept_outside_0_1_exits_2_and_writes_nothing(tmp_path, capsys, value):
    src = tmp_path / "group.csv"
    assert main(["example", "--out", str(src), "--n", "5"]) == 0
    out = tmp_path / "result"
    assert main(["aggregate", str(src), "--out", str(out), "--target-accept", value]) == 2
    assert "--target-accept must lie between 0 and 1" in capsys.readouterr().err
    assert not out.exists()
