"""Helpers shared by the data tests (imported by name: pytest puts this folder on sys.path)."""

from __future__ import annotations

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from bnncompare.data import Dataset

__all__ = ["F32_PIXEL_ATOL", "digits_raw_split", "to_raw"]


def to_raw(ds: Dataset, x: np.ndarray) -> np.ndarray:
    """Undo the standardisation (float64 so the round trip is exact after rounding)."""
    return x.astype(np.float64) * ds.scale + ds.mean


# float32 scaling of a pixel against the float64 hand value: mean and sd are rounded to float32
# (relative 6e-8 each) and the subtraction and division add one rounding each, on features of
# size <= 2, so the two agree to well under 1e-6.
F32_PIXEL_ATOL = 1e-6


def digits_raw_split(seed=0):
    """The raw digits split load_dataset makes: x_tr, x_te (float64 pixels 0..16)."""
    bunch = load_digits()
    x_tr, x_te = train_test_split(bunch.data, test_size=0.3, stratify=bunch.target,
                                  random_state=seed)
    return x_tr, x_te
