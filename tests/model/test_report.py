"""The HTML report: self-contained, every figure embedded, numbers in tables, user text escaped."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser

import pytest

from model.analysis import analyse
from model.figures import FIGURES
from model.report import html_report
from model.schema import validate_response
from model.summary import summary_json
from priors import parse_evidence
from tests.model.helpers import raw_response

EVIL_NAME = '<script>alert("name")</script> & "Ada"'
EVIL_RATIONALE = "<img src=x onerror=alert(1)>\nsecond line & more"
EVIL_TITLE = "Team <b>X</b>"
EVIDENCE = """
[[evidence]]
id = "monitoring_counts"
kind = "counts"
text = "3 detected <i>misaligned</i> actions in 1000 episodes"
detected = 3
episodes = 1000

[[evidence]]
id = "no_collusion"
kind = "likelihood"
text = "No collusion seen"
default_likelihood = { A = 0.9, B = 0.8, C = 0.85, D = 0.5 }
"""


class _Parsed(HTMLParser):
    """Collects tags, image sources, link targets and table cells; checks nesting."""

    VOID = {"meta", "img", "br", "hr", "link", "input"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[str] = []
        self.images: list[dict[str, str]] = []
        self.urls: list[str] = []
        self.cells: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs)
        self.urls += [v for k, v in attrs.items() if k in ("src", "href") and v]
        if tag not in self.VOID:
            self.stack.append(tag)
        if tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1:]}>"
        self.stack.pop()
        if tag in ("td", "th") and self._cell is not None:
            self.cells.append("".join(self._cell))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


@pytest.fixture(scope="module")
def fitted(sampler, defaults):
    evidence = parse_evidence(EVIDENCE)
    raws = [
        raw_response(EVIL_NAME, (0.6, 0.2, 0.2, 0.0), rationale=EVIL_RATIONALE),
        raw_response("Bo", (0.3, 0.3, 0.2, 0.2), p_scheming=0.2),
        raw_response("Chidi", (0.1, 0.1, 0.4, 0.4), p_scheming=0.4),
    ]
    responses = [validate_response(r, evidence=evidence, defaults=defaults) for r in raws]
    analysis = analyse(
        responses,
        evidence=evidence,
        defaults=defaults,
        sampler=sampler,
        draws=100,
        tune=100,
        chains=2,
        random_seed=3,
    )
    return analysis, summary_json(analysis.result)


@pytest.fixture(scope="module")
def report(fitted):
    analysis, summary = fitted
    return html_report(analysis, title=EVIL_TITLE, note="Reproduce: <seed 3>")


def test_report_is_well_formed_and_self_contained(report):
    parsed = _Parsed()
    parsed.feed(report)
    parsed.close()
    assert report.startswith("<!DOCTYPE html>")
    assert parsed.stack == []  # every element closed, in order
    assert "script" not in parsed.tags and "link" not in parsed.tags
    assert all(u.startswith("data:image/png;base64,") for u in parsed.urls)


def test_every_table_scrolls_sideways_in_its_own_box(report):
    """A wide table (the Members table has a column per scenario, twice) must not widen the
    page: each sits alone in a box that scrolls sideways. In Chromium at 390 and 1280 px:
    tests/e2e/test_phone.py."""
    assert re.search(r"\.table-wrap \{[^}]*overflow-x: auto", report)
    tables = report.count("<table")
    assert tables >= 5
    assert len(re.findall(r'<div class="table-wrap"><table>', report)) == tables
    assert report.count("</table></div>") == tables


def test_report_embeds_every_figure_as_png(report):
    parsed = _Parsed()
    parsed.feed(report)
    assert len(parsed.images) == len(FIGURES)
    for img in parsed.images:
        png = base64.b64decode(img["src"].removeprefix("data:image/png;base64,"), validate=True)
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        assert img["alt"]
    for name in FIGURES:
        assert f'id="figure-{name}"' in report


def test_report_escapes_every_piece_of_user_text(report):
    for raw in (EVIL_NAME, "<img src=x", "<i>misaligned</i>", EVIL_TITLE, "<seed 3>"):
        assert raw not in report
    assert "&lt;script&gt;alert(&quot;name&quot;)&lt;/script&gt; &amp; &quot;Ada&quot;" in report
    assert "&lt;img src=x onerror=alert(1)&gt;\nsecond line &amp; more" in report
    assert "<title>Team &lt;b&gt;X&lt;/b&gt;</title>" in report
    assert "3 detected &lt;i&gt;misaligned&lt;/i&gt; actions" in report
    parsed = _Parsed()
    parsed.feed(report)
    assert EVIL_NAME in parsed.cells  # and it reads back as the name itself


def test_report_tables_hold_the_summary_numbers(fitted, report):
    _, summary = fitted
    parsed = _Parsed()
    parsed.feed(report)
    cells = parsed.cells
    for s in "ABCD":
        stat = summary["consensus_prior"][s]
        lo, hi = stat["hdi"]
        expected = f"{100 * stat['mean']:.1f} % [{100 * lo:.1f} %, {100 * hi:.1f} %]"
        assert expected in cells
    kappa = summary["agreement"]["kappa"]["mean"]
    assert f"{kappa:.3g} [" in report
    # the first member stated D = 0: their prior log-odds of D against A is minus infinity
    assert "−∞" in cells
    linear_a = summary["pools"]["prior"]["linear"]["A"]
    assert f"{100 * linear_a:.1f} %" in cells
    assert re.search(r"max R-hat \d\.\d{3}", report)


def test_a_figure_that_cannot_be_drawn_is_named_not_fatal(fitted, monkeypatch):
    import model.report

    def broken(analysis):
        raise ValueError("Unknown symbol: \\foo <b>")

    monkeypatch.setattr(model.report, "FIGURES", {"crux": broken})
    analysis, _ = fitted
    report = html_report(analysis)
    assert "<img" not in report
    assert "could not be drawn (Unknown symbol: \\foo &lt;b&gt;)" in report


def test_figures_already_drawn_are_embedded_as_given_and_only_the_rest_drawn(fitted, monkeypatch):
    """The dashboard passes the images it has shown; the report draws only the others, at
    most `SCREEN_MAX_PX` wide (the page's width), in worker processes."""
    import model.report
    from model.figures import PNG_DPI, SCREEN_MAX_PX

    analysis, _ = fitted
    asked = []
    real = model.report._rendered_pngs

    def recording(analysis, names):
        asked.append(list(names))
        return real(analysis, names)

    monkeypatch.setattr(model.report, "_rendered_pngs", recording)
    shown = b"\x89PNG\r\n\x1a\n" + b"the dashboard's image of the pools"
    report = html_report(analysis, drawn={"pools": shown})
    assert asked == [[name for name in FIGURES if name != "pools"]]
    parsed = _Parsed()
    parsed.feed(report)
    assert len(parsed.images) == len(FIGURES)
    pngs = {
        img["alt"]: base64.b64decode(img["src"].removeprefix("data:image/png;base64,"))
        for img in parsed.images
    }
    assert shown in pngs.values()
    widths = [int.from_bytes(png[16:20], "big") for png in pngs.values() if png != shown]
    assert max(widths) <= SCREEN_MAX_PX  # the 12-13 in figures: capped
    assert 9 * PNG_DPI in widths  # the 9 in wide meta-predictions figure: 150 dpi
