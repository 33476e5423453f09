"""Read pytest-benchmark JSON files into one tidy DataFrame (a row per benchmark).

The input schema is ``docs/benchmark-json.md``. Every problem with an input file raises
:class:`ReportInputError` naming the file, so a command line can print one line and exit.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bnncompare import benchjson

__all__ = [
    "AXES",
    "CORE_COLUMNS",
    "EXTRA_COLUMNS",
    "PHASES",
    "ReportInputError",
    "load_runs",
]

PHASES = benchjson.GROUPS
#: the swept sizes a fit/predict series may vary; ``n_params`` (P, the model size) is no
#: benchmark parameter but ``extra_info["n_params"]`` (the sweep varies ``hidden``)
AXES = ("n_train", "n_test", "num_samples", "n_params")

CORE_COLUMNS = [
    "run", "machine", "profile", "phase", "method", "dataset", "task", "axis",
    "n_train", "n_test", "num_samples", "budget", "hidden",
    "median_s", "min_s", "mean_s", "iqr_s", "q1_s", "q3_s", "rounds", "times",
    "calib_median_s", "median_norm", "calib_kind", "workload",
    "name", "commit", "dirty", "datetime", "bnncompare", "torch", "pyro", "python",
    "torch_threads", "device",
]

# extra_info keys named in docs/benchmark-json.md: always present as columns (NaN if absent),
# so table and figure code never has to ask whether a column exists.
EXTRA_COLUMNS = [
    "theory_exponent", "theory_exponent_work",
    "accuracy", "nll", "brier", "ece",
    "n_grad_evals", "n_params", "seed", "method_seed", "peak_mb", "peak_memory",
    "r_hat_max", "ess_min", "ess_median", "divergences", "mean_tree_depth",
    "frac_at_max_depth", "ess_per_s", "predictive_r_hat_max", "predictive_ess_min",
    "predictive_ess_per_s", "ood_auroc_far", "ood_auroc_mi_far", "mean_entropy_far",
    "tv_test_ref_noise", "tv_ood_ref_noise",
    "ood_auroc", "ood_auroc_mi", "mean_entropy_test", "mean_entropy_ood", "sel_acc_80",
    "entropy_bins", "entropy_hist_test", "entropy_hist_ood", "coverages",
    "selective_accuracy", "ood_kind",
    "unit", "units_per_round", "s_per_unit", "ratio_vs_bnncompare", "compile_s",
    "side_by_side", "tv_test", "tv_ood", "agreement_test", "agreement_ood", "budget_setting",
    "grid_entropy", "grid_x", "grid_y",
]


# An input file that is not usable benchmark output (the message names the file): the one
# error type of the shared reader, so the report and the gate reject the same files alike.
ReportInputError = benchjson.BenchJSONError


def load_runs(paths: Sequence[str | Path] | str | Path) -> pd.DataFrame:
    """Load one or more pytest-benchmark JSON files into a tidy DataFrame.

    Parameters
    ----------
    paths : path or sequence of paths
        ``--benchmark-json`` outputs following ``docs/benchmark-json.md``.

    Returns
    -------
    pandas.DataFrame
        One row per benchmark with :data:`CORE_COLUMNS`, then every ``extra_info`` key
        (at least :data:`EXTRA_COLUMNS`). ``run`` is the file stem (made unique with the
        parent folder when two files share a stem), ``machine`` is ``"node (cpu brand)"``,
        ``phase`` is the benchmark group, ``times`` the per-round seconds and
        ``median_norm`` the median divided by ``calib_median_s``: the same run's
        calibration of the kind in ``calib_kind`` that suits the benchmark, by the rule of
        :mod:`bnncompare.benchjson` that the gate applies too (NaN, with a warning, when the
        run has no calibration benchmark). ``workload`` is ``extra_info["workload"]`` as
        sorted JSON (None in older files). Params a benchmark does not have are missing
        (NA). A GPU run's ``machine`` is ``"node cuda (GPU name, cpu brand)"``, so CPU
        and GPU runs of one box are separate series.

    Raises
    ------
    ReportInputError
        For whatever :func:`bnncompare.benchjson.read_run` rejects: a missing, empty
        (``/dev/null`` too), non-JSON or non-pytest-benchmark file, a file without
        benchmarks, or a benchmark entry without a known group or a median time.
    """
    paths = [Path(paths)] if isinstance(paths, str | Path) else [Path(p) for p in paths]
    if not paths:
        raise ReportInputError("no benchmark JSON files given")
    names = _run_names(paths)
    rows: list[dict[str, Any]] = []
    for path, run in zip(paths, names, strict=True):
        rows.extend(_read_run(path, run))
    return _to_frame(rows)


def _run_names(paths: list[Path]) -> list[str]:
    stems = [p.stem for p in paths]
    names = [f"{p.parent.name}/{p.stem}" if stems.count(p.stem) > 1 else p.stem for p in paths]
    return [f"{n}#{i}" if names.count(n) > 1 else n for i, n in enumerate(names)]


def _read_run(path: Path, run: str) -> list[dict[str, Any]]:
    doc = benchjson.read_run(path)  # the gate's reader: one validation, one normalisation
    meta = _run_meta(doc, run)
    rows = [_bench_row(bench, meta, doc.scale(bench), benchjson.scale_for(bench, doc.scales))
            for bench in doc.benchmarks]
    if not doc.scales:
        warnings.warn(f"{path}: no calibration benchmark; median_norm is NaN",
                      UserWarning, stacklevel=3)
    return rows


def _run_meta(doc: benchjson.BenchRun, run: str) -> dict[str, Any]:
    info, commit = doc.machine_info, doc.commit_info
    node = str(info.get("node") or "unknown")
    brand = benchjson.cpu_model(doc)
    if benchjson.run_device(info) != "cpu":  # a GPU run of the same box is another series
        node = f"{node} {benchjson.run_device(info)}"
        brand = ", ".join(str(b) for b in (info.get("cuda_device_name"), brand) if b)
    return {
        "run": run,
        "machine": f"{node} ({brand})" if brand else node,
        "profile": info.get("profile"),
        "commit": commit.get("id"),
        "dirty": commit.get("dirty"),
        "datetime": doc.datetime,
        "bnncompare": info.get("bnncompare"),
        "torch": info.get("torch"),
        "pyro": info.get("pyro"),
        "python": info.get("python_version"),
        "torch_threads": info.get("torch_threads"),
        "device": info.get("device"),
    }


def _bench_row(bench: dict[str, Any], meta: dict[str, Any], calib_s: float,
               run_calib_s: float) -> dict[str, Any]:
    params, extra = bench["params"], bench["extra_info"]
    row = {key: None for key in EXTRA_COLUMNS}
    row.update(extra)
    row.update(meta)
    row.update(_timing(bench["stats"]))
    _, workload = benchjson.identity(bench)
    row.update({
        "calib_median_s": calib_s,
        "median_norm": row["median_s"] / calib_s if calib_s > 0 else math.nan,
        # a merged (sharded) run: times x shard_factor are on the run's pooled calibration
        # scale, so a series split across fast and slow workers is one machine's series
        "shard": benchjson.shard_of(bench),
        "shard_factor": run_calib_s / calib_s if calib_s > 0 and run_calib_s > 0 else 1.0,
        "calib_kind": benchjson.calibration_kind(bench),
        "workload": workload or None,
        "name": bench.get("name"),
        "phase": bench["group"],
        "method": params.get("method"),
        "dataset": params.get("dataset"),
        "task": params.get("task"),
        "hidden": params.get("hidden"),
        "budget": params.get("budget"),
        "axis": extra.get("axis", "none"),
        "profile": extra.get("profile", meta["profile"]),
        **{axis: params.get(axis, extra.get(axis)) for axis in AXES},
    })
    return row


def _timing(stats: dict[str, Any]) -> dict[str, Any]:
    median = float(stats["median"])
    iqr = float(stats.get("iqr", 0.0))
    data = stats.get("data")
    times = [float(t) for t in data] if isinstance(data, list) and data else [median]
    return {
        "median_s": median,
        "min_s": float(stats.get("min", min(times))),
        "mean_s": float(stats.get("mean", np.mean(times))),
        "iqr_s": iqr,
        "q1_s": float(stats.get("q1", median - iqr / 2)),
        "q3_s": float(stats.get("q3", median + iqr / 2)),
        "rounds": int(stats.get("rounds", len(times))),
        "times": times,
    }


def _to_frame(rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    df = pd.DataFrame.from_records(list(rows))
    extra = [c for c in df.columns if c not in CORE_COLUMNS]
    df = df[CORE_COLUMNS + extra].copy()
    for col in (*AXES, "rounds"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype("Int64")
    for col in EXTRA_COLUMNS:
        if df[col].map(_is_scalar_number).all():
            df[col] = pd.to_numeric(df[col], errors="coerce").astype("float64")
    return df.reset_index(drop=True)


def _is_scalar_number(value: Any) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))
