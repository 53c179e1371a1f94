"""Meta-predictions: the question (schema, files, store), the analysis, its figure and report.

Reference values are written out with their derivation in the docstrings; the bootstrap is
checked against the normal approximation (an independent computation) and for its speed.
"""

from __future__ import annotations

import dataclasses
import json
from fractions import Fraction

import numpy as np
import pytest
from matplotlib.collections import PathCollection
from matplotlib.container import ErrorbarContainer
from matplotlib.figure import Figure

from app_pages.exports import import_group_file
from model.figures import meta_predictions as meta_figure
from model.io import META_COLUMNS, csv_columns, parse_responses, responses_to_csv, responses_to_json
from model.meta import (
    CAVEAT,
    MIN_META_ANSWERS,
    RESAMPLES,
    TOO_FEW,
    MetaPredictions,
    meta_json,
    meta_predictions,
    resample_count,
)
from model.report import _meta_html
from model.schema import Response, ResponseError, validate_response
from priors import SCENARIO_IDS, parse_evidence
from store import Store, export_json
from tests.model.helpers import raw_response

MAJORITY = ((0.6, 0.2, 0.1, 0.1), (0.7, 0.1, 0.1, 0.1))  # (own credences, forecast of group)
MINORITY = ((0.1, 0.1, 0.1, 0.7), (0.6, 0.1, 0.1, 0.2))
MINORITY_META = dict(zip(SCENARIO_IDS, MINORITY[1], strict=True))


def check(raw, defaults) -> Response:
    return validate_response(raw, evidence=defaults.evidence, defaults=defaults)


def member(defaults, name, cred, meta) -> Response:
    raw = raw_response(name, scen=cred)
    if meta is not None:
        raw["meta"] = dict(zip(SCENARIO_IDS, meta, strict=True))
    return check(raw, defaults)


def constructed_group(defaults, *, majority=6, minority=3, skipped=2) -> list[Response]:
    """Six members favour A and expect the group to favour A more; three favour D and expect
    the group to favour A; two more skip the forecast (left out of every number)."""
    out = [member(defaults, f"maj{k}", *MAJORITY) for k in range(majority)]
    out += [member(defaults, f"min{k}", *MINORITY) for k in range(minority)]
    out += [member(defaults, f"skip{k}", (0.25, 0.25, 0.25, 0.25), None) for k in range(skipped)]
    return out


def _response(name: str, cred, fore) -> Response:
    """A bare record (no factors or readings), for the analysis alone, which reads only these."""
    scenarios = dict(zip(SCENARIO_IDS, map(float, cred), strict=True))
    meta = None if fore is None else dict(zip(SCENARIO_IDS, map(float, fore), strict=True))
    return Response(name, scenarios, {}, None, {}, "", meta)


def _tv(p, q) -> Fraction:
    return sum((abs(a - b) for a, b in zip(p, q, strict=True)), Fraction(0)) / 2


# --- the question: validation and the stored payload -----------------------------------------


def test_a_forecast_is_validated_like_the_credences(defaults):
    r = check(raw_response(meta={"A": "50%", "B": 0.2, "C": "0.2", "D": 0.1}), defaults)
    assert r.meta == {"A": 0.5, "B": 0.2, "C": 0.2, "D": 0.1}
    assert r.to_dict()["meta"] == r.meta
    assert check(r.to_dict(), defaults) == r


@pytest.mark.parametrize(
    "meta",
    [None, {}, {"A": None, "B": None, "C": None, "D": None}, {"A": "", "B": " ", "C": "", "D": ""}],
)
def test_a_skipped_forecast_is_none_and_leaves_the_payload_as_before(defaults, meta):
    raw = raw_response(meta=meta)
    r = check(raw, defaults)
    assert r.meta is None
    assert "meta" not in r.to_dict()  # the payload (and the fit's data key) as before
    old = raw_response()  # a stored payload from before the question: still valid
    assert "meta" not in old and check(old, defaults) == r


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        (
            {"A": 0.5, "B": 0.5},
            "no expected group average for C, D .given for A, B.; give all four .summing to "
            "100 %. or leave all four blank to skip",
        ),
        ({"A": 0.5, "B": 0.2, "C": "", "D": 0.3}, "no expected group average for C"),
        ({"A": 0.5, "B": 0.2, "C": 0.2, "D": 0.2}, "sum to 1.1; they must sum to 1"),
        ({"A": 50, "B": 20, "C": 20, "D": 10}, "meta:A: 50 is above 1 and looks like a percentage"),
        ({"A": 0.5, "B": 0.2, "C": 0.2, "E": 0.1}, r"meta: unknown scenario id\(s\) \['E'\]"),
        ({"A": -0.1, "B": 0.5, "C": 0.3, "D": 0.3}, "meta:A: -0.1 is negative"),
        ([0.4, 0.3, 0.2, 0.1], "meta must map A, B, C, D"),
    ],
)
def test_a_partial_or_bad_forecast_is_refused_with_a_clear_message(defaults, meta, message):
    with pytest.raises(ResponseError, match=message):
        check(raw_response(meta=meta), defaults)


