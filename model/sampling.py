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
