"""Quality vs compute: each method's points along its own budget axis, and the Pareto front.

A point is one fit on a quality dataset: the quality cell (budget x1, the profile's quality
settings) or a curve cell (``params.budget``, e.g. ``"x0.5"``: the method's budget keyword
scaled by that factor). Its loss is the mean total variation to the reference posterior on
test rows (``tv_test``) where the dataset has a reference, else the test NLL. The front is
the lower-left envelope over every method's points: for a fit-time budget T, the lowest loss
any point within T reached. No method is named here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bnncompare.methods.convergence import R_HAT_LIMIT
from bnncompare.report.method_meta import label_of, method_order
from bnncompare.report.replicates import SEED_COLUMN, seed_summary, with_seeds

__all__ = ["LOSS_LABEL", "converged", "curve_points", "front_headline", "loss_metric",
           "pareto_front", "pareto_table", "step_front"]

#: the losses a curve can show, best first, with their axis labels
LOSS_LABEL = {"tv_test": "TV to the reference posterior, test rows",
              "nll": "test NLL"}
_METRICS = ["fit_s", "tv_test", "tv_ood", "nll", "accuracy", "ood_auroc"]
_COLUMNS = ["machine", "dataset", "method", "budget", "factor", "budget_setting",
            *(c for m in _METRICS for c in (m, f"{m}_lo", f"{m}_hi")), "n_grad_evals",
            "n_seeds", "converged"]


def _factor(label: object) -> float:
    text = str(label)
    try:
        return float(text[1:]) if text.startswith("x") else np.nan
    except ValueError:
        return np.nan


def curve_points(df: pd.DataFrame) -> pd.DataFrame:
    """Every fit on a quality dataset as a point of its method's curve.

    Returns
    -------
    pandas.DataFrame
        Columns ``machine, dataset, method, budget`` (``"x1"`` for the quality cell),
        ``factor`` (float), ``budget_setting`` (the keywords as fitted, when recorded),
        ``fit_s`` (median round), ``tv_test``, ``tv_ood``, ``nll``, ``accuracy``,
        ``ood_auroc``, each the mean over the point's method seeds with its 95 % t-interval
        (``_lo``, ``_hi``; NaN with one seed), ``n_grad_evals`` (mean), ``n_seeds`` and
        ``converged`` (False when any seed's fit has a function-space R-hat above
        :data:`R_HAT_LIMIT` or a divergence; True for methods that record neither); sorted by
        machine, dataset, method (registry order) and factor. Empty when the frame has no
        such fit.
    """
    fits = df[(df["phase"] == "fit") & df["axis"].isin(["none", "budget"]) & df["nll"].notna()]
    if fits.empty:
        return pd.DataFrame(columns=_COLUMNS)
    budget = fits["budget"] if "budget" in fits else pd.Series(None, index=fits.index)
    seeds = with_seeds(fits)[SEED_COLUMN]
    per_seed = pd.DataFrame({
        "machine": fits["machine"], "dataset": fits["dataset"], "method": fits["method"],
        "budget": [b if isinstance(b, str) else "x1" for b in budget], SEED_COLUMN: seeds,
        "budget_setting": fits.get("budget_setting", pd.Series(None, index=fits.index)),
        "fit_s": fits["median_s"].astype(float),
        **{c: pd.to_numeric(fits.get(c, np.nan), errors="coerce")
           for c in ("n_grad_evals", "tv_test", "tv_ood", "nll", "accuracy", "ood_auroc")},
        "converged": [converged(r) for _, r in fits.iterrows()],
    })
    keys = ["machine", "dataset", "method", "budget"]
    out = seed_summary(per_seed, keys, _METRICS)
    groups = per_seed.groupby(keys, sort=False)
    out = out.join(groups.agg(budget_setting=("budget_setting", "first"),
                              n_grad_evals=("n_grad_evals", "mean"),
                              converged=("converged", "all")), on=keys)
    out["factor"] = out["budget"].map(_factor)
    order = method_order(out["method"])
    out["_rank"] = out["method"].map(lambda m: order.index(str(m)))
    out = out.sort_values(["machine", "dataset", "_rank", "factor"], kind="stable")
    return out[_COLUMNS].reset_index(drop=True)


def converged(row: pd.Series) -> bool:
    """One fit converged: no divergence and a function-space R-hat within ``R_HAT_LIMIT``,
    where recorded (a method that records neither counts as converged)."""
    r_hat = pd.to_numeric(row.get("predictive_r_hat_max"), errors="coerce")
    divergences = pd.to_numeric(row.get("divergences"), errors="coerce")
    return not ((pd.notna(r_hat) and r_hat > R_HAT_LIMIT)
                or (pd.notna(divergences) and divergences > 0))


def loss_metric(points: pd.DataFrame) -> str:
    """``"tv_test"`` when any of ``points`` was scored against a reference, else ``"nll"``."""
    return "tv_test" if points["tv_test"].notna().any() else "nll"


def pareto_front(cost, loss) -> np.ndarray:
    """Boolean mask of the points no other point beats on both cost and loss (lower is
    better on both; a point equal to another on both is kept)."""
    cost, loss = np.asarray(cost, float), np.asarray(loss, float)
    better = (cost[None, :] <= cost[:, None]) & (loss[None, :] <= loss[:, None])
    strictly = (cost[None, :] < cost[:, None]) | (loss[None, :] < loss[:, None])
    return ~np.any(better & strictly, axis=1)


def step_front(cost, loss, x_max: float) -> tuple[np.ndarray, np.ndarray]:
    """The front as a staircase to ``x_max``: ``(x, y)`` for ``plot(x, y, drawstyle=
    "steps-post")``: at any cost on it, the best loss reached within that cost."""
    cost, loss = np.asarray(cost, float), np.asarray(loss, float)
    front = pareto_front(cost, loss)
    order = np.argsort(cost[front], kind="stable")
    x, y = cost[front][order], loss[front][order]
    return np.append(x, max(x_max, x[-1])), np.append(y, y[-1])


def _groups(points: pd.DataFrame, cost: str):
    """``(key, rows, metric)`` per (machine, dataset), the rows that have cost and loss."""
    for key, rows in points.groupby(["machine", "dataset"], sort=True):
        metric = loss_metric(rows)
        rows = rows[rows[metric].notna() & (rows[cost] > 0)]
        if len(rows):
            yield key, rows, metric


def pareto_table(points: pd.DataFrame, cost: str = "fit_s") -> pd.DataFrame:
    """The points on the Pareto front of ``cost`` against the loss (means over seeds), per
    machine and dataset, cheapest first: ``machine, dataset, method, budget, budget_setting,
    fit_s`` (with ``_lo``, ``_hi``), ``n_grad_evals, metric`` (``tv_test`` or ``nll``),
    ``value`` (with ``value_lo``, ``value_hi``: the loss's interval over seeds), ``n_seeds``
    and ``converged``.

    The front is taken over converged points only; an unconverged point that would beat it
    is kept in the table with ``converged`` False, so it is seen and flagged but never the
    answer to "closest for X seconds"."""
    parts = []
    for _, rows, metric in _groups(points, cost):
        good = rows[rows["converged"].astype(bool)]
        front = good[pareto_front(good[cost], good[metric])] if len(good) else good
        beats = rows[~rows["converged"].astype(bool)]
        beats = beats[[not ((front[cost] <= c) & (front[metric] <= v)).any()
                       for c, v in zip(beats[cost], beats[metric], strict=True)]]
        both = pd.concat([front, beats])
        parts.append(both.assign(metric=metric, value=both[metric],
                                 value_lo=both[f"{metric}_lo"], value_hi=both[f"{metric}_hi"])
                     .sort_values([cost, "value"], kind="stable"))
    cols = ["machine", "dataset", "method", "budget", "budget_setting", "fit_s", "fit_s_lo",
            "fit_s_hi", "n_grad_evals", "metric", "value", "value_lo", "value_hi", "n_seeds",
            "converged"]
    return (pd.concat(parts)[cols].reset_index(drop=True) if parts
            else pd.DataFrame(columns=cols))


def _decades(lo: float, hi: float) -> list[float]:
    """Fit-time limits 10^k from the first above ``lo`` to the first at or above ``hi``."""
    first, last = int(np.floor(np.log10(lo))) + 1, int(np.ceil(np.log10(hi)))
    return [10.0 ** k for k in range(first, max(last, first) + 1)]


def _seconds(t: float) -> str:
    return f"{t:g} s"


def _point(row: pd.Series, metric: str) -> str:
    name = "TV" if metric == "tv_test" else "NLL"
    return f"{label_of(row['method'])} {row['budget']} ({name} {row['value']:.3f})"


def front_headline(front: pd.DataFrame, several_machines: bool = False) -> list[str]:
    """One sentence per (machine, dataset) of :func:`pareto_table`: which method is closest
    to the posterior (or has the lowest NLL) within each decade of fit time, e.g. "below
    1 s: A x2 (TV 0.031); below 10 s: B x1 (TV 0.025); closest overall: ..." (A, B: method
    labels)."""
    lines = []
    if "converged" in front:  # an unconverged point is never the answer
        front = front[front["converged"].astype(bool)]
    for (machine, dataset), rows in front.groupby(["machine", "dataset"], sort=True):
        rows = rows.sort_values("fit_s", kind="stable")
        metric = rows["metric"].iloc[0]
        parts, last = [], None
        for limit in _decades(rows["fit_s"].min(), rows["fit_s"].max())[:-1]:
            within = rows[rows["fit_s"] < limit]
            if within.empty or within.index[-1] == last:
                continue
            last = within.index[-1]
            parts.append(f"below {_seconds(limit)}: {_point(within.iloc[-1], metric)}")
        best = rows.iloc[-1]
        overall = "closest overall" if metric == "tv_test" else "best overall"
        parts.append(f"{overall}: {_point(best, metric)} at {best['fit_s']:.3g} s")
        what = ("Closest to the reference posterior (TV on test rows)" if metric == "tv_test"
                else "Lowest test NLL (no reference posterior stored)")
        where = f"{dataset} ({str(machine).split(' (')[0]})" if several_machines else dataset
        lines.append(f"{what} for a given fit time on {where}: " + "; ".join(parts)
                     + " (tables/pareto.md).")
    return lines
