"""Datasets and out-of-distribution inputs.

Every dataset comes back as a :class:`Dataset`: float32 features standardised with statistics of
the training split only, int64 labels ``0..n_classes-1``, and the standardisation itself
(``mean``, ``scale``) so raw inputs (noise images, other datasets) can be mapped into the same
feature space. Tabular data (iris, synthetic, moons) is standardised per feature; image data
(digits, MNIST, Fashion-MNIST) with one mean and one standard deviation over all training pixels,
as images are usually normalised. Per-pixel statistics blow rare pixels up: a border pixel lit in
a handful of training digits has an sd near 0, so one lit pixel became a feature of 35 (train) or
85 (test), out of all scale with an N(0, 1) prior on the first-layer weights. All randomness is
driven by explicit ``seed`` arguments; the global NumPy RNG is never touched.

Out-of-distribution (OOD) inputs for the "can it say *I don't know*?" measurements are produced
in the dataset's standardised feature space by :func:`make_ood` and the functions it dispatches
to.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

__all__ = [
    "DATASETS",
    "DEFAULT_ROOT",
    "OOD_KINDS",
    "Dataset",
    "default_ood_kind",
    "far_shell",
    "fashion_mnist_ood",
    "input_grid",
    "load_dataset",
    "make_ood",
    "noise_images",
    "uniform_noise",
]

DATASETS = ("iris", "digits", "synthetic", "mnist", "fashion-mnist", "moons")
OOD_KINDS = ("uniform", "shell", "noise-images", "fashion-mnist")
DEFAULT_ROOT = "~/.cache/bnncompare"

# Image datasets: (image_shape, raw pixel range). The range is the format's, not the sample's,
# so noise images cover what a sensor could produce even if no training pixel hits the maximum.
_IMAGE_INFO = {
    "digits": ((8, 8), (0.0, 16.0)),
    "mnist": ((28, 28), (0.0, 255.0)),
    "fashion-mnist": ((28, 28), (0.0, 255.0)),
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
# Distinct stream tags so the distribution, the train rows and the test rows never share draws.
_TAG_PARAMS, _TAG_TRAIN, _TAG_TEST = 0, 1, 2
_TAG_SUB_TRAIN, _TAG_SUB_TEST = 3, 4


@dataclasses.dataclass(frozen=True, eq=False)
class Dataset:
    """A standardised train/test classification dataset.

    Attributes
    ----------
    name : str
        Dataset name, one of :data:`DATASETS` for loaded datasets.
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


# --------------------------------------------------------------------------- validation


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    return int(seed)


def _check_count(label: str, value, lo: int, hi: int) -> int:
    ok = not isinstance(value, bool) and isinstance(value, int | np.integer)
    if not ok or not lo <= value <= hi:
        raise ValueError(f"{label} must be an integer in [{lo}, {hi}], got {value!r}")
    return int(value)


def _check_kwargs(name: str, kwargs: dict, allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(kwargs) - set(allowed))
    if unknown:
        valid = ", ".join(allowed) if allowed else "none"
        raise ValueError(f"unexpected keyword argument(s) {unknown} for {name!r}; "
                         f"valid extra keywords: {valid}")


def _normalise_name(name) -> str:
    key = str(name).strip().lower().replace("_", "-")
    if key not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; valid names: {', '.join(DATASETS)}")
    return key


# --------------------------------------------------------------------------- shared helpers


