"""``bnncompare run | report | compare | demo | reference | estimate``.

Every subcommand is ``main(argv) -> int``: 0 success, 1 a regression (compare), 2 unusable
input or nothing ran — with one readable line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

__all__ = ["main"]

PROG = "bnncompare"


class CLIError(Exception):
    """A user-facing failure: printed as one line, exit code 2."""


def _fail(command: str, message: str) -> int:
    print(f"{PROG} {command}: error: {message}", file=sys.stderr)
    return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=(
        "What does a Bayesian neural network cost, and what does it buy? "
        "Inference methods for one MLP, benchmarked side by side."))
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the benchmark sweep, then render the report")
    run.add_argument("--profile", default=None,
                     help="smoke (< 1 min), fast (default, < 10 min) or full (< 90 min); "
                          "default: $BNNCOMPARE_PROFILE or fast")
    run.add_argument("--methods", default=None,
                     help="comma-separated registered methods to run (default: all)")
    run.add_argument("--out", type=Path, default=None,
                     help="results folder (default: a new runs/<profile>-<YYYYmmdd-HHMMSS>/; "
                          "--out results regenerates the committed showcase)")
    run.add_argument("--seeds", type=int, default=None,
                     help="method seeds per quality cell, the same for every method "
                          "(default: the profile's: smoke 1, fast 3, full 5)")
    run.add_argument("--dataset", action="append", default=None, dest="datasets",
                     metavar="NAME|PATH",
                     help="a quality dataset: a registered name or a .csv/.npz file "
                          "(repeatable; replaces the profile's quality datasets, the "
                          "synthetic sweeps stay)")
    run.add_argument("--label-column", default=None, metavar="COL",
                     help="the label column of the --dataset CSV files (default: the last)")
    run.add_argument("--hidden", default=None,
                     help="the quality cells' net, e.g. 50x50 (default: the profile's; 50 "
                          "for a dataset no profile names)")
    run.add_argument("-k", dest="keyword", help="only benchmarks matching this pytest -k")
    run.add_argument("--no-report", action="store_true", help="skip rendering the report")
    run.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                     help="where the estimators run (default: cpu)")
    where = run.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None,
                       help="run shards of cells on a local Dask cluster of N one-thread "
                            "workers (needs the 'distributed' extra)")
    where.add_argument("--scheduler", default=None,
                       help="run shards of cells on the Dask scheduler at this address")
    run.add_argument("--shards", type=int, default=None,
                     help="shards of cells for --workers/--scheduler (default: one per worker)")
    report = sub.add_parser("report", help="benchmark JSON -> tables, exponents, figures")
    report.add_argument("runs", nargs="+", type=Path, help="pytest-benchmark JSON file(s)")
    report.add_argument("--out", type=Path, default=Path("results"))
    report.add_argument("--normalise", action="store_true",
                        help="show times divided by each run's calibration median")
    sub.add_parser("compare", add_help=False,
                   help="performance-regression gate: BASE.json NEW.json (see compare -h)")
    demo = sub.add_parser("demo", help="fit every method and ask it about noise")
    demo.add_argument("--dataset", default="digits", help="digits (default) or iris")
    demo.add_argument("--out", type=Path, default=Path("results/demo"))
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--methods", default=None,
                      help="comma-separated registered methods (default: all)")
    _add_reference_parser(sub)
    from bnncompare.estimate import add_parser as add_estimate_parser

    add_estimate_parser(sub)
    return parser


def _add_reference_parser(sub) -> None:
    ref = sub.add_parser("reference", help="long multi-chain NUTS reference posteriors, stored")
    ref.add_argument("datasets", nargs="+", metavar="DATASET",
                     help="e.g. iris digits moons, or a .csv/.npz file (stored under its stem)")
    ref.add_argument("--hidden", default=None,
                     help="the net, e.g. 50x50 (default: the quality cells' net of the dataset; "
                          "50 for a dataset no profile names); give a run's --hidden")
    ref.add_argument("--label-column", default=None, metavar="COL",
                     help="the label column of CSV files (default: the last)")
    for flag, what in (("chains", "chains"), ("warmup", "warm-up iterations per chain"),
                       ("draws", "draws per chain"), ("depth", "NUTS max tree depth")):
        ref.add_argument(f"--{flag}", type=int, default=None,
                         help=f"{what} (default: per dataset, bnncompare.reference.RECOMMENDED)")
    ref.add_argument("--workers", type=int, default=None,
                     help="chains run at once (processes; Dask workers with --dask)")
    ref.add_argument("--dask", action="store_true",
                     help="run the chains on a local Dask cluster of --workers one-thread "
                          "workers (needs the 'distributed' extra); same result")
    ref.add_argument("--scheduler", default=None,
                     help="run the chains on the Dask scheduler at this address; same result")
    ref.add_argument("--backend", choices=("torch", "numpyro"), default="torch")
    ref.add_argument("--out", type=Path, default=Path("results/reference"))
    ref.add_argument("--seed", type=int, default=0, help="seed of the chains")
    ref.add_argument("--blocks", type=int, default=2, help="stored draw blocks per chain")
    ref.add_argument("--where", default=None, help="where it runs, for the provenance")
    ref.add_argument("--no-progress", action="store_true", help="no progress bar")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``bnncompare`` console script."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["compare"]:  # the gate owns its own argument parser
        from bnncompare import gate
        return gate.main(argv[1:])
    args = _parser().parse_args(argv)
    try:
        if args.command == "run":
            return _run(args)
        if args.command == "report":
            return _report(args.runs, args.out, normalise=args.normalise)
        if args.command == "reference":
            return _reference(args, argv)
        if args.command == "estimate":
            from bnncompare.estimate import run_estimate

            return run_estimate(args)
        return _demo(args)
    except (CLIError, ValueError, FileNotFoundError) as err:
        return _fail(args.command, str(err))
    except KeyboardInterrupt:
        print(f"{PROG} {args.command}: interrupted", file=sys.stderr)
        return 130


def _report(runs: list[Path], out: Path, *, normalise: bool = False) -> int:
    from bnncompare.report import build_report

    build_report(runs, out, normalise=normalise)
    print(f"report written to {out}/ (README.md, findings.md, tables/, figures/)")
    return 0


def _run(args) -> int:
    from bnncompare.profiles import default_profile_name, get_profile
    from bnncompare.sweep import run_sweep

    profile = get_profile(args.profile or default_profile_name(), args.methods, args.seeds)
    if args.datasets or args.hidden or args.label_column is not None:
        if args.workers is not None or args.scheduler is not None:
            raise CLIError("--dataset/--hidden/--label-column run in-process only, not with "
                           "--workers/--scheduler")
        # every file is read and checked here, before any folder is made
        profile = profile.with_datasets(args.datasets, hidden=args.hidden,
                                        label_column=args.label_column)
    if args.out is None:
        args.out = new_run_dir(profile.name)
    if args.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise CLIError("--device cuda: torch sees no CUDA device")
    if args.workers is not None or args.scheduler is not None:
        from bnncompare.distributed import run_distributed

        result = run_distributed(profile, args.out, keyword=args.keyword, workers=args.workers,
                                 scheduler=args.scheduler, n_shards=args.shards,
                                 device=args.device)
    else:
        result = run_sweep(profile, args.out, keyword=args.keyword, device=args.device)
    if result.interrupted:
        print(f"interrupted: {result.n_benchmarks} finished cells kept in {result.json_path}; "
              f"render them with: {PROG} report {result.json_path} --out {args.out}",
              file=sys.stderr)
        return 130
    print(f"{result.n_benchmarks} benchmarks written to {result.json_path}")
    if result.missing:
        print("missing after one retry: " + ", ".join(result.missing), file=sys.stderr)
    if result.failed:
        return _fail("run", f"{result.failed} benchmark(s) failed; the cells that finished "
                            f"are in {result.json_path}")
    return 0 if args.no_report else _report([result.json_path], args.out)


def new_run_dir(profile: str, root: Path = Path("runs")) -> Path:
    """A folder of its own for a new run: ``runs/<profile>-<YYYYmmdd-HHMMSS>`` (``-2``, ``-3``
    ... when one started the same second), so a run never overwrites the committed
    ``results/`` or an earlier run. ``runs/`` is git-ignored."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    folder = root / f"{profile}-{stamp}"
    n = 1
    while folder.exists():
        n += 1
        folder = root / f"{profile}-{stamp}-{n}"
    return folder


def _reference(args, argv: list[str]) -> int:
    from bnncompare.reference import run_reference

    if args.scheduler is not None and (args.workers is not None or args.dask):
        raise CLIError("give --scheduler alone: its workers are the scheduler's")
    written = run_reference(args.datasets, out=args.out, backend=args.backend,
                            workers=1 if args.workers is None else args.workers,
                            dask=args.dask, scheduler=args.scheduler, seed=args.seed,
                            blocks=args.blocks,
                            chains=args.chains, warmup=args.warmup, draws=args.draws,
                            depth=args.depth, where=args.where, progress=not args.no_progress,
                            hidden=args.hidden, label_column=args.label_column,
                            command=" ".join([PROG, *argv]))
    for name, folder in written.items():
        print(f"reference {name} written to {folder}/")
    return 0


def _demo(args) -> int:
    from bnncompare.demo import run_demo

    run_demo(args.dataset, args.out, seed=args.seed, methods=args.methods)
    return 0


if __name__ == "__main__":
    sys.exit(main())
