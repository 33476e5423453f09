"""Fixtures of the data tests: loaded iris and digits, and tiny MNIST-layout files."""

from __future__ import annotations

import numpy as np
import pytest

from bnncompare.data import load_dataset


def _write_idx(path, array: np.ndarray) -> None:
    """Write a uint8 array in the IDX format MNIST uses: magic, big-endian dims, bytes."""
    header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def _write_torchvision_split(root, cls_name: str, rng, n_train: int, n_test: int) -> dict:
    """Tiny MNIST-layout files under root/<cls_name>/raw/; returns the arrays written."""
    raw = root / cls_name / "raw"
    raw.mkdir(parents=True)
    arrays = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.permutation(np.arange(n) % 10).astype(np.uint8)
        _write_idx(raw / f"{prefix}-images-idx3-ubyte", images)
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)
        arrays[prefix] = (images.reshape(n, 784), labels)
    return arrays


@pytest.fixture
def image_root(tmp_path):
    """tmp root holding tiny MNIST (40/20 rows) and FashionMNIST (30/20 rows) files."""
    rng = np.random.default_rng(123)
    written = {
        "mnist": _write_torchvision_split(tmp_path, "MNIST", rng, 40, 20),
        "fashion-mnist": _write_torchvision_split(tmp_path, "FashionMNIST", rng, 30, 20),
    }
    return tmp_path, written


@pytest.fixture(scope="module")
def iris():
    """Iris via load_dataset (seed 0); shadows the suite-wide hand-made iris fixture."""
    return load_dataset("iris", seed=0)


@pytest.fixture(scope="module")
def digits():
    """Digits via load_dataset (seed 0)."""
    return load_dataset("digits", seed=0)