def test_the_sum_tolerance_is_the_credences_one(defaults):
    ok = check(raw_response(meta={"A": 0.5, "B": 0.2, "C": 0.2, "D": 0.104}), defaults)
    assert ok.meta["D"] == 0.104
    with pytest.raises(ResponseError, match="must sum to 1"):
        check(raw_response(meta={"A": 0.5, "B": 0.2, "C": 0.2, "D": 0.106}), defaults)


# --- the files ------------------------------------------------------------------------------


def test_csv_and_json_carry_the_forecast_and_a_blank_one(defaults):
    group = constructed_group(defaults, majority=1, minority=1, skipped=1)
    evidence = defaults.evidence
    cols = csv_columns(evidence, defaults)
    assert list(META_COLUMNS) == ["meta:A", "meta:B", "meta:C", "meta:D"]
    assert cols[-5:] == [*META_COLUMNS, "rationale"]
    text = responses_to_csv(group, evidence=evidence, defaults=defaults)
    rows = text.splitlines()
    assert rows[1].endswith(",0.7,0.1,0.1,0.1,") and rows[3].endswith(",,,,,")
    assert parse_responses(text, fmt="csv", evidence=evidence, defaults=defaults) == group
    data = json.loads(responses_to_json(group))
    assert data[0]["meta"] == {"A": 0.7, "B": 0.1, "C": 0.1, "D": 0.1} and "meta" not in data[2]
    assert parse_responses(json.dumps(data), fmt="json", evidence=evidence) == group


def test_a_file_from_before_the_question_is_still_read(defaults):
    """An old CSV has no meta columns: every forecast is None."""
    group = constructed_group(defaults, majority=1, minority=1, skipped=0)
    text = responses_to_csv(group, evidence=defaults.evidence, defaults=defaults)
    rows = [line.split(",") for line in text.splitlines()]
    cut = [i for i, c in enumerate(rows[0]) if c.startswith("meta:")]
    old = "\n".join(",".join(c for i, c in enumerate(r) if i not in cut) for r in rows)
    read = parse_responses(old, fmt="csv", evidence=defaults.evidence, defaults=defaults)
    assert [r.meta for r in read] == [None, None]
    assert read == [dataclasses.replace(r, meta=None) for r in group]


def test_a_partial_forecast_in_a_file_names_the_row(defaults):
    group = constructed_group(defaults, majority=1, minority=0, skipped=0)
    text = responses_to_csv(group, evidence=defaults.evidence, defaults=defaults)
    text = text.replace(",0.7,0.1,0.1,0.1,", ",0.7,0.1,,,")
    with pytest.raises(ResponseError, match="row 1: .*no expected group average for C, D"):
        parse_responses(text, fmt="csv", evidence=defaults.evidence, defaults=defaults)


def test_an_evidence_item_called_meta_is_refused_for_csv(defaults):
    clash = parse_evidence('[[evidence]]\nid = "meta"\nkind = "likelihood"\ntext = "x"\n')
    with pytest.raises(ResponseError, match="rename that evidence item"):
        csv_columns(clash, defaults)


def test_the_whole_group_file_round_trips_the_forecast(defaults, tmp_path):
    """Stored with the revision, exported, imported into another database: unchanged."""
    from model.example import EXAMPLE_EVIDENCE

    evidence = parse_evidence(EXAMPLE_EVIDENCE)
    people = [
        validate_response(r.to_dict(), evidence=evidence, defaults=defaults)
        for r in constructed_group(defaults, majority=2, minority=1, skipped=1)
    ]
    with Store(f"sqlite:///{tmp_path / 'a.db'}") as source:
        group, _ = source.create_group("Meta", evidence=EXAMPLE_EVIDENCE)
        for r in people:
            participant, _ = source.add_participant(group.id, r.participant)
            source.add_revision(participant.id, round=1, payload=r.to_dict())
        raw = export_json(source.export_group(group.id)).encode()
    with Store(f"sqlite:///{tmp_path / 'b.db'}") as target:
        imported = import_group_file(target, raw, defaults)
        back = [
            validate_response(
                dict(rev.payload, participant=p.display_name), evidence=evidence, defaults=defaults
            )
            for p, rev in target.latest_revisions(imported.group.id, round=1)
        ]
    assert back == people
    assert [r.meta for r in back][-2:] == [MINORITY_META, None]