def _fit_standardiser(x_raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Train-split mean and scale, shape (d,) each; scale 1 on constant features."""
    mean = x_raw.mean(axis=0, dtype=np.float64)
    std = x_raw.std(axis=0, dtype=np.float64)
    # ptp is exactly 0 for a constant column, unlike a floating-point std; dividing by 1 there
    # keeps the feature at 0 instead of producing inf/NaN.
    constant = np.ptp(x_raw, axis=0) == 0
    scale = np.where(constant, 1.0, std)
    return mean.astype(np.float32), scale.astype(np.float32)


def _fit_image_scaler(x_raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One mean and one sd over every training pixel, each repeated to shape (d,).

    A single pair treats the image as an image: a pixel value means the same brightness
    wherever it is, and rare pixels are not blown up. Overall the inputs come out zero-mean and
    unit-sd, as the tabular datasets' do, which is the scale an N(0, 1) weight prior assumes.
    (The alternative, pixel / max into [0, 1], was measured on digits at the fast profile over
    three seeds: NN and SVI had worse NLL and OOD AUROC with it, the unconverged NUTS better.)
    """
    mean = float(x_raw.mean(dtype=np.float64))
    std = float(x_raw.std(dtype=np.float64))
    scale = std if std > 0 else 1.0  # all-blank training images: keep them at 0
    d = x_raw.shape[1]
    return np.full(d, mean, dtype=np.float32), np.full(d, scale, dtype=np.float32)


def _standardise(x_raw: np.ndarray, mean: np.ndarray, scale: np.ndarray) -> np.ndarray:
    return ((np.asarray(x_raw, dtype=np.float32) - mean) / scale).astype(np.float32)


def _build(name, x_tr, y_tr, x_te, y_te, n_classes, raw_range=None) -> Dataset:
    """Standardise raw splits with train statistics and wrap them in a Dataset.

    Images get one global mean and sd (:func:`_fit_image_scaler`), tables one per feature.
    """
    image_shape, image_range = _IMAGE_INFO.get(name, (None, None))
    fit = _fit_standardiser if image_shape is None else _fit_image_scaler
    mean, scale = fit(x_tr)
    if raw_range is None:
        raw_range = image_range or (float(x_tr.min()), float(x_tr.max()))
    return Dataset(name=name, x_train=_standardise(x_tr, mean, scale), y_train=y_tr,
                   x_test=_standardise(x_te, mean, scale), y_test=y_te, n_classes=n_classes,
                   mean=mean, scale=scale, image_shape=image_shape, raw_range=raw_range)


def _stratified_counts(y: np.ndarray, n: int) -> np.ndarray:
    """Rows per class for a subsample of n: proportional, largest remainders round up."""
    _, counts = np.unique(y, return_counts=True)
    exact = counts * (n / len(y))
    take = np.floor(exact).astype(np.int64)
    # Stable sort so ties go to the lower class index: deterministic without extra draws.
    order = np.argsort(-(exact - take), kind="stable")
    take[order[: n - take.sum()]] += 1
    return take


def _stratified_subsample(y: np.ndarray, n: int | None, label: str, n_classes: int | None,
                          rng: np.random.Generator) -> np.ndarray:
    """Row indices of a stratified random subsample of size n, shape (n,), in random order.

    ``n_classes`` (None: no minimum) is the smallest n allowed, one row per class.
    """
    if n is None:
        return np.arange(len(y))
    n = _check_count(label, n, 1, len(y))
    if n_classes is not None and n < n_classes:
        raise ValueError(f"{label}={n} is smaller than n_classes={n_classes}; a stratified "
                         "training subsample needs at least one row per class")
    if n == len(y):
        return np.arange(len(y))
    classes = np.unique(y)
    take = _stratified_counts(y, n)
    picked = [rng.choice(np.flatnonzero(y == c), size=k, replace=False)
              for c, k in zip(classes, take, strict=True)]
    # Shuffle so rows are not grouped by class (mini-batch training reads them in order).
    return rng.permutation(np.concatenate(picked))


def _subsample_splits(x_tr, y_tr, x_te, y_te, *, seed, n_train, n_test, n_classes):
    """Apply the optional stratified n_train/n_test subsamples, each from its own stream."""
    i_tr = _stratified_subsample(y_tr, n_train, "n_train", n_classes,
                                 np.random.default_rng((seed, _TAG_SUB_TRAIN)))
    # A test subsample may miss a class; a training one must not (estimators need all classes).
    i_te = _stratified_subsample(y_te, n_test, "n_test", None,
                                 np.random.default_rng((seed, _TAG_SUB_TEST)))
    return x_tr[i_tr], y_tr[i_tr], x_te[i_te], y_te[i_te]


# --------------------------------------------------------------------------- loaders


def load_dataset(name: str, *, seed: int = 0, n_train: int | None = None,
                 n_test: int | None = None, test_size: float = 0.3, root=None,
                 download: bool = False, **kwargs) -> Dataset:
    """Load a dataset by name, split and standardised on the training split.

    Parameters
    ----------
    name : str
        One of :data:`DATASETS`: ``"iris"``, ``"digits"`` (scikit-learn's bundled copies,
        stratified train/test split by ``seed``), ``"synthetic"`` (generated, see below),
        ``"mnist"``, ``"fashion-mnist"`` (torchvision files, official train/test split),
        ``"moons"`` (the 2-D toy: ``sklearn.datasets.make_moons``, two classes, two features,
        Gaussian noise of sd 0.2 on each raw coordinate; see :func:`input_grid`).
    seed : int, default 0
        Seeds the split, the optional subsamples and the synthetic and moons generators.
    n_train, n_test : int, optional
        Stratified random subsample sizes (by ``seed``); default: the whole split. For
        ``"synthetic"`` and ``"moons"`` the number of rows generated: defaults 1000 and 1000
        (synthetic), 200 and 500 (moons), ``n_train`` in ``[10, 10**6]``, ``n_test`` in
        ``[1, 10**6]``.
    test_size : float, default 0.3
        Test fraction of the iris/digits split (ignored by the other datasets).
    root : str or path, optional
        Where torchvision keeps MNIST/Fashion-MNIST (``root/MNIST/raw/...``); default
        :data:`DEFAULT_ROOT`. Ignored by the other datasets.
    download : bool, default False
        Let torchvision download missing MNIST/Fashion-MNIST files.
    **kwargs
        ``"synthetic"``: ``n_features`` (default 8) and ``n_classes`` (default 3).
        ``"moons"``: ``noise`` (default 0.2), the sd of the raw coordinates' noise.

    Returns
    -------
    Dataset
        ``x_train`` (n_train, d) float32, ``y_train`` (n_train,) int64, likewise for test.

    Raises
    ------
    ValueError
        Unknown name (the message lists the valid ones), out-of-range sizes or seed, or
        keywords the dataset does not take.
    FileNotFoundError
        MNIST/Fashion-MNIST files are missing and ``download`` is False.
    """
    key = _normalise_name(name)
    seed = _check_seed(seed)
    if key == "synthetic":
        return _load_synthetic(seed=seed, n_train=n_train, n_test=n_test, **kwargs)
    if key == "moons":
        return _load_moons(seed=seed, n_train=n_train, n_test=n_test, **kwargs)
    _check_kwargs(key, kwargs, ())
    if key in _TORCHVISION_CLASS:
        return _load_torchvision(key, seed=seed, n_train=n_train, n_test=n_test, root=root,
                                 download=download)
    return _load_sklearn(key, seed=seed, n_train=n_train, n_test=n_test, test_size=test_size)


def _load_sklearn(name, *, seed, n_train, n_test, test_size) -> Dataset:
    from sklearn.datasets import load_digits, load_iris
    from sklearn.model_selection import train_test_split

    is_fraction = isinstance(test_size, float | int) and not isinstance(test_size, bool)
    if not is_fraction or not 0.0 < test_size < 1.0:
        raise ValueError(f"test_size must be a fraction in (0, 1), got {test_size!r}")
    bunch = load_iris() if name == "iris" else load_digits()
    x, y = bunch.data.astype(np.float32), bunch.target.astype(np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=test_size, stratify=y,
                                              random_state=seed)
    n_classes = len(np.unique(y))
    splits = _subsample_splits(x_tr, y_tr, x_te, y_te, seed=seed, n_train=n_train,
                               n_test=n_test, n_classes=n_classes)
    return _build(name, *splits, n_classes)


def _load_synthetic(*, seed, n_train=None, n_test=None, **kwargs) -> Dataset:
    _check_kwargs("synthetic", kwargs, _SYN_KWARGS)
    n_train = _check_count("n_train", 1000 if n_train is None else n_train,
                           _SYN_MIN_TRAIN, _SYN_MAX_ROWS)
    n_test = _check_count("n_test", 1000 if n_test is None else n_test, 1, _SYN_MAX_ROWS)
    d = _check_count("n_features", kwargs.get("n_features", 8), 1, 10**5)
    c = _check_count("n_classes", kwargs.get("n_classes", 3), 2, 10**4)
    centres = _synthetic_centres(seed, d, c)
    x_tr, y_tr = _synthetic_rows(centres, n_train, seed, _TAG_TRAIN)
    x_te, y_te = _synthetic_rows(centres, n_test, seed, _TAG_TEST)
    return _build("synthetic", x_tr, y_tr, x_te, y_te, c)


def _unit_rows(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    v = rng.standard_normal(shape)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _synthetic_centres(seed: int, d: int, c: int) -> np.ndarray:
    """Cluster centres, shape (2c, d); rows 2k and 2k+1 belong to class k."""
    rng = np.random.default_rng((seed, _TAG_PARAMS))
    mu = _SYN_SEP * _unit_rows(rng, (c, d))
    offset = _SYN_OFFSET * _unit_rows(rng, (c, d))
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


def _load_moons(*, seed, n_train=None, n_test=None, **kwargs) -> Dataset:
    from sklearn.datasets import make_moons

    _check_kwargs("moons", kwargs, _MOONS_KWARGS)
    n_train = _check_count("n_train", _MOONS_DEFAULT_ROWS[0] if n_train is None else n_train,
                           _SYN_MIN_TRAIN, _SYN_MAX_ROWS)
    n_test = _check_count("n_test", _MOONS_DEFAULT_ROWS[1] if n_test is None else n_test, 1,
                          _SYN_MAX_ROWS)
    noise = kwargs.get("noise", _MOONS_NOISE)
    ok = isinstance(noise, int | float) and not isinstance(noise, bool)
    if not (ok and np.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a non-negative finite number, got {noise!r}")
    splits = []
    for n, tag in ((n_train, _TAG_TRAIN), (n_test, _TAG_TEST)):
        # sklearn wants an int seed; derive one per split so train and test never share draws.
        state = int(np.random.default_rng((seed, tag)).integers(2**31))
        x, y = make_moons(n, noise=float(noise), random_state=state)
        splits += [x.astype(np.float32), y.astype(np.int64)]
    return _build("moons", *splits, 2)


def _load_torchvision(name, *, seed, n_train, n_test, root, download) -> Dataset:
    x_tr, y_tr = _read_torchvision(name, train=True, root=root, download=download)
    x_te, y_te = _read_torchvision(name, train=False, root=root, download=download)
    splits = _subsample_splits(x_tr, y_tr, x_te, y_te, seed=seed, n_train=n_train,
                               n_test=n_test, n_classes=10)
    return _build(name, *splits, 10)


def _read_torchvision(name: str, *, train: bool, root=None, download: bool = False):
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


# --------------------------------------------------------------------------- OOD inputs


def _ood_rng(n, seed, kind: str) -> tuple[int, np.random.Generator]:
    n = _check_count("n", n, 1, 10**8)
    seed = _check_seed(seed)
    # Each kind gets its own stream so two OOD sets with one seed are not correlated.
    return n, np.random.default_rng((seed, 100 + OOD_KINDS.index(kind)))


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
    if not (isinstance(radius, int | float) and np.isfinite(radius) and radius > 0):
        raise ValueError(f"radius must be a positive finite number, got {radius!r}")
    n, rng = _ood_rng(n, seed, "shell")
    r = radius * float(np.linalg.norm(ds.x_train.astype(np.float64), axis=1).max())
    return (r * _unit_rows(rng, (n, ds.n_features))).astype(np.float32)


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
    return _standardise(raw, ds.mean, ds.scale)


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
        As for :func:`load_dataset`.

    Returns
    -------
    numpy.ndarray, float32, shape (n, 784)
    """
    if ds.name != "mnist":
        raise ValueError(f"fashion_mnist_ood is the OOD set for 'mnist', got dataset {ds.name!r}")
    n, rng = _ood_rng(n, seed, "fashion-mnist")
    x, _ = _read_torchvision("fashion-mnist", train=False, root=root, download=download)
    if n > len(x):
        raise ValueError(f"n={n} exceeds the {len(x)} Fashion-MNIST test images")
    return _standardise(x[rng.choice(len(x), size=n, replace=False)], ds.mean, ds.scale)


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
    _check_kwargs(kind, kw, allowed)
    return func(ds, n, seed=seed, **kw)


def default_ood_kind(ds: Dataset) -> str:
    """``"noise-images"`` for image datasets, else ``"uniform"``."""
    return "noise-images" if ds.image_shape is not None else "uniform"


# --------------------------------------------------------------------------- the input plane


def input_grid(ds: Dataset, n: int = 100, *, margin: float = 0.5):
    """A regular ``n`` x ``n`` grid over the plane of a two-feature dataset.

    For maps of predictive entropy (or any per-input value) over the whole input plane: near
    the training data and, by ``margin``, well away from it. In standardised feature space.

    Parameters
    ----------
    ds : Dataset
        A dataset with ``ds.n_features == 2`` (e.g. ``load_dataset("moons")``).
    n : int, default 100
        Points per axis, in ``[2, 10**4]``.
    margin : float, default 0.5
        Each axis runs from ``lo - margin * (hi - lo)`` to ``hi + margin * (hi - lo)``, where
        ``lo`` and ``hi`` are that feature's min and max over ``ds.x_train``.

    Returns
    -------
    points : numpy.ndarray, float32, shape (n * n, 2)
        Row ``i * n + j`` is ``(axes[0][j], axes[1][i])``: values computed on the points
        reshape to ``(n, n)`` with the second feature down the rows, as
        ``matplotlib``'s ``pcolormesh(axes[0], axes[1], values.reshape(n, n))`` expects.
    axes : tuple of two numpy.ndarray, float32, shape (n,) each
        The evenly spaced grid values of the first and second feature.
    """
    if ds.n_features != 2:
        raise ValueError(f"input_grid needs a dataset with 2 features, got {ds.name!r} with "
                         f"{ds.n_features}")
    n = _check_count("n", n, 2, 10**4)
    ok = isinstance(margin, int | float) and not isinstance(margin, bool)
    if not (ok and np.isfinite(margin) and margin >= 0):
        raise ValueError(f"margin must be a non-negative finite number, got {margin!r}")
    lo = ds.x_train.min(axis=0).astype(np.float64)
    hi = ds.x_train.max(axis=0).astype(np.float64)
    pad = margin * (hi - lo)
    axes = tuple(np.linspace(lo[k] - pad[k], hi[k] + pad[k], n).astype(np.float32)
                 for k in range(2))
    g0, g1 = np.meshgrid(*axes)  # "xy" indexing: g0[i, j] = axes[0][j], g1[i, j] = axes[1][i]
    return np.stack([g0.ravel(), g1.ravel()], axis=1), axes
