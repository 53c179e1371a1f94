"""The whole-group file (``cruxboard.group`` JSON): written from records, read and checked.

Every refusal of a file is a `priors.errors.ImportFileError` (a `ValueError`) whose message
starts with ``import:`` and names the place in the file.
"""

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from priors.errors import BadInputError, ImportFileError
from priors.limits import MAX_EVIDENCE_CHARS, MAX_GROUP_NAME_CHARS, MAX_NAME_CHARS, MAX_ROUNDS
from store.checks import check_text, is_int, payload_json, short
from store.records import Group, Participant, Revision, StatusChange
from store.schema import STATUS_ACTIONS
from store.status import refusal

EXPORT_FORMAT = "cruxboard.group"
"""Value of ``"format"`` in `Store.export_group` output."""

EXPORT_VERSION = 2
"""Value of ``"format_version"`` in `Store.export_group` output.

Version 2 added ``statuses`` (members removed, merged and restored); version 1 files,
which have none, are still read.
"""

READ_VERSIONS = (1, 2)
"""The ``"format_version"`` values `parse_export` reads."""

_FIELDS = {
    "data": ("format", "format_version", "group", "participants", "revisions", "statuses"),
    "data_v1": ("format", "format_version", "group", "participants", "revisions"),
    "group": ("id", "name", "evidence", "current_round", "created_at"),
    "participant": ("id", "display_name", "created_at"),
    "revision": ("id", "participant_id", "round", "payload", "created_at"),
    "status": ("id", "participant_id", "action", "into_participant_id", "by", "created_at"),
}
_MAX_BY_CHARS = 32

_REUPLOAD = "upload the .json file the dashboard's 'Whole group' button saved"


@dataclass(frozen=True, slots=True)
class FileMember:
    """A participant as a checked file gives it: their id in the file, name and joining time."""

    file_id: int
    display_name: str
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class FileRevision:
    """A revision as a checked file gives it; `payload` is the JSON text the store keeps."""

    file_participant_id: int
    round: int
    payload: str
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class FileStatus:
    """A member's status change as a checked file gives it (ids as in the file)."""

    file_participant_id: int
    action: str
    file_into_id: int | None
    by: str
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class GroupFile:
    """A checked whole-group file: everything `Store.import_group` writes, ids aside."""

    name: str
    evidence: str
    current_round: int
    created_at: dt.datetime
    members: tuple[FileMember, ...]
    revisions: tuple[FileRevision, ...]
    statuses: tuple[FileStatus, ...] = ()


def export_dict(
    group: Group,
    participants: Sequence[Participant],
    revisions: Sequence[Revision],
    statuses: Sequence[StatusChange] = (),
) -> dict[str, Any]:
    """The whole-group file's content as a JSON-serialisable dict; times as ISO 8601 in UTC."""
    return {
        "format": EXPORT_FORMAT,
        "format_version": EXPORT_VERSION,
        "group": {
            "id": group.id,
            "name": group.name,
            "evidence": group.evidence,
            "current_round": group.current_round,
            "created_at": group.created_at.isoformat(),
        },
        "participants": [
            {"id": p.id, "display_name": p.display_name, "created_at": p.created_at.isoformat()}
            for p in participants
        ],
        "revisions": [
            {
                "id": r.id,
                "participant_id": r.participant_id,
                "round": r.round,
                "payload": r.payload,
                "created_at": r.created_at.isoformat(),
            }
            for r in revisions
        ],
        "statuses": [
            {
                "id": c.id,
                "participant_id": c.participant_id,
                "action": c.action,
                "into_participant_id": c.into_participant_id,
                "by": c.by,
                "created_at": c.created_at.isoformat(),
            }
            for c in statuses
        ],
    }


def export_json(data: dict[str, Any]) -> str:
    """An `export_group` dict as the whole-group file's JSON text (UTF-8, indented)."""
    return json.dumps(data, indent=1, ensure_ascii=False)