# --- the analysis ----------------------------------------------------------------------------


def test_the_minority_scenario_is_surprisingly_popular_as_the_closed_form_says(defaults):
    """Six members say π = (.6, .2, .1, .1) and forecast m = (.7, .1, .1, .1); three say
    π = (.1, .1, .1, .7) and forecast m = (.6, .1, .1, .2); two skip (not counted). n = 9.

    actual ā = (6π_maj + 3π_min)/9 = (3.9, 1.5, .9, 2.7)/9 = (13/30, 1/6, 1/10, 3/10)
    predicted p̄ = (6m_maj + 3m_min)/9 = (6, .9, .9, 1.2)/9 = (2/3, 1/10, 1/10, 2/15)
    surprise = ā − p̄ = (−7/30, 1/15, 0, 1/6): D is surprisingly popular although A has
    the most support.
    Gaps, E_i = ½‖m_i − π_i‖₁ and A_i = ½‖ā − π_i‖₁:
    majority: E = ½(.1 + .1) = 1/10; A = ½(1/6 + 1/30 + 0 + 1/5) = 1/5; gap = +1/10
    minority: E = ½(.5 + .5) = 1/2; A = ½(1/3 + 1/15 + 0 + 2/5) = 2/5; gap = −1/10
    mean gap = (6/10 − 3/10)/9 = 1/30.
    """
    meta = meta_predictions(constructed_group(defaults))
    F = Fraction
    actual = dict(zip(SCENARIO_IDS, (F(13, 30), F(1, 6), F(1, 10), F(3, 10)), strict=True))
    predicted = dict(zip(SCENARIO_IDS, (F(2, 3), F(1, 10), F(1, 10), F(2, 15)), strict=True))
    assert meta.answered == 9 and meta.reason is None and meta.known
    for s in SCENARIO_IDS:
        assert meta.actual_mean[s] == pytest.approx(float(actual[s]), abs=1e-12)
        assert meta.predicted_mean[s] == pytest.approx(float(predicted[s]), abs=1e-12)
        assert meta.surprise[s] == pytest.approx(float(actual[s] - predicted[s]), abs=1e-12)
    assert max(meta.actual_mean, key=meta.actual_mean.get) == "A"
    assert meta.surprisingly_popular == "D" and meta.tie_reason is None
    gaps = {m.id: m for m in meta.members}
    assert set(gaps) == {f"maj{k}" for k in range(6)} | {f"min{k}" for k in range(3)}
    for name, e, a in (("maj0", F(1, 10), F(1, 5)), ("min2", F(1, 2), F(2, 5))):
        assert gaps[name].expected == pytest.approx(float(e), abs=1e-12)
        assert gaps[name].actual == pytest.approx(float(a), abs=1e-12)
        assert gaps[name].gap == pytest.approx(float(a - e), abs=1e-12)
    assert meta.mean_gap == pytest.approx(1 / 30, abs=1e-12)
    assert meta.member("skip0") is None and meta.member("maj3") is gaps["maj3"]


def test_the_formulas_agree_with_a_direct_computation_on_a_random_group(defaults, rng):
    """Exact arithmetic (fractions) member by member against the vectorised record."""
    cred = rng.dirichlet([2, 1, 1, 1], size=12).round(2)
    fore = rng.dirichlet([3, 1, 1, 2], size=12).round(2)
    cred[:, 0] = 1 - cred[:, 1:].sum(axis=1)
    fore[:, 0] = 1 - fore[:, 1:].sum(axis=1)
    group = [
        _response(f"m{i}", c, None if i % 4 == 3 else f)
        for i, (c, f) in enumerate(zip(cred, fore, strict=True))
    ]
    meta = meta_predictions(group)
    both = [(r.participant, c, f) for r, c, f in zip(group, cred, fore, strict=True) if r.meta]
    n = len(both)
    assert meta.answered == n == 9
    pi = [[Fraction(float(x)) for x in c] for _, c, _ in both]
    m = [[Fraction(float(x)) for x in f] for _, _, f in both]
    a_bar = [sum(p[k] for p in pi) / n for k in range(4)]
    p_bar = [sum(q[k] for q in m) / n for k in range(4)]
    for k, s in enumerate(SCENARIO_IDS):
        assert meta.surprise[s] == pytest.approx(float(a_bar[k] - p_bar[k]), abs=1e-12)
    for (name, _, _), p, q in zip(both, pi, m, strict=True):
        gap = meta.member(name)
        assert gap.expected == pytest.approx(float(_tv(q, p)), abs=1e-12)
        assert gap.actual == pytest.approx(float(_tv(a_bar, p)), abs=1e-12)


