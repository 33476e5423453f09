"""Out-of-distribution inputs in the standardised feature space."""

from __future__ import annotations

import numpy as np
import pytest
from data_helpers import F32_PIXEL_ATOL, digits_raw_split, to_raw

from bnncompare.data import (
    default_ood_kind,
    far_shell,
    fashion_mnist_ood,
    load_dataset,
    make_ood,
    noise_images,
    uniform_noise,
)


@pytest.mark.parametrize("kind", ["uniform", "shell"])
def test_moons_ood_inputs(kind):
    ds = load_dataset("moons")
    x = make_ood(ds, kind, 300, seed=0)
    assert x.shape == (300, 2) and x.dtype == np.float32
    if kind == "uniform":
        assert np.all(x >= ds.x_train.min(axis=0)) and np.all(x <= ds.x_train.max(axis=0))
    else:
        max_norm = np.linalg.norm(ds.x_train.astype(np.float64), axis=1).max()
        np.testing.assert_allclose(np.linalg.norm(x, axis=1), 3 * max_norm, rtol=1e-5)


def test_fashion_mnist_ood_uses_mnist_standardisation(image_root):
    root, written = image_root
    mnist = load_dataset("mnist", root=root)
    ood = fashion_mnist_ood(mnist, 12, seed=0, root=root)
    assert ood.shape == (12, 784) and ood.dtype == np.float32
    pixels = np.rint(to_raw(mnist, ood)).astype(np.uint8)
    fashion_rows = {r.tobytes() for r in written["fashion-mnist"]["t10k"][0]}
    assert all(r.tobytes() in fashion_rows for r in pixels)
    assert len({r.tobytes() for r in pixels}) == 12  # drawn without replacement
    assert np.array_equal(make_ood(mnist, "fashion-mnist", 12, seed=0, root=root), ood)
    with pytest.raises(ValueError, match="exceeds"):
        fashion_mnist_ood(mnist, 21, root=root)
    with pytest.raises(ValueError, match="'iris'"):
        fashion_mnist_ood(load_dataset("iris"), 5, root=root)


def test_uniform_noise_fills_the_training_box(digits):
    x = uniform_noise(digits, 2000, seed=0)
    lo, hi = digits.x_train.min(axis=0), digits.x_train.max(axis=0)
    assert x.shape == (2000, 64) and x.dtype == np.float32
    assert np.all(x >= lo) and np.all(x <= hi)
    varying = hi > lo
    # it spans the box rather than sitting in a corner of it
    assert np.all((x.max(axis=0) - x.min(axis=0))[varying] > 0.9 * (hi - lo)[varying])


def test_far_shell_norms(iris):
    x = far_shell(iris, 50, seed=1, radius=2.5)
    max_norm = np.linalg.norm(iris.x_train.astype(np.float64), axis=1).max()
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 2.5 * max_norm, rtol=1e-5)
    assert x.dtype == np.float32
    default = make_ood(iris, "shell", 50, seed=1)
    np.testing.assert_allclose(np.linalg.norm(default, axis=1), 3.0 * max_norm, rtol=1e-5)


def test_noise_images_are_standardised_raw_noise(digits):
    x = noise_images(digits, 500, seed=0)
    raw = to_raw(digits, x)
    assert x.shape == (500, 64) and x.dtype == np.float32
    assert raw.min() >= -1e-4 and raw.max() <= 16 + 1e-4
    assert raw.min() < 0.5 and raw.max() > 15.5  # covers the whole pixel range
    assert abs(raw.mean() - 8.0) < 0.2
    assert np.array_equal(make_ood(digits, default_ood_kind(digits), 500, seed=0), x)
    # the same affine map as the images: every pixel's noise spans (0 - m)/sd .. (16 - m)/sd
    x_tr, _ = digits_raw_split()
    m, sd = x_tr.mean(), x_tr.std()
    lo, hi = -m / sd, (16 - m) / sd
    assert x.min() >= lo - F32_PIXEL_ATOL and x.max() <= hi + F32_PIXEL_ATOL
    span = hi - lo
    assert np.all(x.min(axis=0) < lo + 0.05 * span) and np.all(x.max(axis=0) > hi - 0.05 * span)
    with pytest.raises(ValueError, match="image dataset"):
        noise_images(load_dataset("iris"), 5)


@pytest.mark.parametrize("kind", ["uniform", "shell", "noise-images"])
def test_ood_is_deterministic_by_seed(digits, kind):
    a, b = make_ood(digits, kind, 20, seed=4), make_ood(digits, kind, 20, seed=4)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, make_ood(digits, kind, 20, seed=5))
