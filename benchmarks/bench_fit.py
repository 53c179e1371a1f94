"""How long a group takes, fresh and in a long-lived process, against plain PyMC: the goals.

Usage::

    python benchmarks/bench_fit.py            # N = 10, 100, 1000, 10000 (about 30-40 min)
    python benchmarks/bench_fit.py --quick    # N = 100 only, fewer repetitions
    python benchmarks/bench_fit.py --cold     # also the rows with empty compile caches

Prints one Markdown table of every path, then one of the goals (a row each: measured,
goal, met or missed), with the date and the load average. Every row samples 4 chains x
1000 draws on 2 cores; the baseline tunes 1000 steps (PyMC's default), the project's rows
use the project's default (`model.sampling.DEFAULT_TUNE`, which `analyse`, the app and the
command line use), and path (d) is shown again with tune=1000 for comparison. Rows:

- (a) baseline: `model.group.build_model` + plain `pm.sample()` with PyMC's defaults
  (its default NUTS is nutpie when nutpie is installed, compiled through PyMC), in a fresh
  process; beside it (a2) the same with `nuts_sampler="pymc"` (PyMC's own NUTS);
- (b) / (c) `GroupSampler().fit(...)` in a fresh process (with a warm cache it loads the
  compiled model kept on disk);
- (e) `python -m model aggregate group.csv --out DIR` in a fresh process, as a user runs it
  (validation, fit, results, summary.json, posterior.nc and the PNG figures), and a bad file
  refused (exit status 2);
- (d) `analyse(new_group, sampler=sampler)` in a long-lived process whose sampler compiled
  the model for another group: the app's path (the fit, every member's exact update and
  every reported number, `model.build.build_result`: camps, what would settle it,
  meta-predictions, cruxes, diagnostics);
- in the same process at N = 100: the HTML report (`model.report.html_report`) and the
  figures (`save_all(..., workers=2)`; the first call, which starts the workers' server,
  is reported apart);
- the closed-form pools (`model.pools`) and every participant's exact posterior
  (`model.individual.update_all`), for scale.

A fresh-process row is the wall time of a child `python` from spawn to exit, less the
time the child spent afterwards on diagnostics (measured inside it and reported apart);
CPU s is the user + system time of the child and the processes it waited for (less noisy
than wall time on a shared machine). "Warm" rows use the machine's own caches after one
untimed run of each command; with --cold, "empty" rows use a new
`PYTENSOR_FLAGS=base_compiledir=...` (PyTensor's C cache, its numba cache and the compiled
models live under it) and a new `NUMBA_CACHE_DIR`. Warm (a) and (e) runs alternate, so the
ratio of goal 1 is measured under the same load. The groups are simulated
(`model.example.example_responses`) and pickled by the parent, so no row times the
simulation. R-hat and bulk ESS are over mu, kappa, theta, tau, consensus_posterior and
typical (derived quantities added with `model.derived` for the baseline too). Peak RSS is
`ru_maxrss` of the process that sampled (for PyMC's NUTS, which samples in worker
processes, the larger of the parent and its largest worker).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

NAMES = ["mu", "kappa", "theta", "tau", "consensus_posterior", "typical"]
SAMPLING = {"draws": 1000, "tune": 1000, "chains": 4, "cores": 2}
BASELINE = "(a) pm.sample() [PyMC's defaults: nutpie via PyMC]"
PYMC_NUTS = "(a2) pm.sample(nuts_sampler='pymc')"
COMPILE_SEED = 99  # the (d) sampler compiles for this group, never one it then fits

GOALS = {
    "e_over_a": 0.3,  # goal 1: aggregate of 100 / pm.sample() of 100, fresh, warm caches
    "bad_file": 1.5,  # goal 1: a bad file refused, s
    "d_100": 0.6,  # goal 4: the whole analysis of a new group, long-lived process, s
    "d_1000": 1.0,
    "d_10000": 3.0,
    "rhat": 1.01,
    "ess": 1000,
    "rss_1000_mb": 1536,
    "report_100": 2.0,  # goal 5, s
    "figures_100": 3.0,
}
REPORT_N = 100
BAD_CSV = "participant,A,B,C,D\nx,40,30,20,10\n"  # percentages where fractions belong


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
    from model.individual import update_all
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
        walls, cpus, diags, walls_1000, diags_1000 = [], [], [], [], []
        for rep, path in enumerate(paths):
            responses, data = _load(path)
            kwargs = {"evidence": data.evidence, "defaults": defaults, "sampler": sampler}
            start, cpu = time.perf_counter(), time.process_time()  # all of its threads
            result_analysis = analyse(responses, **kwargs, random_seed=rep)
            walls.append(time.perf_counter() - start)
            cpus.append(time.process_time() - cpu)
            result = result_analysis.fit
            assert result.compile_seconds == 0.0, "path (d) must not recompile"
            diags.append(_diagnostics(result.idata))
            # the same with PyMC's default tuning length, for comparison
            start = time.perf_counter()
            result = analyse(responses, **kwargs, random_seed=rep, tune=SAMPLING["tune"]).fit
            walls_1000.append(time.perf_counter() - start)
            diags_1000.append(_diagnostics(result.idata))
        report = figures = first_figures = None
        if int(n) == REPORT_N:
            report, figures, first_figures, one_process = _report_and_figures(
                result_analysis, len(paths)
            )
        responses, data = _load(paths[0])
        n_fac = len(defaults.factor_ids) + 1
        pools, updates = [], []
        for _ in range(len(paths)):
            start = time.perf_counter()
            scenario_pools(data.credences)
            binary_pools(data.values[:, :n_fac])
            pools.append(time.perf_counter() - start)
            start = time.perf_counter()
            update_all(responses, evidence=data.evidence, defaults=defaults)
            updates.append(time.perf_counter() - start)
        rows[n] = {
            "walls": walls,
            "cpus": cpus,
            "rhat": max(d["rhat"] for d in diags),
            "ess": min(d["ess"] for d in diags),
            "divergences": sum(d["divergences"] for d in diags),
            "walls_1000": walls_1000,
            "rhat_1000": max(d["rhat"] for d in diags_1000),
            "ess_1000": min(d["ess"] for d in diags_1000),
            "rss_mb": _peak_rss_mb()[0],
            "pools": pools,
            "updates": updates,
            "report": report,
            "figures": figures,
            "first_figures": first_figures,
            "figures_one_process": one_process if report is not None else None,
        }
    return {"compile_seconds": compile_seconds, "rows": rows}


def _report_and_figures(analysis, reps: int) -> tuple[list, list, float, tuple]:
    """The HTML report and the PNG figures of one analysis, `reps` times each.

    Also the first figures call (it starts the workers' server) and the figures drawn in
    this process alone (wall and CPU seconds).
    """
    from model.figures import save_all
    from model.report import html_report

    def figures_once(workers: int = 2) -> float:
        with tempfile.TemporaryDirectory(prefix="bench-figures-") as tmp:
            start = time.perf_counter()
            save_all(analysis, Path(tmp), formats=("png",), workers=workers)
            return time.perf_counter() - start

    first = figures_once()  # starts the workers' server (once per process)
    figures, report = [], []
    for _ in range(reps):
        figures.append(figures_once())
        start = time.perf_counter()
        html_report(analysis)
        report.append(time.perf_counter() - start)
    # the same in this process alone, wall and CPU (the workers' CPU is not measurable here)
    start_cpu = time.process_time()
    one = figures_once(workers=1)
    return report, figures, first, (one, time.process_time() - start_cpu)


CHILDREN = {"baseline": _child_baseline, "fit": _child_fit, "long_lived": _child_long_lived}


def _child_main(spec_json: str) -> None:
    spec = json.loads(spec_json)
    out = CHILDREN[spec["kind"]](spec)
    print("BENCH-RESULT " + json.dumps(out), flush=True)


# --- parent side ------------------------------------------------------------------------------


def _env(cache: Path | None) -> dict:
    """The environment of a child: the machine's caches, or an empty set under `cache`."""
    env = dict(os.environ)
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        flags = env.get("PYTENSOR_FLAGS", "")
        env["PYTENSOR_FLAGS"] = ",".join(f for f in [flags, f"base_compiledir={cache}"] if f)
        env["NUMBA_CACHE_DIR"] = str(cache / "numba-own")
    return env


def _timed(cmd: list[str], env: dict, timeout: float = 3600, cwd: Path | None = None):
    """Run `cmd`; its wall seconds (spawn to exit) and CPU seconds (it and its children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return proc, wall, cpu


def _run_child(spec: dict, *, cache: Path | None, timeout: float = 3600) -> dict:
    """Run one child; wall seconds from spawn to exit, less its diagnostics time."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)]
    proc, wall, cpu = _timed(cmd, _env(cache), timeout)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH-RESULT ")]
    if proc.returncode != 0 or not lines:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-5000:])
        raise RuntimeError(f"child {spec['kind']} failed with exit code {proc.returncode}")
    out = json.loads(lines[-1].removeprefix("BENCH-RESULT "))
    out["wall"] = wall - out.get("diag_seconds", 0.0)
    out["cpu"] = cpu - out.get("diag_seconds", 0.0)
    return out


