"""Checks on values passed to the store: text, ids, rounds and JSON payloads.

Each check raises `priors.errors.BadInputError` (a `ValueError`) with a message that says
how to fix the value; nothing has been written when it does.
"""

import json
import math

from priors.errors import BadInputError
from priors.limits import MAX_PAYLOAD_BYTES, MAX_ROUNDS

_MAX_PAYLOAD_DEPTH = 64


def is_int(value: object) -> bool:
    """Tell whether `value` is an int (a bool is not)."""
    return isinstance(value, int) and not isinstance(value, bool)


def short(value: object, limit: int = 60) -> str:
    """`repr(value)` cut to `limit` characters, for messages that quote what was given."""
    text = repr(value) if not isinstance(value, int) or abs(value) < 10**limit else "a huge int"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check_id(value: object, *, what: str) -> None:
    """Refuse an id that is not an int."""
    if not is_int(value):
        raise BadInputError(f"{what} must be an int, not {type(value).__name__}")


def check_round(value: object) -> None:
    """Refuse a round that is not a whole number from 1 to `MAX_ROUNDS`."""
    if not is_int(value) or not 1 <= value <= MAX_ROUNDS:
        raise BadInputError(
            f"round must be a whole number from 1 to {MAX_ROUNDS}, not {short(value)}"
        )


def check_text(value: object, *, what: str, max_chars: int, allow_empty: bool = False) -> str:
    """Return `value` if it is text the store can keep exactly, else refuse it.

    It must be a str of at most `max_chars` characters, non-blank unless `allow_empty`,
    with no NUL character and no unpaired surrogate; `what` names it in the message.
    """
    if not isinstance(value, str):
        raise BadInputError(f"{what} must be text (str), not {type(value).__name__}")
    if not allow_empty and not value.strip():
        raise BadInputError(f"{what} is empty; enter at least one visible character")
    if len(value) > max_chars:
        raise BadInputError(
            f"{what} is {len(value):,} characters long; shorten it to at most {max_chars:,}"
        )
    if "\x00" in value:
        raise BadInputError(f"{what} contains a NUL character (\\x00), which cannot be stored")
    if not _encodable(value):
        raise BadInputError(f"{what} contains an unpaired surrogate (broken Unicode); re-enter it")
    return value


def payload_json(payload: object) -> str:
    """Check a revision payload and return the exact JSON text to store.

    It must be a dict that survives a JSON round trip unchanged, nested at most 64 levels,
    of at most `MAX_PAYLOAD_BYTES` as UTF-8 JSON.
    """
    if not isinstance(payload, dict):
        raise BadInputError(f"payload must be a dict (a JSON object), not {type(payload).__name__}")
    _check_json(payload, "payload", 0)
    try:
        text = json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except ValueError as exc:  # an int too long to write as decimal digits
        raise BadInputError(f"payload cannot be written as JSON ({exc})") from None
    size = len(text.encode("utf-8"))
    if size > MAX_PAYLOAD_BYTES:
        raise BadInputError(
            f"payload is {size:,} bytes as JSON, over the limit of {MAX_PAYLOAD_BYTES:,} "
            "bytes (2 MiB); shorten the rationale or other long text"
        )
    return text


def _check_json(value: object, path: str, depth: int) -> None:
    """Refuse `value` unless it survives a JSON round trip unchanged."""
    if depth > _MAX_PAYLOAD_DEPTH:
        raise BadInputError(f"{path} is nested over {_MAX_PAYLOAD_DEPTH} levels deep; flatten it")
    if value is None or isinstance(value, bool | int):
        return
    if isinstance(value, str):
        if not _encodable(value):
            raise BadInputError(f"{path} contains an unpaired surrogate (broken Unicode)")
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise BadInputError(
                f"{path} is {value!r}, which JSON cannot hold; use None for a missing number"
            )
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise BadInputError(
                    f"{path} has the key {key!r} ({type(key).__name__}); JSON object keys "
                    "must be str"
                )
            if not _encodable(key):
                raise BadInputError(f"{path} has a key with an unpaired surrogate (broken Unicode)")
            _check_json(item, f"{path}[{key!r}]", depth + 1)
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            _check_json(item, f"{path}[{index}]", depth + 1)
        return
    raise BadInputError(
        f"{path} is a {type(value).__name__}, which JSON cannot hold; use dict, list, str, "
        "int, float, bool or None (a tuple as a list, a NumPy number via float() or int())"
    )


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
