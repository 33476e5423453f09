"""Fixtures shared by the per-method tests."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from bnncompare import net


@pytest.fixture(scope="module")
def data():
    """20 rows, 2 features, 3 overlapping classes (softmax regression: P = 9, well-posed)."""
    rng = np.random.RandomState(1)
    x = rng.randn(20, 2).astype(np.float32)
    y = np.argmax(x @ np.array([[1.5, -1.0, 0.0], [0.0, 1.0, -1.0]]) + rng.randn(20, 3), 1)
    return x, y


@pytest.fixture
def grad_evals(monkeypatch):
    """Counts a fit's gradient evaluations without the estimator's own bookkeeping.

    Every ``Tensor.backward`` call is one gradient pass; it evaluates as many gradients as
    the last forward pass (``net.logits``) carried weight draws (SVI particles). Returns a
    namespace with ``backward_calls`` and ``evals``, updated while the test runs.
    """
    counter = SimpleNamespace(backward_calls=0, evals=0, last_draws=0)
    real_logits, real_backward = net.logits, torch.Tensor.backward

    def logits(spec, theta, x):
        counter.last_draws = theta.reshape(-1, theta.shape[-1]).shape[0]
        return real_logits(spec, theta, x)

    def backward(tensor, *args, **kwargs):
        counter.backward_calls += 1
        counter.evals += counter.last_draws
        return real_backward(tensor, *args, **kwargs)

    monkeypatch.setattr(net, "logits", logits)
    monkeypatch.setattr(torch.Tensor, "backward", backward)
    return counter
