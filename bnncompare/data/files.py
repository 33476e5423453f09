"""A user's own dataset: a CSV or ``.npz`` file, checked, split and standardised.

``load_dataset("path/to/file.csv")`` comes here (:func:`~bnncompare.data.registry.find_loader`
sends every ``.csv`` / ``.npz`` path, or any name with a path separator, to :func:`load_file`).

- CSV: comma-separated, a header row naming the columns, one row per example. The label is the
  last column unless ``label_column`` names another; every other column is a numeric feature.
- ``.npz``: arrays ``x`` (rows, features), numeric, and ``y`` (rows,).

Labels may be integers or strings; they are encoded ``0..C-1`` in sorted order and the
originals kept as :attr:`Dataset.class_names`. The dataset's name is the file's stem. The rows
are split stratified by ``seed`` (``test_size``, default 30 %, to the test split) and each
feature standardised on the training rows, as the bundled tabular datasets are
(:func:`dataset_from_arrays`, which a dataset plug-in can call too).

A file the suite cannot use is refused with a :class:`DataFileError` (a ``ValueError``) whose
message names the file and the one problem found: a missing or empty file, a non-numeric
feature column, NaN or inf, a ``label_column`` not in the header, a single class, or a class
with fewer than 2 rows (it could not be in both splits).
"""

from __future__ import annotations

import csv
import dataclasses
import os
import zipfile
from pathlib import Path

import numpy as np

from bnncompare.data.dataset import Dataset
from bnncompare.data.scaling import build_dataset
from bnncompare.data.subsample import subsample_splits
from bnncompare.data.validation import check_fraction, check_kwargs

__all__ = ["FILE_SUFFIXES", "DataFileError", "dataset_from_arrays", "dataset_name",
           "is_path", "load_file", "read_file"]

#: the file types :func:`load_file` reads
FILE_SUFFIXES = (".csv", ".npz")
_FILE_KWARGS = ("label_column",)


class DataFileError(ValueError):
    """A dataset file the suite refuses: ``str(err)`` is ``"<file>: <problem>"``."""

    def __init__(self, path, problem: str):
        super().__init__(f"{path}: {problem}")
        self.path = str(path)
        self.problem = problem


def is_path(name) -> bool:
    """Whether ``name`` names a file rather than a registered dataset: a path object, a
    ``.csv`` / ``.npz`` suffix, or a path separator in it."""
    if isinstance(name, os.PathLike):
        return True
    text = str(name)
    return Path(text).suffix.lower() in FILE_SUFFIXES or "/" in text or os.sep in text


def dataset_name(path) -> str:
    """The name a file's dataset goes by: its stem (``data/wine.csv -> "wine"``)."""
    return Path(path).stem


def load_file(path, name: str, options, **kwargs) -> Dataset:
    """The loader of a file path (see the module docstring); keyword ``label_column`` (CSV).

    Parameters
    ----------
    path : str or path
        The ``.csv`` or ``.npz`` file.
    name : str
        The dataset's name (the file's stem).
    options : LoadOptions
        ``seed``, ``test_size``, ``n_train``, ``n_test`` are used.

    Raises
    ------
    DataFileError
        The file is missing, empty or unusable (the message names it and the problem).
    """
    check_kwargs(name, kwargs, _FILE_KWARGS)
    x, labels = read_file(path, label_column=kwargs.get("label_column"))
    return dataset_from_arrays(name, x, labels, options, source=path)


