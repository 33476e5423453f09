"""The tags that give each kind of random draw its own NumPy stream, and one shared draw.

Every generator is ``np.random.default_rng((seed, tag, ...))`` with a tag from here, so the
distribution, the train rows, the test rows, the subsamples and each OOD kind never share
draws; keeping the tags in one module keeps them distinct. The global NumPy RNG is never used.
"""

from __future__ import annotations

import numpy as np

__all__ = ["TAG_OOD", "TAG_PARAMS", "TAG_SUB_TEST", "TAG_SUB_TRAIN", "TAG_TEST", "TAG_TRAIN",
           "unit_rows"]

#: generated datasets: their parameters (cluster centres), their train rows, their test rows
TAG_PARAMS, TAG_TRAIN, TAG_TEST = 0, 1, 2
#: the stratified n_train / n_test subsamples
TAG_SUB_TRAIN, TAG_SUB_TEST = 3, 4
#: OOD inputs: ``TAG_OOD + OOD_KINDS.index(kind)``
TAG_OOD = 100


def unit_rows(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Uniformly random unit vectors, one per row: float64, ``shape`` (n, d)."""
    v = rng.standard_normal(shape)
    return v / np.linalg.norm(v, axis=1, keepdims=True)
