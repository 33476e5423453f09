"""Shared fixtures: a clean Pyro parameter store per test and a standardised iris split."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pyro
import pytest
import torch
from sklearn.datasets import load_iris
from sklearn.model_selection import train_test_split


def pytest_configure(config):
    # One torch thread: the nets here are tiny, so a second thread only adds contention (a
    # busy neighbour process on a 2-core CI machine made the suite ~25x slower with 2).
    torch.set_num_threads(1)
    # --strict-markers (pyproject) needs every marker registered. Slow tests still run by default;
    # deselect them with `-m "not slow"` for a quick loop.
    config.addinivalue_line("markers", "slow: takes several seconds; still runs by default")


@pytest.fixture(autouse=True)
def _clear_param_store():
    """No test sees Pyro parameters left behind by another (as Pyro's own conftest does)."""
    pyro.clear_param_store()
    yield
    pyro.clear_param_store()


@pytest.fixture(scope="session")
def iris():
    """Iris, stratified 70/30 split (seed 0), standardised with the training mean and std.

    Returns a namespace with float32 ``x_train, x_test`` and int64 ``y_train, y_test``.
    """
    x, y = load_iris(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.3, stratify=y, random_state=0)
    mean, std = x_train.mean(0), x_train.std(0)
    return SimpleNamespace(
        x_train=((x_train - mean) / std).astype(np.float32),
        x_test=((x_test - mean) / std).astype(np.float32),
        y_train=y_train.astype(np.int64),
        y_test=y_test.astype(np.int64),
    )
