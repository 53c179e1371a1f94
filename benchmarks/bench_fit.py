"""How long a group fit takes, fresh and in a long-lived process, against plain PyMC.

Usage::

    python benchmarks/bench_fit.py            # N = 10, 100, 1000, 10000 (about 30-40 min)
    python benchmarks/bench_fit.py --quick    # N = 100 only, one repetition (about 5 min)

Prints one Markdown table and the goals. Every row samples 4 chains x 1000 draws on 2
cores; the baseline tunes 1000 steps (PyMC's default), the project's rows use the
project's default (`model.sampling.DEFAULT_TUNE`, which `analyse`, the app and the command
line use), and path (d) is shown again with tune=1000 for comparison. Rows:

- (a) baseline: `model.group.build_model` + plain `pm.sample()` with PyMC's defaults
  (its default NUTS is nutpie when nutpie is installed, compiled through PyMC), in a fresh
  process with an empty cache and with a warm one; beside it (a2) the same with
  `nuts_sampler="pymc"` (PyMC's own NUTS; PyTensor's default backend is numba);
- (b) `GroupSampler().fit(...)` in a fresh process with an empty cache;
- (c) the same with a warm on-disk cache;
- (d) `analyse(new_group, sampler=sampler)` in a long-lived process whose sampler compiled
  the model for another group: the app's path (the fit with its derived quantities and
  every member's exact update);
- the closed-form pools (`model.pools`) and every participant's exact posterior
  (`model.individual.update`), for scale.

A fresh-process row is the wall time of a child `python` from spawn to exit, less the
time the child spent afterwards on diagnostics (measured inside it and reported apart).
An empty cache is a new `PYTENSOR_FLAGS=base_compiledir=...` (PyTensor's C cache *and*
its numba cache live under it; `compiledir=` alone would leave the numba cache warm) and
a new `NUMBA_CACHE_DIR`. The warm rows reuse the directory the first cold run filled. The
groups are simulated (`model.example.example_responses`) and pickled by the parent, so no
row times the simulation. R-hat and bulk ESS are over mu, kappa, theta, tau,
consensus_posterior and typical (derived quantities added with `model.derived` for the
baseline too). Peak RSS is `ru_maxrss` of the process that sampled (for PyMC's NUTS, which
samples in worker processes, the larger of the parent and its largest worker).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NAMES = ["mu", "kappa", "theta", "tau", "consensus_posterior", "typical"]
SAMPLING = {"draws": 1000, "tune": 1000, "chains": 4, "cores": 2}
BASELINE = "(a) pm.sample() [PyMC's defaults: nutpie via PyMC]"
PYMC_NUTS = "(a2) pm.sample(nuts_sampler='pymc')"
COMPILE_SEED = 99  # the (d) sampler compiles for this group, never one it then fits

GOALS = {
    "d_100": 0.6,
    "d_1000": 1.5,
    "b_over_a": 0.3,
    "d_10000": 20.0,
    "rhat": 1.01,
    "ess": 1000,
    "rss_1000_mb": 1536,
}


# --- child side: each fresh-process row runs one of these in its own interpreter -----------


def _peak_rss_mb() -> tuple[float, float]:
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, workers


def _diagnostics(idata) -> dict:
    import arviz as az
    import numpy as np

    rhat = az.rhat(idata, var_names=NAMES)
    ess = az.ess(idata, var_names=NAMES, method="bulk")
    return {
        "rhat": max(float(np.nanmax(rhat[v].values)) for v in NAMES),
        "ess": min(float(np.nanmin(ess[v].values)) for v in NAMES),
        "divergences": int(idata["sample_stats"]["diverging"].sum()),
    }


def _load(path: str):
    with open(path, "rb") as f:
        return pickle.load(f)


def _child_baseline(spec: dict) -> dict:
    import pymc as pm

    from model.derived import add_derived
    from model.group import build_model
    from priors import load_defaults

    defaults = load_defaults()
    _, data = _load(spec["data"])
    model = build_model(data, defaults=defaults)
    kwargs = dict(SAMPLING, random_seed=1, progressbar=False)
    if spec["sampler"] == "pymc":
        kwargs["nuts_sampler"] = "pymc"
    with model:
        idata = pm.sample(**kwargs)
    own, workers = _peak_rss_mb()
    start = time.perf_counter()
    idata = add_derived(idata, data, defaults=defaults, random_seed=1)
    diag = _diagnostics(idata)
    return {**diag, "rss_mb": max(own, workers), "diag_seconds": time.perf_counter() - start}


def _child_fit(spec: dict) -> dict:
    from model.fit import GroupSampler

    _, data = _load(spec["data"])
    result = GroupSampler().fit(data, random_seed=1)
    own, _ = _peak_rss_mb()
    start = time.perf_counter()
    diag = _diagnostics(result.idata)
    return {
        **diag,
        "rss_mb": own,
        "compile_seconds": result.compile_seconds,
        "fit_seconds": result.seconds,
        "diag_seconds": time.perf_counter() - start,
    }


def _child_long_lived(spec: dict) -> dict:
    """Path (d) and the closed forms: one sampler, compiled once, then new groups."""
    from model.analysis import analyse
    from model.fit import GroupSampler
    from model.individual import update
    from model.pools import binary_pools, scenario_pools
    from priors import load_defaults

    defaults = load_defaults()
    sampler = GroupSampler(defaults=defaults)
    _, first = _load(spec["compile_data"])
    start = time.perf_counter()
    sampler.fit(first, draws=100, tune=100, random_seed=0)
    compile_seconds = time.perf_counter() - start
    rows = {}
    for n, paths in spec["data"].items():
        walls, diags, walls_1000, diags_1000 = [], [], [], []
        for rep, path in enumerate(paths):
            responses, data = _load(path)
            kwargs = {"evidence": data.evidence, "defaults": defaults, "sampler": sampler}
            start = time.perf_counter()
            result = analyse(responses, **kwargs, random_seed=rep).fit
            walls.append(time.perf_counter() - start)
            assert result.compile_seconds == 0.0, "path (d) must not recompile"
            diags.append(_diagnostics(result.idata))
            # the same with PyMC's default tuning length, for comparison
            start = time.perf_counter()
            result = analyse(responses, **kwargs, random_seed=rep, tune=SAMPLING["tune"]).fit
            walls_1000.append(time.perf_counter() - start)
            diags_1000.append(_diagnostics(result.idata))
        responses, data = _load(paths[0])
        n_fac = len(defaults.factor_ids) + 1
        pools, updates = [], []
        for _ in range(len(paths)):
            start = time.perf_counter()
            scenario_pools(data.credences)
            binary_pools(data.values[:, :n_fac])
            pools.append(time.perf_counter() - start)
            start = time.perf_counter()
            for r in responses:
                update(r, evidence=data.evidence, defaults=defaults)
            updates.append(time.perf_counter() - start)
        rows[n] = {
            "walls": walls,
            "rhat": max(d["rhat"] for d in diags),
            "ess": min(d["ess"] for d in diags),
            "divergences": sum(d["divergences"] for d in diags),
            "walls_1000": walls_1000,
            "rhat_1000": max(d["rhat"] for d in diags_1000),
            "ess_1000": min(d["ess"] for d in diags_1000),
            "rss_mb": _peak_rss_mb()[0],
            "pools": pools,
            "updates": updates,
        }
    return {"compile_seconds": compile_seconds, "rows": rows}


CHILDREN = {"baseline": _child_baseline, "fit": _child_fit, "long_lived": _child_long_lived}


def _child_main(spec_json: str) -> None:
    spec = json.loads(spec_json)
    out = CHILDREN[spec["kind"]](spec)
    print("BENCH-RESULT " + json.dumps(out), flush=True)


# --- parent side ------------------------------------------------------------------------------


def _run_child(spec: dict, *, cache: Path | None, timeout: float = 1800) -> dict:
    """Run one child; wall seconds from spawn to exit, less its diagnostics time."""
    env = dict(os.environ)
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        flags = env.get("PYTENSOR_FLAGS", "")
        env["PYTENSOR_FLAGS"] = ",".join(f for f in [flags, f"base_compiledir={cache}"] if f)
        env["NUMBA_CACHE_DIR"] = str(cache / "numba-own")
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    wall = time.perf_counter() - start
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH-RESULT ")]
    if proc.returncode != 0 or not lines:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-5000:])
        raise RuntimeError(f"child {spec['kind']} failed with exit code {proc.returncode}")
    out = json.loads(lines[-1].removeprefix("BENCH-RESULT "))
    out["wall"] = wall - out.get("diag_seconds", 0.0)
    return out


def _make_data(n: int, seed: int, folder: Path) -> str:
    from model.example import example_responses
    from model.schema import to_group_data
    from priors import load_defaults

    defaults = load_defaults()
    responses = example_responses(n=n, seed=seed, defaults=defaults)
    data = to_group_data(responses, evidence=defaults.evidence, defaults=defaults)
    path = folder / f"group-{n}-{seed}.pkl"
    with open(path, "wb") as f:
        pickle.dump((responses, data), f)
    return str(path)


def _fresh_rows(label: str, spec: dict, reps: int, tmp: Path) -> list[dict]:
    """`reps` cold runs (a new empty cache each) and `reps` warm runs on the first one's."""
    cold, warm = [], []
    first_cache = tmp / f"cache-{label}-{spec['n']}-0"
    for rep in range(reps):
        cache = first_cache if rep == 0 else tmp / f"cache-{label}-{spec['n']}-{rep}"
        cold.append(_run_child(spec, cache=cache))
        if rep > 0:
            shutil.rmtree(cache, ignore_errors=True)
        _progress(f"{label} cold N={spec['n']} rep {rep}: {cold[-1]['wall']:.1f} s")
    for rep in range(reps):
        warm.append(_run_child(spec, cache=first_cache))
        _progress(f"{label} warm N={spec['n']} rep {rep}: {warm[-1]['wall']:.1f} s")
    shutil.rmtree(first_cache, ignore_errors=True)
    return [_summarise(cold, "empty"), _summarise(warm, "warm")]