def parse_export_json(raw: bytes | str) -> dict[str, Any]:
    """Read a whole-group file (`export_json` text) back into a dict for `Store.import_group`.

    Raises
    ------
    ImportFileError
        If the text is not UTF-8 JSON holding an object; the message says how to fix it.
    """
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ImportFileError(
                f"import: the file is not UTF-8 text (byte {exc.start}); {_REUPLOAD}, unchanged"
            ) from None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # includes nesting too deep, huge integers
        detail = str(exc) if isinstance(exc, ValueError) else "nested too deep"
        raise ImportFileError(
            f"import: the file is not valid JSON ({detail}); {_REUPLOAD}, unchanged"
        ) from None
    if not isinstance(data, dict):
        raise ImportFileError(
            f"import: the file holds a JSON {type(data).__name__}, not the object a whole-group "
            f"file has; {_REUPLOAD}"
        )
    return data


def parse_export(data: object) -> GroupFile:
    """Check an `export_group` dict and return its content, ready to insert.

    Raises
    ------
    ImportFileError
        If `data` is not a valid export; the message names what is wrong.
    """
    if not isinstance(data, dict):
        raise ImportFileError(
            f"import: data must be a dict as export_group returns, not {type(data).__name__}"
        )
    if data.get("format") != EXPORT_FORMAT:
        raise ImportFileError(
            f"import: 'format' is {short(data.get('format'))}, not {EXPORT_FORMAT!r}; "
            "this is not a Cruxboard group export"
        )
    version = data.get("format_version")
    if not is_int(version) or version not in READ_VERSIONS:
        raise ImportFileError(
            f"import: 'format_version' is {short(version)}; this Cruxboard reads versions "
            f"{', '.join(map(str, READ_VERSIONS))} (a newer export needs a newer Cruxboard)"
        )
    _only_known(data, "data" if version >= 2 else "data_v1", "data")
    group = _field(data, "group", dict, "data")
    _only_known(group, "group", "group")
    current_round = _field(group, "current_round", int, "group")
    if not 1 <= current_round <= MAX_ROUNDS:
        raise ImportFileError(
            f"import: group current_round is {short(current_round)}; it must be from 1 to "
            f"{MAX_ROUNDS}"
        )
    name = _text(_field(group, "name", str, "group"), "group name", MAX_GROUP_NAME_CHARS)
    evidence = _text(
        _field(group, "evidence", str, "group"), "evidence", MAX_EVIDENCE_CHARS, allow_empty=True
    )
    created_at = _time(_field(group, "created_at", str, "group"), "group created_at")
    members = _members(_field(data, "participants", list, "data"))
    known = {member.file_id for member in members}
    revisions = _revisions(_field(data, "revisions", list, "data"), known, current_round)
    statuses = _statuses(_field(data, "statuses", list, "data"), known) if version >= 2 else ()
    return GroupFile(name, evidence, current_round, created_at, members, revisions, statuses)


def _members(items: list[Any]) -> tuple[FileMember, ...]:
    members: list[FileMember] = []
    known: set[int] = set()
    for index, person in enumerate(items):
        where = f"participants[{index}]"
        if not isinstance(person, dict):
            raise ImportFileError(f"import: {where} must be a dict, not {type(person).__name__}")
        _only_known(person, "participant", where)
        file_id = _field(person, "id", int, where)
        if file_id in known:
            raise ImportFileError(f"import: {where} repeats participant id {file_id}")
        name = _text(
            _field(person, "display_name", str, where), f"{where} display name", MAX_NAME_CHARS
        )
        created_at = _time(_field(person, "created_at", str, where), f"{where} created_at")
        members.append(FileMember(file_id, name, created_at))
        known.add(file_id)
    return tuple(members)


