"""Can it say "I don't know"? Per method, predictive-entropy histograms on test vs
out-of-distribution inputs, and below, accuracy against coverage."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.gridspec import GridSpec

from bnncompare.report.figures._common import _new_figure, _save, _style, styles_of
from bnncompare.report.method_meta import MethodStyle, method_order

__all__ = ["i_dont_know"]


def _uncertainty_rows(df: pd.DataFrame, dataset: str) -> pd.DataFrame:
    rows = df[(df["phase"] == "fit") & (df["axis"] == "none") & (df["dataset"] == dataset)
              & df["entropy_hist_test"].map(lambda v: isinstance(v, list) and len(v) > 0)]
    if rows.empty:
        return rows
    first_machine = sorted(rows["machine"].astype(str))[0]
    rows = rows[rows["machine"] == first_machine]
    order = method_order(rows["method"])
    rank = rows["method"].map(lambda m: order.index(str(m)))
    return rows.assign(_rank=rank).sort_values(["_rank"], kind="stable")


def i_dont_know(df, exps, path, *, dataset: str, normalise=False):
    """Per method: predictive-entropy histograms on test vs OOD inputs; below, accuracy
    against coverage when the least certain examples are rejected."""
    rows = _uncertainty_rows(df, dataset)
    if rows.empty:
        return None
    styles = styles_of(df)
    n = len(rows)
    fig = _new_figure(max(3.2 * n, 6.4), 6.4)
    grid = GridSpec(2, n, figure=fig)
    for i, (_, r) in enumerate(rows.iterrows()):
        _entropy_panel(fig.add_subplot(grid[0, i]), r, _style(styles, r["method"]))
    _coverage_panel(fig.add_subplot(grid[1, :]), rows, styles)
    fig.suptitle(f'Can it say "I don\'t know"? {dataset}: test vs {rows["ood_kind"].iloc[0]}'
                 " inputs")
    return _save(fig, path)


def _entropy_panel(ax, r: pd.Series, style: MethodStyle) -> None:
    edges = np.asarray(r["entropy_bins"], float)
    test, ood = np.asarray(r["entropy_hist_test"], float), np.asarray(r["entropy_hist_ood"], float)
    ax.stairs(test, edges, fill=True, color=style.color, alpha=0.55, label="test")
    ax.stairs(ood, edges, color="black", lw=1.5, label="OOD")
    ax.set(xlabel="predictive entropy (nats)", ylabel="fraction of inputs",
           title=f"{style.label}: AUROC {r['ood_auroc']:.2f}")
    ax.legend()


def _coverage_panel(ax, rows: pd.DataFrame, styles) -> None:
    for _, r in rows.iterrows():
        if isinstance(r["coverages"], list) and isinstance(r["selective_accuracy"], list):
            style = _style(styles, r["method"])
            ax.plot(r["coverages"], r["selective_accuracy"], "o-", ms=4, color=style.color,
                    label=style.label)
    ax.set(xlabel="coverage (share of test inputs answered, most certain first)",
           ylabel="accuracy on answered", title="Accuracy vs coverage")
    ax.legend()