def read_file(path, *, label_column: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Features (n, d) float64 and raw labels (n,) of a CSV or ``.npz`` file, checked.

    Raises
    ------
    DataFileError
        See the module docstring.
    """
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix not in FILE_SUFFIXES:
        raise DataFileError(path, "not a .csv or .npz file")
    if not file.is_file():
        raise DataFileError(path, "file not found" if not file.exists() else "not a file")
    if file.stat().st_size == 0:
        raise DataFileError(path, "the file is empty")
    if suffix == ".npz":
        if label_column is not None:
            raise DataFileError(path, "a label column applies to CSV files only "
                                      "(an .npz file has its labels in array 'y')")
        return _read_npz(path)
    return _read_csv(path, label_column)


def _read_csv(path, label_column: str | None) -> tuple[np.ndarray, np.ndarray]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.reader(handle))
    except UnicodeDecodeError:
        raise DataFileError(path, "not a UTF-8 text file") from None
    rows = [r for r in rows if any(cell.strip() for cell in r)]  # blank lines are not rows
    if not rows:
        raise DataFileError(path, "the file is empty")
    header, body = [h.strip() for h in rows[0]], rows[1:]
    if not body:
        raise DataFileError(path, "no data rows below the header")
    if len(header) < 2:
        raise DataFileError(path, f"one column ({header[0]!r}); need at least one feature "
                                  "column and a label column")
    if len(set(header)) < len(header):
        twice = sorted({h for h in header if header.count(h) > 1})
        raise DataFileError(path, f"column name(s) {twice} appear more than once in the header")
    for i, row in enumerate(body):
        if len(row) != len(header):
            raise DataFileError(path, f"data row {i + 1} has {len(row)} fields, the header "
                                      f"{len(header)}")
    label = len(header) - 1 if label_column is None else _label_index(path, header,
                                                                       label_column)
    table = np.array(body, dtype=str)
    features = [j for j in range(len(header)) if j != label]
    x = np.column_stack([_numeric(path, header[j], table[:, j]) for j in features])
    return x, _csv_labels(path, header[label], table[:, label])


def _label_index(path, header: list[str], column: str) -> int:
    if column not in header:
        raise DataFileError(path, f"label column {column!r} is not in the header "
                                  f"(columns: {', '.join(header)})")
    return header.index(column)


def _numeric(path, column: str, cells: np.ndarray) -> np.ndarray:
    """One feature column as float64; the first cell that is no number or is NaN/inf refused."""
    values = np.empty(len(cells))
    for i, cell in enumerate(cells):
        try:
            values[i] = float(cell)
        except ValueError:
            problem = (f"has an empty cell in data row {i + 1}" if not cell.strip() else
                       f"is not numeric (data row {i + 1}: {cell.strip()!r})")
            raise DataFileError(path, f"feature column {column!r} {problem}") from None
    _check_finite(path, values[:, None], lambda i, j: f"feature column {column!r}, data row "
                                                      f"{i + 1}")
    return values


def _csv_labels(path, column: str, cells: np.ndarray) -> np.ndarray:
    """Label cells as int64 when every one is an integer, else as stripped strings."""
    cells = np.char.strip(cells)
    empty = np.flatnonzero(cells == "")
    if len(empty):
        raise DataFileError(path, f"label column {column!r} has an empty cell in data row "
                                  f"{empty[0] + 1}")
    try:
        return np.array([int(c) for c in cells], dtype=np.int64)
    except ValueError:
        return cells


def _read_npz(path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [k for k in ("x", "y") if k not in z.files]
            if missing:
                raise DataFileError(path, f"no array {missing[0]!r} (arrays: "
                                          f"{', '.join(z.files) or 'none'}); an .npz dataset "
                                          "holds 'x' (rows, features) and 'y' (rows,)")
            x, y = z["x"], z["y"]
    except (OSError, ValueError, zipfile.BadZipFile) as err:
        if isinstance(err, DataFileError):
            raise
        raise DataFileError(path, f"not a readable .npz file ({err})") from None
    if x.ndim != 2 or y.ndim != 1 or len(x) != len(y):
        raise DataFileError(path, f"x must be (rows, features) and y (rows,), got shapes "
                                  f"{x.shape} and {y.shape}")
    if len(x) == 0 or x.shape[1] == 0:
        raise DataFileError(path, f"no data: x has shape {x.shape}")
    if x.dtype.kind not in "biuf":
        raise DataFileError(path, f"x is not numeric (dtype {x.dtype})")
    x = x.astype(np.float64)
    _check_finite(path, x, lambda i, j: f"x[{i}, {j}]")
    if y.dtype.kind == "f":
        if not (np.all(np.isfinite(y)) and np.all(y == np.round(y))):
            raise DataFileError(path, "y holds non-integer numbers; labels must be integers "
                                      "or strings")
        y = y.astype(np.int64)
    elif y.dtype.kind not in "biuUS":
        raise DataFileError(path, f"y must hold integer or string labels (dtype {y.dtype})")
    return x, y


def _check_finite(path, x: np.ndarray, where) -> None:
    """Refuse NaN, inf, and values the float32 the estimators compute in cannot hold;
    ``where(i, j)`` names entry ``x[i, j]`` in the message."""
    bad = ~np.isfinite(x)
    what = "NaN or inf"
    if not bad.any():
        with np.errstate(over="ignore"):
            bad = ~np.isfinite(x.astype(np.float32))
        what = "too large for float32"
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise DataFileError(path, f"{where(i, j)} is {what} ({float(x[i, j])!r})")


def _encode_labels(path, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``0..C-1`` codes of ``labels`` (sorted order) and the class names; one class, or a
    class too small to be in both splits, refused."""
    classes, y, counts = np.unique(labels, return_inverse=True, return_counts=True)
    if len(classes) < 2:
        raise DataFileError(path, f"only one class ({classes[0].item()!r}); a classifier needs at "
                                  "least 2")
    small = np.flatnonzero(counts < 2)
    if len(small):
        c = small[0]
        raise DataFileError(path, f"class {classes[c].item()!r} has {counts[c]} row; every "
                                  "class needs at least 2 (one for each split)")
    return y.astype(np.int64), classes


def dataset_from_arrays(name: str, x, labels, options=None, *, source=None) -> Dataset:
    """A :class:`Dataset` from raw features and labels, as a file's is made.

    Checks the labels (at least 2 classes, each with at least 2 rows), encodes them
    ``0..C-1``, splits the rows stratified by ``options.seed`` (``options.test_size`` to the
    test split), applies the optional ``n_train`` / ``n_test`` subsamples and standardises
    each feature on the training rows. A dataset plug-in's loader can end with this call.

    Parameters
    ----------
    name : str
        The dataset's name.
    x : array-like, shape (n, d)
        Finite numeric features.
    labels : array-like, shape (n,)
        Integer or string labels.
    options : LoadOptions, optional
        Default ``LoadOptions()`` (seed 0, 30 % test).
    source : str or path, optional
        What error messages name (default: ``name``).

    Raises
    ------
    DataFileError
        Unusable labels or too few rows to split.
    """
    from sklearn.model_selection import train_test_split

    from bnncompare.data.loaders import LoadOptions

    options = LoadOptions() if options is None else options
    where = name if source is None else source
    x = np.asarray(x, dtype=np.float64)
    y, classes = _encode_labels(where, np.asarray(labels))
    test_size = check_fraction("test_size", options.test_size)
    try:
        x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=test_size, stratify=y,
                                                  random_state=options.seed)
    except ValueError as err:  # fewer test (or train) rows than classes
        raise DataFileError(where, f"{len(y)} rows are too few for a stratified "
                                   f"{test_size:.0%} test split of {len(classes)} classes "
                                   f"({err})") from None
    splits = subsample_splits(x_tr, y_tr, x_te, y_te, seed=options.seed,
                              n_train=options.n_train, n_test=options.n_test,
                              n_classes=len(classes))
    ds = build_dataset(name, *splits, len(classes))
    return dataclasses.replace(ds, class_names=tuple(c.item() for c in classes))
