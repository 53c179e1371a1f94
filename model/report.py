"""The report: one self-contained HTML file with every figure and the summary numbers.

Figures are embedded as base64 PNG, numbers are HTML tables, and every piece of user
text (names, rationales, evidence, the title) is HTML-escaped. No scripts, no external
resources: the file opens offline and can be mailed or attached as it is.
"""

from __future__ import annotations

import base64
import html
import math
import os
from collections.abc import Callable, Mapping, Sequence
from io import BytesIO
from typing import Any

from model import figures as _figures
from model.analysis import Analysis
from model.figures import DESCRIPTIONS, FIGURES, SCREEN_MAX_PX, png_dpi
from model.headline import headline
from model.meta import CAVEAT as META_CAVEAT
from model.meta import MetaPredictions
from model.results import SCHEMING_LABELS, Result, Stat
from model.rounds import RoundComparison
from priors import SCENARIO_IDS

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 70rem; margin: 2rem auto;
       padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.2rem; }
.table-wrap { max-width: 100%; overflow-x: auto; margin: 0.6rem 0 1.4rem; }
table { border-collapse: collapse; font-size: 0.92rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: left;
         vertical-align: top; overflow-wrap: anywhere; }
th { background: #f2f2f2; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1.5rem 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9rem; }
.note { color: #555; font-size: 0.9rem; }
pre.text { white-space: pre-wrap; font-family: inherit; margin: 0; }
"""

_FIGURE_TITLES = {
    "trajectories": "Trajectories weighted by the group's posterior (linear axis)",
    "trajectories_log": "Trajectories weighted by the group's posterior (log axis)",
    "participants_vs_consensus": "Members' credences beside the consensus",
    "pools": "Classical pools beside the model",
    "factor_spread": "Factors of scheming: members, consensus, a new member",
    "prior_vs_posterior": "What the evidence does to the consensus",
    "crux": "Cruxes: where members part from the consensus (D versus A)",
    "undetected": "Undetected misalignment",
    "scheming_coherence": "Do the scheming answers cohere?",
    "meta_predictions": "What will the group say? Actual and predicted support",
    "what_would_settle_it": "What would settle it",
    "camps": "Worldview camps",
}


# --- formatting ----------------------------------------------------------------------------


def _e(text: Any) -> str:
    """HTML-escape any value's text (quotes too, so it is safe in attributes)."""
    return html.escape(str(text), quote=True)


def _pct(v: float | None) -> str:
    """A probability as a percentage, with more digits for small values."""
    if v is None or math.isnan(v):
        return "–"
    if v == 0 or v >= 0.001:
        return f"{100 * v:.1f} %"
    if v < 1e-4:
        return "< 0.01 %"
    return f"{100 * v:.2g} %"


def _log_odds(v: float | None) -> str:
    if v is None or math.isnan(v):
        return "undefined"
    if math.isinf(v):
        return "+∞" if v > 0 else "−∞"
    return f"{v:+.2f}"


def _stat(stat: Stat | None, fmt: Callable[[float], str] = _pct, *, reason: str = "") -> str:
    """A posterior summary as "mean [lo, hi]"; an unknown one as its reason."""
    if stat is None:
        return reason or "unknown"
    lo, hi = stat.hdi
    return f"{fmt(stat.mean)} [{fmt(lo)}, {fmt(hi)}]"


def _plain(v: float | None) -> str:
    if v is None or math.isnan(v):
        return "–"
    return f"{v:.3g}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], *, numeric_from: int = 1) -> str:
    """An HTML table; cells are escaped here, columns from `numeric_from` right-aligned."""
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="num">{_e(c)}</td>' if k >= numeric_from else f"<td>{_e(c)}</td>"
            for k, c in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    return _wrap(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")


def _wrap(table: str) -> str:
    """A table in a box that scrolls sideways, so a wide one never widens the page."""
    return f'<div class="table-wrap">{table}</div>'


# --- figures -------------------------------------------------------------------------------


def png_base64(fig: Any) -> str:
    """A matplotlib Figure as base64 PNG text (at most `SCREEN_MAX_PX` wide), for a data: URL."""
    buf = BytesIO()
    fig.savefig(buf, format="png", dpi=png_dpi(fig, SCREEN_MAX_PX))
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _rendered_pngs(analysis: Analysis, names: Sequence[str]) -> dict[str, str] | None:
    """The figures `names` as base64 PNG, drawn by `draw_pngs` in up to two worker processes.

    None if there is a single core or anything fails (a figure that cannot be drawn, or
    worker processes that cannot start): the caller then draws them one by one here, and
    names a figure that cannot be drawn.
    """
    if len(os.sched_getaffinity(0)) < 2:
        return None
    try:
        pngs = _figures.draw_pngs(analysis, names, workers=2, max_width_px=SCREEN_MAX_PX)
    except Exception:
        return None
    return {name: base64.b64encode(png).decode("ascii") for name, png in pngs.items()}


def _figures_html(analysis: Analysis, drawn: Mapping[str, bytes]) -> str:
    rendered = {name: base64.b64encode(png).decode("ascii") for name, png in drawn.items()}
    missing = [name for name in FIGURES if name not in rendered]
    rendered.update((_rendered_pngs(analysis, missing) if missing else None) or {})
    parts = []
    for name, make in FIGURES.items():
        title = _FIGURE_TITLES.get(name, name)
        try:
            if name in drawn:
                data = rendered[name]  # drawn by the caller (the dashboard's image)
            elif name in rendered and make is _figures.FIGURES.get(name):
                data = rendered[name]  # drawn by the same function in a worker
            else:
                data = png_base64(make(analysis))
        except ValueError as exc:  # one figure that cannot be drawn must not lose the report
            parts.append(
                f'<p id="figure-{_e(name)}" class="note">{_e(title)}: this figure could not '
                f"be drawn ({_e(exc)}).</p>"
            )
            continue
        parts.append(
            f'<figure id="figure-{_e(name)}"><img src="data:image/png;base64,{data}" '
            f'alt="{_e(title)}"><figcaption><b>{_e(title)}</b> ({_e(name)}.png). '
            f"{_e(DESCRIPTIONS.get(name, ''))}</figcaption></figure>"
        )
    return "\n".join(parts)


# --- rounds --------------------------------------------------------------------------------


def _rounds_html(comparison: RoundComparison) -> str:
    a, b = comparison.rounds
    rows = [
        [s, _pct(x), _pct(y), "" if None in (x, y) else f"{100 * (y - x):+.1f} points"]
        for s, (x, y) in comparison.consensus.items()
    ]
    kappa = [_plain(k) if k is not None else "unknown" for k in comparison.kappa]
    dist = [_plain(d) if d is not None else "unknown" for d in comparison.distance]
    change = comparison.change
    rows.append(["agreement κ (everyone who answered)", *kappa, ""])
    rows.append(
        [
            f"mean distance between the {len(comparison.members)} members in both rounds",
            *dist,
            "" if change is None else _stat(change, lambda v: f"{v:+.2f}"),
        ]
    )
    return (
        f"<h2>Round {a} and round {b}</h2>"
        + _table(["", f"round {a}", f"round {b}", "change"], rows)
        + f"<p>{_e(comparison.verdict)}</p>"
    )


# --- the report ----------------------------------------------------------------------------


def _pools_only_html(result: Result) -> str:
    pools = result.pools
    header = [
        "scenario",
        *(f"{k} pool (stated)" for k in pools.prior),
        *(f"{k} pool (posteriors)" for k in pools.posterior),
    ]
    rows = [
        [
            s,
            *(_pct(v[s]) for v in pools.prior.values()),
            *(_pct(v[s]) for v in pools.posterior.values()),
        ]
        for s in result.scenarios
    ]
    return "<h2>Pools</h2>" + _table(header, rows)


def _consensus_html(result: Result) -> str:
    if not result.fitted:
        return _pools_only_html(result)
    pools = result.pools
    header = [
        "scenario",
        "consensus μ [94 % HDI]",
        "after the evidence [94 % HDI]",
        "a new member, after the evidence [94 % HDI]",
        "linear pool (stated)",
        "log pool (stated)",
        "median (stated)",
        "linear pool (posteriors)",
        "log pool (posteriors)",
        "median (posteriors)",
    ]
    rows = [
        [
            s,
            _stat(result.consensus_prior[s]),
            _stat(result.consensus_posterior[s]),
            _stat(result.new_member_posterior[s]),
            *(_pct(pools.prior[k][s]) for k in ("linear", "log", "median")),
            *(_pct(pools.posterior[k][s]) for k in ("linear", "log", "median")),
        ]
        for s in result.scenarios
    ]
    kappa = _stat(result.agreement.kappa, _plain, reason=result.agreement.reason or "")
    log_rows = [
        [f"{s} vs A", t, _stat(v, _log_odds)]
        for s, terms in result.consensus_log_odds.items()
        for t, v in terms.items()
    ]
    return (
        "<h2>Consensus</h2>"
        + _table(header, rows)
        + f"<p>Agreement κ (larger = more alike): {_e(kappa)}.</p>"
        + "<h3>The consensus's log-odds against A, by source (nats)</h3>"
        + _table(["", "term", "mean [94 % HDI]"], log_rows, numeric_from=2)
    )


def _scheming_html(result: Result) -> str:
    if not result.fitted:
        return ""
    frows = [
        [
            f,
            _stat(v.consensus),
            _stat(v.spread, _plain, reason=v.spread_reason or ""),
            str(v.answered),
        ]
        for f, v in result.factors.items()
        if not v.direct
    ]
    crows = [[c.a, c.b, _stat(c.correlation, _plain)] for c in result.factor_correlation]
    srows = [[SCHEMING_LABELS[k], _stat(v)] for k, v in result.scheming.items()]
    fp = result.pools.factors
    qids = list(next(iter(fp.values())))
    prow = [[k, *(_pct(fp[k][q]) for q in qids)] for k in fp]
    return (
        "<h2>Factors of scheming</h2>"
        + _table(
            ["factor", "consensus [94 % HDI]", "spread τ, logit scale [94 % HDI]", "answered"],
            frows,
        )
        + "<h3>How the factors move together (correlation of members' logits)</h3>"
        + _table(["factor", "and factor", "correlation [94 % HDI]"], crows, numeric_from=2)
        + "<h3>P(scheming)</h3>"
        + _table(["", "mean [94 % HDI]"], srows)
        + "<h3>Pools of the factors and the direct P(scheming)</h3>"
        + _table(["pool", *qids], prow)
    )


def _disagreement_html(result: Result) -> str:
    rows = [
        [
            d.quantity,
            d.moves,
            _plain(d.log_odds_sd),
            _pct(d.observed_sd),
            _plain(d.logit_sd),
            _stat(d.spread, reason=d.reason or ""),
            str(d.answered),
        ]
        for d in result.disagreement
    ]
    return (
        "<h2>Where the group disagrees, ranked by how much it decides</h2>"
        '<p class="note">Ranked by the spread, across members, of the term each answer adds '
        "to their log-odds (nats); beside it the members' actual spread and the model's.</p>"
        + _table(
            [
                "quantity",
                "moves",
                "decides (SD of log-odds term, nats)",
                "members' SD",
                "members' SD (logit)",
                "model's SD [94 % HDI]",
                "answered",
            ],
            rows,
            numeric_from=2,
        )
    )


def _undetected_html(result: Result) -> str:
    if result.undetected is None:
        return ""
    rows = [
        [item, *(_stat(u.per_scenario[s]) for s in SCENARIO_IDS), _stat(u.expected_given_evidence)]
        for item, u in result.undetected.items()
    ]
    return "<h2>Undetected misalignment m_s·(1 − d_s)</h2>" + _table(
        ["item", *SCENARIO_IDS, "expected given the evidence"], rows
    )


def _meta_html(meta: MetaPredictions) -> str:
    """Meta-predictions: actual and predicted support, the surprise and what it means.

    With too few answers only the count and the reason, so no member's answer shows.
    """
    head = "<h2>What will the group say? Meta-predictions</h2>"
    if not meta.known:
        return head + (
            f'<p class="note">{_e(meta.answered)} member(s) said what they expect the group '
            f"to say: {_e(meta.reason)}.</p>"
        )
    rows = [
        [
            s,
            _pct(meta.actual_mean[s]),
            _pct(meta.predicted_mean[s]),
            f"{100 * meta.surprise[s]:+.1f} points "
            f"[{100 * meta.surprise_interval[s][0]:+.1f}, "
            f"{100 * meta.surprise_interval[s][1]:+.1f}]",
            "surprisingly popular" if s == meta.surprisingly_popular else "",
        ]
        for s in meta.actual_mean
    ]
    if meta.surprisingly_popular is not None:
        finding = (
            f"{meta.surprisingly_popular} is surprisingly popular; it comes out on top in "
            f"{100 * meta.surprisingly_popular_share:.0f} % of resamples."
        )
    else:
        finding = f"No single scenario is surprisingly popular: {meta.tie_reason}."
    gap = (
        f"Members' mean false-consensus gap: {100 * meta.mean_gap:+.1f} points (positive: "
        "the others are further from a member than the member expects)."
    )
    return (
        head
        + f"<p>{_e(meta.answered)} members answered both questions. {_e(finding)}</p>"
        + _table(
            ["scenario", "actual mean", "predicted mean", "surprise [94 % interval]", ""],
            rows,
        )
        + f'<p class="note">{_e(gap)} Intervals: {_e(meta.uncertainty)}. '
        f"{_e(META_CAVEAT)}</p>"
    )


def _participants_html(result: Result, evidence_ids: Sequence[str]) -> str:
    counts = [e for e in evidence_ids if any(e in p.undetected for p in result.participants)]
    rows, notes = [], []
    for p in result.participants:
        rows.append(
            [
                p.id,
                *(_pct(p.prior[s]) for s in SCENARIO_IDS),
                *(_pct(p.posterior[s]) for s in SCENARIO_IDS),
                _pct(p.scheming_product),
                _pct(p.p_scheming),
                *(_pct(p.undetected.get(e)) for e in counts),
            ]
        )
        notes += [[p.id, n] for n in p.coherence.notes]
    header = [
        "member",
        *(f"{s} stated" for s in SCENARIO_IDS),
        *(f"{s} after evidence" for s in SCENARIO_IDS),
        "factor product",
        "direct P(scheming)",
        *(f"undetected ({e})" for e in counts),
    ]
    lo_rows = [
        [p.id, f"{s} vs A", *(_log_odds(v) for v in terms.values())]
        for p in result.participants
        for s, terms in p.log_odds.items()
    ]
    lo_header = ["member", "", "prior", *evidence_ids, "posterior"]
    out = "<h2>Members</h2>" + _table(header, rows)
    out += "<h3>Each member's log-odds against A, by source (nats)</h3>"
    out += _table(lo_header, lo_rows, numeric_from=2)
    if notes:
        out += "<h3>Coherence notes</h3>" + _table(["member", "note"], notes, numeric_from=99)
    return out


def _rationales_html(analysis: Analysis) -> str:
    rows = [(r.participant, r.rationale) for r in analysis.responses if r.rationale.strip()]
    if not rows:
        return ""
    body = "".join(
        f'<tr><td>{_e(name)}</td><td><pre class="text">{_e(text)}</pre></td></tr>'
        for name, text in rows
    )
    return "<h2>Rationales</h2>" + _wrap(
        "<table><thead><tr><th>member</th><th>rationale</th></tr></thead>"
        f"<tbody>{body}</tbody></table>"
    )


def _evidence_html(analysis: Analysis) -> str:
    rows = [[e.id, e.kind, e.text] for e in analysis.evidence]
    if not rows:
        return "<h2>Evidence</h2><p>None.</p>"
    return "<h2>Evidence</h2>" + _table(["id", "kind", "text"], rows, numeric_from=99)


def _headline_html(analysis: Analysis) -> str:
    items = "".join(f"<li>{_e(s)}</li>" for s in headline(analysis.result, analysis.defaults))
    return f"<h2>In short</h2><ul>{items}</ul>"


def _settle_html(result: Result) -> str:
    settlers = result.what_would_settle_it
    if not settlers:
        return ""
    texts = {str(e["id"]): str(e["text"]) for e in result.evidence}
    rows = [
        [
            texts.get(s.item, s.item),
            s.kind,
            "–" if s.vod is None else _stat(s.vod, lambda v: f"{v:+.3f}"),
            _pct(s.p_yes),
            "yes" if s.polarising else "",
            ", ".join(f"{p.a} & {p.b}" for p in s.pairs),
        ]
        for s in settlers
    ]
    return (
        "<h2>What would settle it</h2>"
        '<p class="note">Expected fall in the members\' mean pairwise Jensen–Shannon divergence '
        "(bits) once the outcome is known, weighted by the group's predictive probability of "
        "each outcome; negative = polarising.</p>"
        + _table(
            [
                "observation",
                "kind",
                "expected fall [94 % HDI]",
                "P(yes)",
                "polarising",
                "double crux of",
            ],
            rows,
            numeric_from=2,
        )
    )


def _camps_html(result: Result) -> str:
    camps = result.camps
    rows = [[str(c.id), str(c.size), c.label] for c in camps.camps]
    common = ", ".join(f"{g.quantity} {_pct(g.mean)}" for g in camps.common_ground)
    return (
        f'<h2>Worldview camps: {camps.k}</h2><p class="note">{_e(camps.method)}</p>'
        + (_table(["camp", "members", "what sets it apart"], rows, numeric_from=99) if rows else "")
        + (f"<p>Common ground: {_e(common)}.</p>" if common else "")
    )


def _diagnostics_html(result: Result) -> str:
    d = result.diagnostics
    if d is None:
        text = (
            f"The group model is {result.group_model}: below three members its consensus "
            "would mostly be its prior. Each member's own numbers and the pools are shown."
        )
        return f'<p class="note">{_e(text)}</p>'
    text = (
        f"Sampler diagnostics: max R-hat {d.max_rhat:.3f}, min bulk ESS "
        f"{d.min_ess_bulk:.0f}, {d.divergences} divergences, {d.chains} chains × "
        f"{d.draws} draws, step size tuned to {d.target_accept:.0%} acceptance, {d.seconds} s."
    )
    return f'<p class="note">{_e(text)}</p>'


def html_report(
    analysis: Analysis,
    *,
    title: str = "Cruxboard report",
    rounds: Sequence[RoundComparison] = (),
    note: str = "",
    drawn: Mapping[str, bytes] | None = None,
) -> str:
    """One self-contained HTML document: every figure and the summary numbers.

    Each figure is a PNG at most `model.figures.SCREEN_MAX_PX` wide (150 dpi if narrower),
    drawn in up to two worker processes (here only on a single core, or if the workers fail),
    unless `drawn` holds it already.

    Parameters
    ----------
    analysis : Analysis
        The fitted group: its results (`analysis.result`) and figures.
    title : str
        Shown as the heading (escaped).
    rounds : sequence of RoundComparison
        Optional round-to-round comparisons (`model.rounds.compare_rounds`).
    note : str
        Optional plain text under the title (e.g. how to reproduce the numbers).
    drawn : mapping of str to bytes, optional
        Figures of this analysis already drawn, as PNG bytes by their name in `FIGURES`
        (the dashboard passes the images it shows, so its report draws only the rest).
        The caller vouches that each is ``FIGURES[name](analysis)``.

    Returns
    -------
    str
        The HTML text; figures are base64 PNG ``<img>`` elements, all user text escaped.
    """
    evidence_ids = [e.id for e in analysis.evidence]
    result = analysis.result
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="note">{_e(result.n_participants)} members. Means are posterior means; '
        "intervals are 94 % highest-density intervals.</p>",
    ]
    if note:
        parts.append(f'<p class="note">{_e(note)}</p>')
    parts += [
        _headline_html(analysis),
        _diagnostics_html(result),
        _evidence_html(analysis),
        _consensus_html(result),
        *(_rounds_html(c) for c in rounds),
        _scheming_html(result),
        _disagreement_html(result),
        _settle_html(result),
        _camps_html(result),
        _undetected_html(result),
        _meta_html(result.meta_predictions),
        _participants_html(result, evidence_ids),
        _rationales_html(analysis),
        "<h2>Figures</h2>",
        _figures_html(analysis, drawn or {}),
        "</body></html>",
    ]
    return "\n".join(p for p in parts if p)
