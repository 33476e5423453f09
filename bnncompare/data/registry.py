"""Dataset names and the one function that turns a name into a loaded :class:`Dataset`."""

from __future__ import annotations

from bnncompare.data.dataset import Dataset
from bnncompare.data.loaders import (
    Loader,
    LoadOptions,
    load_moons,
    load_sklearn,
    load_synthetic,
    load_torchvision,
)
from bnncompare.data.validation import check_seed

__all__ = ["DATASETS", "find_loader", "load_dataset"]

# name -> loader, in the order DATASETS lists them
_BUILTIN: dict[str, Loader] = {
    "iris": load_sklearn,
    "digits": load_sklearn,
    "synthetic": load_synthetic,
    "mnist": load_torchvision,
    "fashion-mnist": load_torchvision,
    "moons": load_moons,
}

#: the names :func:`load_dataset` accepts
DATASETS = tuple(_BUILTIN)


def find_loader(name) -> tuple[str, Loader]:
    """The canonical name of dataset ``name`` and the loader that makes it.

    Names are case-insensitive and ``_`` stands for ``-`` (``"Fashion_MNIST"``). This is the
    only place a name is resolved, so other sources of datasets (a file path, loaders that
    other packages register) are added here and :func:`load_dataset` takes them unchanged.

    Raises
    ------
    ValueError
        Unknown name; the message lists the valid ones.
    """
    key = str(name).strip().lower().replace("_", "-")
    if key in _BUILTIN:
        return key, _BUILTIN[key]
    raise ValueError(f"unknown dataset {name!r}; valid names: {', '.join(DATASETS)}")


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
        Gaussian noise of sd 0.2 on each raw coordinate; see
        :func:`~bnncompare.data.input_grid`).
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
        :data:`~bnncompare.data.DEFAULT_ROOT`. Ignored by the other datasets.
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
    key, loader = find_loader(name)
    options = LoadOptions(seed=check_seed(seed), n_train=n_train, n_test=n_test,
                          test_size=test_size, root=root, download=download)
    return loader(key, options, **kwargs)
