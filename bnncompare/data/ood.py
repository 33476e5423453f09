"""Out-of-distribution (OOD) inputs, made in a dataset's standardised feature space.

They feed the "can it say *I don't know*?" measurements. :func:`make_ood` dispatches on the
kind; each kind draws from its own random stream.
"""

from __future__ import annotations

import numpy as np

from bnncompare.data.dataset import Dataset
from bnncompare.data.loaders import read_torchvision
from bnncompare.data.scaling import standardise
from bnncompare.data.streams import TAG_OOD, unit_rows
from bnncompare.data.validation import (
    check_count,
    check_kwargs,
    check_positive_float,
    check_seed,
)

__all__ = ["OOD_KINDS", "default_ood_kind", "far_shell", "fashion_mnist_ood", "make_ood",
           "noise_images", "uniform_noise"]

OOD_KINDS = ("uniform", "shell", "noise-images", "fashion-mnist")


def _ood_rng(n, seed, kind: str) -> tuple[int, np.random.Generator]:
    n = check_count("n", n, 1, 10**8)
    seed = check_seed(seed)
    # Each kind gets its own stream so two OOD sets with one seed are not correlated.
    return n, np.random.default_rng((seed, TAG_OOD + OOD_KINDS.index(kind)))


def uniform_noise(ds: Dataset, n: int, *, seed: int = 0) -> np.ndarray:
    """Uniform points in the training data's bounding box (standardised space).

    Parameters
    ----------
    ds : Dataset
        Supplies the box: per-feature min and max of ``ds.x_train``.
    n : int
        Number of points.
    seed : int, default 0

    Returns
    -------
    numpy.ndarray, float32, shape (n, d)
    """
    n, rng = _ood_rng(n, seed, "uniform")
    lo, hi = ds.x_train.min(axis=0), ds.x_train.max(axis=0)
    # lo/hi are float32 values, so rounding a float64 draw in [lo, hi] stays inside the box.
    return rng.uniform(lo, hi, size=(n, ds.n_features)).astype(np.float32)


def far_shell(ds: Dataset, n: int, *, seed: int = 0, radius: float = 3.0) -> np.ndarray:
    """Points in random directions far outside the training data (standardised space).

    Parameters
    ----------
    ds : Dataset
    n : int
        Number of points.
    seed : int, default 0
    radius : float, default 3.0
        Every point has L2 norm ``radius * max_i ||ds.x_train[i]||``.

    Returns
    -------
    numpy.ndarray, float32, shape (n, d)
    """
    check_positive_float("radius", radius)
    n, rng = _ood_rng(n, seed, "shell")
    r = radius * float(np.linalg.norm(ds.x_train.astype(np.float64), axis=1).max())
    return (r * unit_rows(rng, (n, ds.n_features))).astype(np.float32)


def noise_images(ds: Dataset, n: int, *, seed: int = 0) -> np.ndarray:
    """Pure-noise images: uniform raw pixels over ``ds.raw_range``, then standardised.

    Parameters
    ----------
    ds : Dataset
        An image dataset (``ds.image_shape`` is not None).
    n : int
        Number of images.
    seed : int, default 0

    Returns
    -------
    numpy.ndarray, float32, shape (n, d)
        ``(raw - ds.mean) / ds.scale`` with raw pixels in ``[lo, hi]``.
    """
    if ds.image_shape is None:
        raise ValueError(f"noise_images needs an image dataset, got {ds.name!r} "
                         f"(image_shape is None); use uniform_noise or far_shell")
    n, rng = _ood_rng(n, seed, "noise-images")
    lo, hi = ds.raw_range
    raw = rng.uniform(lo, hi, size=(n, ds.n_features))
    return standardise(raw, ds.mean, ds.scale)


def fashion_mnist_ood(ds: Dataset, n: int, *, seed: int = 0, root=None,
                      download: bool = False) -> np.ndarray:
    """Fashion-MNIST test images standardised with an MNIST dataset's mean and scale.

    Parameters
    ----------
    ds : Dataset
        The MNIST dataset (``ds.name == "mnist"``) the images are out of distribution for.
    n : int
        Number of images, drawn without replacement by ``seed`` from the 10 000 test images.
    seed : int, default 0
    root, download
        As for :func:`~bnncompare.data.load_dataset`.

    Returns
    -------
    numpy.ndarray, float32, shape (n, 784)
    """
    if ds.name != "mnist":
        raise ValueError(f"fashion_mnist_ood is the OOD set for 'mnist', got dataset {ds.name!r}")
    n, rng = _ood_rng(n, seed, "fashion-mnist")
    x, _ = read_torchvision("fashion-mnist", train=False, root=root, download=download)
    if n > len(x):
        raise ValueError(f"n={n} exceeds the {len(x)} Fashion-MNIST test images")
    return standardise(x[rng.choice(len(x), size=n, replace=False)], ds.mean, ds.scale)


# kind -> (function, the extra keywords it takes)
_OOD_FUNCS = {
    "uniform": (uniform_noise, ()),
    "shell": (far_shell, ("radius",)),
    "noise-images": (noise_images, ()),
    "fashion-mnist": (fashion_mnist_ood, ("root", "download")),
}


def make_ood(ds: Dataset, kind: str, n: int, *, seed: int = 0, **kw) -> np.ndarray:
    """Out-of-distribution inputs of one kind, in ``ds``'s standardised feature space.

    Parameters
    ----------
    ds : Dataset
    kind : str
        One of :data:`OOD_KINDS`: ``"uniform"`` (:func:`uniform_noise`), ``"shell"``
        (:func:`far_shell`), ``"noise-images"`` (:func:`noise_images`), ``"fashion-mnist"``
        (:func:`fashion_mnist_ood`).
    n : int
        Number of points.
    seed : int, default 0
    **kw
        Passed on: ``radius`` for "shell"; ``root``, ``download`` for "fashion-mnist".

    Returns
    -------
    numpy.ndarray, float32, shape (n, d)
    """
    if kind not in _OOD_FUNCS:
        raise ValueError(f"unknown OOD kind {kind!r}; valid kinds: {', '.join(OOD_KINDS)}")
    func, allowed = _OOD_FUNCS[kind]
    check_kwargs(kind, kw, allowed)
    return func(ds, n, seed=seed, **kw)


def default_ood_kind(ds: Dataset) -> str:
    """``"noise-images"`` for image datasets, else ``"uniform"``."""
    return "noise-images" if ds.image_shape is not None else "uniform"
