"""The built-in dataset loaders: scikit-learn's iris and digits, the generated synthetic and
moons sets, and MNIST / Fashion-MNIST read through torchvision.

Every loader has the signature ``loader(name, options, **kwargs) -> Dataset``: ``name`` is the
canonical dataset name, ``options`` the :class:`LoadOptions` that
:func:`~bnncompare.data.load_dataset` collected (seed already checked) and ``kwargs`` the
dataset's own extra keywords, which the loader checks itself.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bnncompare.data.dataset import Dataset
from bnncompare.data.scaling import build_dataset
from bnncompare.data.streams import TAG_PARAMS, TAG_TEST, TAG_TRAIN, unit_rows
from bnncompare.data.subsample import subsample_splits
from bnncompare.data.validation import (
    check_count,
    check_fraction,
    check_kwargs,
    check_nonnegative_float,
)

__all__ = ["DEFAULT_ROOT", "LoadOptions", "Loader", "load_moons", "load_sklearn",
           "load_synthetic", "load_torchvision", "read_torchvision"]

DEFAULT_ROOT = "~/.cache/bnncompare"

# Image datasets: their Dataset image_shape and raw pixel range. The range is the format's,
# not the sample's, so noise images cover what a sensor could produce even if no training pixel
# hits the maximum.
_IMAGE_INFO = {
    "digits": {"image_shape": (8, 8), "raw_range": (0.0, 16.0)},
    "mnist": {"image_shape": (28, 28), "raw_range": (0.0, 255.0)},
    "fashion-mnist": {"image_shape": (28, 28), "raw_range": (0.0, 255.0)},
}
_TORCHVISION_CLASS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}
# torchvision reads these uncompressed names from ``root/<Class>/raw/`` (the .gz files are only
# what it downloads and unpacks).
_IDX_FILES = {
    True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

# Synthetic data: each class is two Gaussian clusters at +mu_c and -mu_c (|mu_c| = _SYN_SEP),
# shifted by a small class offset (|delta_c| = _SYN_OFFSET). The antipodal pair cancels most of
# the class mean, so a linear model gets only the weak offset signal while an MLP can separate
# the clusters; _SYN_LABEL_NOISE of the labels are redrawn uniformly (aleatoric noise).
_SYN_SEP = 3.5
_SYN_OFFSET = 1.0
_SYN_LABEL_NOISE = 0.05
_SYN_MIN_TRAIN = 10
_SYN_MAX_ROWS = 10**6
_SYN_KWARGS = ("n_features", "n_classes")
# Moons (the 2-D toy): sklearn's two interleaved half circles, radius 1, with Gaussian noise of
# sd _MOONS_NOISE on each coordinate. At 0.2 the moons touch, so the plane has a region of
# aleatoric doubt between them as well as empty space far from both.
_MOONS_NOISE = 0.2
_MOONS_DEFAULT_ROWS = (200, 500)
_MOONS_KWARGS = ("noise",)


@dataclasses.dataclass(frozen=True)
class LoadOptions:
    """The :func:`~bnncompare.data.load_dataset` keywords every loader is handed.

    Each loader reads the ones it uses and ignores the rest (``test_size`` only means something
    for a split made here, ``root`` and ``download`` only for files fetched from the web).
    """

    seed: int = 0
    n_train: int | None = None
    n_test: int | None = None
    test_size: float = 0.3
    root: str | os.PathLike | None = None
    download: bool = False


#: ``loader(name, options, **kwargs) -> Dataset``
Loader = Callable[..., Dataset]


def load_sklearn(name: str, options: LoadOptions, **kwargs) -> Dataset:
    """Iris or digits (scikit-learn's bundled copies), stratified train/test split by seed."""
    from sklearn.datasets import load_digits, load_iris
    from sklearn.model_selection import train_test_split

    check_kwargs(name, kwargs, ())
    test_size = check_fraction("test_size", options.test_size)
    bunch = load_iris() if name == "iris" else load_digits()
    x, y = bunch.data.astype(np.float32), bunch.target.astype(np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=test_size, stratify=y,
                                              random_state=options.seed)
    n_classes = len(np.unique(y))
    splits = subsample_splits(x_tr, y_tr, x_te, y_te, seed=options.seed,
                              n_train=options.n_train, n_test=options.n_test,
                              n_classes=n_classes)
    return build_dataset(name, *splits, n_classes, **_IMAGE_INFO.get(name, {}))


def load_synthetic(name: str, options: LoadOptions, **kwargs) -> Dataset:
    """The generated cluster mixture (keywords ``n_features``, ``n_classes``)."""
    check_kwargs(name, kwargs, _SYN_KWARGS)
    seed = options.seed
    n_train = _rows("n_train", options.n_train, 1000, _SYN_MIN_TRAIN)
    n_test = _rows("n_test", options.n_test, 1000, 1)
    d = check_count("n_features", kwargs.get("n_features", 8), 1, 10**5)
    c = check_count("n_classes", kwargs.get("n_classes", 3), 2, 10**4)
    centres = _synthetic_centres(seed, d, c)
    x_tr, y_tr = _synthetic_rows(centres, n_train, seed, TAG_TRAIN)
    x_te, y_te = _synthetic_rows(centres, n_test, seed, TAG_TEST)
    return build_dataset(name, x_tr, y_tr, x_te, y_te, c)


def _rows(label: str, n, default: int, lo: int) -> int:
    """Rows a generated dataset makes: ``n`` (default ``default``) in ``[lo, 10**6]``."""
    return check_count(label, default if n is None else n, lo, _SYN_MAX_ROWS)


def _synthetic_centres(seed: int, d: int, c: int) -> np.ndarray:
    """Cluster centres, shape (2c, d); rows 2k and 2k+1 belong to class k."""
    rng = np.random.default_rng((seed, TAG_PARAMS))
    mu = _SYN_SEP * unit_rows(rng, (c, d))
    offset = _SYN_OFFSET * unit_rows(rng, (c, d))
    return np.stack([offset + mu, offset - mu], axis=1).reshape(2 * c, d)


def _synthetic_rows(centres: np.ndarray, n: int, seed: int, tag: int):
    """n rows from the cluster mixture: x (n, d) float32, y (n,) int64.

    Each quantity has its own stream, so the first m rows do not depend on n: training sets of
    growing n_train are nested and the test set is the same for every n_train.
    """
    comp_rng, x_rng, flip_rng, label_rng = (np.random.default_rng((seed, tag, k))
                                            for k in range(4))
    n_classes = len(centres) // 2
    comp = comp_rng.integers(0, len(centres), size=n)
    x = centres[comp] + x_rng.standard_normal((n, centres.shape[1]))
    y = np.where(flip_rng.random(n) < _SYN_LABEL_NOISE,
                 label_rng.integers(0, n_classes, size=n), comp // 2)
    return x.astype(np.float32), y.astype(np.int64)


def load_moons(name: str, options: LoadOptions, **kwargs) -> Dataset:
    """The 2-D toy: ``sklearn.datasets.make_moons`` (keyword ``noise``)."""
    from sklearn.datasets import make_moons

    check_kwargs(name, kwargs, _MOONS_KWARGS)
    n_train = _rows("n_train", options.n_train, _MOONS_DEFAULT_ROWS[0], _SYN_MIN_TRAIN)
    n_test = _rows("n_test", options.n_test, _MOONS_DEFAULT_ROWS[1], 1)
    noise = kwargs.get("noise", _MOONS_NOISE)
    check_nonnegative_float("noise", noise)
    splits = []
    for n, tag in ((n_train, TAG_TRAIN), (n_test, TAG_TEST)):
        # sklearn wants an int seed; derive one per split so train and test never share draws.
        state = int(np.random.default_rng((options.seed, tag)).integers(2**31))
        x, y = make_moons(n, noise=float(noise), random_state=state)
        splits += [x.astype(np.float32), y.astype(np.int64)]
    return build_dataset(name, *splits, 2)


def load_torchvision(name: str, options: LoadOptions, **kwargs) -> Dataset:
    """MNIST or Fashion-MNIST, the official train/test split, from ``options.root``."""
    check_kwargs(name, kwargs, ())
    x_tr, y_tr = read_torchvision(name, train=True, root=options.root,
                                  download=options.download)
    x_te, y_te = read_torchvision(name, train=False, root=options.root,
                                  download=options.download)
    splits = subsample_splits(x_tr, y_tr, x_te, y_te, seed=options.seed,
                              n_train=options.n_train, n_test=options.n_test, n_classes=10)
    return build_dataset(name, *splits, 10, **_IMAGE_INFO[name])


def read_torchvision(name: str, *, train: bool, root=None, download: bool = False):
    """Raw images of one split via torchvision: x (n, 784) uint8, y (n,) int64."""
    cls_name = _TORCHVISION_CLASS[name]
    root = Path(DEFAULT_ROOT if root is None else root).expanduser()
    raw_dir = root / cls_name / "raw"
    missing = [f for f in _IDX_FILES[train] if not (raw_dir / f).is_file()]
    if missing and not download:
        raise FileNotFoundError(
            f"{name} files {missing} not found in {raw_dir}; pass download=True to fetch them "
            f"(or copy the unpacked IDX files there, or pass root=...)")
    # Imported here: torchvision is slow to import and only these two datasets need it.
    import torchvision.datasets

    tv = getattr(torchvision.datasets, cls_name)(str(root), train=train, download=download)
    x = tv.data.numpy().reshape(len(tv.data), -1)
    return x, tv.targets.numpy().astype(np.int64)
