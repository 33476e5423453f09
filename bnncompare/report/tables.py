"""Report tables built from the tidy benchmark frame (``load_runs``): one function per table.

Every function returns a numeric DataFrame with snake_case columns, sorted deterministically
(methods in registry order, then unknown ones alphabetically; tasks in the order the run
measured them), and an empty frame when its data is absent. No method is named here: what
a table shows for a method follows from the columns its benchmarks recorded.
"""

from __future__ import annotations

import statistics

import numpy as np
import pandas as pd

from bnncompare.methods.convergence import R_HAT_LIMIT
from bnncompare.report.curves import curve_points, pareto_table
from bnncompare.report.method_meta import method_order
from bnncompare.report.replicates import seed_summary

__all__ = [
    "DIAGNOSTIC_COLUMNS",
    "REFERENCE_COLUMNS",
    "REFERENCE_NOISE_COLUMNS",
    "R_HAT_LIMIT",
    "build_tables",
    "diagnostics_table",
    "exponents_table",
    "fit_table",
    "pareto_front_table",
    "peers_table",
    "predict_table",
    "quality_table",
    "side_by_side_table",
    "sort_methods",
    "uncertainty_table",
]

#: scores against a stored reference posterior (``bnncompare.reference``); a table shows
#: those recorded
REFERENCE_COLUMNS = ("tv_test", "tv_ood", "agreement_test", "agreement_ood")
#: the reference's own noise on each input set: the mean TV between the predictives of its
#: two halves of chains. A method's TV below it cannot be told from the reference.
REFERENCE_NOISE_COLUMNS = ("tv_test_ref_noise", "tv_ood_ref_noise")
#: per-fit diagnostics a method may record (flat ``extra_info`` keys); a table shows those
#: present, for every method that recorded any
DIAGNOSTIC_COLUMNS = ("r_hat_max", "predictive_r_hat_max", "ess_min", "ess_median",
                      "predictive_ess_min", "divergences", "mean_tree_depth",
                      "frac_at_max_depth", "predictive_ess_per_s", "ess_per_s")


def _rank(values: pd.Series, order: list[str]) -> pd.Series:
    """Sort key: position in ``order`` (as zero-padded text, so NaN still sorts first)."""
    return values.map(lambda v: f"{order.index(v):04d}" if v in order else v)