def _revisions(items: list[Any], known: set[int], current_round: int) -> tuple[FileRevision, ...]:
    revisions: list[FileRevision] = []
    for index, answer in enumerate(items):
        where = f"revisions[{index}]"
        if not isinstance(answer, dict):
            raise ImportFileError(f"import: {where} must be a dict, not {type(answer).__name__}")
        _only_known(answer, "revision", where)
        participant_id = _field(answer, "participant_id", int, where)
        if participant_id not in known:
            raise ImportFileError(
                f"import: {where} belongs to participant {participant_id}, who is not in "
                "'participants'"
            )
        round_ = _field(answer, "round", int, where)
        if not 1 <= round_ <= current_round:
            raise ImportFileError(
                f"import: {where} is in round {round_}; rounds run from 1 to the group's "
                f"current_round {current_round}"
            )
        payload = _field(answer, "payload", dict, where)
        try:
            text = payload_json(payload)
        except BadInputError as exc:
            raise ImportFileError(f"import: {where} {exc}") from None
        created_at = _time(_field(answer, "created_at", str, where), f"{where} created_at")
        revisions.append(FileRevision(participant_id, round_, text, created_at))
    return tuple(revisions)


def _statuses(items: list[Any], known: set[int]) -> tuple[FileStatus, ...]:
    """Check each change, and that the changes in file order are ones the Store allows."""
    statuses: list[FileStatus] = []
    now: dict[int, str | None] = {}
    for index, change in enumerate(items):
        where = f"statuses[{index}]"
        if not isinstance(change, dict):
            raise ImportFileError(f"import: {where} must be a dict, not {type(change).__name__}")
        _only_known(change, "status", where)
        member = _field(change, "participant_id", int, where)
        action = _field(change, "action", str, where)
        if action not in STATUS_ACTIONS:
            raise ImportFileError(
                f"import: {where} action is {short(action)}; it must be one of "
                f"{', '.join(STATUS_ACTIONS)}"
            )
        if "into_participant_id" not in change:
            raise ImportFileError(f"import: {where} has no 'into_participant_id'")
        into = change["into_participant_id"]
        if into is not None and not is_int(into):
            raise ImportFileError(
                f"import: {where}['into_participant_id'] must be int or null, not "
                f"{type(into).__name__}"
            )
        for who in (member, into):
            if who is not None and who not in known:
                raise ImportFileError(
                    f"import: {where} names participant {who}, who is not in 'participants'"
                )
        problem = refusal(action, member, into, now, lambda k: f"participant {k}")
        if problem is not None:
            raise ImportFileError(f"import: {where}: {problem}")
        by = _text(_field(change, "by", str, where), f"{where} by", _MAX_BY_CHARS)
        created_at = _time(_field(change, "created_at", str, where), f"{where} created_at")
        statuses.append(FileStatus(member, action, into, by, created_at))
        now[member] = action
    return tuple(statuses)


def _only_known(obj: dict[str, Any], kind: str, where: str) -> None:
    """Refuse fields an export never has (a damaged or hand-edited file)."""
    unknown = sorted(map(str, set(obj) - set(_FIELDS[kind])))
    if unknown:
        raise ImportFileError(
            f"import: {where} has unknown field(s) {', '.join(short(k) for k in unknown[:5])}; "
            f"remove them (the fields are {', '.join(_FIELDS[kind])})"
        )


def _field(obj: dict[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in obj:
        raise ImportFileError(f"import: {where} has no {key!r}; the export is incomplete")
    value = obj[key]
    if not (is_int(value) if kind is int else isinstance(value, kind)):
        raise ImportFileError(
            f"import: {where}[{key!r}] must be {kind.__name__}, not {type(value).__name__}"
        )
    return value


def _text(value: str, what: str, max_chars: int, *, allow_empty: bool = False) -> str:
    try:
        return check_text(
            value, what=f"import: {what}", max_chars=max_chars, allow_empty=allow_empty
        )
    except BadInputError as exc:
        raise ImportFileError(str(exc)) from None


def _time(text: str, where: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ImportFileError(f"import: {where} {short(text)} is not an ISO 8601 time") from None
    if value.tzinfo is None:
        raise ImportFileError(f"import: {where} {short(text)} has no UTC offset; add +00:00")
    return value.astimezone(dt.UTC)
