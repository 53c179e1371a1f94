"""The figures as a whole: they only draw, the registry draws each, and saving gives the same bytes.

The figures' source computes nothing; `FIGURES` names every figure and draws each from a
hand-made `Result` alone; `save_all`, `figure_bytes` and `draw_pngs` (in worker processes)
save the same bytes. One small fit remains, for the real pipeline: `save_all` on a real
analysis writes every figure in every format. What each figure draws is checked in
test_analysis_figures, test_trajectory_figures and test_figure_labels.
"""

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from matplotlib.figure import Figure

import model.figures
from model import figures
from model.analysis import analyse
from model.example import example_responses
from model.figures._style import dodge
from model.schema import validate_response
from tests.model.helpers import raw_response
from tests.model.result_fixtures import hand_made_result

ZERO_D = "Zed"  # stated 0 for D: prior log-odds(D : A) = -inf
ZERO_A = "Yara"  # stated 0 for A: prior log-odds(s : A) = +inf


def _yara(defaults, *, zero_reading: bool):
    raw = raw_response(ZERO_A, scen=(0.0, 0.3, 0.3, 0.4), p_scheming=None)
    if zero_reading:  # a reading of 0 for D as well: +inf prior, -inf evidence, NaN total
        raw["readings"]["no_collusion"]["D"] = 0.0
    return validate_response(raw, evidence=defaults.evidence, defaults=defaults)


@pytest.fixture(scope="module")
def result(defaults):
    return hand_made_result(defaults)


@pytest.fixture(scope="module")
def analysis(defaults, sampler):
    """A real fit, for the one test about the whole pipeline (stated zeros included)."""
    evidence = defaults.evidence
    responses = example_responses(n=6, defaults=defaults)
    zero_d = raw_response(ZERO_D, scen=(0.5, 0.3, 0.2, 0.0))
    responses.append(validate_response(zero_d, evidence=evidence, defaults=defaults))
    responses.append(_yara(defaults, zero_reading=False))
    return analyse(
        responses,
        evidence=evidence,
        defaults=defaults,
        sampler=sampler,
        draws=200,
        tune=200,
        chains=2,
        random_seed=0,
    )


# --- figures only draw ---------------------------------------------------------------------


def test_figure_code_computes_nothing():
    """The figures' source samples nothing, reads no fit and takes no means (issue: one source)."""
    forbidden = ("np.random", "default_rng", "arviz", "scipy", "idata", "analysis.fit", ".mean(")
    package = Path(model.figures.__file__).parent
    for path in package.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert [f for f in forbidden if f in text] == [], path.name


def test_dodge_is_deterministic_and_keeps_equal_values_apart():
    values = np.array([0.3, 0.3, 0.3, 0.9, np.nan, 0.31])
    side = dodge(values, near=0.02, step=0.05, limit=0.1)
    assert np.array_equal(side, dodge(values, near=0.02, step=0.05, limit=0.1))
    assert side.tolist() == pytest.approx([0.0, 0.05, -0.05, 0.0, 0.0, 0.1])
    assert np.abs(side).max() <= 0.1
    wrapped = dodge(np.zeros(6), near=0.02, step=0.05, limit=0.1)  # five slots, then again
    assert wrapped.tolist() == pytest.approx([0.0, 0.05, -0.05, 0.1, -0.1, 0.0])


# --- registry and export -------------------------------------------------------------------


def test_registry_names_every_analysis_figure():
    assert set(figures.FIGURES) == {
        "trajectories",
        "trajectories_log",
        "participants_vs_consensus",
        "pools",
        "factor_spread",
        "prior_vs_posterior",
        "crux",
        "undetected",
        "scheming_coherence",
        "meta_predictions",
        "what_would_settle_it",
        "camps",
    }


def test_registry_draws_every_figure_from_the_records(result, defaults, tmp_path):
    """No fit needed: each entry reads `analysis.result` and `analysis.defaults` only."""
    fake = SimpleNamespace(result=result, defaults=defaults)
    for name, make in figures.FIGURES.items():
        fig = make(fake)
        assert isinstance(fig, Figure)
        fig.savefig(tmp_path / f"{name}.png")


def test_save_all_writes_every_figure_in_every_format(analysis, tmp_path):
    """The real pipeline: every figure of a fitted group, its stated zeros included, saves."""
    paths = figures.save_all(analysis, tmp_path / "out")
    assert len(paths) == len(figures.FIGURES) * 3
    assert {p.name for p in paths} == {
        f"{name}.{fmt}" for name in figures.FIGURES for fmt in figures.SAVE_FORMATS
    }
    assert all(p.exists() and p.stat().st_size > 1000 for p in paths)
    weighted = figures.FIGURES["trajectories"](analysis)
    assert "group posterior" in weighted.axes[0].get_title(loc="left")


def test_a_member_with_zeros_on_both_sides_can_be_analysed(defaults):
    """+inf (a stated 0 for A) meets -inf (a reading of 0 for D): undefined, not a warning."""
    from model.individual import update

    u = update(_yara(defaults, zero_reading=True), evidence=defaults.evidence, defaults=defaults)
    assert np.isnan(u.posterior_log_odds[2])


