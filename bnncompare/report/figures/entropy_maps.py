"""The entropy map of a 2-D dataset: each method's predictive entropy over the input plane,
with the training points, beside the reference posterior's map on one colour scale."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from bnncompare import data, metrics
from bnncompare.report.figures._common import _new_figure, _save, _style, styles_of
from bnncompare.report.method_meta import method_order

__all__ = ["entropy_map", "entropy_map_figure", "map_datasets", "reference_entropy_map"]


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


def map_datasets(df: pd.DataFrame) -> set[str]:
    """The datasets of ``df`` whose fits recorded an entropy map."""
    has_map = df["grid_entropy"].map(lambda v: isinstance(v, list) and len(v) > 0)
    return {str(d) for d in df.loc[has_map & (df["phase"] == "fit"), "dataset"]}
