"""``build_report``: benchmark JSON in, ``tables/``, ``figures/`` and ``README.md`` out.

All inputs are loaded and validated before anything is written (the benchmark JSON, and for
each entropy map the stored reference posterior and the training split it draws: the figures
themselves read no file); the outputs are rendered into a staging folder inside ``out_dir``
and only then moved into place, so bad input (or a failure while rendering) leaves an
existing ``out_dir`` untouched.
"""

from __future__ import annotations

import os
import shlex
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from bnncompare.data import load_dataset
from bnncompare.methods.convergence import R_HAT_LIMIT
from bnncompare.reference import find_reference
from bnncompare.report.complexity import DRIFT_B_TOL, MAX_WIDTH, exponent_table
from bnncompare.report.devices import check_devices, cpu_vs_gpu_figure, cpu_vs_gpu_table
from bnncompare.report.figures import map_datasets, write_figures
from bnncompare.report.findings import findings_text
from bnncompare.report.formatting import write_table
from bnncompare.report.load import ReportInputError, load_runs
from bnncompare.report.summary import readme_text
from bnncompare.report.tables import build_tables

__all__ = ["GENERATED", "build_report", "report_command"]

GENERATED = ("tables", "figures", "README.md", "findings.md")

CAPTIONS = {
    "quality": "Held-out quality and cost per method and dataset",
    "uncertainty": 'Can it say "I don\'t know"? Test vs out-of-distribution inputs',
    "pareto": "Quality vs compute, the Pareto front over every method's budget points: "
              "nothing cheaper is better. Loss: tv_test (mean total variation to the reference "
              "posterior on test rows) or nll (test NLL, where no reference is stored); "
              "lower Value is better; Budget x1 is the profile's quality setting, xF its "
              "budget keywords (Budget setting) scaled by F",
    "exponents": "Empirical complexity exponents: t = c0 + c1·x^b (Quantity time; peak_mb: "
                 "peak memory, one peak per size), 95 % bootstrap interval "
                 "over rounds; Flag names the interval (time, work) that excludes theory; "
                 "b reads inconclusive, with the reason, when it is on the upper bound of "
                 f"its grid, its interval reaches that bound or is wider than {MAX_WIDTH:g}, or "
                 "the run's calibration drifted around the series enough to move b by more "
                 f"than {DRIFT_B_TOL:g}",
    "memory": "Peak memory of every fit and predict cell: MiB above the process's resident "
              "set just before the call (the kernel's high-water mark, reset before it; "
              "torch's max_memory_allocated on CUDA); unchunked_mb is what one layer's "
              "activations over all S draws at once would take, which predict never holds",
    "cost_model": "Cost model per method and phase: a + b·units (fit: gradient evaluations·"
                  "rows·P; predict: S·n_test·P; peak_mb: floats held), fitted on the run's "
                  "sweep cells; held-out error leaves one size out at a time: median and "
                  "worst |log(measured / predicted)|",
    "peers": "Peer implementations: seconds per unit of work, ratio vs bnncompare "
             "(> 1: bnncompare is faster)",
    "side_by_side": "Peers timed inside the rounds of a bnncompare row (alternately just "
                    "before and just after each timed round): medians of both sides' seconds "
                    "per unit and of the per-round ratio peer / bnncompare (> 1: bnncompare "
                    "is faster); the comparison a change of the machine's speed between "
                    "rows cannot move",
    "diagnostics": "Convergence of the methods that record diagnostics (flagged: predictive "
                   f"R-hat > {R_HAT_LIMIT}, or weight-space R-hat where no predictive one is "
                   "recorded, or "
                   "divergences > 0). Weight-space R-hat is shown but not judged: permutation "
                   "and sign symmetries put every chain of a BNN in a different, equivalent "
                   "mode, so it stays high even when the predictive has converged",
    "cpu_vs_gpu": "CPU and GPU runs of one profile, cell by cell: median seconds on each "
                  "device and the speed-up CPU s / GPU s (> 1: the GPU is faster); raw "
                  "seconds, since the calibration is timed on the CPU in both runs",
    "fit": "Every fit benchmark; ms/grad eval = median time / gradient evaluations",
    "predict": "Every predict benchmark",
}


def report_command(paths: Sequence[str | Path], out_dir: str | Path, normalise: bool) -> str:
    """The shell command that regenerates a report from ``paths`` into ``out_dir``."""
    args = ["bnncompare", "report", *map(str, paths), "--out", str(out_dir)]
    return shlex.join(args) + (" --normalise" if normalise else "")


