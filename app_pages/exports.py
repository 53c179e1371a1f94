"""Plain helpers behind the downloads, the fits and the whole-group import (no Streamlit)."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import tempfile
from collections.abc import Mapping, Sequence
from io import StringIO
from pathlib import Path
from typing import Any

from model import Analysis, Response, ResponseError, validate_response
from model.figures import FIGURES, figure_bytes
from model.io import responses_to_csv, responses_to_json
from model.report import html_report
from model.results import Result
from model.rounds import RoundComparison
from model.sampling import DEFAULT_DRAWS, DEFAULT_TUNE
from model.spreadsheet import escape_cell
from model.summary import summary_text
from priors import Defaults, parse_evidence
from priors.errors import BadInputError, EvidenceError, ImportFileError
from store import ImportedGroup, Store, parse_export_json

MIME = {
    "png": "image/png",
    "svg": "image/svg+xml",
    "pdf": "application/pdf",
    "csv": "text/csv",
    "json": "application/json",
    "toml": "application/toml",
    "html": "text/html",
    "nc": "application/x-netcdf",
}


def data_key(evidence_text: str, responses: Sequence[Response]) -> str:
    """A hash of a group's data (evidence text and responses): keys the cached fit."""
    text = json.dumps(
        {"evidence": evidence_text, "responses": [r.to_dict() for r in responses]},
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def seed_for(key: str) -> int:
    """The random seed used for a group's data: fixed by the data, so reruns agree."""
    return int(key[:7], 16)


def unique_names(responses: Sequence[Response]) -> list[Response]:
    """The responses with repeated display names made unique ("Ada", "Ada (2)", ...).

    The store allows two members with one name; the responses files (and so the command
    line) need each participant once.
    """
    seen: set[str] = set()
    out = []
    for r in responses:
        name, k = r.participant, 1
        while name in seen:
            k += 1
            name = f"{r.participant} ({k})"
        seen.add(name)
        out.append(r if name == r.participant else dataclasses.replace(r, participant=name))
    return out


def named_figure_bytes(analysis: Analysis, name: str, fmt: str) -> bytes:
    """Figure `name` of `model.figures.FIGURES` for this analysis, as bytes."""
    return figure_bytes(FIGURES[name](analysis), fmt)


def responses_csv(analysis: Analysis) -> str:
    """The responses in the documented CSV format (what `python -m model aggregate` reads)."""
    return responses_to_csv(
        analysis.responses, evidence=analysis.evidence, defaults=analysis.defaults
    )


def responses_json(analysis: Analysis) -> str:
    """The responses in the documented JSON format."""
    return responses_to_json(analysis.responses)


def summary_json(result: Result) -> str:
    """The summary as written by the command line (summary.json)."""
    return summary_text(result)


def report_html(
    analysis: Analysis,
    *,
    title: str,
    rounds: Sequence[RoundComparison] = (),
    note: str = "",
    drawn: Mapping[str, bytes] | None = None,
) -> str:
    """The one-file HTML report (`model.report.html_report`; `drawn`: figures already drawn)."""
    return html_report(analysis, title=title, rounds=rounds, note=note, drawn=drawn)


def posterior_netcdf(analysis: Analysis) -> bytes:
    """The posterior (with the derived quantities) as NetCDF bytes (h5netcdf)."""
    with tempfile.TemporaryDirectory(prefix="cruxboard-") as tmp:
        path = Path(tmp) / "posterior.nc"
        analysis.fit.idata.to_netcdf(path, engine="h5netcdf")
        return path.read_bytes()


def reproduce_command(seed: int, draws: int, tune: int = DEFAULT_TUNE) -> str:
    """The command line that reproduces the dashboard's numbers from the exported files."""
    cmd = "python -m model aggregate responses.csv --evidence evidence.toml"
    if draws != DEFAULT_DRAWS:
        cmd += f" --draws {draws}"
    if tune != DEFAULT_TUNE:
        cmd += f" --tune {tune}"
    return f"{cmd} --seed {seed} --out result/"


def check_group_export(data: dict[str, Any], defaults: Defaults) -> None:
    """Check a whole-group file before import: its structure, evidence and every answer.

    The store checks the structure; here the evidence must parse and every revision must
    be a valid response for it, so an imported group always opens on the dashboard.

    Raises
    ------
    ImportFileError (a ValueError)
        Naming the part of the file that is wrong and how to fix it; nothing is written.
    """
    Store.check_export(data)  # the fields below exist and have their types from here on
    try:
        evidence = parse_evidence(data["group"]["evidence"], source="the file's evidence")
    except EvidenceError as exc:
        raise ImportFileError(f"import: {exc}") from None
    names = {p["id"]: p["display_name"] for p in data["participants"]}
    for index, revision in enumerate(data["revisions"]):
        name = names[revision["participant_id"]]
        payload = dict(revision["payload"], participant=name)
        try:
            validate_response(payload, evidence=evidence, defaults=defaults)
        except ResponseError as exc:
            raise ImportFileError(
                f"import: revisions[{index}] (member {name[:60]!r}, round {revision['round']}) "
                f"is not a valid answer: {exc}"
            ) from None


IMPORT_FIX = (
    "Upload the file exactly as the dashboard's 'Whole group' button saved it; if it was "
    "edited or cut short, download it again there."
)


def import_group_file(store: Store, raw: bytes, defaults: Defaults) -> ImportedGroup:
    """Read, check and import a whole-group file: all of it in one transaction, or nothing.

    Raises
    ------
    ImportFileError (a ValueError)
        Naming the part of the file that is wrong, followed by `IMPORT_FIX`; nothing is
        written.
    """
    try:
        data = parse_export_json(raw)
        check_group_export(data, defaults)
        return store.import_group(data)
    except BadInputError as exc:
        message = str(exc)
        if IMPORT_FIX not in message:
            message = f"{message.rstrip('.')}. {IMPORT_FIX}"
        raise ImportFileError(message) from None


def member_links_csv(rows: Sequence[tuple[str, str]]) -> str:
    """Member names and their come-back links as CSV, for the facilitator to send on.

    A cell that a spreadsheet would run as a formula (it starts with =, +, -, @, a tab or
    a carriage return) gets a leading apostrophe, so it shows as text
    (`model.spreadsheet.escape_cell`, as in the responses CSV).
    """
    out = StringIO()
    writer = csv.writer(out)
    writer.writerow(["member", "come-back link"])
    for name, link in rows:
        writer.writerow([escape_cell(name), escape_cell(link)])
    return out.getvalue()
