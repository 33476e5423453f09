"""Bad arguments raise ValueError naming the parameter and the value."""

from __future__ import annotations

import numpy as np
import pytest

from bnncompare.data import far_shell, input_grid, load_dataset, make_ood, uniform_noise
from bnncompare.data.validation import (
    check_count,
    check_fraction,
    check_nonnegative_float,
    check_nonnegative_int,
)


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
        # bool is not a number, although Python counts it as an int
        (lambda: load_dataset("iris", seed=True), "seed.*True"),
        (lambda: load_dataset("iris", n_train=True), "n_train.*True"),
        (lambda: load_dataset("iris", test_size=True), "test_size.*True"),
        (lambda: load_dataset("moons", noise=False), "noise.*False"),
        (lambda: far_shell(load_dataset("iris"), 5, radius=True), "radius.*True"),
        (lambda: input_grid(load_dataset("moons"), 10, margin=True), "margin.*True"),
        (lambda: load_dataset("iris", test_size=-0.5), "test_size.*-0.5"),
        (lambda: load_dataset("synthetic", n_features=2.0), "n_features.*2.0"),
        (lambda: input_grid(load_dataset("moons"), 10, margin=float("nan")), "margin.*nan"),
        (lambda: far_shell(load_dataset("iris"), 5, radius=float("inf")), "radius.*inf"),
    ],
)
def test_bad_input_raises_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_numpy_scalars_are_numbers():
    ds = load_dataset("moons", seed=np.int64(3), n_train=np.int32(20), noise=np.float32(0.1))
    assert ds.n_train == 20
    assert load_dataset("iris", test_size=np.float32(0.5)).n_test == 75
    assert far_shell(ds, np.int64(4), radius=np.float32(2.0)).shape == (4, 2)
    assert input_grid(ds, np.int16(3), margin=np.float64(0.0))[0].shape == (9, 2)


@pytest.mark.parametrize(
    ("check", "args", "message"),
    [
        (check_nonnegative_int, ("k", -1), "k must be a non-negative integer, got -1"),
        (check_nonnegative_int, ("k", 1.0), "k must be a non-negative integer, got 1.0"),
        (check_nonnegative_float, ("w", -0.5), "w must be a finite number >= 0, got -0.5"),
        (check_nonnegative_float, ("w", "1"), "w must be a finite number >= 0, got '1'"),
        (check_count, ("n", 0, 1, 9), "n must be a positive integer, got 0"),
        (check_count, ("n", 10, 1, 9), r"n must be an integer in \[1, 9\], got 10"),
        (check_fraction, ("f", 0.0), "f must be a finite number > 0, got 0.0"),
        (check_fraction, ("f", 1), r"f must be a fraction in \(0, 1\), got 1"),
    ],
)
def test_checkers_name_the_parameter_and_the_value(check, args, message):
    with pytest.raises(ValueError, match=f"^{message}$"):
        check(*args)


def test_checkers_accept_the_edges():
    check_nonnegative_int("k", 0)
    check_nonnegative_float("w", 0)
    assert check_count("n", np.int64(9), 1, 9) == 9
    assert check_fraction("f", 0.25) == 0.25