def test_save_all_rejects_an_unknown_format(result, defaults, tmp_path):
    fake = SimpleNamespace(result=result, defaults=defaults)
    with pytest.raises(ValueError, match="give some of png, svg, pdf"):
        figures.save_all(fake, tmp_path, formats=("png", "jpeg"))
    with pytest.raises(ValueError, match="none given"):
        figures.save_all(fake, tmp_path, formats=())


def test_the_old_public_names_remain():
    for name in ("HDI_PROB", "PNG_DPI", "SAVE_FORMATS", "SCENARIO_COLOURS", "MAX_ROWS"):
        assert hasattr(figures, name)
    assert figures.HDI_PROB == 0.94 and figures.PNG_DPI == 150


def _png_width(data: bytes) -> int:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return int.from_bytes(data[16:20], "big")


def test_save_all_draws_the_figures_named_at_most_as_wide_as_asked(result, defaults, tmp_path):
    """The report's use: some figures only, PNG at most `max_width_px` wide, else 150 dpi."""
    fake = SimpleNamespace(result=result, defaults=defaults)
    names = ["meta_predictions", "trajectories"]  # 9 in and 12 in wide
    paths = figures.save_all(
        fake, tmp_path, formats=("png",), names=names, max_width_px=figures.SCREEN_MAX_PX
    )
    assert [p.stem for p in paths] == ["trajectories", "meta_predictions"]  # FIGURES' order
    assert {p.name for p in tmp_path.iterdir()} == {"trajectories.png", "meta_predictions.png"}
    for path in paths:
        inches = figures.FIGURES[path.stem](fake).get_figwidth()
        expected = min(inches * figures.PNG_DPI, figures.SCREEN_MAX_PX)
        assert abs(_png_width(path.read_bytes()) - expected) <= 1
    assert abs(_png_width(paths[0].read_bytes()) - figures.SCREEN_MAX_PX) <= 1  # 12 in: capped
    assert _png_width(paths[1].read_bytes()) == 9 * figures.PNG_DPI  # 9 in: 150 dpi
    # the exports: 150 dpi whatever the width
    full = figures.save_all(fake, tmp_path / "full", formats=("png",), names=["trajectories"])
    assert _png_width(full[0].read_bytes()) == 12 * figures.PNG_DPI
    with pytest.raises(ValueError, match="unknown figure"):
        figures.save_all(fake, tmp_path, formats=("png",), names=["trajectoriez"])
    assert figures.save_all(fake, tmp_path / "none", formats=("png",), names=[]) == []


def test_figure_bytes_are_what_save_all_writes(result, defaults, tmp_path):
    """The page's images, its downloads and the files: one way to save, the same bytes."""
    fake = SimpleNamespace(result=result, defaults=defaults)
    for width in (None, figures.SCREEN_MAX_PX):
        folder = tmp_path / str(width)
        paths = figures.save_all(
            fake, folder, formats=figures.SAVE_FORMATS, names=["pools"], max_width_px=width
        )
        fig = figures.FIGURES["pools"](fake)  # saved in save_all's order, as it saves one
        made = [figures.figure_bytes(fig, fmt, max_width_px=width) for fmt in figures.SAVE_FORMATS]
        assert [p.suffix[1:] for p in paths] == list(figures.SAVE_FORMATS)
        assert made == [p.read_bytes() for p in paths]
    # byte-stable: the same analysis, drawn again, saves the same SVG (its ids are salted)
    again = [figures.figure_bytes(figures.FIGURES["pools"](fake), "svg") for _ in range(2)]
    assert again[0] == again[1]
    with pytest.raises(ValueError, match="unknown figure format 'jpg'"):
        figures.figure_bytes(figures.FIGURES["pools"](fake), "jpg")


def test_draw_pngs_draws_in_worker_processes_what_save_all_writes(
    result, defaults, tmp_path, monkeypatch
):
    """Drawing ahead for the app's report: the same bytes, never drawn in the caller."""
    fake = SimpleNamespace(result=result, defaults=defaults)
    names = ["meta_predictions", "trajectories"]
    pngs = figures.draw_pngs(fake, names, max_width_px=figures.SCREEN_MAX_PX, nice=5)
    assert list(pngs) == ["trajectories", "meta_predictions"]  # FIGURES' order
    paths = figures.save_all(
        fake, tmp_path, formats=("png",), names=names, max_width_px=figures.SCREEN_MAX_PX
    )
    assert pngs == {p.stem: p.read_bytes() for p in paths}
    # one figure goes to a worker process too (its process imported the figures afresh, so
    # this caller's patched registry is not what draws it)
    monkeypatch.setitem(figures.FIGURES, "camps", lambda a: pytest.fail("drawn in the caller"))
    assert _png_width(figures.draw_pngs(fake, ["camps"])["camps"]) > 0
    with pytest.raises(ValueError, match="unknown figure"):
        figures.draw_pngs(fake, ["trajectoriez"])
    assert figures.draw_pngs(fake, []) == {}
