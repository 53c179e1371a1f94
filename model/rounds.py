"""Rounds compared: how a group's consensus and agreement moved from one round to the next."""

from __future__ import annotations

from dataclasses import dataclass

from model.results import Result
from priors import SCENARIO_IDS


@dataclass(frozen=True)
class RoundComparison:
    """How a group moved between two rounds.

    Attributes
    ----------
    rounds : tuple of int
        The earlier and the later round.
    consensus : dict
        Per scenario, the posterior mean of the consensus μ in each round.
    kappa : tuple of (float or None)
        Posterior mean of the agreement κ in each round (None: fewer than two answers).
    spread : tuple of (float or None)
        Mean between-person SD of the credences A-D in each round (None: unknown).
    verdict : str
        One plain sentence: converged, diverged, mixed, or cannot tell.
    """

    rounds: tuple[int, int]
    consensus: dict[str, tuple[float, float]]
    kappa: tuple[float | None, float | None]
    spread: tuple[float | None, float | None]
    verdict: str


def _kappa(result: Result) -> float | None:
    k = result.agreement.kappa
    return None if k is None else k.mean


def _credence_spread(result: Result) -> float | None:
    vals = [
        d.spread.mean
        for d in result.disagreement
        if d.quantity.startswith("credence:") and d.spread is not None
    ]
    return sum(vals) / len(vals) if len(vals) == len(SCENARIO_IDS) else None


def compare_rounds(
    earlier: Result, later: Result, *, rounds: tuple[int, int] = (1, 2)
) -> RoundComparison:
    """Compare two rounds' results: converged or not.

    Converged: κ rose and the mean spread of the credences fell; diverged: both the other
    way; mixed otherwise. With fewer than two answers in a round, κ and the spread are
    unknown and the verdict says so.
    """
    consensus = {
        s: (earlier.consensus_prior[s].mean, later.consensus_prior[s].mean) for s in SCENARIO_IDS
    }
    kappa = (_kappa(earlier), _kappa(later))
    spread = (_credence_spread(earlier), _credence_spread(later))
    a, b = rounds
    if None in kappa or None in spread:
        verdict = (
            f"Cannot tell whether the group converged between round {a} and round {b}: "
            "a round has fewer than two answers, so its agreement is unknown."
        )
    else:
        rose = kappa[1] > kappa[0]
        fell = spread[1] < spread[0]
        change = (
            f"agreement κ {kappa[0]:.3g} → {kappa[1]:.3g}, "
            f"mean spread of the credences {spread[0]:.3g} → {spread[1]:.3g}"
        )
        if rose and fell:
            verdict = f"The group converged from round {a} to round {b}: {change}."
        elif not rose and not fell:
            verdict = f"The group moved apart from round {a} to round {b}: {change}."
        else:
            verdict = f"Mixed from round {a} to round {b}: {change}."
    return RoundComparison((a, b), consensus, kappa, spread, verdict)
