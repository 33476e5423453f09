"""Stratified random subsamples of a train/test split (``n_train``, ``n_test``)."""

from __future__ import annotations

import numpy as np

from bnncompare.data.streams import TAG_SUB_TEST, TAG_SUB_TRAIN
from bnncompare.data.validation import check_count

__all__ = ["stratified_counts", "stratified_subsample", "subsample_splits"]


def stratified_counts(y: np.ndarray, n: int) -> np.ndarray:
    """Rows per class for a subsample of n: proportional, largest remainders round up."""
    _, counts = np.unique(y, return_counts=True)
    exact = counts * (n / len(y))
    take = np.floor(exact).astype(np.int64)
    # Stable sort so ties go to the lower class index: deterministic without extra draws.
    order = np.argsort(-(exact - take), kind="stable")
    take[order[: n - take.sum()]] += 1
    return take


def stratified_subsample(y: np.ndarray, n: int | None, label: str, n_classes: int | None,
                         rng: np.random.Generator) -> np.ndarray:
    """Row indices of a stratified random subsample of size n, shape (n,), in random order.

    ``n`` None keeps every row. ``n_classes`` (None: no minimum) is the smallest n allowed,
    one row per class.
    """
    if n is None:
        return np.arange(len(y))
    n = check_count(label, n, 1, len(y))
    if n_classes is not None and n < n_classes:
        raise ValueError(f"{label}={n} is smaller than n_classes={n_classes}; a stratified "
                         "training subsample needs at least one row per class")
    if n == len(y):
        return np.arange(len(y))
    classes = np.unique(y)
    take = stratified_counts(y, n)
    picked = [rng.choice(np.flatnonzero(y == c), size=k, replace=False)
              for c, k in zip(classes, take, strict=True)]
    # Shuffle so rows are not grouped by class (mini-batch training reads them in order).
    return rng.permutation(np.concatenate(picked))


def subsample_splits(x_tr, y_tr, x_te, y_te, *, seed, n_train, n_test, n_classes):
    """Apply the optional stratified n_train/n_test subsamples, each from its own stream."""
    i_tr = stratified_subsample(y_tr, n_train, "n_train", n_classes,
                                np.random.default_rng((seed, TAG_SUB_TRAIN)))
    # A test subsample may miss a class; a training one must not (estimators need all classes).
    i_te = stratified_subsample(y_te, n_test, "n_test", None,
                                np.random.default_rng((seed, TAG_SUB_TEST)))
    return x_tr[i_tr], y_tr[i_tr], x_te[i_te], y_te[i_te]