def build_report(paths: Sequence[str | Path] | str | Path, out_dir: str | Path, *,
                 normalise: bool = False, n_boot: int = 200) -> dict[str, Any]:
    """Load benchmark JSON files and write the report into ``out_dir``.

    Parameters
    ----------
    paths : path or sequence of paths
        pytest-benchmark JSON files (``docs/benchmark-json.md``); several merge. CPU and GPU
        runs of one profile (``bnncompare run --device cuda``) also get
        ``tables/cpu_vs_gpu`` and ``figures/cpu_vs_gpu.png``
        (:mod:`bnncompare.report.devices`).
    out_dir : path
        Receives ``tables/*.csv|md``, ``figures/*.png``, ``README.md`` and ``findings.md``
        (:mod:`bnncompare.report.findings`). Those are replaced as a whole (stale files in
        ``tables/`` and ``figures/`` go); anything else in ``out_dir`` (e.g. ``raw/``) is
        left alone.
    normalise : bool, default=False
        Plot times divided by each run's calibration time (needs a calibration benchmark
        in every run). Tables always carry both seconds and ``median_norm``.
    n_boot : int, default=200
        Bootstrap replicates for the exponent intervals.

    Returns
    -------
    dict
        ``readme`` and ``findings`` (Paths), ``tables`` and ``figures`` (lists of Paths
        written),
        ``n_benchmarks``, ``machines``, ``frame`` (the tidy DataFrame) and ``exponents``.

    Raises
    ------
    ReportInputError
        When any input is unusable, or CPU and GPU runs are of different profiles; nothing
        in ``out_dir`` is created or changed.
    """
    paths = [paths] if isinstance(paths, str | Path) else list(paths)
    df = load_runs(paths)
    if normalise and df["calib_median_s"].isna().any():
        missing = sorted(df.loc[df["calib_median_s"].isna(), "run"].unique())
        raise ReportInputError(f"--normalise needs a calibration benchmark; missing in run(s) "
                               f"{', '.join(missing)}")
    check_devices(df)
    exps = exponent_table(df, n_boot=n_boot)
    tables = build_tables(df, exps)
    if len(gpu := cpu_vs_gpu_table(df)):  # only when runs of both devices are given
        tables["cpu_vs_gpu"] = gpu
    drawn = _figure_inputs(df)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".report-staging-", dir=out_dir))
    try:
        figures = _render(staging, df, exps, tables, drawn,
                          report_command(paths, out_dir, normalise), normalise)
        _publish(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {
        "readme": out_dir / "README.md",
        "findings": out_dir / "findings.md",
        "tables": [out_dir / "tables" / f"{n}.{ext}" for n in tables for ext in ("csv", "md")],
        "figures": [out_dir / "figures" / f for f in figures],
        "n_benchmarks": len(df),
        "machines": sorted(df["machine"].unique()),
        "frame": df,
        "exponents": exps,
    }


def _figure_inputs(df: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """What the figures draw beyond ``df``, loaded once: for each dataset with an entropy map
    (:func:`~bnncompare.report.figures.map_datasets`), its stored reference posterior and
    the training split its map's fits were made on.

    Returns
    -------
    dict
        ``references`` (name -> ``Reference``, or None where none is stored) and
        ``datasets`` (name -> ``Dataset``; a split that cannot be loaded here, e.g. MNIST
        files absent, is left out and its map drawn without training points): the keyword
        arguments of :func:`~bnncompare.report.figures.write_figures`.
    """
    references, datasets = {}, {}
    for name, seed in map_datasets(df).items():
        references[name] = find_reference(name)
        try:
            datasets[name] = load_dataset(name, seed=seed)
        except (ValueError, OSError):
            continue
    return {"references": references, "datasets": datasets}


def _render(staging: Path, df, exps, tables, drawn: dict, command: str,
            normalise: bool) -> list[str]:
    caption_tail = _caption_tail(df)
    for name, table in tables.items():
        write_table(table, staging / "tables", name, f"**{CAPTIONS[name]}.** {caption_tail}")
    (staging / "figures").mkdir()
    figures = [p.name for p in write_figures(df, exps, staging / "figures",
                                             normalise=normalise, **drawn)]
    if cpu_vs_gpu_figure(df, exps, staging / "figures" / "cpu_vs_gpu.png") is not None:
        figures.append("cpu_vs_gpu.png")
    text = readme_text(df, exps, tables, figures, command, normalise)
    (staging / "README.md").write_text(text, encoding="utf-8")
    (staging / "findings.md").write_text(findings_text(df), encoding="utf-8")
    return figures


def _caption_tail(df) -> str:
    runs = df.drop_duplicates("run")
    parts = [f"{r['machine']}, profile {r['profile']}, torch {r['torch']}, pyro {r['pyro']}"
             for _, r in runs.iterrows()]
    return "Runs: " + "; ".join(parts) + "."


def _publish(staging: Path, out_dir: Path) -> None:
    """Swap each generated entry into ``out_dir``; the old one is removed with ``staging``."""
    for name in GENERATED:
        new, target = staging / name, out_dir / name
        if target.is_dir() and not target.is_symlink():
            os.replace(target, staging / f"old-{name}")
        os.replace(new, target)
