"""Load and validate the TOML files of priors/ and user evidence files."""

from __future__ import annotations

import math
import re
import tomllib
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from priors.errors import EvidenceError
from priors.limits import MAX_EVIDENCE_BYTES, MAX_EVIDENCE_ITEMS

SCENARIO_IDS: tuple[str, ...] = ("A", "B", "C", "D")
_HERE = Path(__file__).parent

Probability = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False, strict=True)]
OpenProbability = Annotated[float, Field(gt=0.0, lt=1.0, allow_inf_nan=False, strict=True)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _logit(p: np.ndarray) -> np.ndarray:
    return np.log(p) - np.log1p(-p)


class Scenario(_Strict):
    """One scenario with its default curves over x = log10(capability / today)."""

    id: Literal["A", "B", "C", "D"]
    name: str
    story: str
    false_alarm_rate: Probability
    misalignment: list[OpenProbability]
    detection: list[OpenProbability]

    @property
    def misalignment_now(self) -> float:
        """Actual misalignment rate today (x = 0)."""
        return self.misalignment[0]

    @property
    def detection_now(self) -> float:
        """Detection sensitivity today (x = 0)."""
        return self.detection[0]


class Need(_Strict):
    """'What we need': a tolerable misalignment rate falling by a factor per 10x capability."""

    tolerable_now: OpenProbability
    factor_per_decade: Annotated[float, Field(ge=1.0, le=1e6, allow_inf_nan=False)]


class Factor(_Strict):
    """One factor of scheming with its one-line question."""

    id: str
    name: str
    question: str


class DirectQuestion(_Strict):
    """The direct question for P(scheming)."""

    id: str
    question: str


_ID_PATTERN = r"^[a-z0-9_]{1,40}$"


class _EvidenceBase(_Strict):
    id: Annotated[str, Field(pattern=_ID_PATTERN)]
    text: Annotated[str, Field(min_length=1, max_length=500)]


class CountsEvidence(_EvidenceBase):
    """`detected` misaligned actions caught in `episodes` monitored episodes."""

    kind: Literal["counts"]
    detected: Annotated[int, Field(ge=0, strict=True)]
    episodes: Annotated[int, Field(ge=1, le=10**9, strict=True)]
    misalignment_rate: dict[Literal["A", "B", "C", "D"], OpenProbability] | None = None
    false_alarm_rate: Probability | None = None

    @model_validator(mode="after")
    def _detected_within_episodes(self) -> CountsEvidence:
        if self.detected > self.episodes:
            raise ValueError(
                f"detected ({self.detected}) is larger than episodes ({self.episodes}); "
                "detected counts episodes, so it must be at most episodes"
            )
        if self.misalignment_rate is not None and set(self.misalignment_rate) != set(SCENARIO_IDS):
            missing = sorted(set(SCENARIO_IDS) - set(self.misalignment_rate))
            raise ValueError(
                f"misalignment_rate must give all of A, B, C, D (missing {missing}), "
                "or be left out to use the scenario defaults"
            )
        return self


class LikelihoodEvidence(_EvidenceBase):
    """An observation each participant reads as P(observation | scenario)."""

    kind: Literal["likelihood"]
    default_likelihood: dict[Literal["A", "B", "C", "D"], OpenProbability] | None = None

    @field_validator("default_likelihood")
    @classmethod
    def _all_scenarios(cls, value: dict | None) -> dict | None:
        if value is not None and set(value) != set(SCENARIO_IDS):
            missing = sorted(set(SCENARIO_IDS) - set(value))
            raise ValueError(f"default_likelihood must give all of A, B, C, D (missing {missing})")
        return value


class QuestionEvidence(_EvidenceBase):
    """A future yes/no observation the facilitator proposes: what would settle it.

    Each participant reads it like a likelihood item, as P(yes | scenario). It is not
    evidence: nothing has been observed, so it updates nothing (the exact update and the
    consensus give it a log-likelihood of 0); `model.settle` ranks it by how much its answer
    is expected to reduce the members' disagreement. `default_likelihood` is a reference
    shown to participants and used for a reading they leave unanswered.
    """

    kind: Literal["question"]
    default_likelihood: dict[Literal["A", "B", "C", "D"], OpenProbability] | None = None

    @field_validator("default_likelihood")
    @classmethod
    def _all_scenarios(cls, value: dict | None) -> dict | None:
        if value is not None and set(value) != set(SCENARIO_IDS):
            missing = sorted(set(SCENARIO_IDS) - set(value))
            raise ValueError(f"default_likelihood must give all of A, B, C, D (missing {missing})")
        return value


EvidenceItem = Annotated[
    CountsEvidence | LikelihoodEvidence | QuestionEvidence, Field(discriminator="kind")
]


class _EvidenceFile(_Strict):
    evidence: Annotated[list[EvidenceItem], Field(max_length=MAX_EVIDENCE_ITEMS)]

    @field_validator("evidence")
    @classmethod
    def _unique_ids(cls, items: list) -> list:
        seen: set[str] = set()
        for item in items:
            if item.id in seen:
                raise ValueError(
                    f"evidence id {item.id!r} appears twice; give each item its own id"
                )
            seen.add(item.id)
        return items


class CredenceHyper(_Strict):
    """Hyperpriors of the credences (consensus mu, agreement kappa, the sticks' dispersion)."""

    mu_concentration: Annotated[
        list[Annotated[float, Field(gt=0)]], Field(min_length=4, max_length=4)
    ]
    log_kappa_mean: float
    log_kappa_sd: Annotated[float, Field(gt=0)]
    kappa_max: Annotated[float, Field(gt=1)]
    dispersion_sd: Annotated[float, Field(gt=0, le=10, allow_inf_nan=False)]
    zero_threshold: Annotated[float, Field(gt=0, lt=0.1)]


class FactorHyper(_Strict):
    """Hyperpriors of the factor block (logit scale)."""

    theta_mean: float
    theta_sd: Annotated[float, Field(gt=0)]
    tau_sd: Annotated[float, Field(gt=0)]
    zero_threshold: Annotated[float, Field(gt=0, lt=0.1)]
    elicitation_sd: Annotated[float, Field(gt=0, le=2)]
    lkj_eta: Annotated[float, Field(gt=0, le=100, allow_inf_nan=False)]


class ReadingHyper(_Strict):
    """Hyperpriors of the evidence-reading block (logit scale)."""

    delta_sd: Annotated[float, Field(gt=0)]
    omega_sd: Annotated[float, Field(gt=0)]
    zero_threshold: Annotated[float, Field(gt=0, lt=0.1)]
    elicitation_sd: Annotated[float, Field(gt=0, le=2)]


class Hyperpriors(_Strict):
    """All hyperpriors of the group model."""

    credences: CredenceHyper
    factors: FactorHyper
    readings: ReadingHyper


class Defaults(_Strict):
    """Everything in priors/: scenarios, need line, factors, evidence, hyperpriors."""

    log_capability: list[float]
    need: Need
    scenarios: tuple[Scenario, ...]
    factors: tuple[Factor, ...]
    direct: DirectQuestion
    evidence: tuple[EvidenceItem, ...]
    hyperpriors: Hyperpriors

    @model_validator(mode="after")
    def _curves_match(self) -> Defaults:
        if [s.id for s in self.scenarios] != list(SCENARIO_IDS):
            raise ValueError("scenario: give exactly A, B, C, D in that order")
        n = len(self.log_capability)
        if n < 2 or any(b <= a for a, b in pairwise(self.log_capability)):
            raise ValueError("log_capability: give at least two increasing values")
        for s in self.scenarios:
            for name in ("misalignment", "detection"):
                if len(getattr(s, name)) != n:
                    raise ValueError(
                        f"scenario {s.id}.{name}: has {len(getattr(s, name))} values, "
                        f"log_capability has {n}; give one value per point"
                    )
        return self

    @property
    def factor_ids(self) -> tuple[str, ...]:
        """The four factor ids in order."""
        return tuple(f.id for f in self.factors)

    def scenario(self, sid: str) -> Scenario:
        """The scenario with this id."""
        return self.scenarios[SCENARIO_IDS.index(sid)]

    def curves(self, x: np.ndarray) -> dict[str, dict[str, np.ndarray]]:
        """Misalignment and detection of each scenario at log-capabilities `x`.

        Interpolated linearly in x on the logit scale between the given points, and held
        at the end values outside them.
        """
        x = np.asarray(x, dtype=float)
        grid = np.asarray(self.log_capability)
        out: dict[str, dict[str, np.ndarray]] = {}
        for s in self.scenarios:
            out[s.id] = {
                name: 1.0 / (1.0 + np.exp(-np.interp(x, grid, _logit(np.asarray(vals)))))
                for name, vals in (("misalignment", s.misalignment), ("detection", s.detection))
            }
            out[s.id]["false_alarm"] = np.full_like(x, s.false_alarm_rate)
        return out

    def tolerable(self, x: np.ndarray, *, factor_per_decade: float | None = None) -> np.ndarray:
        """Tolerable misalignment rate at log-capability x ('what we need')."""
        c = self.need.factor_per_decade if factor_per_decade is None else factor_per_decade
        if not (math.isfinite(c) and c >= 1.0):
            raise ValueError(
                f"factor per 10x capability is {c}; give a number of at least 1 "
                "(1 = the tolerable rate stays flat)"
            )
        return self.need.tolerable_now * c ** (-np.asarray(x, dtype=float))


def _location(loc: tuple) -> str:
    parts: list[str] = []
    for k, p in enumerate(loc):
        if isinstance(p, int):
            parts.append(f"[{p}]")
        elif k == 2 and loc[0] == "evidence" and p in ("counts", "likelihood", "question"):
            continue  # the discriminator's branch name, not a field
        else:
            parts.append(("." if parts else "") + str(p))
    return "".join(parts) or "file"


_FRIENDLY = {
    "string_pattern_mismatch": "ids use only lower-case letters, digits and _ (at most 40)",
    "extra_forbidden": "unknown field; remove it or check its spelling",
    "union_tag_invalid": 'kind must be "counts", "likelihood" or "question"',
    "union_tag_not_found": 'give kind = "counts", kind = "likelihood" or kind = "question"',
    "missing": "required field is missing; add it",
    "finite_number": "must be a finite number (not NaN or inf)",
    "int_type": "must be a whole number",
    "float_type": "must be a number",
    "string_type": "must be text in quotes",
}


def _describe(err: ValidationError, *, source: str) -> str:
    lines = []
    for e in err.errors():
        msg = _FRIENDLY.get(e["type"], e["msg"]).removeprefix("Value error, ")
        where = _location(e["loc"]).replace("\n", " ")[:120]
        lines.append(f"{source}: {where}: {msg}")
    return "\n".join(lines)


_HUGE_NUMBER = re.compile(r"^\s*([A-Za-z0-9_.\"-]{1,60})\s*=\s*[-+]?[0-9_]{4300,}", re.M)


def parse_evidence(text: str, *, source: str = "evidence") -> tuple[EvidenceItem, ...]:
    """Parse an evidence TOML document into validated items.

    Raises
    ------
    EvidenceError (a ValueError)
        With one line per problem, naming the item and field and how to fix it.
    """
    if len(text.encode("utf-8", errors="replace")) > MAX_EVIDENCE_BYTES:
        raise EvidenceError(
            f"{source}: the file is larger than {MAX_EVIDENCE_BYTES // 1000} kB; "
            "an evidence file holds a few short items"
        )
    huge = _HUGE_NUMBER.search(text)
    if huge:
        raise EvidenceError(
            f"{source}: {huge.group(1)}: a number of over 4300 digits; give a whole number "
            "of ordinary size"
        )
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise EvidenceError(
            f"{source}: not valid TOML ({exc}); check quotes and brackets"
        ) from None
    except (ValueError, RecursionError) as exc:  # nesting too deep, integers too long
        raise EvidenceError(
            f"{source}: not usable TOML ({str(exc)[:80]}); use flat [[evidence]] items"
        ) from None
    if "evidence" not in raw:
        raise EvidenceError(
            f"{source}: no [[evidence]] items found; each item starts with a line [[evidence]]"
        )
    try:
        return tuple(_EvidenceFile.model_validate(raw).evidence)
    except ValidationError as exc:
        raise EvidenceError(_describe(exc, source=source)) from None


def load_evidence(path: str | Path) -> tuple[EvidenceItem, ...]:
    """Read an evidence TOML file (see priors/evidence.toml for the format)."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise EvidenceError(f"{path}: not UTF-8 text; save the file as UTF-8") from None
    except OSError as exc:
        raise EvidenceError(f"{path}: cannot read it ({exc.strerror})") from None
    return parse_evidence(text, source=str(path))


def _read_toml(name: str) -> dict:
    with open(_HERE / name, "rb") as f:
        return tomllib.load(f)


@cache
def load_defaults() -> Defaults:
    """Load and validate everything in priors/ (cached: the files are part of the package)."""
    scen = _read_toml("scenarios.toml")
    fac = _read_toml("factors.toml")
    evidence = parse_evidence(
        (_HERE / "evidence.toml").read_text("utf-8"), source="priors/evidence.toml"
    )
    raw = {
        "log_capability": scen["log_capability"],
        "need": scen["need"],
        "scenarios": scen["scenario"],
        "factors": fac["factor"],
        "direct": fac["direct"],
        "evidence": evidence,
        "hyperpriors": _read_toml("hyperpriors.toml"),
    }
    try:
        return Defaults.model_validate(raw)
    except ValidationError as exc:
        raise ValueError(_describe(exc, source="priors")) from None
