"""Dataset names: the public tuples and name normalisation."""

from __future__ import annotations

import pytest

from bnncompare.data import DATASETS, OOD_KINDS, load_dataset


def test_public_names():
    assert DATASETS == ("iris", "digits", "synthetic", "mnist", "fashion-mnist", "moons")
    assert OOD_KINDS == ("uniform", "shell", "noise-images", "fashion-mnist")
    # names are case- and underscore-insensitive
    assert load_dataset("IRIS").name == "iris"
    with pytest.raises(FileNotFoundError):
        load_dataset("Fashion_MNIST", root="/nonexistent")