def _run_cli(args: list[str], *, status: int, cache: Path | None, tmp: Path) -> dict:
    """`python -m model ARGS` in a fresh process; summary.json read for the diagnostics."""
    out = tmp / f"cli-out-{time.monotonic_ns()}"
    root = Path(__file__).resolve().parents[1]
    cmd = [sys.executable, "-m", "model", *args, "--out", str(out)]
    proc, wall, cpu = _timed(cmd, _env(cache), cwd=root)
    if proc.returncode != status:
        sys.stderr.write(proc.stderr[-5000:])
        raise RuntimeError(f"{' '.join(args)}: exit {proc.returncode}, not {status}")
    row = {"wall": wall, "cpu": cpu}
    summary = out / "summary.json"
    if summary.exists():
        d = json.loads(summary.read_text())["diagnostics"]
        row |= {"rhat": d["max_rhat"], "ess": d["min_ess_bulk"]}
    shutil.rmtree(out, ignore_errors=True)
    return row


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


def _warm_rows(runs: dict[str, Callable[[], dict]], reps: int) -> dict[str, dict]:
    """Each run once untimed (fills the machine's caches), then `reps` rounds in turn."""
    rows: dict[str, list[dict]] = {label: [] for label in runs}
    for rep in range(-1, reps):
        for label, run in runs.items():
            row = run()
            if rep >= 0:
                rows[label].append(row)
            _progress(f"{label} warm rep {rep}: {row['wall']:.1f} s")
    return {label: _summarise(r, "warm") for label, r in rows.items()}