def sort_methods(df: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Stable sort on ``by``; ``method`` in registry order, ``task`` in order of appearance."""
    def key(col: pd.Series) -> pd.Series:
        if col.name == "method":
            return _rank(col, method_order(col))
        if col.name == "task":
            return _rank(col, list(dict.fromkeys(col.dropna())))
        return col

    return df.sort_values(by, key=key, kind="stable", na_position="first").reset_index(drop=True)


def _select(df: pd.DataFrame, cols: list[str], by: list[str]) -> pd.DataFrame:
    return sort_methods(df, by)[cols].reset_index(drop=True) if len(df) else df[cols].iloc[:0]


def fit_table(df: pd.DataFrame) -> pd.DataFrame:
    """Every fit benchmark: median, IQR and minimum seconds, normalised median, work, and
    milliseconds per gradient evaluation (the sampler's speed, whatever its tree sizes)."""
    rows = df[df["phase"] == "fit"].copy()
    work = pd.to_numeric(rows["n_grad_evals"], errors="coerce")
    rows["ms_per_grad_eval"] = 1e3 * rows["median_s"] / work.where(work > 0)
    # the budget column only when the run has quality-vs-compute cells
    budget = ["budget"] if "budget" in rows and rows["budget"].notna().any() else []
    cols = ["machine", "method", "dataset", "hidden", "axis", "n_train", "num_samples",
            *budget, "median_s", "iqr_s", "min_s", "rounds", "median_norm", "n_grad_evals",
            "ms_per_grad_eval"]
    return _select(rows, cols, ["machine", "method", "dataset", "axis", "n_train",
                                "num_samples", *budget])


def predict_table(df: pd.DataFrame) -> pd.DataFrame:
    """Every predict benchmark, with milliseconds per test example and quality if recorded."""
    rows = df[df["phase"] == "predict"].copy()
    rows["ms_per_example"] = 1e3 * rows["median_s"] / rows["n_test"].astype(float)
    cols = ["machine", "method", "dataset", "axis", "n_train", "n_test", "num_samples",
            "median_s", "iqr_s", "ms_per_example", "median_norm", "nll", "ece"]
    return _select(rows, cols, ["machine", "method", "dataset", "axis", "n_test",
                                "num_samples"])


def _quality_rows(df: pd.DataFrame) -> pd.DataFrame:
    """Single-cell fit benchmarks (axis ``none``) that recorded held-out quality."""
    mask = (df["phase"] == "fit") & (df["axis"] == "none") & df["accuracy"].notna()
    return df[mask]


def quality_table(df: pd.DataFrame) -> pd.DataFrame:
    """uncertainty-baselines style: Method | Dataset | Accuracy | NLL | Brier | ECE | Fit s |
    Predict ms/example | #params, then the total variation to and agreement with the
    reference posterior on test rows and OOD inputs (:data:`REFERENCE_COLUMNS`) when any
    cell recorded them, each beside the reference's own noise on that input set
    (:data:`REFERENCE_NOISE_COLUMNS`: its half-split TV).

    Every metric ``m`` is the mean over the cell's method seeds with ``m_lo``, ``m_hi``, the
    95 % t-interval of that mean (:mod:`bnncompare.report.replicates`), and ``n_seeds``.
    Predict ms/example is the fit entry's own ``extra_info.predict_ms_per_example`` when
    recorded, else from the predict benchmark of the same machine, method and dataset
    (preferring a single-cell one, axis ``none``, with the fit's ``num_samples``).
    """
    rows = _quality_rows(df).copy()
    rows["fit_s"] = rows["median_s"]
    rows["ms_per_example"] = [_predict_ms(df, r) for _, r in rows.iterrows()]
    metrics = ["accuracy", "nll", "brier", "ece", "fit_s", "ms_per_example"]
    metrics += [c for c in REFERENCE_COLUMNS if c in rows and rows[c].notna().any()]
    noise = [c for c in REFERENCE_NOISE_COLUMNS if c in rows and rows[c].notna().any()]
    summary = seed_summary(rows, list(_CELL), metrics, constants=("n_params", *noise))
    for col in noise:  # a method whose TV is below the reference's own noise cannot be told
        tv = col.removesuffix("_ref_noise")
        summary.insert(summary.columns.get_loc(col) + 1, f"{tv}_within_noise",
                       summary[tv] <= summary[col])
    return _cell_table(summary)


#: what identifies a quality cell across its seeds
_CELL = ("machine", "dataset", "method")


def _cell_table(summary: pd.DataFrame) -> pd.DataFrame:
    """A table over seeds, machine and method first, sorted by machine, dataset, method."""
    cols = ["machine", "method", "dataset", *(c for c in summary.columns if c not in _CELL)]
    return _select(summary, cols, list(_CELL))


def _predict_ms(df: pd.DataFrame, fit_row: pd.Series) -> float:
    own = pd.to_numeric(fit_row.get("predict_ms_per_example"), errors="coerce")
    if pd.notna(own):
        return float(own)
    same = df[(df["phase"] == "predict") & (df["machine"] == fit_row["machine"])
              & (df["method"] == fit_row["method"]) & (df["dataset"] == fit_row["dataset"])]
    if same.empty:
        return np.nan
    score = (same["axis"] != "none").astype(int) * 2 + (
        same["num_samples"] != fit_row["num_samples"]).fillna(True).astype(int)
    best = same.loc[score.sort_values(kind="stable").index[0]]
    return float(1e3 * best["median_s"] / float(best["n_test"]))


def uncertainty_table(df: pd.DataFrame) -> pd.DataFrame:
    """Can it say "I don't know"? OOD AUROC by entropy and by mutual information, mean
    predictive entropy on test vs OOD inputs, accuracy on the 80 % most certain examples."""
    rows = _quality_rows(df)
    rows = rows[rows["ood_auroc"].notna()]
    metrics = [c for c in UNCERTAINTY_COLUMNS if c in rows and rows[c].notna().any()]
    return _cell_table(seed_summary(rows, list(_CELL), metrics, constants=("ood_kind",)))


#: "I don't know" numbers: on the in-box OOD inputs (uniform in the training data's bounding
#: box, or noise images: ``ood_kind``) and, ``*_far``, on far inputs (``data.far_shell``)
UNCERTAINTY_COLUMNS = ("ood_auroc", "ood_auroc_mi", "ood_auroc_far", "ood_auroc_mi_far",
                       "mean_entropy_test", "mean_entropy_ood", "mean_entropy_far",
                       "sel_acc_80")


def exponents_table(exps: pd.DataFrame, memory: pd.DataFrame | None = None) -> pd.DataFrame:
    """Display columns of :func:`~bnncompare.report.complexity.exponent_table` (``quantity``
    ``time``), then the peak-memory fits of
    :func:`~bnncompare.report.memory.memory_exponent_table` (``quantity`` ``peak_mb``)."""
    cols = ["machine", "phase", "method", "dataset", "axis", "fixed", "quantity", "n_points",
            "b", "b_lo", "b_hi", "naive_slope", "theory_exponent", "b_work", "b_work_lo",
            "b_work_hi", "theory_exponent_work", "calib_drift", "flag", "inconclusive",
            "inconclusive_work"]
    by = ["machine", "phase", "axis", "dataset", "method", "fixed"]
    time = exps.assign(quantity="time")
    if memory is not None and len(memory):
        time = pd.concat([time, memory.reindex(columns=[c for c in cols if c in memory]
                                               + ["hidden"])], ignore_index=True)
    table = _select(time, cols, [*by, "quantity"]) if len(time) else time.reindex(columns=cols)
    return table.reset_index(drop=True)


def peers_table(df: pd.DataFrame) -> pd.DataFrame:
    """Peer implementations side by side: seconds per unit of work and ratio vs bnncompare
    (> 1: bnncompare is faster)."""
    rows = df[df["phase"] == "peers"].copy()
    rows["implementation"] = rows["method"]
    rows["not_ours"] = rows["method"] != "bnncompare"
    cols = ["machine", "task", "implementation", "unit", "s_per_unit", "ratio_vs_bnncompare",
            "compile_s"]
    return _select(rows, cols, ["machine", "task", "not_ours", "ratio_vs_bnncompare"])


def side_by_side_table(df: pd.DataFrame) -> pd.DataFrame:
    """Peers timed inside a peers row's own rounds (``extra_info["side_by_side"]``): per
    peer, the medians over rounds of both sides' seconds per unit and of the per-round ratio
    peer / ours (> 1: bnncompare is faster), which a change of the machine's speed between
    rows cannot move."""
    rows = df[df["phase"] == "peers"]
    out = []
    for _, row in rows[rows["side_by_side"].map(lambda v: isinstance(v, dict))].iterrows():
        side = row["side_by_side"]
        for peer, record in side["peers"].items():
            out.append({"machine": row["machine"], "task": row["task"],
                        "implementation": row["method"], "peer": peer, "unit": row["unit"],
                        "s_per_unit": statistics.median(side["s_per_unit"]),
                        "peer_s_per_unit": statistics.median(record["s_per_unit"]),
                        "ratio_vs_bnncompare": record["ratio_vs_bnncompare"],
                        "rounds": side["rounds"]})
    return pd.DataFrame(out, columns=_SIDE_BY_SIDE_COLUMNS)


_SIDE_BY_SIDE_COLUMNS = ["machine", "task", "implementation", "peer", "unit", "s_per_unit",
                         "peer_s_per_unit", "ratio_vs_bnncompare", "rounds"]


def diagnostics_table(df: pd.DataFrame) -> pd.DataFrame:
    """Convergence per fit of every method that records diagnostics (:data:`DIAGNOSTIC_COLUMNS`
    present); ``flag`` names R-hat > ``R_HAT_LIMIT`` and divergences > 0."""
    diag = [c for c in DIAGNOSTIC_COLUMNS if c in df.columns]
    rows = df[df["phase"] == "fit"]
    rows = rows[rows[diag].notna().any(axis=1)].copy() if diag else rows.iloc[:0].copy()
    diag = [c for c in diag if rows[c].notna().any()]
    rows["flag"] = [_diagnostic_flag(r) for _, r in rows.iterrows()]
    budget = rows["budget"] if "budget" in rows else pd.Series(None, index=rows.index)
    rows["budget"] = budget.where(budget.notna(), None)
    cols = ["machine", "method", "dataset", "axis", "n_train", "num_samples", "budget",
            "method_seed", *diag, "flag"]
    return _select(rows, cols, ["machine", "method", "dataset", "axis", "n_train",
                                "num_samples", "budget", "method_seed"])


def _diagnostic_flag(row: pd.Series) -> str:
    flags = []
    # judged in function space when the method records it (weight-space R-hat cannot pass on
    # a BNN: symmetric modes); weight-space R-hat only where nothing better is recorded
    col, name = (("predictive_r_hat_max", "predictive R-hat")
                 if pd.notna(row.get("predictive_r_hat_max")) else ("r_hat_max", "R-hat"))
    if pd.notna(row.get(col)) and row[col] > R_HAT_LIMIT:
        flags.append(f"{name} > {R_HAT_LIMIT}")
    if pd.notna(row.get("divergences")) and row["divergences"] > 0:
        flags.append("divergences")
    return ", ".join(flags)


def pareto_front_table(df: pd.DataFrame) -> pd.DataFrame:
    """The Pareto front of fit seconds against TV to the reference posterior (test NLL where
    none is stored) over every method's budget points (:mod:`bnncompare.report.curves`)."""
    return pareto_table(curve_points(df))


def build_tables(df: pd.DataFrame, exps: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """All non-empty tables by file stem, in the order the README lists them."""
    # imported here: both modules build on this one (sort_methods)
    from bnncompare.costmodel import cost_model_table
    from bnncompare.report.memory import memory_exponent_table, memory_table

    tables = {
        "quality": quality_table(df),
        "uncertainty": uncertainty_table(df),
        "pareto": pareto_front_table(df),
        "exponents": exponents_table(exps, memory_exponent_table(df)),
        "memory": memory_table(df),
        "cost_model": cost_model_table(df),
        "peers": peers_table(df),
        "side_by_side": side_by_side_table(df),
        "diagnostics": diagnostics_table(df),
        "fit": fit_table(df),
        "predict": predict_table(df),
    }
    return {name: table for name, table in tables.items() if len(table)}
