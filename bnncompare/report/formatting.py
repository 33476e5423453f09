"""Deterministic text rendering of report tables: CSV (full precision) and Markdown (readable).

No ``tabulate``: the Markdown writer is a dozen lines here. Same frame in, same bytes out.
"""

from __future__ import annotations

import math
import numbers
from pathlib import Path

import pandas as pd

__all__ = ["HEADERS", "VERDICTS", "format_cell", "markdown_table", "markdown_view",
           "write_table"]

MISSING = "-"

HEADERS = {
    "machine": "Machine", "method": "Method", "dataset": "Dataset", "hidden": "Hidden",
    "phase": "Phase", "axis": "Axis", "fixed": "Held fixed", "task": "Task",
    "implementation": "Implementation", "unit": "Unit",
    "n_train": "n_train", "n_test": "n_test", "num_samples": "S",
    "median_s": "Median s", "iqr_s": "IQR s", "min_s": "Min s", "rounds": "Rounds",
    "median_norm": "Median / calib", "n_grad_evals": "Grad evals", "n_params": "#params",
    "ms_per_example": "Predict ms/example", "fit_s": "Fit s",
    "accuracy": "Accuracy", "nll": "NLL", "brier": "Brier", "ece": "ECE",
    "ood_auroc": "OOD AUROC (entropy)", "ood_auroc_mi": "OOD AUROC (MI)",
    "mean_entropy_test": "Mean entropy test", "mean_entropy_ood": "Mean entropy OOD",
    "sel_acc_80": "Acc @ 80% coverage", "ood_kind": "OOD inputs",
    "n_points": "Sizes", "x_min": "x min", "x_max": "x max",
    "b": "b [95% CI]", "naive_slope": "Naive slope", "theory_exponent": "Theory",
    "b_work": "b work [95% CI]", "naive_slope_work": "Naive slope work",
    "theory_exponent_work": "Theory work", "flag": "Flag",
    "s_per_unit": "s/unit", "ratio_vs_bnncompare": "Ratio vs bnncompare",
    "compile_s": "Compile s", "peer": "Peer", "peer_s_per_unit": "Peer s/unit",
    "r_hat_max": "R-hat max", "ess_min": "ESS min", "ess_median": "ESS median",
    "divergences": "Divergences", "mean_tree_depth": "Mean tree depth",
    "frac_at_max_depth": "Share at max depth", "ess_per_s": "ESS/s",
    "predictive_r_hat_max": "Predictive R-hat max", "ms_per_grad_eval": "ms/grad eval",
    "inconclusive": "Inconclusive because", "inconclusive_work": "Work inconclusive because",
    "calib_drift": "Calibration drift",
    "budget": "Budget", "budget_setting": "Budget setting", "metric": "Loss", "value": "Value",
    "tv_test": "TV test", "tv_ood": "TV OOD", "agreement_test": "Agreement test",
    "agreement_ood": "Agreement OOD",
    "cpu_s": "CPU s", "gpu_s": "GPU s", "speedup": "Speed-up (CPU / GPU)",
    "cpu_machine": "CPU run", "gpu_machine": "GPU run",
    "n_seeds": "Seeds", "method_seed": "Seed", "tv_test_ref_noise": "Reference noise test",
    "tv_ood_ref_noise": "Reference noise OOD",
    "tv_test_within_noise": "TV test within reference noise",
    "tv_ood_within_noise": "TV OOD within reference noise", "ood_auroc_far": "Far AUROC (entropy)",
    "ood_auroc_mi_far": "Far AUROC (MI)", "mean_entropy_far": "Mean entropy far",
    "predictive_ess_min": "Predictive ESS min", "predictive_ess_per_s": "Predictive ESS/s",
    "converged": "Converged", "b_lo_rounds": "b within-run lo", "b_hi_rounds": "b within-run hi",
    "noise_sd": "Run noise sd(log)", "noise_df": "Run noise df",
}

#: value column -> column holding the reason it is inconclusive ("" when it is not): the
#: Markdown cell then reads "inconclusive" instead of a number (the CSV keeps the numbers)
VERDICTS = {"b": "inconclusive", "b_work": "inconclusive_work"}
INCONCLUSIVE = "inconclusive"

