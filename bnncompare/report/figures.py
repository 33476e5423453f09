"""Report figures (PNG, Agg, no pyplot state): one function per figure.

Each function takes the tidy frame (and the exponent table where it draws fits), writes one
PNG and returns its path, or returns ``None`` without writing when its data is absent. A
method's label and colour come from its class (:mod:`bnncompare.report.method_meta`), the
same in every figure; no method is named here. Log axes over a measured design (sizes,
draws) are ticked at exactly the measured values. PNGs carry no timestamp or software tag,
so the same input renders the same bytes on the same matplotlib.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.gridspec import GridSpec
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from bnncompare.report.complexity import SERIES_KEYS, sweep_series
from bnncompare.report.method_meta import OTHER_COLOR, MethodStyle, method_order, method_styles

__all__ = [
    "FIGURES",
    "PEER_COLOR",
    "cost_vs_quality",
    "fit_vs_n_train",
    "fit_vs_num_samples",
    "i_dont_know",
    "peer_ratios",
    "predict_vs_n_test",
    "predict_vs_num_samples",
    "quality_vs_num_samples",
    "styles_of",
    "sweep_figure",
    "write_figures",
]

PEER_COLOR = "#7F7F7F"  # grey: no method uses it (methods own the palette)
MACHINE_MARKERS = ("o", "s", "^", "D", "v", "P")
STYLE = {"font.size": 10, "axes.titlesize": 11, "axes.labelsize": 10, "legend.fontsize": 8,
         "axes.grid": True, "grid.alpha": 0.3, "savefig.dpi": 110}
SAVE = {"dpi": 110, "metadata": {"Software": None}, "bbox_inches": None}
AXIS_LABEL = {"n_train": "training rows n", "n_test": "test rows", "num_samples":
              "posterior draws S"}


def styles_of(df: pd.DataFrame) -> dict[str, MethodStyle]:
    """Label and colour of every method in the fit and predict benchmarks of ``df`` (peers
    and calibration name implementations, not methods, and take no colour)."""
    return method_styles(df.loc[df["phase"].isin(["fit", "predict"]), "method"])


def _style(styles: dict[str, MethodStyle], method: object) -> MethodStyle:
    found = styles.get(str(method))
    return found or MethodStyle(label=str(method), color=OTHER_COLOR, point_estimate=False)


def _new_figure(width: float = 6.4, height: float = 4.4) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", **SAVE)
    return path


def _short_machine(machine: str) -> str:
    return str(machine).split(" (")[0]


def _plain_log(axis) -> None:
    """Log scale labelled 1, 2, 5, 10, 20, ... in plain numbers (no 6x10^1 minor labels)."""
    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def _measured_ticks(ax, values) -> None:
    """Tick the x axis at every measured value, labelled in plain numbers, and nowhere else
    (a log axis otherwise labels only powers of ten, leaving e.g. 25 and 400 unnamed)."""
    ticks = sorted({float(v) for v in values if pd.notna(v)})
    ax.set_xticks(ticks, labels=[f"{v:g}" for v in ticks])
    ax.xaxis.set_minor_formatter(NullFormatter())
    if len(ticks) > 7:
        ax.tick_params(axis="x", labelrotation=45)


def _time_label(normalise: bool) -> str:
    return "time / calibration time" if normalise else "time (s)"


# -- time-vs-size sweeps ------------------------------------------------------------------

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


def fit_vs_num_samples(df, exps, path, *, normalise=False):
    """Fit time against posterior draws made during the fit (methods with fit-time draws;
    warm-up is the fixed overhead c0), and beside it the time per gradient evaluation."""
    return _sweep_figure(df, exps, path, phase="fit", axis="num_samples", normalise=normalise,
                         title="Fit time vs posterior draws S made during fit", per_work=True)


# -- quality ------------------------------------------------------------------------------

def quality_vs_num_samples(df, exps, path, *, normalise=False):
    """Test NLL and ECE against posterior draws S used at prediction."""
    rows = df[(df["phase"] == "predict") & (df["axis"] == "num_samples") & df["nll"].notna()]
    if rows.empty:
        return None
    styles = styles_of(df)
    fig = _new_figure(9.0, 3.8)
    axes = fig.subplots(1, 2)
    groups = list(rows.groupby(["machine", "dataset", "method", "n_test"], sort=True,
                               dropna=False))
    order = method_order(rows["method"])
    groups.sort(key=lambda item: (order.index(str(item[0][2])), str(item[0][0]),
                                  str(item[0][1]), str(item[0][3])))
    several = rows["dataset"].nunique() > 1 or rows["machine"].nunique() > 1
    for ax, metric, name in zip(axes, ("nll", "ece"), ("test NLL", "test ECE"), strict=True):
        for (machine, dataset, method, _), g in groups:
            g = g.sort_values("num_samples")
            style = _style(styles, method)
            label = (f"{style.label}, {dataset}, {_short_machine(machine)}" if several
                     else style.label)
            ax.plot(g["num_samples"].astype(float), g[metric], "o-", color=style.color,
                    label=label)
        ax.set(xscale="log", xlabel=AXIS_LABEL["num_samples"], ylabel=name,
               title=f"{name} vs S")
        _measured_ticks(ax, rows["num_samples"])
    axes[0].legend()
    return _save(fig, path)


def pareto_front(cost: np.ndarray, loss: np.ndarray) -> np.ndarray:
    """Boolean mask of points no other point beats on both cost and loss (lower is better)."""
    cost, loss = np.asarray(cost, float), np.asarray(loss, float)
    better = (cost[None, :] <= cost[:, None]) & (loss[None, :] <= loss[:, None])
    strictly = (cost[None, :] < cost[:, None]) | (loss[None, :] < loss[:, None])
    return ~np.any(better & strictly, axis=1)


def cost_vs_quality(df, exps, path, *, normalise=False):
    """Fit seconds against test NLL per dataset; the Pareto front is joined and ringed."""
    rows = df[(df["phase"] == "fit") & (df["axis"] == "none") & df["nll"].notna()]
    if rows.empty:
        return None
    styles = styles_of(df)
    datasets = sorted(rows["dataset"].unique())
    fig = _new_figure(4.2 * len(datasets), 3.8)
    for ax, dataset in zip(np.atleast_1d(fig.subplots(1, len(datasets))), datasets,
                           strict=True):
        _cost_panel(ax, rows[rows["dataset"] == dataset], dataset, styles)
    return _save(fig, path)


def _cost_panel(ax, rows: pd.DataFrame, dataset: str, styles) -> None:
    cost, loss = rows["median_s"].to_numpy(float), rows["nll"].to_numpy(float)
    front = pareto_front(cost, loss)
    order = np.argsort(cost[front], kind="stable")
    ax.plot(cost[front][order], loss[front][order], "-", color="black", lw=1, zorder=1,
            label="Pareto front")
    several = rows["machine"].nunique() > 1
    for (_, r), on_front in zip(rows.iterrows(), front, strict=True):
        style = _style(styles, r["method"])
        label = f"{style.label} ({_short_machine(r['machine'])})" if several else style.label
        ax.scatter(r["median_s"], r["nll"], s=70 if on_front else 40, zorder=2,
                   color=style.color, edgecolors="black" if on_front else "none",
                   linewidths=1.5, label=label)
    ax.set(xscale="log", xlabel="fit time (s)", ylabel="test NLL (lower is better)",
           title=f"Cost vs quality: {dataset}")
    _plain_log(ax.xaxis)
    ax.legend()


# -- peers --------------------------------------------------------------------------------

def peer_ratios(df, exps, path, *, normalise=False):
    """Peer time per unit of work divided by bnncompare's (log scale; > 1: bnncompare faster)."""
    rows = df[(df["phase"] == "peers") & (df["method"] != "bnncompare")
              & df["ratio_vs_bnncompare"].notna()]
    if rows.empty:
        return None
    rows = rows.sort_values(["task", "ratio_vs_bnncompare"], kind="stable")
    several = rows["machine"].nunique() > 1
    labels = [f"{r['task']}: {r['method']}" + (f" ({_short_machine(r['machine'])})"
              if several else "") for _, r in rows.iterrows()]
    fig = _new_figure(6.8, 0.45 * len(rows) + 1.6)
    ax = fig.add_subplot()
    y = np.arange(len(rows))
    ratios = rows["ratio_vs_bnncompare"].to_numpy(float)
    ax.barh(y, ratios, color=PEER_COLOR, left=0)
    for yi, ratio in zip(y, ratios, strict=True):
        ax.annotate(f"{ratio:.3g}×", (ratio, yi), xytext=(3, 0), textcoords="offset points",
                    va="center", fontsize=8)
    ax.axvline(1.0, color="black", lw=1, label="bnncompare = 1")
    ax.set(xscale="log", yticks=y, yticklabels=labels,
           xlabel="time per unit / bnncompare's (> 1: bnncompare is faster)",
           title="Peer implementations vs bnncompare")
    ax.set_xlim(min(ratios.min(), 1.0) / 2, max(ratios.max(), 1.0) * 4)
    _plain_log(ax.xaxis)
    ax.invert_yaxis()
    ax.legend(loc="lower right")
    return _save(fig, path)