def test_with_fewer_than_five_forecasts_nothing_but_the_count_is_known(defaults):
    group = constructed_group(defaults, majority=3, minority=1, skipped=4)
    meta = meta_predictions(group)
    assert meta.answered == MIN_META_ANSWERS - 1 == 4
    assert meta.reason == TOO_FEW and not meta.known
    assert meta.actual_mean is meta.predicted_mean is meta.surprise is None
    assert meta.surprise_interval is meta.surprisingly_popular is meta.mean_gap is None
    assert meta.members == () and meta.member("maj0") is None
    assert meta_json(meta) == {
        "answered": 4,
        "reason": TOO_FEW,
        "actual_mean": None,
        "predicted_mean": None,
        "surprise": None,
        "surprise_interval": None,
        "surprisingly_popular": None,
        "surprisingly_popular_reason": None,
        "surprisingly_popular_share": None,
        "mean_false_consensus_gap": None,
        "uncertainty": None,
    }
    assert meta_predictions([]).answered == 0
    assert meta_predictions(constructed_group(defaults, majority=4, minority=1)).known


def test_a_tie_names_the_scenarios_and_picks_none(defaults):
    """Everyone forecasts exactly what they believe: every surprise is 0, a four-way tie."""
    group = [member(defaults, f"m{k}", MAJORITY[0], MAJORITY[0]) for k in range(5)]
    meta = meta_predictions(group)
    assert meta.surprisingly_popular is None and meta.surprisingly_popular_share is None
    assert meta.tie_reason == "a tie between A and B and C and D"
    assert all(m.gap == pytest.approx(0, abs=1e-12) for m in meta.members)


def test_summary_json_entry(defaults):
    meta = meta_predictions(constructed_group(defaults))
    out = json.loads(json.dumps(meta_json(meta)))
    assert set(out) >= {
        "answered",
        "actual_mean",
        "predicted_mean",
        "surprise",
        "surprisingly_popular",
    }
    assert out["answered"] == 9 and out["surprisingly_popular"] == "D" and out["reason"] is None
    assert out["surprise"] == meta.surprise and out["actual_mean"] == meta.actual_mean
    assert out["surprise_interval"]["D"] == list(meta.surprise_interval["D"])
    assert out["uncertainty"] == (
        f"bootstrap over members: {RESAMPLES:,} resamples (seed {meta.seed}), "
        "94 % percentile intervals"
    )
    assert "members" not in out  # no member's own numbers in the group's summary


# --- the bootstrap -----------------------------------------------------------------------------


def test_the_bootstrap_is_seeded_and_holds_the_estimate(defaults):
    group = constructed_group(defaults)
    a, b = meta_predictions(group), meta_predictions(list(reversed(group)))
    assert a.surprise_interval == meta_predictions(group).surprise_interval
    for s in SCENARIO_IDS:
        lo, hi = a.surprise_interval[s]
        assert lo <= a.surprise[s] <= hi
        assert b.surprise[s] == pytest.approx(a.surprise[s], abs=1e-12)
    assert a.resamples == RESAMPLES
    assert 0.5 < a.surprisingly_popular_share <= 1  # D is ahead in most resamples


def test_the_bootstrap_interval_matches_the_normal_approximation(rng):
    """n = 2000: the mean's sampling SD is sd(π − m)/√n; a 94 % interval is ±1.881 SD."""
    n = 2000
    cred = rng.dirichlet([2, 1, 1, 1], size=n)
    fore = rng.dirichlet([3, 1, 1, 1], size=n)
    group = [_response(f"m{i}", c, f) for i, (c, f) in enumerate(zip(cred, fore, strict=True))]
    meta = meta_predictions(group)
    sd = (cred - fore).std(axis=0, ddof=1) / np.sqrt(n)
    for k, s in enumerate(SCENARIO_IDS):
        lo, hi = meta.surprise_interval[s]
        assert (hi - lo) == pytest.approx(2 * 1.8808 * sd[k], rel=0.12)
        assert (lo + hi) / 2 == pytest.approx(meta.surprise[s], abs=0.3 * sd[k])


