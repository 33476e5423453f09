"""A regular grid over the input plane of a two-feature dataset (for entropy maps)."""

from __future__ import annotations

import numpy as np

from bnncompare.data.dataset import Dataset
from bnncompare.data.validation import check_count, check_nonnegative_float

__all__ = ["input_grid"]


def input_grid(ds: Dataset, n: int = 100, *, margin: float = 0.5):
    """A regular ``n`` x ``n`` grid over the plane of a two-feature dataset.

    For maps of predictive entropy (or any per-input value) over the whole input plane: near
    the training data and, by ``margin``, well away from it. In standardised feature space.

    Parameters
    ----------
    ds : Dataset
        A dataset with ``ds.n_features == 2`` (e.g. ``load_dataset("moons")``).
    n : int, default 100
        Points per axis, in ``[2, 10**4]``.
    margin : float, default 0.5
        Each axis runs from ``lo - margin * (hi - lo)`` to ``hi + margin * (hi - lo)``, where
        ``lo`` and ``hi`` are that feature's min and max over ``ds.x_train``.

    Returns
    -------
    points : numpy.ndarray, float32, shape (n * n, 2)
        Row ``i * n + j`` is ``(axes[0][j], axes[1][i])``: values computed on the points
        reshape to ``(n, n)`` with the second feature down the rows, as
        ``matplotlib``'s ``pcolormesh(axes[0], axes[1], values.reshape(n, n))`` expects.
    axes : tuple of two numpy.ndarray, float32, shape (n,) each
        The evenly spaced grid values of the first and second feature.
    """
    if ds.n_features != 2:
        raise ValueError(f"input_grid needs a dataset with 2 features, got {ds.name!r} with "
                         f"{ds.n_features}")
    n = check_count("n", n, 2, 10**4)
    check_nonnegative_float("margin", margin)
    lo = ds.x_train.min(axis=0).astype(np.float64)
    hi = ds.x_train.max(axis=0).astype(np.float64)
    pad = margin * (hi - lo)
    axes = tuple(np.linspace(lo[k] - pad[k], hi[k] + pad[k], n).astype(np.float32)
                 for k in range(2))
    g0, g1 = np.meshgrid(*axes)  # "xy" indexing: g0[i, j] = axes[0][j], g1[i, j] = axes[1][i]
    return np.stack([g0.ravel(), g1.ravel()], axis=1), axes
