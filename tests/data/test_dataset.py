"""The Dataset container built by hand."""

from __future__ import annotations

import numpy as np
import pytest

from bnncompare.data import Dataset


def test_dataset_can_be_built_by_hand():
    x = np.arange(12, dtype=np.float64).reshape(6, 2)
    ds = Dataset("toy", x, [0, 1, 0, 1, 0, 1], x[:2], [0, 1], n_classes=2)
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    assert np.array_equal(ds.mean, [0, 0]) and np.array_equal(ds.scale, [1, 1])
    assert ds.raw_range == (0.0, 11.0) and ds.image_shape is None
    assert repr(ds) == "Dataset(name='toy', n_train=6, n_test=2, n_features=2, n_classes=2)"
    with pytest.raises(ValueError, match="y_train"):
        Dataset("toy", x, [0, 1], x[:2], [0, 1], n_classes=2)
