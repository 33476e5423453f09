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
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from bnncompare import data, metrics
from bnncompare.report.complexity import SERIES_KEYS, sweep_series
from bnncompare.report.curves import LOSS_LABEL, curve_points, loss_metric, pareto_front, step_front
from bnncompare.report.method_meta import OTHER_COLOR, MethodStyle, method_order, method_styles

__all__ = [
    "FIGURES",
    "PEER_COLOR",
    "curve_figure",
    "entropy_map",
    "entropy_map_figure",
    "fit_vs_n_train",
    "fit_vs_num_samples",
    "i_dont_know",
    "peer_ratios",
    "predict_vs_n_test",
    "predict_vs_num_samples",
    "quality_vs_compute",
    "quality_vs_num_samples",
    "reference_entropy_map",
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
    handles.append(Line2D([], [], color="black", lw=1.2, drawstyle="steps-post",
                          label="Pareto front: best within that cost"))
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 4))
    return fig


def _curve_panel(ax, rows: pd.DataFrame, cost: str, styles) -> None:
    metric = loss_metric(rows)
    rows = rows[rows[metric].notna() & (rows[cost] > 0)]
    for method in method_order(rows["method"]):
        own = rows[rows["method"] == method].sort_values("factor")
        style = _style(styles, method)
        ax.plot(own[cost], own[metric], "o-", color=style.color, ms=5, lw=1.2, zorder=3)
        x1 = own[own["budget"] == "x1"]
        ax.scatter(x1[cost], x1[metric], s=60, facecolors="none", edgecolors="black",
                   linewidths=1.2, zorder=4)
        for _, r in own.iterrows():
            ax.annotate(r["budget"], (r[cost], r[metric]), xytext=(3, 3), fontsize=6,
                        textcoords="offset points", color="#333333")
    if len(rows):
        _front_steps(ax, rows, cost, metric, styles)
    ax.set(xscale="log", yscale="log", ylabel=LOSS_LABEL[metric] + " (lower is better)")
    _plain_log(ax.xaxis)
    # losses span less than a decade: label 1, 1.5, 2, 3, 5, 7 of each so the axis reads
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 1.5, 2.0, 3.0, 5.0, 7.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def _front_steps(ax, rows: pd.DataFrame, cost: str, metric: str, styles) -> None:
    """The front as a staircase, each step underlaid in the colour of its method."""
    front = rows[pareto_front(rows[cost], rows[metric])].sort_values([cost, metric])
    x_max = float(rows[cost].max()) * 1.5
    x, y = step_front(front[cost], front[metric], x_max)
    ax.plot(x, y, drawstyle="steps-post", color="black", lw=1.2, zorder=2)
    for i, (_, r) in enumerate(front.iterrows()):
        ax.plot([x[i], x[i + 1]], [y[i], y[i]], color=_style(styles, r["method"]).color,
                lw=7, alpha=0.3, solid_capstyle="butt", zorder=1)


# -- the entropy map of a 2-D dataset ---------------------------------------------------------

def reference_entropy_map(dataset: str):
    """``(x, y, H, title)`` of the stored reference posterior's predictive entropy over the
    plane of ``dataset`` (``bnncompare.reference``), or None when there is none."""
    try:
        from bnncompare.reference import find_reference
    except ImportError:  # a checkout without reference posteriors
        return None
    ref = find_reference(dataset)
    if ref is None or ref.grid is None or ref.grid_axes is None:
        return None
    x, y = (np.asarray(a, float) for a in ref.grid_axes)
    entropy = metrics.predictive_entropy(ref.grid).reshape(len(y), len(x))
    chains = ref.meta.get("settings", {}).get("chains", "?")
    return x, y, entropy, f"reference posterior ({chains} chains)"


def _training_points(dataset: str, seed: object):
    """Training inputs and labels of ``dataset`` (regenerated from its seed), or None."""
    try:
        ds = data.load_dataset(str(dataset), seed=int(seed) if pd.notna(seed) else 0)
    except (ValueError, OSError):
        return None
    return ds.x_train, ds.y_train


