"""Frozen records of worldview camps: members, camps, what sets them apart, and the scores."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CampMember:
    """One member: their camp (1..k), its probability, and their place on the map."""

    participant: str
    camp: int
    p: float
    x: float
    y: float


@dataclass(frozen=True)
class Distinguishing:
    """A quantity that sets a camp apart.

    Attributes
    ----------
    quantity : str
        ``credence:<scenario>``, a factor id, ``p_scheming`` or ``<evidence id>:<scenario>``.
    camp_mean, rest_mean : float
        Mean stated probability in the camp and in the rest of the group.
    d : float
        Standardised difference (camp − rest) in pooled SDs of the feature (clr or logit).
    """

    quantity: str
    camp_mean: float
    rest_mean: float
    d: float


@dataclass(frozen=True)
class Camp:
    """One camp: its id (1 = largest), size (hard assignment), label and what sets it apart."""

    id: int
    size: int
    label: str
    distinguishing: tuple[Distinguishing, ...]


@dataclass(frozen=True)
class CommonGround:
    """A quantity all camps agree on: the members' mean probability and the largest gap.

    `gap` is the largest |camp mean − overall mean| over the camps, in overall SDs.
    """

    quantity: str
    mean: float
    gap: float


@dataclass(frozen=True)
class CampScore:
    """One candidate in the choice of k (sums over the members fitted).

    Attributes
    ----------
    k : int
        Number of camps.
    factors : int
        Factors in the shared covariance: 0 for a diagonal one.
    elpd : float or None
        Cross-validated log predictive density of the members' answers; None when refused.
    entropy : float or None
        Summed entropy (nats) of the members' held-out camp probabilities.
    score : float or None
        ``elpd − entropy``, the criterion: the held-out density of answers and camp.
    se : float or None
        SE of the difference in `score` to the best candidate (0 for the best).
    smallest : int
        Size of the smallest camp (hard assignment) of the solution kept; for a refused k,
        of its best start.
    admissible : bool
        False when every start run to convergence left a camp smaller than `MIN_CAMP`.
    """

    k: int
    factors: int
    elpd: float | None
    entropy: float | None
    score: float | None
    se: float | None
    smallest: int
    admissible: bool


@dataclass(frozen=True)
class Camps:
    """The group's worldview camps (the method is in the docstring of `model.camps`).

    Attributes
    ----------
    k : int
        Number of camps.
    method : str
        How they were found, in one sentence.
    reason : str or None
        Why there is one camp (None when there are more).
    members : tuple of CampMember
        In the group's order.
    camps : tuple of Camp
        Ordered by id (size, largest first).
    common_ground : tuple of CommonGround
        Empty with one camp.
    axes_explained : tuple of float
        Share of the total variance of the standardised features on the map's x and y axes.
    axes_quantities : tuple of tuple of str
        Per axis, the quantities loading most on it (largest |loading| first).
    scores : tuple of CampScore
        The candidates (empty below `MIN_MEMBERS` members).
    """

    k: int
    method: str
    reason: str | None
    members: tuple[CampMember, ...]
    camps: tuple[Camp, ...]
    common_ground: tuple[CommonGround, ...]
    axes_explained: tuple[float, float]
    axes_quantities: tuple[tuple[str, ...], tuple[str, ...]]
    scores: tuple[CampScore, ...]
