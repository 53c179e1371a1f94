"""What changed between two saved answers of a member: a compact diff of two payloads.

Payloads are the stored form of a `Response` (`Response.to_dict()`), read as they are:
an older or imported payload may lack a part (no forecast of the group, an evidence item
added later), and a missing value is compared as no answer (None).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from priors import SCENARIO_IDS

Kind = Literal["credence", "meta", "factor", "p_scheming", "reading", "rationale"]
KINDS: tuple[Kind, ...] = ("credence", "meta", "factor", "p_scheming", "reading", "rationale")
"""The parts of an answer, in the order a diff lists them (the order of the form)."""


@dataclass(frozen=True)
class Change:
    """One answer that differs between two saved answers.

    Attributes
    ----------
    kind : str
        "credence", "meta" (the expected group average), "factor", "p_scheming" (the direct
        question), "reading" or "rationale".
    key : str or None
        The factor id or evidence id (None for the other kinds).
    scenario : str or None
        The scenario of a credence, expected average or reading (None otherwise).
    old, new : float, str or None
        The value before and after: a probability in [0, 1], the rationale's text, or None
        for no answer.
    """

    kind: Kind
    key: str | None
    scenario: str | None
    old: float | str | None
    new: float | str | None

    @property
    def field(self) -> str:
        """The answer's name as the exports write it.

        ``credence:A``, ``meta:A``, a factor id, ``p_scheming``, ``<evidence id>:A`` or
        ``rationale``.
        """
        if self.kind in ("credence", "meta"):
            return f"{self.kind}:{self.scenario}"
        if self.kind == "reading":
            return f"{self.key}:{self.scenario}"
        if self.kind == "factor":
            return str(self.key)
        return self.kind


def _differs(old: Any, new: Any) -> bool:
    if isinstance(old, float) and isinstance(new, float):
        return not math.isclose(old, new, rel_tol=0.0, abs_tol=1e-12)
    return old != new


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _keys(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """The keys of both, the new answer's order first (an item only the old one has last)."""
    return list(dict.fromkeys([*new, *old]))


def _per_scenario(
    kind: Kind, key: str | None, old: Mapping[str, Any], new: Mapping[str, Any]
) -> Iterable[Change]:
    for s in SCENARIO_IDS:
        if _differs(old.get(s), new.get(s)):
            yield Change(kind, key, s, old.get(s), new.get(s))


def revision_diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[Change, ...]:
    """Every answer that differs from `old` to `new`, in the order of the form.

    Parameters
    ----------
    old, new : mapping
        Two stored answers (payloads) of the same member, the earlier first.

    Returns
    -------
    tuple of Change
        Credences, expected group averages, factors, the direct P(scheming), readings (per
        evidence item, per scenario) and the rationale that differ; empty when the two
        answers are the same. The display name is not compared.
    """
    changes: list[Change] = []
    changes += _per_scenario(
        "credence", None, _mapping(old.get("scenarios")), _mapping(new.get("scenarios"))
    )
    changes += _per_scenario("meta", None, _mapping(old.get("meta")), _mapping(new.get("meta")))
    old_f, new_f = _mapping(old.get("factors")), _mapping(new.get("factors"))
    for f in _keys(old_f, new_f):
        if _differs(old_f.get(f), new_f.get(f)):
            changes.append(Change("factor", f, None, old_f.get(f), new_f.get(f)))
    if _differs(old.get("p_scheming"), new.get("p_scheming")):
        changes.append(
            Change("p_scheming", None, None, old.get("p_scheming"), new.get("p_scheming"))
        )
    old_r, new_r = _mapping(old.get("readings")), _mapping(new.get("readings"))
    for e in _keys(old_r, new_r):
        changes += _per_scenario("reading", e, _mapping(old_r.get(e)), _mapping(new_r.get(e)))
    if (old.get("rationale") or "") != (new.get("rationale") or ""):
        changes.append(
            Change("rationale", None, None, old.get("rationale") or "", new.get("rationale") or "")
        )
    return tuple(changes)
