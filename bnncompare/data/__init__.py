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

Modules: :mod:`~bnncompare.data.dataset` (the container), :mod:`~bnncompare.data.registry`
(names, paths and plug-ins -> loaders, :func:`load_dataset`), :mod:`~bnncompare.data.loaders`
(the built-in loaders), :mod:`~bnncompare.data.files` (a user's CSV / ``.npz`` file, checked),
:mod:`~bnncompare.data.scaling` and :mod:`~bnncompare.data.subsample` (what loaders share),
:mod:`~bnncompare.data.ood`, :mod:`~bnncompare.data.grid`,
:mod:`~bnncompare.data.validation` (argument checks) and :mod:`~bnncompare.data.streams`
(random-stream tags).
"""

from __future__ import annotations

from bnncompare.data.dataset import Dataset
from bnncompare.data.files import DataFileError, dataset_from_arrays
from bnncompare.data.grid import input_grid
from bnncompare.data.loaders import DEFAULT_ROOT, LoadOptions
from bnncompare.data.ood import (
    OOD_KINDS,
    default_ood_kind,
    far_shell,
    fashion_mnist_ood,
    make_ood,
    noise_images,
    uniform_noise,
)
from bnncompare.data.registry import (
    DATASETS,
    ENTRY_POINT_GROUP,
    available_datasets,
    find_loader,
    load_dataset,
)

__all__ = [
    "DATASETS",
    "DEFAULT_ROOT",
    "ENTRY_POINT_GROUP",
    "OOD_KINDS",
    "DataFileError",
    "Dataset",
    "LoadOptions",
    "available_datasets",
    "dataset_from_arrays",
    "default_ood_kind",
    "far_shell",
    "fashion_mnist_ood",
    "find_loader",
    "input_grid",
    "load_dataset",
    "make_ood",
    "noise_images",
    "uniform_noise",
]