def _summarise(runs: list[dict], cache: str) -> dict:
    return {
        "cache": cache,
        "reps": len(runs),
        "wall": statistics.median(r["wall"] for r in runs),
        "walls": [r["wall"] for r in runs],
        "cpu": statistics.median(r["cpu"] for r in runs),
        "rhat": max((r["rhat"] for r in runs if "rhat" in r), default=None),
        "ess": min((r["ess"] for r in runs if "ess" in r), default=None),
        "rss_mb": max((r["rss_mb"] for r in runs if "rss_mb" in r), default=None),
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
        f"| {n} | {path} | {row['reps']} | {wall:.3g} | {num(row.get('cpu'), '.3g')} "
        f"| {num(row.get('rhat'), '.4f')} | {num(row.get('ess'), '.0f')} | {num(ess_s, '.0f')} "
        f"| {num(row.get('rss_mb'), '.0f')} | {ratio} |"
    )


def _long_lived_row(d: dict, suffix: str = "") -> dict:
    """A table row of path (d): its walls, R-hat and ESS (those ending in `suffix`)."""
    walls = d["walls" + suffix]
    return {
        "reps": len(walls),
        "wall": statistics.median(walls),
        "cpu": statistics.median(d["cpus"]) if not suffix else None,
        "rhat": d["rhat" + suffix],
        "ess": d["ess" + suffix],
        "rss_mb": d["rss_mb"],
    }


