"""MCDropoutClassifier: dropout masks as weight draws, checked against masked activations."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import bnncompare as bc
from bnncompare import metrics, net
from bnncompare.methods.mcdropout import (
    MCDropoutClassifier,
    apply_masks,
    dropped_layers,
    sample_masks,
)

CPU = torch.device("cpu")
# Logits are O(1) sums of <= 8 float32 products; the weight-draw pass (folded GEMM, baddbmm,
# the 1/(1-p) factor applied to W instead of h) reorders the roundings: a few ulps (~1e-7
# each). 1e-5 allows ~100 ulps; one wrongly dropped unit moves logits by O(0.1).
ROUND_OFF = 1e-5


def _masked_forward(spec, theta, x, masks, rate):
    """Reference: one forward per mask, dropout applied to the activations (float64)."""
    act = net.ACTIVATIONS[spec.activation]
    layers = spec.unflatten(theta.double())
    dropped = dropped_layers(spec)
    out = []
    for s in range(masks[0].shape[0]):
        h = x.double()
        for i, (weight, bias) in enumerate(layers):
            if i > 0:
                h = act(h)
            if i in dropped:
                h = h * masks[dropped.index(i)][s].double() / (1 - rate)
            h = h @ weight + bias
        out.append(h)
    return torch.stack(out)


@pytest.mark.parametrize(("hidden", "activation"), [((4, 3), "tanh"), ((5,), "relu"), ((), "tanh")])
@pytest.mark.parametrize("rate", [0.2, 0.5])
def test_weight_draws_equal_masked_activations(hidden, activation, rate):
    spec = net.MLPSpec(3, 4, hidden, activation)
    theta = net.init_theta(spec, torch.Generator().manual_seed(0)) + 0.1  # nonzero biases too
    x = torch.randn(7, 3, generator=torch.Generator().manual_seed(1))
    masks = sample_masks(spec, 16, rate, torch.Generator().manual_seed(2), CPU)
    assert [m.shape for m in masks] == [(16, spec.widths[i]) for i in dropped_layers(spec)]
    assert any(not m.all() for m in masks)  # something is dropped: the check is not vacuous
    draws = apply_masks(spec, theta, masks, rate)
    assert draws.shape == (16, spec.n_params)
    expected = _masked_forward(spec, theta, x, masks, rate)
    np.testing.assert_allclose(net.logits(spec, draws, x).double().numpy(), expected.numpy(),
                               atol=ROUND_OFF)
    # the same masks without dropout would differ: the tolerance tells them apart
    plain = net.logits(spec, theta, x).double()
    assert (expected - plain).abs().max() > 100 * ROUND_OFF


def test_dropped_units_zero_their_outgoing_rows():
    spec = net.MLPSpec(2, 3, (4,), "tanh")
    theta = torch.arange(1.0, spec.n_params + 1)  # every entry nonzero and distinct
    mask = torch.tensor([[True, False, True, False]])
    draw = apply_masks(spec, theta, [mask], 0.25)[0]
    (w0, b0), (w1, b1) = spec.unflatten(draw)
    (t_w0, t_b0), (t_w1, t_b1) = spec.unflatten(theta)
    assert torch.equal(w0, t_w0) and torch.equal(b0, t_b0) and torch.equal(b1, t_b1)
    assert torch.equal(w1[[1, 3]], torch.zeros(2, 3))  # dropped units 1 and 3
    torch.testing.assert_close(w1[[0, 2]], t_w1[[0, 2]] / 0.75)  # inverted-dropout scale


def test_without_hidden_units_the_inputs_are_dropped():
    assert dropped_layers(net.MLPSpec(4, 3, ())) == [0]
    assert dropped_layers(net.MLPSpec(4, 3, (8, 6))) == [1, 2]


def test_masks_drop_at_the_rate():
    spec = net.MLPSpec(2, 3, (50, 50))
    masks = sample_masks(spec, 400, 0.3, torch.Generator().manual_seed(0), CPU)
    dropped = torch.cat([(~m).flatten() for m in masks]).double()
    n = dropped.numel()  # 40,000 Bernoulli(0.3) draws: sd of the mean 0.0023
    assert abs(dropped.mean().item() - 0.3) < 4 * math.sqrt(0.3 * 0.7 / n)


@pytest.mark.parametrize("batch_size", [None, 7])
def test_zero_dropout_is_the_nn(data, batch_size):
    # p = 0 keeps every unit: the same init, shuffle and steps as NNClassifier (same seed)
    x, y = data
    settings = dict(hidden_sizes=(5,), activation="tanh", num_epochs=40, lr=0.05,
                    batch_size=batch_size, random_state=3)
    drop = MCDropoutClassifier(dropout=0.0, num_predictive_samples=4, **settings).fit(x, y)
    nn = bc.NNClassifier(**settings).fit(x, y)
    # identical operations in the same order: bit for bit
    np.testing.assert_array_equal(drop.theta_, nn.theta_)
    samples = drop.predict_proba_samples(x)
    assert samples.shape == (4, 20, 3)
    np.testing.assert_allclose(samples, np.broadcast_to(nn.predict_proba(x), samples.shape),
                               atol=1e-6)  # float32 probabilities through the batched pass


def test_dropout_changes_the_fit(data):
    x, y = data
    settings = dict(hidden_sizes=(5,), activation="tanh", num_epochs=40, lr=0.05, random_state=3)
    drop = MCDropoutClassifier(dropout=0.3, **settings).fit(x, y)
    nn = bc.NNClassifier(**settings).fit(x, y)
    assert np.abs(drop.theta_ - nn.theta_).max() > 0.01  # trained under masks, not plain MAP


def test_grad_evals_counted(data, monkeypatch):
    steps = []
    original = torch.optim.Adam.step
    monkeypatch.setattr(torch.optim.Adam, "step",
                        lambda self, *a, **k: steps.append(1) or original(self, *a, **k))
    est = MCDropoutClassifier(hidden_sizes=(), num_epochs=5, batch_size=6, random_state=0)
    est.fit(*data)
    assert len(steps) == 5 * 4 == est.n_grad_evals_  # 20 rows in batches of 6: 4 per epoch


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5, float("nan"), True, "0.1"])
def test_bad_dropout(data, rate):
    with pytest.raises(ValueError, match=r"dropout must be a number in \[0, 1\)"):
        MCDropoutClassifier(dropout=rate).fit(*data)


@pytest.mark.slow
def test_iris_accuracy_at_quality_settings(iris):
    # the seed's net (4-20-50-20-3, relu) at the documented quality settings of the fast profile
    est = MCDropoutClassifier(hidden_sizes=(20, 50, 20), activation="relu", random_state=0,
                              **MCDropoutClassifier.settings_for("quality", "fast"))
    est.fit(iris.x_train, iris.y_train)
    proba = est.predict_proba(iris.x_test)
    assert metrics.accuracy(iris.y_test, proba) >= 0.9
    # a predictive distribution, not a point: the masks move the class probabilities
    assert np.ptp(est.predict_proba_samples(iris.x_test), axis=0).max() > 0.05
