"""Sampling defaults shared by `GroupSampler`, `analyse`, the command line and the app.

Kept apart from `model.fit` so the command line can show them without importing PyMC.
"""

DEFAULT_DRAWS = 1000
"""Posterior draws per chain."""

DEFAULT_TUNE = 300
"""Tuning steps per chain (nutpie's own default).

On 8 simulated groups each at N = 100 and 1000, 4 x 1000 draws: max R-hat <= 1.008, bulk
ESS >= 4100, no divergences, as with 1000 steps, and the fit 30-45 % faster.
`benchmarks/bench_fit.py` checks the diagnostics again on every run.
"""

DEFAULT_CHAINS = 4
"""Chains."""

DEFAULT_TARGET_ACCEPT = 0.8
"""The mean acceptance the step size is tuned to (nutpie's and PyMC's default)."""

SMALL_GROUP_TARGET_ACCEPT = ((6, 0.99), (12, 0.95))
"""(members below, target): smaller steps for small groups, whose posterior has a narrow
region NUTS diverges in. Below 6 members 0.99, below 12 0.95, from 12 `DEFAULT_TARGET_ACCEPT`.

With fewer members than about twice the four factors, the members' factor answers leave
the factors' belief covariance T R T nearly singular in some direction, and that is where
NUTS diverged: in six groups of 4-8 members the divergent draws' smallest eigenvalue of
T R T was a median 1.4-3.6 times below the other draws'. On 15 simulated groups
(`model.example`, 3, 4, 5, 8 and 12 members, seeds 1-3), 4 x 1000 draws, divergences per
fit at 0.8: 12-71 for 3-5 members, 1-47 for 8, none for 12; at 0.9: 1-12 and 0-4; at 0.95:
0-3 and none, for 1.3-1.4 times the gradients per draw (16.5-19 leapfrog steps against
13-14). At 0.95 on 30 more (3, 4, 6, 8 and 10 members, seeds 11-16): 0-3 per fit, none
from 6 members, max R-hat 1.0066. On 24 groups of 3, 4 and 5 (seeds 11-18): at 0.95, 7 fits
of the 24 had 1-4 divergences (with 1,000 tuning steps instead of 300, 3 fits); at 0.99,
none, for 1.8 times the steps (31-35 against 17-20; the sampling 2.4-2.7 s against
1.3-1.5 s on a 2-core machine, 2026-12-07). From 12 members the fits at 0.8 had none, and 0.95
would cost 1.7 times the steps (15 against 9). Stan's partial-correlation map for R in place
of the current one (lighter tails) changed none of these counts beyond the seeds' spread.
"""


def target_accept_for(n_members: int) -> float:
    """The target acceptance for a group of `n_members` (`SMALL_GROUP_TARGET_ACCEPT`)."""
    for below, target in SMALL_GROUP_TARGET_ACCEPT:
        if n_members < below:
            return target
    return DEFAULT_TARGET_ACCEPT
