"""The :class:`Dataset` container every loader returns."""

from __future__ import annotations

import dataclasses

import numpy as np

__all__ = ["Dataset"]


@dataclasses.dataclass(frozen=True, eq=False)
class Dataset:
    """A standardised train/test classification dataset.

    Attributes
    ----------
    name : str
        Dataset name, one of :data:`~bnncompare.data.DATASETS` for loaded datasets.
    x_train, x_test : numpy.ndarray, float32, shape (n_train, d) and (n_test, d)
        Standardised features: ``x = (x_raw - mean) / scale``.
    y_train, y_test : numpy.ndarray, int64, shape (n_train,) and (n_test,)
        Class labels in ``0..n_classes-1``.
    n_classes : int
        Number of classes C (may exceed the labels present in a small subsample).
    mean, scale : numpy.ndarray, float32, shape (d,)
        Train-only standardisation. Tabular data: each feature's own mean and sd (``scale`` 1
        where a training feature is constant). Image data: one mean and one sd over every
        training pixel, repeated d times. Default: zeros and ones (features already
        standardised).
    image_shape : tuple of int or None
        ``(height, width)`` for image datasets (d = height * width), else None.
    raw_range : tuple of float
        ``(lo, hi)`` range of raw feature values: the pixel format's range for images, the
        training split's overall min and max for tabular data (the default).
    class_names : tuple or None
        The original label of each class index, for datasets read from a file or built by
        :func:`~bnncompare.data.files.dataset_from_arrays` (``("setosa", ...)``); else None.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    mean: np.ndarray | None = None
    scale: np.ndarray | None = None
    image_shape: tuple[int, ...] | None = None
    raw_range: tuple[float, float] | None = None
    class_names: tuple | None = None

    def __post_init__(self) -> None:
        # Coerce once here so every consumer can rely on the documented dtypes.
        for field, dtype in (("x_train", np.float32), ("x_test", np.float32),
                             ("y_train", np.int64), ("y_test", np.int64)):
            object.__setattr__(self, field, np.asarray(getattr(self, field), dtype=dtype))
        _check_shapes(self.x_train, self.y_train, self.x_test, self.y_test)
        d = self.x_train.shape[1]
        mean = np.zeros(d) if self.mean is None else self.mean
        scale = np.ones(d) if self.scale is None else self.scale
        object.__setattr__(self, "mean", np.asarray(mean, dtype=np.float32).reshape(d))
        object.__setattr__(self, "scale", np.asarray(scale, dtype=np.float32).reshape(d))
        object.__setattr__(self, "n_classes", int(self.n_classes))
        if self.raw_range is None:
            raw = self.x_train * self.scale + self.mean
            object.__setattr__(self, "raw_range", (float(raw.min()), float(raw.max())))

    @property
    def n_features(self) -> int:
        """Number of features d."""
        return int(self.x_train.shape[1])

    @property
    def n_train(self) -> int:
        """Number of training rows."""
        return int(self.x_train.shape[0])

    @property
    def n_test(self) -> int:
        """Number of test rows."""
        return int(self.x_test.shape[0])

    def __repr__(self) -> str:
        # The dataclass default would print every array.
        return (f"Dataset(name={self.name!r}, n_train={self.n_train}, n_test={self.n_test}, "
                f"n_features={self.n_features}, n_classes={self.n_classes})")


def _check_shapes(x_train, y_train, x_test, y_test) -> None:
    if x_train.ndim != 2 or x_test.ndim != 2:
        raise ValueError(f"x_train and x_test must be 2-D, got shapes {x_train.shape} "
                         f"and {x_test.shape}")
    if x_train.shape[1] != x_test.shape[1]:
        raise ValueError(f"x_train has {x_train.shape[1]} features but x_test has "
                         f"{x_test.shape[1]}")
    for x, y, split in ((x_train, y_train, "train"), (x_test, y_test, "test")):
        if y.shape != (x.shape[0],):
            raise ValueError(f"y_{split} must have shape ({x.shape[0]},), got {y.shape}")
