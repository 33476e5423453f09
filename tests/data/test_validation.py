"""Bad arguments raise ValueError naming the parameter and the value."""

from __future__ import annotations

import pytest

from bnncompare.data import far_shell, input_grid, load_dataset, make_ood, uniform_noise


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
