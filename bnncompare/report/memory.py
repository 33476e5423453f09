"""Peak memory of the fit and predict cells (``extra_info["peak_mb"]``): a table, and its growth
with S, n and P fitted like time.

``peak_mb`` is measured by :mod:`bnncompare.memory`: the kernel's peak resident set
(``VmHWM``, reset just before the call) above its value then (CPU), or torch's
``max_memory_allocated`` above the allocated memory before the call (CUDA). What it should
grow as:

- fit, in n: the activations and their gradients, ``n * sum(widths)`` floats, plus the weights,
  gradients and optimiser state, ~P: exponent <= 1 (1 once activations dominate);
- fit, in the draws made at fit (the samplers): the stored draws, ``S * P`` floats:
  exponent 1;
- fit and predict, in P at depth 2: weights ~P and activations ~``n * sqrt(P)``: between 0.5
  and 1;
- predict, in S: the ``(S, P)`` block of weight draws (drawn anew by the methods with a
  distribution over weights; stored draws are indexed) grows as S, but the activations do
  not: ``net.mean_proba`` evaluates the draws in chunks of at most ``2**20`` floats of the
  widest layer (4 MiB), so the
  ``S * n * width`` activations an unchunked pass would hold (``unchunked_mb`` in the table)
  never exist at once. Predict memory at S = 1000 is the draws plus a few MiB, however large
  ``S * n`` gets.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from bnncompare.report.complexity import (
    SERIES_KEYS,
    fit_power_law,
    inconclusive_reasons,
    sweep_series,
)
from bnncompare.report.tables import sort_methods

__all__ = ["MEMORY_EXPONENT_COLUMNS", "memory_exponent_table", "memory_table"]

_FLOAT32 = 4
MEMORY_EXPONENT_COLUMNS = [
    *SERIES_KEYS, "quantity", "n_points", "x_min", "x_max", "b", "b_lo", "b_hi",
    "naive_slope", "c0", "c1", "flat", "theory_exponent", "inconclusive", "flag",
]


def memory_table(df: pd.DataFrame) -> pd.DataFrame:
    """Every fit and predict cell that recorded ``peak_mb``: its sizes, median seconds, peak
    MiB and, for predict cells, ``unchunked_mb``: the ``S * n_test * widest layer`` float32
    activations a pass over all draws at once would hold (what the chunking avoids)."""
    cols = ["machine", "phase", "method", "dataset", "hidden", "axis", "n_train", "n_test",
            "num_samples", "n_params", "median_s", "peak_mb", "unchunked_mb", "peak_memory"]
    rows = df[df["phase"].isin(["fit", "predict"])]
    rows = rows[pd.to_numeric(rows["peak_mb"], errors="coerce").notna()].copy()
    if rows.empty:
        return pd.DataFrame(columns=cols)
    rows["unchunked_mb"] = [_unchunked_mb(r) for _, r in rows.iterrows()]
    return sort_methods(rows, ["machine", "phase", "method", "dataset", "axis", "n_train",
                               "n_test", "num_samples", "n_params"])[cols]


def _unchunked_mb(row: pd.Series) -> float:
    if row["phase"] != "predict" or pd.isna(row["num_samples"]) or pd.isna(row["n_test"]):
        return np.nan
    work = json.loads(row["workload"]) if isinstance(row["workload"], str) else {}
    hidden = str(row["hidden"] or "none")
    widths = [int(h) for h in hidden.split("x")] if hidden != "none" else []
    widths += [int(work.get("n_features", 0)), int(work.get("n_classes", 0))]
    return float(row["num_samples"]) * float(row["n_test"]) * max(widths) * _FLOAT32 / 2**20


def memory_exponent_table(df: pd.DataFrame, *, n_boot: int = 200,
                          seed: int = 0) -> pd.DataFrame:
    """``peak_mb = c0 + c1 * x**b`` per fit/predict sweep with >= 3 sizes, every one measured
    and positive: the exponent rows with ``quantity`` = ``"peak_mb"``.

    One peak per size (the largest over its rounds), so the interval is the bootstrap of the
    log residuals about the curve; no theory exponent is stated (see the module docstring for
    what each axis should show). ``inconclusive`` applies the time fits' rules.
    """
    records = []
    for key, rows in sweep_series(df):
        axis = key[SERIES_KEYS.index("axis")]
        peak = pd.to_numeric(rows["peak_mb"], errors="coerce").to_numpy(float)
        if rows[axis].nunique() < 3 or not np.all(peak > 0):
            continue
        x = rows[axis].to_numpy(float)
        fit = fit_power_law(x, peak, n_boot=n_boot, seed=seed)
        records.append({
            **dict(zip(SERIES_KEYS, key, strict=True)), "quantity": "peak_mb",
            "n_points": fit.n_points, "x_min": float(x.min()), "x_max": float(x.max()),
            "b": fit.b, "b_lo": fit.b_lo, "b_hi": fit.b_hi, "naive_slope": fit.naive_slope,
            "c0": fit.c0, "c1": fit.c1, "flat": fit.flat, "theory_exponent": np.nan,
            "inconclusive": "; ".join(inconclusive_reasons(fit)), "flag": ""})
    table = pd.DataFrame.from_records(records, columns=MEMORY_EXPONENT_COLUMNS)
    return sort_methods(table, ["machine", "phase", "axis", "dataset", "method", "fixed"])