def _random_group(n: int, seed: int = 0) -> list[Response]:
    rng = np.random.default_rng(seed)
    cred, fore = rng.dirichlet([2, 1, 1, 1], size=n), rng.dirichlet([3, 1, 1, 1], size=n)
    return [_response(f"m{i}", c, f) for i, (c, f) in enumerate(zip(cred, fore, strict=True))]


def test_the_bootstrap_is_bounded():
    """The resamples shrink so that members × resamples stays at 2,000,000 (at least 200).
    Its time is a benchmark's row (benchmarks/bench_parts.py), not asserted here."""
    assert resample_count(1000) == RESAMPLES and resample_count(10_000) == 200
    assert resample_count(10**6) == 200
    assert meta_predictions(_random_group(10_000)).resamples == 200


# --- the figure and the report ----------------------------------------------------------------


def _errorbars(ax) -> list[ErrorbarContainer]:
    return [c for c in ax.containers if isinstance(c, ErrorbarContainer)]


def test_the_figure_draws_actual_predicted_and_the_surprise(defaults):
    meta = meta_predictions(constructed_group(defaults))
    fig = meta_figure(meta, defaults)
    assert isinstance(fig, Figure)
    left, right = fig.subfigs[0].axes
    # per scenario: the joining line, the open predicted dot, the filled actual dot
    dots = [line for line in left.lines if len(line.get_xdata()) == 1]
    predicted = [float(d.get_xdata()[0]) for d in dots[0::2]]
    actual = [float(d.get_xdata()[0]) for d in dots[1::2]]
    assert predicted == pytest.approx([meta.predicted_mean[s] for s in SCENARIO_IDS])
    assert actual == pytest.approx([meta.actual_mean[s] for s in SCENARIO_IDS])
    bars = _errorbars(right)
    assert len(bars) == 4
    for s, bar in zip(SCENARIO_IDS, bars, strict=True):
        x = float(bar.lines[0].get_xdata()[0])
        assert x == pytest.approx(meta.surprise[s])
        (segments,) = [c for c in bar.lines[2]]
        (lo, _), (hi, _) = segments.get_segments()[0]
        assert (lo, hi) == pytest.approx(meta.surprise_interval[s])
    assert [t.get_text() for t in right.texts] == [
        "-23 points",
        "+7 points",
        "0 points",
        "+17 points",
    ]
    assert right.get_title() == "D is surprisingly popular"
    assert [t.get_fontweight() for t in left.get_yticklabels()] == ["normal"] * 3 + ["bold"]
    caption = fig.get_supxlabel().replace("\n", " ")
    assert "D is surprisingly popular" in caption and "shares one misperception" in caption


def test_with_too_few_answers_the_figure_only_says_so(defaults):
    meta = meta_predictions(constructed_group(defaults, majority=2, minority=1))
    fig = meta_figure(meta, defaults)
    (ax,) = fig.subfigs[0].axes
    assert not ax.axison and not ax.lines and not ax.collections and not ax.containers
    assert not [c for c in ax.collections if isinstance(c, PathCollection)]
    (text,) = ax.texts
    assert text.get_text().startswith("3 member(s) said what they expect the group to say")
    assert "%" not in text.get_text()


def test_the_report_section(defaults):
    meta = meta_predictions(constructed_group(defaults))
    html = _meta_html(meta)
    assert "<h2>What will the group say? Meta-predictions</h2>" in html
    assert "D is surprisingly popular" in html and "+16.7 points" in html
    assert "43.3 %" in html and "66.7 %" in html  # actual and predicted support of A
    assert "Prelec" in html and "bootstrap over members" in html
    few = _meta_html(meta_predictions(constructed_group(defaults, majority=3, minority=1)))
    assert "4 member(s)" in few and "<table>" not in few and "%" not in few
    tie = [member(defaults, f"m{k}", MAJORITY[0], MAJORITY[0]) for k in range(5)]
    assert "No single scenario is surprisingly popular: a tie between A" in _meta_html(
        meta_predictions(tie)
    )


def test_caveat_says_when_not_to_trust_it():
    assert "small group" in CAVEAT and "misperception" in CAVEAT


def test_the_record_is_frozen(defaults):
    meta = meta_predictions(constructed_group(defaults))
    assert isinstance(meta, MetaPredictions)
    with pytest.raises(dataclasses.FrozenInstanceError):
        meta.answered = 3
