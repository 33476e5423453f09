"""The entropy map of a 2-D dataset: each method's predictive entropy over the input plane,
with the training points, beside the reference posterior's map on one colour scale.

A pure renderer: the caller loads the reference posterior and the training split (which
datasets and seeds: :func:`map_datasets`) and passes them in, so nothing here reads a file.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from bnncompare import metrics
from bnncompare.report.figures._common import _new_figure, _save, _style, styles_of
from bnncompare.report.method_meta import method_order

__all__ = ["entropy_map", "entropy_map_figure", "map_datasets", "reference_panel"]


def reference_panel(reference) -> tuple | None:
    """The panel ``(x, y, H, title)`` of a reference posterior's predictive entropy ``H``
    over its input grid (axes ``x``, ``y``), or None when there is none to draw.

    Parameters
    ----------
    reference : bnncompare.reference.Reference or None
        A loaded reference posterior (any object with ``grid``, ``grid_axes`` and ``meta``);
        None, or one stored without a grid, gives None.
    """
    if reference is None or reference.grid is None or reference.grid_axes is None:
        return None
    x, y = (np.asarray(a, float) for a in reference.grid_axes)
    entropy = metrics.predictive_entropy(reference.grid).reshape(len(y), len(x))
    chains = reference.meta.get("settings", {}).get("chains", "?")
    return x, y, entropy, f"reference posterior ({chains} chains)"


def _map_rows(df: pd.DataFrame, dataset: str) -> pd.DataFrame:
    rows = df[(df["phase"] == "fit") & (df["axis"] == "none") & (df["dataset"] == dataset)
              & df["grid_entropy"].map(lambda v: isinstance(v, list) and len(v) > 0)]
    if rows.empty:
        return rows
    rows = rows[rows["machine"] == sorted(rows["machine"].astype(str))[0]]
    order = method_order(rows["method"])
    return rows.assign(_rank=rows["method"].map(lambda m: order.index(str(m)))).sort_values(
        "_rank", kind="stable")


def entropy_map(df, exps, path, *, dataset: str, reference=None, train=None, normalise=False):
    """:func:`entropy_map_figure`, saved to ``path`` (None when no map was recorded)."""
    fig = entropy_map_figure(df, dataset, reference, train=train)
    return None if fig is None else _save(fig, path)


def entropy_map_figure(df: pd.DataFrame, dataset: str, reference=None, *,
                       train=None) -> Figure | None:
    """Per method, predictive entropy over the input plane of a 2-D dataset, beside the
    reference posterior's map. One colour scale, 0 to log C nats.

    Parameters
    ----------
    df : DataFrame
        The tidy frame; the maps are its fits of ``dataset`` that recorded ``grid_entropy``.
    dataset : str
        The dataset's name.
    reference : tuple, optional
        ``(x, y, H, title)``, the reference posterior's panel (:func:`reference_panel`),
        drawn first; None draws the methods only.
    train : tuple of arrays, optional
        ``(x_train, y_train)``: the training inputs (n, 2) and labels, drawn as dots on
        every panel; None draws no dots.

    Returns
    -------
    Figure or None
        The unsaved figure, or None when ``df`` recorded no map of ``dataset``.
    """
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
    fig.suptitle(f"Where does it know? Predictive entropy over the {dataset} plane"
                 + (" (dots: training points)" if train is not None else ""))
    return fig


def map_datasets(df: pd.DataFrame) -> dict[str, int]:
    """Each dataset of ``df`` whose fits recorded an entropy map, with the seed of the split
    its map was drawn from: which training split the caller loads for the dots."""
    has_map = df["grid_entropy"].map(lambda v: isinstance(v, list) and len(v) > 0)
    names = sorted({str(d) for d in df.loc[has_map & (df["phase"] == "fit"), "dataset"]})
    return {name: _split_seed(_map_rows(df, name)) for name in names}


def _split_seed(rows: pd.DataFrame) -> int:
    seed = rows["seed"].iloc[0] if len(rows) else None
    return int(seed) if pd.notna(seed) else 0