_FORMATS = {
    ".3f": ["accuracy", "nll", "brier", "ece", "ood_auroc", "ood_auroc_mi",
            "mean_entropy_test", "mean_entropy_ood", "sel_acc_80", "r_hat_max",
            "predictive_r_hat_max", "tv_test", "tv_ood", "agreement_test", "agreement_ood",
            "value", "tv_test_ref_noise", "tv_ood_ref_noise", "ood_auroc_far",
            "ood_auroc_mi_far", "mean_entropy_far", "noise_sd"],
    ".2f": ["b", "b_lo", "b_hi", "naive_slope", "theory_exponent", "b_work", "b_work_lo",
            "b_work_hi", "naive_slope_work", "theory_exponent_work", "mean_tree_depth",
            "frac_at_max_depth", "calib_drift"],
    ".3g": ["ms_per_example", "median_norm", "s_per_unit", "peer_s_per_unit",
            "ratio_vs_bnncompare", "fit_s",
            "compile_s", "ess_per_s", "ms_per_grad_eval", "speedup", "predictive_ess_per_s"],
    ".2g": ["iqr_s"],
    ".1f": ["ess_min", "ess_median", "predictive_ess_min"],
    "d": ["n_train", "n_test", "num_samples", "rounds", "n_grad_evals", "n_params",
          "divergences", "n_points", "units_per_round", "x_min", "x_max", "n_seeds",
          "method_seed",
          "noise_df"],
}
FORMATS = {col: spec for spec, cols in _FORMATS.items() for col in cols}
DEFAULT_FORMAT = ".4g"


def format_cell(value: object, spec: str = DEFAULT_FORMAT) -> str:
    """Format one cell; missing values become ``-`` and booleans ``yes``/``no``."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, numbers.Real):
        return format(round(float(value)), "d") if spec == "d" else format(float(value), spec)
    return str(value).replace("|", "\\|").replace("\n", " ") or MISSING


def markdown_view(df: pd.DataFrame) -> pd.DataFrame:
    """String frame for Markdown: known formats, ``X [X_lo, X_hi]`` merged (``X ± h`` in a
    table over seeds, one with an ``n_seeds`` column), display headers.

    A ``machine`` column with a single value is dropped (the caption names the machine). A
    value with a non-empty reason in its :data:`VERDICTS` column reads ``inconclusive``.
    """
    cols = [c for c in df.columns if not c.endswith(("_lo", "_hi"))]
    if "machine" in cols and df["machine"].nunique(dropna=False) <= 1:
        cols.remove("machine")
    view = {}
    for col in cols:
        spec = FORMATS.get(col, DEFAULT_FORMAT)
        cells = [format_cell(v, spec) for v in df[col]]
        if f"{col}_lo" in df.columns and f"{col}_hi" in df.columns:
            merge = _plus_minus if "n_seeds" in df.columns else _with_interval
            cells = [merge(c, lo, hi, spec)
                     for c, lo, hi in zip(cells, df[f"{col}_lo"], df[f"{col}_hi"], strict=True)]
        if VERDICTS.get(col) in df.columns:
            cells = [INCONCLUSIVE if isinstance(why, str) and why else c
                     for c, why in zip(cells, df[VERDICTS[col]], strict=True)]
        view[HEADERS.get(col, col)] = cells
    return pd.DataFrame(view, dtype=object)


def _with_interval(cell: str, lo: object, hi: object, spec: str) -> str:
    if cell == MISSING or format_cell(lo) == MISSING:
        return cell
    return f"{cell} [{format_cell(lo, spec)}, {format_cell(hi, spec)}]"


def _plus_minus(cell: str, lo: object, hi: object, spec: str) -> str:
    """``mean ± half-width`` of a symmetric interval over seeds (the t-interval of a mean)."""
    if cell == MISSING or format_cell(lo) == MISSING:
        return cell
    return f"{cell} ± {format_cell((float(hi) - float(lo)) / 2, spec)}"


def markdown_table(view: pd.DataFrame) -> str:
    """Pipe table with padded columns; columns whose cells all look numeric align right."""
    headers = [str(h) for h in view.columns]
    rows = [[str(c) for c in row] for row in view.itertuples(index=False)]
    widths = [max([len(h), 3, *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    right = [all(_numeric(r[i]) for r in rows) and bool(rows) for i in range(len(headers))]

    def line(cells: list[str]) -> str:
        padded = [c.rjust(w) if r else c.ljust(w)
                  for c, w, r in zip(cells, widths, right, strict=True)]
        return "| " + " | ".join(padded) + " |"

    rule = ["-" * (w - 1) + ":" if r else "-" * w for w, r in zip(widths, right, strict=True)]
    return "\n".join([line(headers), line(rule), *(line(r) for r in rows)]) + "\n"


def _numeric(cell: str) -> bool:
    head = cell.split(" [")[0].split(" ± ")[0]
    try:
        float(head)
    except ValueError:
        return head == MISSING
    return True


def write_table(df: pd.DataFrame, directory: Path, name: str, caption: str = "") -> None:
    """Write ``name.csv`` (6 significant digits) and ``name.md`` (formatted) in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    df.to_csv(directory / f"{name}.csv", index=False, float_format="%.6g", lineterminator="\n")
    text = markdown_table(markdown_view(df))
    if caption:
        text = f"{caption}\n\n{text}"
    (directory / f"{name}.md").write_text(text, encoding="utf-8")
