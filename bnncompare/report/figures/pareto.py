"""Quality against compute (fit seconds, gradient evaluations) along each method's budget
axis, with the Pareto front as a staircase coloured by the method that reaches it."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from bnncompare.report.curves import LOSS_LABEL, curve_points, loss_metric, pareto_front, step_front
from bnncompare.report.figures._common import (
    _new_figure,
    _plain_log,
    _save,
    _short_machine,
    _style,
    styles_of,
)
from bnncompare.report.method_meta import method_order

__all__ = ["curve_figure", "quality_vs_compute"]


def quality_vs_compute(df, exps, path, *, normalise=False):
    """:func:`curve_figure`, saved to ``path`` (None when there is no quality point)."""
    fig = curve_figure(df)
    return None if fig is None else _save(fig, path)


def curve_figure(df: pd.DataFrame) -> Figure | None:
    """Quality against compute along each method's budget axis, with the Pareto front.

    One row per (machine, dataset): fit seconds (left) and gradient evaluations (right), log
    scale, against TV to the reference posterior on test rows (test NLL where the dataset has
    no reference). One line per method through its budgets (labelled x0.25, x1...; x1, ringed,
    is the profile's quality setting); the staircase is the front: at any x, the lowest loss
    reached within that cost, coloured by the method that reaches it.
    """
    points = curve_points(df)
    keys = sorted({(m, d) for m, d in zip(points["machine"], points["dataset"], strict=True)})
    if not keys:
        return None
    styles = styles_of(df)
    several = len({m for m, _ in keys}) > 1
    fig = _new_figure(11.0, 3.6 * len(keys) + 0.9)
    axes = np.atleast_2d(fig.subplots(len(keys), 2, squeeze=False))
    for row, (machine, dataset) in zip(axes, keys, strict=True):
        rows = points[(points["machine"] == machine) & (points["dataset"] == dataset)]
        where = f"{dataset} ({_short_machine(machine)})" if several else dataset
        for ax, cost, xlabel in zip(row, ("fit_s", "n_grad_evals"),
                                    ("fit time (s)", "gradient evaluations"), strict=True):
            _curve_panel(ax, rows, cost, styles)
            ax.set(xlabel=xlabel, title=f"{where}: vs {xlabel.split(' (')[0]}")
    handles = [Line2D([], [], color=s.color, marker="o", label=s.label)
               for m, s in styles.items() if m in set(points["method"])]
    handles.append(Line2D([], [], ls="none", marker="o", ms=8, markerfacecolor="none",
                          markeredgecolor="black", label="ringed: the profile's quality "
                          "setting (x1)"))
    handles.append(Line2D([], [], ls="none", marker="o", ms=5, markerfacecolor="white",
                          markeredgecolor="black", label="hollow: not converged (left out "
                          "of the front)"))
    handles.append(Line2D([], [], color="black", lw=1.2, drawstyle="steps-post",
                          label="Pareto front: best within that cost; bars: 95 % over seeds"))
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 4))
    return fig


def _curve_panel(ax, rows: pd.DataFrame, cost: str, styles) -> None:
    metric = loss_metric(rows)
    rows = rows[rows[metric].notna() & (rows[cost] > 0)]
    for method in method_order(rows["method"]):
        own = rows[rows["method"] == method].sort_values("factor")
        style = _style(styles, method)
        ax.plot(own[cost], own[metric], "-", color=style.color, lw=1.2, zorder=3)
        _error_bars(ax, own, cost, metric, style.color)
        # converged points filled, unconverged (predictive R-hat over the limit, or a
        # divergence) hollow: shown, never on the front
        good = own["converged"].astype(bool)
        ax.plot(own.loc[good, cost], own.loc[good, metric], "o", color=style.color, ms=5,
                zorder=3)
        ax.plot(own.loc[~good, cost], own.loc[~good, metric], "o", ms=5, zorder=3,
                markerfacecolor="white", markeredgecolor=style.color)
        x1 = own[own["budget"] == "x1"]
        ax.scatter(x1[cost], x1[metric], s=60, facecolors="none", edgecolors="black",
                   linewidths=1.2, zorder=4)
        for _, r in own.iterrows():
            ax.annotate(r["budget"], (r[cost], r[metric]), xytext=(3, 3), fontsize=6,
                        textcoords="offset points", color="#333333")
    if len(rows):
        _front_steps(ax, rows, cost, metric, styles)
    ax.set(xscale="log", yscale="log", ylabel=LOSS_LABEL[metric] + " (lower is better)")
    if len(rows):
        # limits from the points: an interval over 3 seeds may reach 0, which a log axis
        # would follow down several decades; such a bar runs off the bottom instead
        lo, hi = float(rows[metric].min()), float(rows[metric].max())
        ax.set_ylim(lo / 1.6, hi * 1.6)
    _plain_log(ax.xaxis)
    if cost != "fit_s":  # counts span decades: 1, 10, 100, ... keeps the labels apart
        ax.xaxis.set_major_locator(LogLocator(base=10))
    # losses span less than a decade: label 1, 1.5, 2, 3, 5, 7 of each so the axis reads
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 1.5, 2.0, 3.0, 5.0, 7.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def _error_bars(ax, own: pd.DataFrame, cost: str, metric: str, color: str) -> None:
    """95 % t-intervals over the method seeds, where a point has two seeds or more: the loss
    vertically, the fit time horizontally (gradient evaluations are counted, not noisy)."""
    lo, hi = own.get(f"{metric}_lo"), own.get(f"{metric}_hi")
    if lo is None or not lo.notna().any():
        return
    yerr = np.vstack([(own[metric] - lo).clip(lower=0), (hi - own[metric]).clip(lower=0)])
    xerr = None
    if cost == "fit_s" and own.get("fit_s_lo") is not None and own["fit_s_lo"].notna().any():
        xerr = np.vstack([(own["fit_s"] - own["fit_s_lo"]).clip(lower=0),
                          (own["fit_s_hi"] - own["fit_s"]).clip(lower=0)])
    ax.errorbar(own[cost], own[metric], yerr=np.nan_to_num(yerr),
                xerr=None if xerr is None else np.nan_to_num(xerr), fmt="none",
                ecolor=color, elinewidth=0.8, capsize=2, alpha=0.7, zorder=2)


def _front_steps(ax, rows: pd.DataFrame, cost: str, metric: str, styles) -> None:
    """The front as a staircase over the converged points, each step underlaid in the
    colour of its method."""
    rows = rows[rows["converged"].astype(bool)]
    if rows.empty:
        return
    front = rows[pareto_front(rows[cost], rows[metric])].sort_values([cost, metric])
    x_max = float(rows[cost].max()) * 1.5
    x, y = step_front(front[cost], front[metric], x_max)
    ax.plot(x, y, drawstyle="steps-post", color="black", lw=1.2, zorder=2)
    for i, (_, r) in enumerate(front.iterrows()):
        ax.plot([x[i], x[i + 1]], [y[i], y[i]], color=_style(styles, r["method"]).color,
                lw=7, alpha=0.3, solid_capstyle="butt", zorder=1)