# -- "I don't know" -----------------------------------------------------------------------

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


# -- all ----------------------------------------------------------------------------------

FigureFn = Callable[..., Path | None]
FIGURES: dict[str, FigureFn] = {
    "fit_vs_n_train": fit_vs_n_train,
    "predict_vs_num_samples": predict_vs_num_samples,
    "predict_vs_n_test": predict_vs_n_test,
    "fit_vs_num_samples": fit_vs_num_samples,
    "quality_vs_num_samples": quality_vs_num_samples,
    "cost_vs_quality": cost_vs_quality,
    "peer_ratios": peer_ratios,
}


def write_figures(df: pd.DataFrame, exps: pd.DataFrame, out_dir: Path, *,
                  normalise: bool = False) -> list[Path]:
    """Write every figure whose data is present into ``out_dir``; return the paths written."""
    written = []
    with matplotlib.rc_context(STYLE):
        for name, fn in FIGURES.items():
            written.append(fn(df, exps, out_dir / f"{name}.png", normalise=normalise))
        for dataset in sorted(df.loc[df["phase"] == "fit", "dataset"].dropna().unique()):
            written.append(i_dont_know(df, exps, out_dir / f"i_dont_know_{dataset}.png",
                                       dataset=dataset, normalise=normalise))
    return [p for p in written if p is not None]
