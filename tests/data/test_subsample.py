"""Stratified, seeded n_train / n_test subsamples."""

from __future__ import annotations

import numpy as np
import pytest
from data_helpers import to_raw

from bnncompare.data import load_dataset


def test_subsample_is_stratified_and_seeded():
    ds = load_dataset("digits", seed=1, n_train=100, n_test=50)
    assert (ds.n_train, ds.n_test) == (100, 50)
    assert np.bincount(ds.y_train, minlength=10).tolist() == [10] * 10
    assert np.bincount(ds.y_test, minlength=10).tolist() == [5] * 10
    # scaled with the subsample that is actually returned: zero mean over all its pixels
    assert abs(float(ds.x_train.mean())) < 1e-5
    assert float(ds.x_train.std()) == pytest.approx(1.0, abs=1e-5)
    # rows are shuffled, not grouped by class
    assert not np.all(np.diff(ds.y_train) >= 0)
    again = load_dataset("digits", seed=1, n_train=100, n_test=50)
    assert np.array_equal(ds.x_train, again.x_train)
    other = load_dataset("digits", seed=2, n_train=100, n_test=50)
    assert not np.array_equal(ds.y_train, other.y_train)


def test_subsample_proportions_on_iris():
    ds = load_dataset("iris", n_train=10, n_test=7)
    assert sorted(np.bincount(ds.y_train).tolist()) == [3, 3, 4]
    assert sorted(np.bincount(ds.y_test, minlength=3).tolist()) == [2, 2, 3]


def test_mnist_subsample_is_stratified(image_root):
    root, written = image_root
    ds = load_dataset("mnist", root=str(root), seed=2, n_train=20, n_test=10)
    assert np.bincount(ds.y_train, minlength=10).tolist() == [2] * 10
    assert np.bincount(ds.y_test, minlength=10).tolist() == [1] * 10
    x_tr = written["mnist"]["train"][0]
    rows = {r.tobytes() for r in x_tr}
    assert all(r.tobytes() in rows for r in np.rint(to_raw(ds, ds.x_train)).astype(np.uint8))