def _map_rows(df: pd.DataFrame, dataset: str) -> pd.DataFrame:
    rows = df[(df["phase"] == "fit") & (df["axis"] == "none") & (df["dataset"] == dataset)
              & df["grid_entropy"].map(lambda v: isinstance(v, list) and len(v) > 0)]
    if rows.empty:
        return rows
    rows = rows[rows["machine"] == sorted(rows["machine"].astype(str))[0]]
    order = method_order(rows["method"])
    return rows.assign(_rank=rows["method"].map(lambda m: order.index(str(m)))).sort_values(
        "_rank", kind="stable")


def entropy_map(df, exps, path, *, dataset: str, reference=None, normalise=False):
    """:func:`entropy_map_figure`, saved to ``path`` (None when no map was recorded)."""
    fig = entropy_map_figure(df, dataset, reference)
    return None if fig is None else _save(fig, path)


def entropy_map_figure(df: pd.DataFrame, dataset: str, reference=None) -> Figure | None:
    """Per method, predictive entropy over the input plane of a 2-D dataset with the
    training points, beside the reference posterior's map (``reference``: the tuple of
    :func:`reference_entropy_map`, or None). One colour scale, 0 to log C nats."""
    rows = _map_rows(df, dataset)
    if rows.empty:
        return None
    styles = styles_of(df)
    panels = ([reference] if reference is not None else []) + [
        (np.asarray(r["grid_x"], float), np.asarray(r["grid_y"], float),
         np.asarray(r["grid_entropy"], float), _style(styles, r["method"]).label)
        for _, r in rows.iterrows()]
    n_classes = int(rows["entropy_bins"].map(lambda b: round(np.exp(b[-1])) if isinstance(
        b, list) and b else 0).max()) or 2
    cols = min(len(panels), 4)
    n_rows = -(-len(panels) // cols)
    fig = _new_figure(3.0 * cols + 0.8, 2.9 * n_rows + 0.5)
    axes = np.atleast_1d(fig.subplots(n_rows, cols, squeeze=False).ravel())
    train = _training_points(dataset, rows["seed"].iloc[0])
    for ax, (x, y, h, title) in zip(axes, panels, strict=False):
        mesh = ax.pcolormesh(x, y, h, vmin=0.0, vmax=np.log(n_classes), cmap="viridis",
                             shading="gouraud", rasterized=True)
        if train is not None:
            ax.scatter(train[0][:, 0], train[0][:, 1], c=train[1], cmap="coolwarm", s=7,
                       edgecolors="black", linewidths=0.3)
        ax.set(title=title, xticks=[], yticks=[], aspect="equal")
        ax.grid(False)
    for ax in axes[len(panels):]:
        ax.set_axis_off()
    fig.colorbar(mesh, ax=list(axes), shrink=0.8, label="predictive entropy (nats)")
    fig.suptitle(f"Where does it know? Predictive entropy over the {dataset} plane "
                 "(dots: training points)")
    return fig


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

def _map_datasets(df: pd.DataFrame) -> set[str]:
    has_map = df["grid_entropy"].map(lambda v: isinstance(v, list) and len(v) > 0)
    return {str(d) for d in df.loc[has_map & (df["phase"] == "fit"), "dataset"]}


FigureFn = Callable[..., Path | None]
FIGURES: dict[str, FigureFn] = {
    "fit_vs_n_train": fit_vs_n_train,
    "predict_vs_num_samples": predict_vs_num_samples,
    "predict_vs_n_test": predict_vs_n_test,
    "fit_vs_num_samples": fit_vs_num_samples,
    "quality_vs_num_samples": quality_vs_num_samples,
    "quality_vs_compute": quality_vs_compute,
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
        for dataset in sorted(_map_datasets(df)):
            written.append(entropy_map(df, exps, out_dir / f"entropy_map_{dataset}.png",
                                       dataset=dataset, reference=reference_entropy_map(dataset)))
    return [p for p in written if p is not None]
