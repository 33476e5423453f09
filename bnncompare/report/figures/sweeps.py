"""Time against a swept size (training rows, test rows, posterior draws, parameters P), log-log:
one series
per method (and dataset, machine... where those vary), with the fitted growth law
``c0 + c1·x^b`` of the exponent table where it is conclusive."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from bnncompare.report.complexity import SERIES_KEYS, sweep_series
from bnncompare.report.figures._common import (
    AXIS_LABEL,
    _measured_ticks,
    _new_figure,
    _plain_log,
    _save,
    _short_machine,
    _style,
    _time_label,
    styles_of,
)
from bnncompare.report.method_meta import MethodStyle, method_order

__all__ = [
    "MACHINE_MARKERS",
    "fit_vs_n_params",
    "fit_vs_n_train",
    "fit_vs_num_samples",
    "predict_vs_n_params",
    "predict_vs_n_test",
    "predict_vs_num_samples",
    "sweep_figure",
]

MACHINE_MARKERS = ("o", "s", "^", "D", "v", "P")

def _sweeps(df: pd.DataFrame, phase: str, axis: str):
    out = []
    for key, rows in sweep_series(df):
        k = dict(zip(SERIES_KEYS, key, strict=True))
        if k["phase"] == phase and k["axis"] == axis:
            out.append((k, rows))
    order = method_order(k["method"] for k, _ in out)
    return sorted(out, key=lambda kr: (order.index(str(kr[0]["method"])),
                                       str(kr[0]["machine"]), str(kr[0]["dataset"]),
                                       str(kr[0]["fixed"])))


def _varying(sweeps: list[tuple[dict, pd.DataFrame]]) -> set[str]:
    """Key parts that must appear in labels: those not implied by the method alone."""
    varying = {c for c in ("dataset", "machine") if len({str(k[c]) for k, _ in sweeps}) > 1}
    per_method = {}
    for k, _ in sweeps:
        per_method.setdefault(str(k["method"]), set()).add(str(k["fixed"]))
    if any(len(v) > 1 for v in per_method.values()):
        varying.add("fixed")
    return varying


def _inconclusive(fit: pd.Series | None) -> str:
    why = None if fit is None else fit.get("inconclusive")
    return why if isinstance(why, str) else ""


def _series_label(k: dict, fit: pd.Series | None, varying: set[str], label: str) -> str:
    parts = [label]
    parts += [str(k["dataset"])] if "dataset" in varying else []
    parts += [_short_machine(k["machine"])] if "machine" in varying else []
    parts += [str(k["fixed"])] if "fixed" in varying else []
    if _inconclusive(fit):
        parts.append(f"b inconclusive: {_inconclusive(fit)}")
    elif fit is not None:
        parts.append(f"b={fit['b']:.2f} [{fit['b_lo']:.2f}, {fit['b_hi']:.2f}]")
    return textwrap.fill(", ".join(parts), width=90)


def _find_fit(exps: pd.DataFrame, k: dict) -> pd.Series | None:
    if exps is None or exps.empty:
        return None
    mask = np.ones(len(exps), dtype=bool)
    for col in SERIES_KEYS:
        mask &= (exps[col].astype(str) == str(k[col])).to_numpy()
    return exps[mask].iloc[0] if mask.any() else None


def _sweep_figure(df: pd.DataFrame, exps: pd.DataFrame, path: Path, **kwargs) -> Path | None:
    fig = sweep_figure(df, exps, **kwargs)
    return None if fig is None else _save(fig, path)


def sweep_figure(df: pd.DataFrame, exps: pd.DataFrame, *, phase: str, axis: str, title: str,
                 normalise: bool = False, per_work: bool = False) -> Figure | None:
    """Log-log time against ``axis``, one series per method (and dataset, machine...); with
    ``per_work`` a second panel shows the time per gradient evaluation of each series.

    Returns the unsaved figure, or None when ``df`` has no such sweep. A series whose fit is
    inconclusive says why in the legend and gets no fitted curve.
    """
    sweeps = _sweeps(df, phase, axis)
    if not sweeps:
        return None
    styles = styles_of(df)
    machines = sorted({str(k["machine"]) for k, _ in sweeps})
    varying = _varying(sweeps)
    fig = _new_figure(11.0 if per_work else 6.4, 4.6 + 0.25 * len(sweeps))
    ax = fig.subplots(1, 2)[0] if per_work else fig.add_subplot()
    xs = []
    for k, rows in sweeps:
        marker = MACHINE_MARKERS[machines.index(str(k["machine"])) % len(MACHINE_MARKERS)]
        _plot_sweep(ax, k, rows, _find_fit(exps, k), varying, normalise, marker,
                    _style(styles, k["method"]))
        xs += rows[axis].tolist()
    ax.set(xscale="log", yscale="log", xlabel=AXIS_LABEL.get(axis, axis),
           ylabel=_time_label(normalise), title=title)
    _measured_ticks(ax, xs)
    _plain_log(ax.yaxis)
    if per_work:
        _per_work_panel(fig.axes[1], sweeps, styles, machines, normalise)
    fig.legend(title="markers: median, bars: IQR of rounds; dashed: fit of c0 + c1·x^b "
               "(none when inconclusive)", loc="outside lower center", title_fontsize=8)
    return fig


def _scaled_times(rows: pd.DataFrame, scale: np.ndarray):
    med = rows["median_s"].to_numpy(float) / scale
    lo = np.maximum(med - rows["q1_s"].to_numpy(float) / scale, 0)
    hi = np.maximum(rows["q3_s"].to_numpy(float) / scale - med, 0)
    return med, lo, hi


def _plot_sweep(ax, k: dict, rows: pd.DataFrame, fit: pd.Series | None, varying: set[str],
                normalise: bool, marker: str, style: MethodStyle) -> None:
    x = rows[k["axis"]].to_numpy(float)
    scale = rows["calib_median_s"].to_numpy(float) if normalise else np.ones(len(rows))
    med, lo, hi = _scaled_times(rows, scale)
    ax.errorbar(x, med, yerr=[lo, hi], fmt=marker, color=style.color, capsize=3, ms=5,
                label=_series_label(k, fit, varying, style.label))
    if fit is not None and fit["n_points"] >= 3 and not _inconclusive(fit):
        grid = np.geomspace(x.min(), x.max(), 100)
        curve = (fit["c0"] + fit["c1"] * grid ** fit["b"]) / float(np.median(scale))
        ax.plot(grid, curve, "--", color=style.color, lw=1.2)


def _per_work_panel(ax, sweeps, styles, machines: list[str], normalise: bool) -> None:
    """Time per gradient evaluation (``n_grad_evals``) of each series: the sampler's speed,
    separated from how many evaluations (tree sizes, adaptation) the fit happened to need."""
    xs = []
    for k, rows in sweeps:
        work = pd.to_numeric(rows["n_grad_evals"], errors="coerce").to_numpy(float)
        if not np.all(work > 0):
            continue
        base = rows["calib_median_s"].to_numpy(float) if normalise else np.full(len(rows), 1e-3)
        med, lo, hi = _scaled_times(rows, base * work)
        marker = MACHINE_MARKERS[machines.index(str(k["machine"])) % len(MACHINE_MARKERS)]
        x = rows[k["axis"]].to_numpy(float)
        ax.errorbar(x, med, yerr=[lo, hi], fmt=marker + "-", color=_style(styles,
                    k["method"]).color, capsize=3, ms=5, lw=1, label="_nolegend_")
        xs += list(x)
    ax.set(xscale="log", xlabel=AXIS_LABEL.get(sweeps[0][0]["axis"], sweeps[0][0]["axis"]),
           ylabel=("time / calibration time" if normalise else "ms")
           + " per gradient evaluation", title="Per gradient evaluation (time / n_grad_evals)")
    ax.set_ylim(bottom=0)
    if xs:
        _measured_ticks(ax, xs)


def fit_vs_n_train(df, exps, path, *, normalise=False):
    """Fit time against training rows, log-log, one line per method."""
    return _sweep_figure(df, exps, path, phase="fit", axis="n_train", normalise=normalise,
                         title="Fit time vs training set size")


def predict_vs_num_samples(df, exps, path, *, normalise=False):
    """predict_proba time against posterior draws S, log-log, one line per method."""
    return _sweep_figure(df, exps, path, phase="predict", axis="num_samples",
                         normalise=normalise, title="Predict time vs posterior draws S")


def predict_vs_n_test(df, exps, path, *, normalise=False):
    """predict_proba time against test rows, log-log, one line per method."""
    return _sweep_figure(df, exps, path, phase="predict", axis="n_test", normalise=normalise,
                         title="Predict time vs test set size")


def fit_vs_n_params(df, exps, path, *, normalise=False):
    """Fit time against model size P (nets of one depth, growing width), log-log, one line
    per method; beside it the time per gradient evaluation, which carries the P."""
    return _sweep_figure(df, exps, path, phase="fit", axis="n_params", normalise=normalise,
                         title="Fit time vs model size P", per_work=True)


def predict_vs_n_params(df, exps, path, *, normalise=False):
    """predict_proba time against model size P at fixed S and test rows, log-log."""
    return _sweep_figure(df, exps, path, phase="predict", axis="n_params",
                         normalise=normalise, title="Predict time vs model size P")


def fit_vs_num_samples(df, exps, path, *, normalise=False):
    """Fit time against posterior draws made during the fit (methods with fit-time draws;
    warm-up is the fixed overhead c0), and beside it the time per gradient evaluation."""
    return _sweep_figure(df, exps, path, phase="fit", axis="num_samples", normalise=normalise,
                         title="Fit time vs posterior draws S made during fit", per_work=True)
