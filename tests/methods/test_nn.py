"""NNClassifier: the MAP twin of the Bayesian model, checked against an independent optimiser."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from roundoff import assert_within, mean_bound, proba_bound

from bnncompare import NNClassifier, net
from bnncompare.methods.nn import minibatches


@pytest.fixture(scope="module")
def data():
    """30 rows, 2 features, 3 overlapping classes (so the MAP is finite and unique)."""
    rng = np.random.RandomState(1)
    x = rng.randn(30, 2)
    y = np.argmax(x @ np.array([[1.5, -1.0, 0.0], [0.0, 1.0, -1.0]]) + rng.randn(30, 3), 1)
    return x.astype(np.float32), y


def _neg_log_joint(theta, x, y, prior_scale):
    """sum_i CE + ||theta||^2 / (2 prior_scale^2) for softmax regression, layout W (2, 3), b."""
    logit = x @ theta[:6].reshape(2, 3) + theta[6:]
    return F.cross_entropy(logit, y, reduction="sum") + theta.pow(2).sum() / (2 * prior_scale**2)


def _lbfgs_map(x, y, prior_scale):
    x, y = torch.as_tensor(x, dtype=torch.float64), torch.as_tensor(y)
    theta = torch.zeros(9, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([theta], max_iter=500, tolerance_grad=1e-12, tolerance_change=1e-14,
                            line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = _neg_log_joint(theta, x, y, prior_scale)
        loss.backward()
        return loss

    opt.step(closure)
    grad = torch.autograd.grad(_neg_log_joint(theta, x, y, prior_scale), theta)[0]
    assert grad.abs().max() < 1e-6  # the reference really is the optimum
    return theta.detach().numpy()


@pytest.mark.parametrize("prior_scale", [0.7, 3.0])
def test_map_matches_lbfgs(data, prior_scale):
    # Full-batch Adam on the per-row log-joint must land on the float64 L-BFGS optimum of
    # sum CE + ||theta||^2 / (2 prior_scale^2): weight decay IS the N(0, prior_scale^2) prior.
    # Measured |diff| <= 3e-6 (float32 resolution); tolerance 1e-4.
    reference = _lbfgs_map(*data, prior_scale)
    est = NNClassifier(hidden_sizes=(), num_epochs=2000, lr=0.05, prior_scale=prior_scale,
                       random_state=0)
    est.fit(*data)
    np.testing.assert_allclose(est.theta_.astype(np.float64), reference, atol=1e-4)
    # and the prior matters: the other scale's optimum is far away
    other = _lbfgs_map(*data, 10.0 / prior_scale)
    assert np.abs(other - reference).max() > 0.05


def test_losses_are_the_per_row_objective(data):
    x, y = data
    est = NNClassifier(hidden_sizes=(), num_epochs=40, lr=0.05, prior_scale=0.5,
                       random_state=3).fit(x, y)
    assert est.losses_.shape == (est.n_grad_evals_,) == (40,)
    # step 0 is evaluated at the Glorot initialisation drawn from the fitted seed
    init = net.init_theta(est.spec_, torch.Generator().manual_seed(est.seed_)).double()
    expected = _neg_log_joint(init, torch.as_tensor(x, dtype=torch.float64),
                              torch.as_tensor(y), 0.5) / len(y)
    # float32 mean of n CE terms plus P prior terms, all >= 0: within (n + P + 2) eps relative
    rel = (len(y) + est.n_params_ + 2) * float(np.finfo(np.float32).eps)
    assert est.losses_[0] == pytest.approx(float(expected), rel=rel)
    # Full-batch, small lr: monotone descent. Each step must drop by more than the loss's own
    # round-off (same (n + P + 2) eps), so another CPU's rounding cannot flip a step's sign
    # (measured: the smallest drop is ~8,700 ulps of the loss).
    assert np.all(np.diff(est.losses_) < -rel * est.losses_[1:])


def test_predict_is_the_point_estimate(data):
    x, y = data
    est = NNClassifier(hidden_sizes=(), num_epochs=20, num_predictive_samples=50,
                       random_state=0).fit(x, y)
    theta = torch.as_tensor(est.theta_, dtype=torch.float64)
    expected = torch.softmax(torch.as_tensor(x, dtype=torch.float64) @ theta[:6].reshape(2, 3)
                             + theta[6:], -1).numpy()
    # float32 forward pass (tests/roundoff.py), renormalised in float64 by a row total at most
    # C u off 1 (mean_bound(2 C) allows twice that)
    bound = proba_bound(est.spec_, est.theta_, x, expected) + mean_bound(2 * 3, expected)
    assert_within(est.predict_proba(x), expected, bound, "point-estimate probabilities")
    # num_predictive_samples is ignored: one draw, S = 1
    assert est.predict_proba_samples(x).shape == (1, 30, 3)


@pytest.mark.parametrize(("n", "batch_size"), [(10, 3), (10, 5), (10, 1), (7, 6)])
def test_minibatches_partition_each_epoch(n, batch_size):
    gen = torch.Generator().manual_seed(0)
    batches = list(minibatches(n, batch_size, gen, torch.device("cpu")))
    assert len(batches) == math.ceil(n / batch_size)
    assert [len(b) for b in batches[:-1]] == [batch_size] * (len(batches) - 1)
    assert sorted(torch.cat(batches).tolist()) == list(range(n))  # every row once
    again = list(minibatches(n, batch_size, gen, torch.device("cpu")))
    assert any(not torch.equal(a, b) for a, b in zip(batches, again, strict=True))  # reshuffled


@pytest.mark.parametrize("batch_size", [None, 10, 11])
def test_minibatches_full_batch_is_one_none(batch_size):
    gen = torch.Generator().manual_seed(0)
    assert list(minibatches(10, batch_size, gen, torch.device("cpu"))) == [None]


def test_minibatch_training_reaches_the_same_map(data):
    # Minibatch steps follow unbiased per-row gradients of the same objective (batch NLL mean
    # + prior / n), so they end near the full-batch MAP: measured max diff 0.007-0.07 over
    # seeds 0-2 (Adam jitter at lr 0.01). A prior mis-scaled by n / batch_size = 3 either way
    # moves the optimum by >= 0.54, so the 0.15 tolerance still tells the two apart.
    reference = _lbfgs_map(*data, 1.0)
    for wrong_scale in (3**-0.5, 3**0.5):
        assert np.abs(_lbfgs_map(*data, wrong_scale) - reference).max() > 0.5
    est = NNClassifier(hidden_sizes=(), num_epochs=300, lr=0.01, batch_size=10,
                       random_state=0).fit(*data)
    assert est.n_grad_evals_ == 900
    np.testing.assert_allclose(est.theta_.astype(np.float64), reference, atol=0.15)