def _responses_csv(data_path: str, tmp: Path) -> Path:
    from model.io import responses_to_csv
    from priors import load_defaults

    defaults = load_defaults()
    responses, data = _load(data_path)
    path = tmp / (Path(data_path).stem + ".csv")
    path.write_text(responses_to_csv(responses, evidence=data.evidence, defaults=defaults))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N = 100 only, 2 repetitions")
    parser.add_argument("--ns", help="comma-separated group sizes (default 10,100,1000,10000)")
    parser.add_argument("--reps", type=int, help="repetitions of path (d) (default 5)")
    parser.add_argument(
        "--fresh-reps",
        type=int,
        help="fresh-process repetitions at N = 100 and 1000 (default 3; 1 at other N)",
    )
    parser.add_argument("--cold", action="store_true", help="also the empty-cache rows")
    parser.add_argument("--fresh-ns", help="group sizes with fresh-process rows (default: every N)")
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
    fresh_default = 2 if args.quick else 3

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
        bad = tmp / "bad.csv"
        bad.write_text(BAD_CSV)

        _progress("path (d): one long-lived process")
        long_lived = _run_child(
            {
                "kind": "long_lived",
                "data": {str(n): p for n, p in data.items()},
                "compile_data": compile_data,
            },
            cache=None,
        )
        results: dict = {}
        baseline = PYMC_NUTS if args.skip_pm_default else BASELINE
        fresh_ns = [int(x) for x in args.fresh_ns.split(",")] if args.fresh_ns else ns
        for n in fresh_ns:
            spec = {"n": n, "data": data[n][0]}
            k = fresh_reps(n)
            csv = _responses_csv(data[n][0], tmp)
            rows: dict = {}
            pm_sampler = "pymc" if args.skip_pm_default else "default"
            warm_runs = {
                baseline: lambda s=spec, m=pm_sampler: _run_child(
                    {**s, "kind": "baseline", "sampler": m}, cache=None
                ),
                "(c) GroupSampler().fit": lambda s=spec: _run_child(
                    {**s, "kind": "fit"}, cache=None
                ),
                "(e) python -m model aggregate (PNG figures)": lambda c=csv: _run_cli(
                    ["aggregate", str(c), "--seed", "1"], status=0, cache=None, tmp=tmp
                ),
            }
            if not args.skip_pm_default:
                warm_runs[PYMC_NUTS] = lambda s=spec: _run_child(
                    {**s, "kind": "baseline", "sampler": "pymc"}, cache=None
                )
            warm = _warm_rows(warm_runs, k)
            if args.cold:
                for label, kind, sampler in [
                    (BASELINE, "baseline", "default"),
                    (PYMC_NUTS, "baseline", "pymc"),
                    ("(b) GroupSampler().fit", "fit", None),
                ]:
                    if label == BASELINE and args.skip_pm_default:
                        continue
                    cold_spec = {**spec, "kind": kind, "sampler": sampler}
                    rows[label + " cold"] = _fresh_rows(label[:4], cold_spec, k, tmp)[:1]
            for label, row in warm.items():
                rows.setdefault(label, []).append(row)
            if n == REPORT_N:
                refusals = [
                    _run_cli(["aggregate", str(bad)], status=2, cache=None, tmp=tmp)
                    for _ in range(max(k, 3) + 1)
                ][1:]  # the first writes the bytecode caches
                rows["(e) python -m model aggregate bad.csv (exit 2)"] = [
                    _summarise(refusals, "warm")
                ]
            results[n] = rows

        base = {n: results[n][baseline][0]["wall"] if n in results else None for n in ns}
        table.append(
            "| N | path | reps | wall s (median) | CPU s (median) | R-hat max | min bulk ESS "
            "| ESS/s | peak RSS MB | × (a) warm |"
        )
        table.append("|---|---|---|---|---|---|---|---|---|---|")
        for n in ns:
            for path, rows in results.get(n, {}).items():
                for row in rows:
                    label = f"{path.removesuffix(' cold')}, fresh process, {row['cache']} cache"
                    table.append(_fmt_row(n, label, row, base[n]))
            d = long_lived["rows"][str(n)]
            d_row = _long_lived_row(d)
            table.append(_fmt_row(n, "(d) analyse(new group), long-lived process", d_row, base[n]))
            d_1000 = _long_lived_row(d, suffix="_1000")
            label = f"(d) same with tune={SAMPLING['tune']} (PyMC's default), for comparison"
            table.append(_fmt_row(n, label, d_1000, base[n]))
            extra = [
                ("pools (closed form)", "pools"),
                ("individual posteriors, all N (exact)", "updates"),
            ]
            if d["report"] is not None:
                extra += [
                    ("HTML report (model.report.html_report), long-lived", "report"),
                    ("PNG figures, save_all(workers=2), long-lived", "figures"),
                ]
            for name, key in extra:
                row = {"reps": len(d[key]), "wall": statistics.median(d[key])}
                table.append(_fmt_row(n, name, row, base[n]))
            if d["first_figures"] is not None:
                row = {"reps": 1, "wall": d["first_figures"]}
                label = "PNG figures, first call in the process (starts the workers' server)"
                table.append(_fmt_row(n, label, row, base[n]))
                wall, cpu = d["figures_one_process"]
                row = {"reps": 1, "wall": wall, "cpu": cpu}
                label = "PNG figures, save_all(workers=1): one process, for the CPU they need"
                table.append(_fmt_row(n, label, row, base[n]))
            fresh = results.get(n, {})
            checks[n] = {
                "a": fresh.get(baseline, [None])[0],
                "a_label": baseline,
                "c": fresh.get("(c) GroupSampler().fit", [None])[0],
                "e": fresh.get("(e) python -m model aggregate (PNG figures)", [None])[0],
                "bad": fresh.get("(e) python -m model aggregate bad.csv (exit 2)"),
                "d": d_row,
                "d_divergences": d["divergences"],
                "report": d["report"],
                "figures": d["figures"],
                "figures_one_process": d.get("figures_one_process"),
            }

    print(
        f"Run {started}, load average (1 min) at start {load[0]:.2f} -> end "
        f"{os.getloadavg()[0]:.2f} ({os.cpu_count()} cores). All rows: {SAMPLING['chains']} "
        f"chains x {SAMPLING['draws']} draws on {SAMPLING['cores']} cores; tuning steps: "
        f"baseline {SAMPLING['tune']}, project rows the project's default ({DEFAULT_TUNE}) "
        f"unless the row says otherwise. (d) compiled or loaded once in its process in "
        f"{long_lived['compile_seconds']:.1f} s (not in the table). Fresh-process rows: "
        "median of `reps` children, spawn to exit less diagnostics time.\n"
    )
    print("\n".join(table))
    print()
    print(_goals(checks, started, load[0]))
    return 0


