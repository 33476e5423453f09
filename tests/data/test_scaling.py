"""Standardisation on the training split: per feature for tables, global for images."""

from __future__ import annotations

import numpy as np
import pytest
from data_helpers import F32_PIXEL_ATOL, digits_raw_split, to_raw
from sklearn.datasets import load_digits


def test_standardisation_uses_train_statistics_only(iris):
    np.testing.assert_allclose(iris.x_train.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(iris.x_train.std(axis=0), 1.0, atol=1e-5)
    raw_train = to_raw(iris, iris.x_train)
    np.testing.assert_allclose(iris.mean, raw_train.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(iris.scale, raw_train.std(axis=0), rtol=1e-5)
    # the test split was not used: its mean is visibly off zero
    assert np.abs(iris.x_test.mean(axis=0)).max() > 0.01


def test_digits_are_scaled_as_images_with_train_statistics(digits):
    assert (digits.n_train, digits.n_test, digits.n_features) == (1257, 540, 64)
    assert digits.image_shape == (8, 8) and digits.raw_range == (0.0, 16.0)
    x_tr, x_te = digits_raw_split()
    m, sd = x_tr.mean(), x_tr.std()  # one mean and one sd over every training pixel
    assert abs(m - np.concatenate([x_tr, x_te]).mean()) > 1e-3  # the test split is left out
    np.testing.assert_allclose(digits.mean, np.full(64, m), rtol=1e-6)
    np.testing.assert_allclose(digits.scale, np.full(64, sd), rtol=1e-6)
    # each test image equals its hand-scaled value, pixel by pixel
    np.testing.assert_allclose(digits.x_test, (x_te - m) / sd, rtol=0, atol=F32_PIXEL_ATOL)
    np.testing.assert_allclose(digits.x_train, (x_tr - m) / sd, rtol=0, atol=F32_PIXEL_ATOL)
    assert set(np.unique(load_digits().target)) == set(range(10)) == set(digits.y_train)


def test_digits_pixel_range_and_no_blown_up_pixels(digits):
    m, sd = float(digits.mean[0]), float(digits.scale[0])
    # pixel 0 -> (0 - m) / sd and pixel 16 -> (16 - m) / sd, the same for every position
    for x in (digits.x_train, digits.x_test):
        assert x.min() == pytest.approx(-m / sd, abs=F32_PIXEL_ATOL)
        assert x.max() == pytest.approx((16 - m) / sd, abs=F32_PIXEL_ATOL)
    # overall zero mean and unit sd on the training split; no feature near the 35 (train) and
    # 85 (test) that per-pixel standardisation gave rarely lit border pixels
    assert abs(float(digits.x_train.mean())) < 1e-5
    assert float(digits.x_train.std()) == pytest.approx(1.0, abs=1e-5)
    assert np.abs(digits.x_test).max() < 2.0
