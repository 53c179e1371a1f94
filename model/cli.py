"""Command line: `python -m model example|evidence-example|aggregate ...`."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

# Up to the end of validation a command imports only NumPy, SciPy, pydantic and the light
# modules (model.io, model.schema, priors), so a bad file is refused at once; the fit's
# libraries (PyMC, nutpie, ArviZ, matplotlib) are imported inside `_aggregate`, after it
# (tests/model/test_imports.py).
from model.sampling import DEFAULT_CHAINS, DEFAULT_DRAWS, DEFAULT_TUNE
from model.schema import ResponseError

EXIT_BAD_INPUT = 2

FIGURE_FORMATS = {"png": ("png",), "all": ("png", "svg", "pdf"), "none": ()}
"""`--figures`: which files each figure is written as (`none`: no figures)."""


def _write_text_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _example(args: argparse.Namespace) -> int:
    from model.example import example_responses
    from model.io import responses_to_csv, responses_to_json
    from priors import load_defaults

    defaults = load_defaults()
    responses = example_responses(n=args.n, seed=args.seed)
    out = Path(args.out)
    if out.suffix.lower() == ".json":
        text = responses_to_json(responses)
    elif out.suffix.lower() == ".csv":
        text = responses_to_csv(responses, evidence=defaults.evidence, defaults=defaults)
    else:
        raise ResponseError(f"--out {out}: give a .csv or .json file name")
    _write_text_atomic(out, text)
    print(f"wrote {len(responses)} example responses to {out}", file=sys.stderr)
    return 0


def _evidence_example(args: argparse.Namespace) -> int:
    from model.example import EXAMPLE_EVIDENCE

    _write_text_atomic(Path(args.out), EXAMPLE_EVIDENCE)
    print(f"wrote example evidence to {args.out}", file=sys.stderr)
    return 0


def _aggregate(args: argparse.Namespace) -> int:
    from priors import load_defaults, load_evidence

    defaults = load_defaults()
    evidence = load_evidence(args.evidence) if args.evidence else defaults.evidence
    from model.io import read_responses

    responses = read_responses(args.responses, evidence=evidence, defaults=defaults)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ResponseError(f"--out {out} is a file; give a folder")
    # Validation passed: from here on only our own code can fail, and it writes into a
    # temporary folder first so DIR never holds half a result.
    print(
        f"{len(responses)} responses valid; fitting the group model "
        f"({args.chains} chains x {args.draws} draws; the first run on a machine compiles "
        "the model, about a minute, later runs load it)...",
        file=sys.stderr,
    )
    formats = FIGURE_FORMATS[args.figures]
    workers = min(2, len(os.sched_getaffinity(0)))
    if formats and workers > 1:
        from model.figures import start_workers

        start_workers()  # the figure workers' server imports matplotlib while we sample
    from model.analysis import analyse
    from model.summary import summary_text

    start = time.perf_counter()
    analysis = analyse(
        responses,
        evidence=evidence,
        defaults=defaults,
        draws=args.draws,
        tune=args.tune,
        chains=args.chains,
        random_seed=args.seed,
        progress=sys.stderr.isatty(),
        target_accept=args.target_accept,
    )
    result = analysis.result
    if analysis.fit is None:
        print(
            f"the group model is {result.group_model}; writing the members' numbers, the "
            "pools and figures...",
            file=sys.stderr,
        )
    else:
        print(
            f"sampled in {analysis.fit.seconds:.1f} s; writing summary and figures...",
            file=sys.stderr,
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{out.name}-") as tmp:
        tmp_dir = Path(tmp)
        (tmp_dir / "summary.json").write_text(summary_text(result), encoding="utf-8")
        if analysis.fit is not None:
            analysis.fit.idata.to_netcdf(tmp_dir / "posterior.nc", engine="h5netcdf")
        if formats:
            from model.figures import save_all

            save_all(analysis, tmp_dir, formats=formats, workers=workers)
        out.mkdir(exist_ok=True)
        for f in sorted(tmp_dir.iterdir()):
            shutil.move(str(f), out / f.name)
    d = result.diagnostics
    checks = (
        "no posterior: the group model was not fitted"
        if d is None
        else f"max R-hat {d.max_rhat:.3f}, min bulk ESS {d.min_ess_bulk:.0f}, "
        f"{d.divergences} divergences (step size tuned to {d.target_accept:.0%} acceptance)"
    )
    figures = f"figures ({', '.join(formats)})" if formats else "no figures"
    print(
        f"wrote {out}/summary.json, {'posterior.nc, ' if d else ''}{figures} "
        f"in {time.perf_counter() - start:.1f} s ({checks})",
        file=sys.stderr,
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also documents the commands: `python -m model -h`)."""
    p = argparse.ArgumentParser(prog="python -m model", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    ex = sub.add_parser("example", help="write a realistic example group (CSV or JSON)")
    ex.add_argument("--out", required=True, help="FILE.csv or FILE.json")
    ex.add_argument("--n", type=int, default=12, help="number of participants (default 12)")
    ex.add_argument("--seed", type=int, default=7)
    ex.set_defaults(run=_example)

    ev = sub.add_parser("evidence-example", help="write an example evidence TOML file")
    ev.add_argument("--out", required=True, help="FILE.toml")
    ev.set_defaults(run=_evidence_example)

    ag = sub.add_parser(
        "aggregate", help="fit a group and write summary.json, posterior.nc, figures (PNG)"
    )
    ag.add_argument("responses", help="responses .csv or .json")
    ag.add_argument("--out", required=True, help="output folder")
    ag.add_argument("--evidence", help="evidence .toml (default: priors/evidence.toml)")
    ag.add_argument(
        "--draws",
        type=int,
        default=DEFAULT_DRAWS,
        help=f"draws per chain (default {DEFAULT_DRAWS})",
    )
    ag.add_argument(
        "--tune",
        type=int,
        default=DEFAULT_TUNE,
        help=f"tuning steps per chain (default {DEFAULT_TUNE})",
    )
    ag.add_argument(
        "--chains",
        type=int,
        default=DEFAULT_CHAINS,
        help=f"chains (default {DEFAULT_CHAINS})",
    )
    ag.add_argument("--seed", type=int, default=None, help="random seed")
    ag.add_argument(
        "--target-accept",
        type=float,
        default=None,
        help="the mean acceptance NUTS's step size is tuned to, between 0 and 1 "
        "(default 0.99 below 6 members, 0.95 below 12, 0.8 from 12)",
    )
    ag.add_argument(
        "--figures",
        choices=list(FIGURE_FORMATS),
        default="png",
        help="figure files: png (default), all (png, svg and pdf) or none",
    )
    ag.set_defaults(run=_aggregate)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line; bad input exits with status 2 and a message on stderr."""
    args = build_parser().parse_args(argv)
    for name in ("draws", "tune"):
        if getattr(args, name, 100) < 10:
            print(f"error: --{name} must be at least 10", file=sys.stderr)
            return EXIT_BAD_INPUT
    if getattr(args, "chains", 1) < 1:
        print("error: --chains must be at least 1", file=sys.stderr)
        return EXIT_BAD_INPUT
    target = getattr(args, "target_accept", None)
    if target is not None and not 0.0 < target < 1.0:  # NaN fails both
        print("error: --target-accept must lie between 0 and 1 (e.g. 0.9)", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        return args.run(args)
    except ValueError as exc:  # ResponseError and evidence errors: bad input, nothing written
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