def _summarise(runs: list[dict], cache: str) -> dict:
    return {
        "cache": cache,
        "reps": len(runs),
        "wall": statistics.median(r["wall"] for r in runs),
        "walls": [r["wall"] for r in runs],
        "rhat": max(r["rhat"] for r in runs),
        "ess": min(r["ess"] for r in runs),
        "rss_mb": max(r["rss_mb"] for r in runs),
    }


def _progress(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _fmt_row(n, path, row, base) -> str:
    wall = row["wall"]
    ess_s = row["ess"] / wall if wall > 0 and row.get("ess") is not None else None

    def num(x, fmt):
        return "–" if x is None else format(x, fmt)

    ratio = "–" if base is None else f"{wall / base:.3g}"
    return (
        f"| {n} | {path} | {row['reps']} | {wall:.3g} | {num(row.get('rhat'), '.4f')} "
        f"| {num(row.get('ess'), '.0f')} | {num(ess_s, '.0f')} "
        f"| {num(row.get('rss_mb'), '.0f')} | {ratio} |"
    )


def _long_lived_row(d: dict, suffix: str = "") -> dict:
    """A table row of path (d): its walls, R-hat and ESS (those ending in `suffix`)."""
    walls = d["walls" + suffix]
    return {
        "reps": len(walls),
        "wall": statistics.median(walls),
        "rhat": d["rhat" + suffix],
        "ess": d["ess" + suffix],
        "rss_mb": d["rss_mb"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N = 100 only, one repetition")
    parser.add_argument("--ns", help="comma-separated group sizes (default 10,100,1000,10000)")
    parser.add_argument("--reps", type=int, help="repetitions of path (d) (default 5)")
    parser.add_argument(
        "--fresh-reps",
        type=int,
        help="fresh-process repetitions at N = 100 and 1000 (default 3; 1 at other N)",
    )
    parser.add_argument(
        "--skip-pm-default", action="store_true", help="leave out pm.sample() (nutpie) rows"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child_main(args.child)
        return 0

    ns = [100] if args.quick else [10, 100, 1000, 10000]
    if args.ns:
        ns = [int(x) for x in args.ns.split(",")]
    reps = args.reps or (2 if args.quick else 5)
    fresh_default = 1 if args.quick else 3

    def fresh_reps(n: int) -> int:
        if args.fresh_reps is not None:
            return args.fresh_reps
        return fresh_default if n in (100, 1000) else 1

    from model.sampling import DEFAULT_TUNE

    load = os.getloadavg()
    started = time.strftime("%Y-%m-%d %H:%M")
    table: list[str] = []
    checks: dict = {}
    with tempfile.TemporaryDirectory(prefix="bench-fit-") as tmp_name:
        tmp = Path(tmp_name)
        _progress("simulating groups")
        data = {n: [_make_data(n, seed, tmp) for seed in range(1, reps + 1)] for n in ns}
        compile_data = _make_data(20, COMPILE_SEED, tmp)

        _progress("path (d): one long-lived process")
        long_lived = _run_child(
            {
                "kind": "long_lived",
                "data": {str(n): p for n, p in data.items()},
                "compile_data": compile_data,
            },
            cache=tmp / "cache-long-lived",
        )
        results: dict = {}
        for n in ns:
            spec = {"n": n, "data": data[n][0]}
            k = fresh_reps(n)
            rows = {}
            if not args.skip_pm_default:
                rows[BASELINE] = _fresh_rows(
                    "pmdefault", {**spec, "kind": "baseline", "sampler": "default"}, k, tmp
                )
            rows[PYMC_NUTS] = _fresh_rows(
                "pymc", {**spec, "kind": "baseline", "sampler": "pymc"}, k, tmp
            )
            fit_rows = _fresh_rows("fit", {**spec, "kind": "fit"}, k, tmp)
            rows["(b) GroupSampler().fit"] = [fit_rows[0]]
            rows["(c) GroupSampler().fit"] = [fit_rows[1]]
            results[n] = rows

        baseline = PYMC_NUTS if args.skip_pm_default else BASELINE
        base = {n: results[n][baseline][0]["wall"] for n in ns}
        table.append(
            "| N | path | reps | wall s (median) | R-hat max | min bulk ESS | ESS/s "
            "| peak RSS MB | × (a) cold |"
        )
        table.append("|---|---|---|---|---|---|---|---|---|")
        for n in ns:
            for path, rows in results[n].items():
                for row in rows:
                    label = f"{path}, fresh process, {row['cache']} cache"
                    table.append(_fmt_row(n, label, row, base[n]))
            d = long_lived["rows"][str(n)]
            d_row = _long_lived_row(d)
            table.append(_fmt_row(n, "(d) analyse(new group), long-lived process", d_row, base[n]))
            d_1000 = _long_lived_row(d, suffix="_1000")
            label = f"(d) same with tune={SAMPLING['tune']} (PyMC's default), for comparison"
            table.append(_fmt_row(n, label, d_1000, base[n]))
            for name, key in [
                ("pools (closed form)", "pools"),
                ("individual posteriors, all N (exact)", "updates"),
            ]:
                row = {"reps": len(d[key]), "wall": statistics.median(d[key])}
                table.append(_fmt_row(n, name, row, base[n]))
            checks[n] = {
                "a": base[n],
                "a_label": baseline,
                "b": results[n]["(b) GroupSampler().fit"][0],
                "c": results[n]["(c) GroupSampler().fit"][0],
                "d": d_row,
                "d_divergences": d["divergences"],
            }

    print(
        f"Run {started}, load average at start {load[0]:.2f} -> end {os.getloadavg()[0]:.2f} "
        f"({os.cpu_count()} cores). All rows: {SAMPLING['chains']} chains x "
        f"{SAMPLING['draws']} draws on {SAMPLING['cores']} cores; tuning steps: baseline "
        f"{SAMPLING['tune']}, project rows the project's default ({DEFAULT_TUNE}) unless "
        f"the row says otherwise. (d) compiled once in its process in "
        f"{long_lived['compile_seconds']:.1f} s (not in the table). Fresh-process rows: "
        "median of `reps` children, spawn to exit less diagnostics time.\n"
    )
    print("\n".join(table))
    print()
    print(_goals(checks))
    return 0


def _goals(checks: dict) -> str:
    lines = ["Goals:"]

    def line(ok, text):
        lines.append(f"- [{'met' if ok else 'MISSED'}] {text}")

    for n, limit in [(100, GOALS["d_100"]), (1000, GOALS["d_1000"]), (10000, GOALS["d_10000"])]:
        if n in checks:
            w = checks[n]["d"]["wall"]
            line(w <= limit, f"(d) at N={n}: {w:.2f} s (goal ≤ {limit} s)")
    for n, c in checks.items():
        ratio = c["b"]["wall"] / c["a"]
        line(
            ratio <= GOALS["b_over_a"],
            f"(b)/(a) at N={n}, both empty cache, (a) = {c['a_label']}: "
            f"{c['b']['wall']:.1f} / {c['a']:.1f} s = "
            f"{ratio:.2f} (goal ≤ {GOALS['b_over_a']}); warm (c): {c['c']['wall']:.1f} s",
        )
    rhat = max(max(c[p]["rhat"] for p in "bcd") for c in checks.values())
    ess = min(min(c[p]["ess"] for p in "bcd") for c in checks.values())
    line(rhat <= GOALS["rhat"], f"R-hat max over the project's rows: {rhat:.4f} (≤ 1.01)")
    line(ess >= GOALS["ess"], f"min bulk ESS over the project's rows: {ess:.0f} (≥ 1000)")
    if 1000 in checks:
        rss = max(checks[1000][p]["rss_mb"] for p in "bcd")
        line(rss <= GOALS["rss_1000_mb"], f"peak RSS at N=1000: {rss:.0f} MB (≤ 1536 MB)")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
