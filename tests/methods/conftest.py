"""Fixtures shared by the per-method tests."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module")
def data():
    """20 rows, 2 features, 3 overlapping classes (softmax regression: P = 9, well-posed)."""
    rng = np.random.RandomState(1)
    x = rng.randn(20, 2).astype(np.float32)
    y = np.argmax(x @ np.array([[1.5, -1.0, 0.0], [0.0, 1.0, -1.0]]) + rng.randn(20, 3), 1)
    return x, y