def _goals(checks: dict, started: str, load: float) -> str:
    lines = [
        f"Goals, {started} (load average {load:.2f} at start):\n",
        "| goal | measured | target | |",
        "|---|---|---|---|",
    ]

    def line(ok: bool, goal: str, measured: str, target: str) -> None:
        lines.append(f"| {goal} | {measured} | {target} | {'met' if ok else 'MISSED'} |")

    if REPORT_N in checks and checks[REPORT_N]["e"] is not None:
        c = checks[REPORT_N]
        ratio = c["e"]["wall"] / c["a"]["wall"]
        line(
            ratio <= GOALS["e_over_a"],
            f"1. `python -m model aggregate` of {REPORT_N} / plain `pm.sample()` of "
            f"{REPORT_N}, fresh processes, warm caches",
            f"{c['e']['wall']:.1f} s / {c['a']['wall']:.1f} s = {ratio:.2f} "
            f"(CPU {c['e']['cpu']:.1f} / {c['a']['cpu']:.1f} s)",
            f"≤ {GOALS['e_over_a']}",
        )
        if c["bad"]:
            w = c["bad"][0]["wall"]
            line(
                w < GOALS["bad_file"],
                "1. a bad file refused (exit 2)",
                f"{w:.2f} s",
                f"< {GOALS['bad_file']} s",
            )
    for n, key in [(100, "d_100"), (1000, "d_1000"), (10000, "d_10000")]:
        if n in checks:
            w, cpu = checks[n]["d"]["wall"], checks[n]["d"]["cpu"]
            line(
                w <= GOALS[key],
                f"4. the whole analysis of a new group of {n}, long-lived",
                f"{w:.2f} s (CPU {cpu:.2f} s, both cores)",
                f"≤ {GOALS[key]} s",
            )
    rows = [c[p] for c in checks.values() for p in "cde" if c[p] is not None]
    rhat = max(r["rhat"] for r in rows)
    ess = min(r["ess"] for r in rows)
    line(
        rhat <= GOALS["rhat"],
        "4. R-hat, headline quantities, project rows",
        f"{rhat:.4f}",
        f"≤ {GOALS['rhat']}",
    )
    line(
        ess >= GOALS["ess"],
        "4. bulk ESS, headline quantities, project rows",
        f"{ess:.0f}",
        f"≥ {GOALS['ess']}",
    )
    if 1000 in checks:
        rss = max((checks[1000][p] or {}).get("rss_mb") or 0 for p in "cd")
        line(
            rss <= GOALS["rss_1000_mb"],
            "4. peak memory at 1,000",
            f"{rss:.0f} MB",
            f"≤ {GOALS['rss_1000_mb']} MB",
        )
    if REPORT_N in checks and checks[REPORT_N]["report"]:
        c = checks[REPORT_N]
        _, cpu = c["figures_one_process"]
        for key, what in [("report", "the HTML report"), ("figures", "the figures (PNG)")]:
            w = statistics.median(c[key])
            target = GOALS[f"{key}_{REPORT_N}"]
            line(
                w <= target,
                f"5. {what} of a group of {REPORT_N}, long-lived, 2 workers",
                f"{w:.2f} s (the figures need {cpu:.1f} CPU s)",
                f"≤ {target} s",
            )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
