"""Responses files: the documented CSV and JSON formats, read all-or-nothing."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from model.schema import MAX_RATIONALE_CHARS, Response, ResponseError, validate_group
from model.spreadsheet import escape_cell, unescape_cell
from priors import SCENARIO_IDS, Defaults, EvidenceItem, load_defaults
from priors.limits import MAX_FILE_BYTES

# A rationale may be up to MAX_RATIONALE_CHARS; Python's csv refuses fields over 131,072
# characters by default (the limit is process-wide).
csv.field_size_limit(max(csv.field_size_limit(), 4 * MAX_RATIONALE_CHARS + 1))


META_COLUMNS = tuple(f"meta:{s}" for s in SCENARIO_IDS)
"""The meta-prediction's CSV columns (the group average the member expects), all or none."""


def csv_columns(evidence: Sequence[EvidenceItem], defaults: Defaults) -> list[str]:
    """The CSV header, in order.

    Raises
    ------
    ResponseError
        For an evidence item whose id is "meta": its columns would be the meta-prediction's.
    """
    if any(e.id == "meta" for e in evidence):
        raise ResponseError(
            "an evidence item has the id 'meta', whose columns meta:A..D are the "
            "meta-prediction's; rename that evidence item"
        )
    return [
        "participant",
        *SCENARIO_IDS,
        *defaults.factor_ids,
        defaults.direct.id,
        *(f"{e.id}:{s}" for e in evidence for s in SCENARIO_IDS),
        *META_COLUMNS,
        "rationale",
    ]


def _text_cell(value: str | None) -> str | None:
    """A text cell as written: the spreadsheet escape (see `model.spreadsheet`) undone."""
    return None if value is None else unescape_cell(value)


def _row_to_raw(row: dict[str, str], evidence: Sequence[EvidenceItem], defaults: Defaults) -> dict:
    return {
        "participant": _text_cell(row.get("participant")),
        "scenarios": {s: row.get(s) for s in SCENARIO_IDS},
        "factors": {f: row.get(f) for f in defaults.factor_ids},
        "p_scheming": row.get(defaults.direct.id),
        "readings": {e.id: {s: row.get(f"{e.id}:{s}") for s in SCENARIO_IDS} for e in evidence},
        "rationale": _text_cell(row.get("rationale")) or "",
        "meta": {s: row.get(f"meta:{s}") for s in SCENARIO_IDS},
    }


def parse_csv(text: str, *, evidence: Sequence[EvidenceItem], defaults: Defaults) -> list[dict]:
    """CSV text to raw response dicts; checks the header first.

    A name or rationale written with the spreadsheet escape (a leading apostrophe before
    =, +, -, @, a tab or a carriage return; `model.spreadsheet`) is read without it.
    """
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    known = csv_columns(evidence, defaults)
    unknown = [c for c in header if c not in known]
    if unknown:
        ids = [e.id for e in evidence]
        raise ResponseError(
            f"unknown column(s) {[c[:40] for c in unknown[:10]]}; remove or rename them "
            f"(the columns are {known}; evidence columns are '<evidence id>:<scenario>' "
            f"with ids {ids})"
        )
    missing = [c for c in ("participant", *SCENARIO_IDS) if c not in header]
    if missing:
        raise ResponseError(
            f"missing column(s) {missing}; add them (participant and A, B, C, D are required)"
        )
    if len(set(header)) != len(header):
        raise ResponseError("a column appears twice in the header; give each column once")
    rows = []
    for row in reader:
        if None in row:  # more cells than header fields
            raise ResponseError(
                f"row {reader.line_num - 1}: more cells than columns; check for an unquoted comma"
            )
        rows.append(_row_to_raw(row, evidence, defaults))
    return rows


def read_responses(
    path: str | Path,
    *,
    evidence: Sequence[EvidenceItem],
    defaults: Defaults | None = None,
) -> list[Response]:
    """Read a CSV or JSON responses file and validate every row (all or nothing).

    Raises
    ------
    ResponseError
        With one line per problem.
    """
    defaults = defaults or load_defaults()
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ResponseError(f"{path}: cannot read it ({exc.strerror})") from None
    if size > MAX_FILE_BYTES:
        raise ResponseError(f"{path}: {size:,} bytes; the limit is {MAX_FILE_BYTES:,}: split it")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ResponseError(f"{path}: not UTF-8 text; save it as UTF-8 (CSV UTF-8)") from None
    except OSError as exc:
        raise ResponseError(f"{path}: cannot read it ({exc.strerror}); give a file") from None
    return parse_responses(
        text, fmt=path.suffix.lower().lstrip("."), evidence=evidence, defaults=defaults
    )


def parse_responses(
    text: str, *, fmt: str, evidence: Sequence[EvidenceItem], defaults: Defaults | None = None
) -> list[Response]:
    """Parse responses from CSV or JSON text (`fmt` "csv" or "json")."""
    defaults = defaults or load_defaults()
    if fmt == "csv":
        try:
            raws = parse_csv(text, evidence=evidence, defaults=defaults)
        except csv.Error as exc:
            raise ResponseError(
                f"not valid CSV ({exc}); check the quoting and save it as CSV (UTF-8)"
            ) from None
    elif fmt == "json":
        try:
            raws = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ResponseError(
                f"not valid JSON ({exc.msg} at line {exc.lineno}); check brackets and quotes"
            ) from None
        except (ValueError, RecursionError) as exc:  # nesting too deep, integers too long
            raise ResponseError(
                f"not usable JSON ({str(exc)[:80]}); give a flat list of response objects"
            ) from None
        if not isinstance(raws, list):
            raise ResponseError("the JSON must be a list of response objects ([{...}, ...])")
    else:
        raise ResponseError(f"unknown file type {fmt!r}; give a .csv or .json file")
    return validate_group(raws, evidence=evidence, defaults=defaults)


def _cell(v: Any) -> Any:
    """A number cell: empty for no answer; -0.0 as 0.0, so no cell starts with a minus."""
    if v is None:
        return ""
    return abs(v) if v == 0 else v


def responses_to_csv(
    responses: Sequence[Response], *, evidence: Sequence[EvidenceItem], defaults: Defaults
) -> str:
    """The documented CSV (empty cells = no answer).

    Names and rationales a spreadsheet would run as formulas get a leading apostrophe
    (`model.spreadsheet.escape_cell`), which `parse_responses` removes again; number cells
    are written as numbers, never escaped.
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(csv_columns(evidence, defaults))
    for r in responses:
        writer.writerow(
            [
                escape_cell(r.participant),
                *(_cell(r.scenarios[s]) for s in SCENARIO_IDS),
                *(_cell(r.factors[f]) for f in defaults.factor_ids),
                _cell(r.p_scheming),
                *(_cell(r.readings[e.id][s]) for e in evidence for s in SCENARIO_IDS),
                *(_cell(None if r.meta is None else r.meta[s]) for s in SCENARIO_IDS),
                escape_cell(r.rationale),
            ]
        )
    return buf.getvalue()


def responses_to_json(responses: Sequence[Response]) -> str:
    """The documented JSON: a list of response objects."""
    return json.dumps([r.to_dict() for r in responses], indent=1, ensure_ascii=False)
