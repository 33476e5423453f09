"""Dataset names and the one function that turns a name into a loaded :class:`Dataset`.

A name is one of three things, looked up in this order: a built-in dataset (:data:`DATASETS`),
a file path (``.csv`` / ``.npz``, :mod:`~bnncompare.data.files`), or a dataset another package
registers in the entry-point group ``bnncompare.datasets`` (name -> loader), the way methods
register in ``bnncompare.methods``::

    [project.entry-points."bnncompare.datasets"]
    wine = "mypackage.data:load_wine"

A registered loader has the built-in loaders' signature ``loader(name, options, **kwargs) ->
Dataset`` (``options`` a :class:`~bnncompare.data.loaders.LoadOptions`);
:func:`~bnncompare.data.files.dataset_from_arrays` makes the Dataset from raw arrays the same
way a user's file is made.
"""

from __future__ import annotations

import functools
import warnings
from importlib.metadata import entry_points

from bnncompare.data.dataset import Dataset
from bnncompare.data.files import dataset_name, is_path, load_file
from bnncompare.data.loaders import (
    Loader,
    LoadOptions,
    load_moons,
    load_sklearn,
    load_synthetic,
    load_torchvision,
)
from bnncompare.data.validation import check_seed

__all__ = ["DATASETS", "ENTRY_POINT_GROUP", "available_datasets", "find_loader", "load_dataset",
           "plugin_loaders"]

#: the entry-point group other packages register dataset loaders in
ENTRY_POINT_GROUP = "bnncompare.datasets"

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


def _key(name) -> str:
    return str(name).strip().lower().replace("_", "-")


def plugin_loaders() -> dict[str, object]:
    """Entry points of the group ``bnncompare.datasets`` by canonical name, not yet loaded.

    One reusing a built-in name is ignored with a warning (the built-in wins, as for methods).
    """
    found = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        key = _key(ep.name)
        if key in _BUILTIN:
            warnings.warn(f"bnncompare dataset plugin {ep.value!r} reuses the built-in name "
                          f"{key!r}; ignored", RuntimeWarning, stacklevel=2)
            continue
        found.setdefault(key, ep)
    return found


def available_datasets() -> tuple[str, ...]:
    """The built-in names, then the plug-ins' by name (files are named by their path)."""
    return (*DATASETS, *sorted(plugin_loaders()))


def find_loader(name) -> tuple[str, Loader]:
    """The canonical name of dataset ``name`` and the loader that makes it.

    Names are case-insensitive and ``_`` stands for ``-`` (``"Fashion_MNIST"``). A path
    (``.csv`` / ``.npz``, or anything with a path separator) is a user's file, named by its
    stem; other names are looked up among the built-ins, then the ``bnncompare.datasets``
    entry points. This is the only place a name is resolved, so :func:`load_dataset`, the
    profiles and the reference take every kind of dataset unchanged.

    Raises
    ------
    ValueError
        Unknown name (the message lists the valid ones), or a plug-in that fails to load.
    """
    if is_path(name):
        return dataset_name(name), functools.partial(load_file, name)
    key = _key(name)
    if key in _BUILTIN:
        return key, _BUILTIN[key]
    plugins = plugin_loaders()
    if key in plugins:
        try:
            loader = plugins[key].load()
        except Exception as err:  # a broken plug-in is the plug-in's problem: say which
            raise ValueError(f"dataset plugin {key!r} ({plugins[key].value}) failed to load: "
                             f"{err}") from None
        if not callable(loader):
            raise ValueError(f"dataset plugin {key!r} ({plugins[key].value}) is not callable")
        return key, loader
    valid = ", ".join([*DATASETS, *sorted(plugins)])
    raise ValueError(f"unknown dataset {name!r}; valid names: {valid}, or a path to a .csv "
                     "or .npz file")


def load_dataset(name: str, *, seed: int = 0, n_train: int | None = None,
                 n_test: int | None = None, test_size: float = 0.3, root=None,
                 download: bool = False, **kwargs) -> Dataset:
    """Load a dataset by name, split and standardised on the training split.

    Parameters
    ----------
    name : str or path
        A path to a ``.csv`` or ``.npz`` file (:mod:`~bnncompare.data.files`: named by its
        stem, split stratified by ``seed`` with ``test_size`` to test, each feature
        standardised on the training rows), a name a plug-in registers
        (``bnncompare.datasets``), or one of :data:`DATASETS`: ``"iris"``, ``"digits"``
        (scikit-learn's bundled copies, stratified train/test split by ``seed``),
        ``"synthetic"`` (generated, see below), ``"mnist"``, ``"fashion-mnist"``
        (torchvision files, official train/test split),
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
        Test fraction of the iris/digits and files' split (ignored by the other datasets).
    root : str or path, optional
        Where torchvision keeps MNIST/Fashion-MNIST (``root/MNIST/raw/...``); default
        :data:`~bnncompare.data.DEFAULT_ROOT`. Ignored by the other datasets.
    download : bool, default False
        Let torchvision download missing MNIST/Fashion-MNIST files.
    **kwargs
        Files: ``label_column`` (CSV; default the last column).
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
        keywords the dataset does not take; for a file, a
        :class:`~bnncompare.data.files.DataFileError` naming it and what is wrong with it.
    FileNotFoundError
        MNIST/Fashion-MNIST files are missing and ``download`` is False.
    """
    key, loader = find_loader(name)
    options = LoadOptions(seed=check_seed(seed), n_train=n_train, n_test=n_test,
                          test_size=test_size, root=root, download=download)
    return loader(key, options, **kwargs)
