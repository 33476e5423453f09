"""Tests for bnncompare.data: datasets, splits, standardisation and OOD inputs."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits, load_iris
from sklearn.model_selection import train_test_split

from bnncompare.data import (
    DATASETS,
    OOD_KINDS,
    Dataset,
    default_ood_kind,
    far_shell,
    fashion_mnist_ood,
    input_grid,
    load_dataset,
    make_ood,
    noise_images,
    uniform_noise,
)

# --------------------------------------------------------------------------- helpers


def _raw(ds: Dataset, x: np.ndarray) -> np.ndarray:
    """Undo the standardisation (float64 so the round trip is exact after rounding)."""
    return x.astype(np.float64) * ds.scale + ds.mean


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
    return load_dataset("iris", seed=0)


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", seed=0)


# --------------------------------------------------------------------------- iris / digits


def test_iris_split_is_stratified_105_45(iris):
    assert (iris.n_train, iris.n_test, iris.n_features, iris.n_classes) == (105, 45, 4, 3)
    assert iris.x_train.dtype == np.float32 and iris.x_test.dtype == np.float32
    assert iris.y_train.dtype == np.int64 and iris.y_test.dtype == np.int64
    assert iris.x_train.shape == (105, 4) and iris.y_test.shape == (45,)
    assert np.bincount(iris.y_train).tolist() == [35, 35, 35]
    assert np.bincount(iris.y_test).tolist() == [15, 15, 15]
    assert iris.image_shape is None and default_ood_kind(iris) == "uniform"


def test_iris_rows_are_the_real_rows_split_without_overlap(iris):
    bunch = load_iris()
    raw = np.rint(np.concatenate([_raw(iris, iris.x_train), _raw(iris, iris.x_test)]) * 10)
    ref = np.rint(bunch.data * 10)  # iris is given to one decimal
    # train + test together are exactly the 150 iris rows (as a multiset: iris has duplicates)
    assert np.array_equal(ref[np.lexsort(ref.T)], raw[np.lexsort(raw.T)])


def test_standardisation_uses_train_statistics_only(iris):
    np.testing.assert_allclose(iris.x_train.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(iris.x_train.std(axis=0), 1.0, atol=1e-5)
    raw_train = _raw(iris, iris.x_train)
    np.testing.assert_allclose(iris.mean, raw_train.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(iris.scale, raw_train.std(axis=0), rtol=1e-5)
    # the test split was not used: its mean is visibly off zero
    assert np.abs(iris.x_test.mean(axis=0)).max() > 0.01


# float32 scaling of a pixel against the float64 hand value: mean and sd are rounded to float32
# (relative 6e-8 each) and the subtraction and division add one rounding each, on features of
# size <= 2, so the two agree to well under 1e-6.
F32_PIXEL_ATOL = 1e-6


def _digits_raw_split(seed=0):
    """The raw digits split load_dataset makes: x_tr, x_te (float64 pixels 0..16)."""
    bunch = load_digits()
    x_tr, x_te = train_test_split(bunch.data, test_size=0.3, stratify=bunch.target,
                                  random_state=seed)
    return x_tr, x_te


def test_digits_are_scaled_as_images_with_train_statistics(digits):
    assert (digits.n_train, digits.n_test, digits.n_features) == (1257, 540, 64)
    assert digits.image_shape == (8, 8) and digits.raw_range == (0.0, 16.0)
    x_tr, x_te = _digits_raw_split()
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


@pytest.mark.parametrize("name", ["iris", "digits", "synthetic", "moons"])
def test_same_seed_same_arrays_other_seed_other_split(name):
    a, b, c = (load_dataset(name, seed=s) for s in (3, 3, 4))
    for field in ("x_train", "y_train", "x_test", "y_test", "mean", "scale"):
        assert np.array_equal(getattr(a, field), getattr(b, field)), field
    assert not np.array_equal(a.x_train, c.x_train)


def test_subsample_is_stratified_and_seeded():
    ds = load_dataset("digits", seed=1, n_train=100, n_test=50)
    assert (ds.n_train, ds.n_test) == (100, 50)
    assert np.bincount(ds.y_train, minlength=10).tolist() == [10] * 10
    assert np.bincount(ds.y_test, minlength=10).tolist() == [5] * 10
    # scaled with the subsample that is actually returned: zero mean over all its pixels
    assert abs(float(ds.x_train.mean())) < 1e-5
    assert float(ds.x_train.std()) == pytest.approx(1.0, abs=1e-5)
    # rows are shuffled, not grouped by class
    assert not np.all(np.diff(ds.y_train) >= 0)
    again = load_dataset("digits", seed=1, n_train=100, n_test=50)
    assert np.array_equal(ds.x_train, again.x_train)
    other = load_dataset("digits", seed=2, n_train=100, n_test=50)
    assert not np.array_equal(ds.y_train, other.y_train)


def test_subsample_proportions_on_iris():
    ds = load_dataset("iris", n_train=10, n_test=7)
    assert sorted(np.bincount(ds.y_train).tolist()) == [3, 3, 4]
    assert sorted(np.bincount(ds.y_test, minlength=3).tolist()) == [2, 2, 3]


# --------------------------------------------------------------------------- synthetic


def test_synthetic_defaults_and_keywords():
    ds = load_dataset("synthetic")
    assert (ds.n_train, ds.n_test, ds.n_features, ds.n_classes) == (1000, 1000, 8, 3)
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    counts = np.bincount(ds.y_train, minlength=3)
    assert counts.min() > 250  # roughly balanced classes
    ds = load_dataset("synthetic", n_train=300, n_test=40, n_features=5, n_classes=4, seed=7)
    assert ds.x_train.shape == (300, 5) and ds.x_test.shape == (40, 5)
    assert set(ds.y_train) == {0, 1, 2, 3}


def test_synthetic_train_sets_nested_and_test_set_fixed():
    small = load_dataset("synthetic", seed=5, n_train=200, n_test=300)
    big = load_dataset("synthetic", seed=5, n_train=800, n_test=300)
    np.testing.assert_allclose(_raw(small, small.x_train), _raw(big, big.x_train)[:200],
                               atol=1e-5)
    assert np.array_equal(small.y_train, big.y_train[:200])
    np.testing.assert_allclose(_raw(small, small.x_test), _raw(big, big.x_test), atol=1e-5)
    assert np.array_equal(small.y_test, big.y_test)


def test_synthetic_needs_a_nonlinear_model():
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    ds = load_dataset("synthetic", seed=0, n_train=1000, n_test=2000)
    logreg = LogisticRegression(max_iter=1000).fit(ds.x_train, ds.y_train)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLPClassifier((16,), max_iter=1000, random_state=0).fit(ds.x_train, ds.y_train)
    acc_lr, acc_mlp = logreg.score(ds.x_test, ds.y_test), mlp.score(ds.x_test, ds.y_test)
    # measured for seed 0: logreg 0.52, mlp 0.93 (seeds 0-7: logreg 0.49-0.59, mlp 0.86-0.93)
    assert acc_lr < 0.65
    assert acc_mlp > 0.85
    assert acc_mlp - acc_lr > 0.25


def test_synthetic_reaches_1e5_rows_with_balanced_classes():
    # (its speed, ~0.03 s here, is not asserted: wall time belongs in benchmarks)
    ds = load_dataset("synthetic", n_train=100_000, n_test=1000)
    assert ds.x_train.shape == (100_000, 8)
    share = np.bincount(ds.y_train) / len(ds.y_train)
    assert np.all(np.abs(share - 1 / 3) < 0.02)  # equal cluster weights, 5 % uniform noise


# --------------------------------------------------------------------------- moons (2-D toy)


def test_moons_defaults_and_per_feature_standardisation():
    ds = load_dataset("moons")
    assert (ds.n_train, ds.n_test, ds.n_features, ds.n_classes) == (200, 500, 2, 2)
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    assert ds.image_shape is None and default_ood_kind(ds) == "uniform"
    # make_moons puts n // 2 rows on the outer moon (class 0), the rest on the inner one
    assert np.bincount(ds.y_train).tolist() == [100, 100]
    assert np.bincount(ds.y_test).tolist() == [250, 250]
    np.testing.assert_allclose(ds.x_train.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(ds.x_train.std(axis=0), 1.0, atol=1e-5)
    assert load_dataset("moons", n_train=31, n_test=7).x_test.shape == (7, 2)


def test_moons_without_noise_lie_on_their_half_circles():
    ds = load_dataset("moons", noise=0.0, seed=3)
    for x, y in ((ds.x_train, ds.y_train), (ds.x_test, ds.y_test)):
        raw = _raw(ds, x)
        outer, inner = raw[y == 0], raw[y == 1]
        # class 0: the unit upper half circle; class 1: radius 1 about (1, 0.5), lower half
        np.testing.assert_allclose(np.hypot(*outer.T), 1.0, atol=1e-5)
        np.testing.assert_allclose(np.hypot(inner[:, 0] - 1, inner[:, 1] - 0.5), 1.0, atol=1e-5)
        assert outer[:, 1].min() > -1e-5 and inner[:, 1].max() < 0.5 + 1e-5


def test_moons_train_and_test_are_independent_draws():
    ds = load_dataset("moons", n_train=100, n_test=100)
    # make_moons spaces points evenly along the moons and adds the noise: the same stream
    # for both splits would give the same points in both
    assert not np.allclose(np.sort(_raw(ds, ds.x_train), axis=0),
                           np.sort(_raw(ds, ds.x_test), axis=0))


def test_moons_need_a_nonlinear_model():
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import SVC

    ds = load_dataset("moons", seed=0)
    acc_lr = LogisticRegression().fit(ds.x_train, ds.y_train).score(ds.x_test, ds.y_test)
    acc_svc = SVC().fit(ds.x_train, ds.y_train).score(ds.x_test, ds.y_test)
    # measured for seeds 0-7: logreg 0.85-0.88, RBF SVC 0.93-0.96 (seed 0: 0.878, 0.946)
    assert acc_lr < 0.9 < acc_svc


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


def test_input_grid_covers_the_training_box_with_margin():
    ds = load_dataset("moons")
    points, (ax0, ax1) = input_grid(ds, 7, margin=0.5)
    assert points.shape == (49, 2) and points.dtype == np.float32
    lo, hi = ds.x_train.min(axis=0).astype(float), ds.x_train.max(axis=0).astype(float)
    for k, ax in enumerate((ax0, ax1)):
        assert ax.shape == (7,) and ax.dtype == np.float32
        # float32 endpoints of a float64 linspace: relative round-off 6e-8 on values <= 5
        np.testing.assert_allclose([ax[0], ax[-1]], [lo[k] - 0.5 * (hi[k] - lo[k]),
                                                     hi[k] + 0.5 * (hi[k] - lo[k])], atol=1e-6)
        np.testing.assert_allclose(np.diff(ax), (ax[-1] - ax[0]) / 6, rtol=1e-5)
    # row i * n + j is (ax0[j], ax1[i]): values reshape to (n, n), second feature down rows
    assert np.array_equal(points[2 * 7 + 5], [ax0[5], ax1[2]])
    grid = points.reshape(7, 7, 2)
    assert np.all(grid[:, :, 0] == ax0[None, :]) and np.all(grid[:, :, 1] == ax1[:, None])
    tight, axes = input_grid(ds, 2, margin=0)
    assert np.array_equal(axes[0], [lo[0], hi[0]]) and np.array_equal(axes[1], [lo[1], hi[1]])
    assert np.array_equal(tight, [[lo[0], lo[1]], [hi[0], lo[1]], [lo[0], hi[1]], [hi[0], hi[1]]])


# --------------------------------------------------------------------------- MNIST files


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_torchvision_files_round_trip(image_root, name):
    root, written = image_root
    ds = load_dataset(name, root=root)
    (x_tr, y_tr), (x_te, y_te) = written[name]["train"], written[name]["t10k"]
    assert ds.x_train.shape == (len(x_tr), 784) and ds.x_train.dtype == np.float32
    assert ds.n_classes == 10 and ds.image_shape == (28, 28)
    assert ds.raw_range == (0.0, 255.0) and default_ood_kind(ds) == "noise-images"
    assert np.array_equal(ds.y_train, y_tr) and np.array_equal(ds.y_test, y_te)
    assert np.array_equal(np.rint(_raw(ds, ds.x_train)), x_tr)
    assert np.array_equal(np.rint(_raw(ds, ds.x_test)), x_te)
    # one global mean and sd over the training pixels, as for digits
    m, sd = x_tr.mean(dtype=np.float64), x_tr.std(dtype=np.float64)
    np.testing.assert_allclose(ds.mean, np.full(784, m), rtol=1e-6)
    np.testing.assert_allclose(ds.scale, np.full(784, sd), rtol=1e-6)
    # features up to (255 - m) / sd ~ 1.7 here; same float32 argument as F32_PIXEL_ATOL
    np.testing.assert_allclose(ds.x_test, (x_te - m) / sd, rtol=0, atol=F32_PIXEL_ATOL)


def test_mnist_subsample_is_stratified(image_root):
    root, written = image_root
    ds = load_dataset("mnist", root=str(root), seed=2, n_train=20, n_test=10)
    assert np.bincount(ds.y_train, minlength=10).tolist() == [2] * 10
    assert np.bincount(ds.y_test, minlength=10).tolist() == [1] * 10
    x_tr = written["mnist"]["train"][0]
    rows = {r.tobytes() for r in x_tr}
    assert all(r.tobytes() in rows for r in np.rint(_raw(ds, ds.x_train)).astype(np.uint8))


def test_missing_files_without_download_say_how_to_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match="download=True"):
        load_dataset("mnist", root=tmp_path)
    with pytest.raises(FileNotFoundError, match="FashionMNIST"):
        load_dataset("fashion-mnist", root=tmp_path)


def test_fashion_mnist_ood_uses_mnist_standardisation(image_root):
    root, written = image_root
    mnist = load_dataset("mnist", root=root)
    ood = fashion_mnist_ood(mnist, 12, seed=0, root=root)
    assert ood.shape == (12, 784) and ood.dtype == np.float32
    pixels = np.rint(_raw(mnist, ood)).astype(np.uint8)
    fashion_rows = {r.tobytes() for r in written["fashion-mnist"]["t10k"][0]}
    assert all(r.tobytes() in fashion_rows for r in pixels)
    assert len({r.tobytes() for r in pixels}) == 12  # drawn without replacement
    assert np.array_equal(make_ood(mnist, "fashion-mnist", 12, seed=0, root=root), ood)
    with pytest.raises(ValueError, match="exceeds"):
        fashion_mnist_ood(mnist, 21, root=root)
    with pytest.raises(ValueError, match="'iris'"):
        fashion_mnist_ood(load_dataset("iris"), 5, root=root)


# --------------------------------------------------------------------------- OOD inputs


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
    raw = _raw(digits, x)
    assert x.shape == (500, 64) and x.dtype == np.float32
    assert raw.min() >= -1e-4 and raw.max() <= 16 + 1e-4
    assert raw.min() < 0.5 and raw.max() > 15.5  # covers the whole pixel range
    assert abs(raw.mean() - 8.0) < 0.2
    assert np.array_equal(make_ood(digits, default_ood_kind(digits), 500, seed=0), x)
    # the same affine map as the images: every pixel's noise spans (0 - m)/sd .. (16 - m)/sd
    x_tr, _ = _digits_raw_split()
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


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: load_dataset("cifar"), "unknown dataset 'cifar'.*iris, digits, synthetic"),
        (lambda: load_dataset("iris", n_train=200), "n_train.*200"),
        (lambda: load_dataset("iris", n_train=2), "n_train=2.*n_classes=3"),
        (lambda: load_dataset("iris", n_test=0), "n_test.*0"),
        (lambda: load_dataset("iris", n_train=10.5), "n_train.*10.5"),
        (lambda: load_dataset("iris", test_size=1.5), "test_size.*1.5"),
        (lambda: load_dataset("iris", seed=-1), "seed.*-1"),
        (lambda: load_dataset("iris", n_features=3), "n_features"),
        (lambda: load_dataset("synthetic", n_train=5), "n_train.*5"),
        (lambda: load_dataset("synthetic", n_train=10**6 + 1), "n_train.*1000001"),
        (lambda: load_dataset("synthetic", n_classes=1), "n_classes.*1"),
        (lambda: load_dataset("synthetic", n_hidden=4), "n_hidden"),
        (lambda: make_ood(load_dataset("iris"), "gaussian", 5), "'gaussian'.*uniform, shell"),
        (lambda: make_ood(load_dataset("iris"), "uniform", 5, radius=2.0), "radius"),
        (lambda: uniform_noise(load_dataset("iris"), 0), "n must.*0"),
        (lambda: far_shell(load_dataset("iris"), 5, radius=-1.0), "radius.*-1.0"),
        (lambda: load_dataset("moons", noise=-0.1), "noise.*-0.1"),
        (lambda: load_dataset("moons", n_features=3), "n_features.*'moons'.*noise"),
        (lambda: load_dataset("moons", n_train=9), "n_train.*9"),
        (lambda: input_grid(load_dataset("iris"), 10), "2 features.*'iris' with 4"),
        (lambda: input_grid(load_dataset("moons"), 1), "n must.*1"),
        (lambda: input_grid(load_dataset("moons"), 10, margin=-1), "margin.*-1"),
    ],
)
def test_bad_input_raises_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_public_names():
    assert DATASETS == ("iris", "digits", "synthetic", "mnist", "fashion-mnist", "moons")
    assert OOD_KINDS == ("uniform", "shell", "noise-images", "fashion-mnist")
    # names are case- and underscore-insensitive
    assert load_dataset("IRIS").name == "iris"
    with pytest.raises(FileNotFoundError):
        load_dataset("Fashion_MNIST", root="/nonexistent")


def test_dataset_can_be_built_by_hand():
    x = np.arange(12, dtype=np.float64).reshape(6, 2)
    ds = Dataset("toy", x, [0, 1, 0, 1, 0, 1], x[:2], [0, 1], n_classes=2)
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    assert np.array_equal(ds.mean, [0, 0]) and np.array_equal(ds.scale, [1, 1])
    assert ds.raw_range == (0.0, 11.0) and ds.image_shape is None
    assert repr(ds) == "Dataset(name='toy', n_train=6, n_test=2, n_features=2, n_classes=2)"
    with pytest.raises(ValueError, match="y_train"):
        Dataset("toy", x, [0, 1], x[:2], [0, 1], n_classes=2)
