"""Last-layer Laplace checked against independently computed curvature and evidence.

The reference Hessians come from ``torch.autograd.functional.hessian`` of a negative log-joint
written here from scratch in float64 (no ``bnncompare.net`` code), at the estimator's MAP.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.autograd.functional import hessian

import bnncompare as bc

MAP = dict(num_epochs=400, lr=0.05)  # converges on the 20-row problem (gradient checked below)


def _nll(x, y, w, b):
    """Summed softmax cross-entropy of logits ``x @ w + b`` (float64, from scratch)."""
    logp = torch.log_softmax(x @ w + b, 1)
    return -logp[torch.arange(len(y)), y].sum()


def _softmax_regression_hessians(est, x, y):
    """(Hessian of the NLL, Hessian of the negative log-joint at the prior of the fit)."""
    xt, yt = torch.as_tensor(x, dtype=torch.float64), torch.as_tensor(y)
    d, c = x.shape[1], len(est.classes_)
    theta = torch.as_tensor(est.theta_, dtype=torch.float64)

    def nll(t):
        return _nll(xt, yt, t[:d * c].reshape(d, c), t[d * c:])

    def joint(t):
        return nll(t) + 0.5 * t.pow(2).sum() / est.prior_scale**2

    return hessian(nll, theta), hessian(joint, theta), theta


def test_softmax_regression_precision_is_the_exact_hessian(data):
    x, y = data
    est = bc.LaplaceClassifier(hidden_sizes=(), prior_scale=0.8, prior_precision=1 / 0.8**2,
                               random_state=0, **MAP).fit(x, y)
    _, h_joint, theta = _softmax_regression_hessians(est, x, y)
    # the MAP really is the mode: the float32 Adam iterate's gradient of U is ~0
    grad = torch.func.grad(lambda t: _nll(torch.as_tensor(x, dtype=torch.float64),
                                          torch.as_tensor(y), t[:6].reshape(2, 3), t[6:])
                           + 0.5 * t.pow(2).sum() / 0.8**2)(theta)
    assert grad.abs().max() < 1e-3
    assert est.posterior_precision_.shape == (9, 9)
    # same float64 inputs, two summation orders: agreement to float64 round-off (~1e-14
    # relative); 1e-9 leaves room for BLAS differences and still catches any layout error
    torch.testing.assert_close(est.posterior_precision_, h_joint, rtol=1e-9, atol=1e-9)


def test_last_layer_ggn_is_the_hessian_of_the_last_layer(data):
    """With hidden layers the logits are linear in the last layer: GGN = exact Hessian there."""
    x, y = data
    est = bc.LaplaceClassifier(hidden_sizes=(5, 4), activation="tanh", prior_precision=2.0,
                               random_state=1, **MAP).fit(x, y)
    xt, yt = torch.as_tensor(x, dtype=torch.float64), torch.as_tensor(y)
    t = torch.as_tensor(est.theta_, dtype=torch.float64)
    w1, b1 = t[:10].reshape(2, 5), t[10:15]
    w2, b2 = t[15:35].reshape(5, 4), t[35:39]
    h = torch.tanh(torch.tanh(xt @ w1 + b1) @ w2 + b2)

    def nll(last):
        return _nll(h, yt, last[:12].reshape(4, 3), last[12:])

    expected = hessian(nll, t[39:]) + 2.0 * torch.eye(15, dtype=torch.float64)
    assert est.n_params_ == 39 + 15
    # the estimator computes the hidden features in float32 (ulp 6e-8) before its float64
    # GGN: measured max relative gap 4e-7. 1e-5 allows BLAS differences; a layout error is O(1).
    torch.testing.assert_close(est.posterior_precision_, expected, rtol=1e-5, atol=1e-5)


def test_tuned_prior_precision_maximises_the_evidence_on_a_grid(data):
    x, y = data
    est = bc.LaplaceClassifier(hidden_sizes=(), random_state=0, **MAP).fit(x, y)
    h_nll, _, theta = _softmax_regression_hessians(est, x, y)
    xt, yt = torch.as_tensor(x, dtype=torch.float64), torch.as_tensor(y)
    log_lik = -float(_nll(xt, yt, theta[:6].reshape(2, 3), theta[6:]))
    k, sq_norm = 9, float(theta.pow(2).sum())
    log_grid = np.linspace(math.log(1e-3), math.log(1e3), 3001)  # spacing 0.0046 in log
    evidence = np.array([
        log_lik - 0.5 * lam * sq_norm + 0.5 * k * math.log(lam)
        - 0.5 * float(torch.logdet(h_nll + lam * torch.eye(k, dtype=torch.float64)))
        for lam in np.exp(log_grid)])
    best = int(evidence.argmax())
    assert 0 < best < len(log_grid) - 1  # an interior optimum: the test is not vacuous
    assert abs(math.log(est.prior_precision_) - log_grid[best]) <= log_grid[1] - log_grid[0]
    # the evidence is flat at its optimum: the grid max is within round-off of the estimator's
    assert est.log_marginal_likelihood_ >= evidence.max() - 1e-6
    assert est.log_marginal_likelihood_ == pytest.approx(evidence.max(), abs=1e-4)


def test_draws_have_the_posterior_covariance_and_keep_the_body(data):
    x, y = data
    est = bc.LaplaceClassifier(hidden_sizes=(4,), activation="tanh", random_state=0,
                               **MAP).fit(x, y)
    draws = est._draws(20_000).double()
    k = 5 * 3  # (4 hidden + bias) x 3 classes
    # everything below the last layer is the MAP itself, bit for bit
    np.testing.assert_array_equal(draws[:, :-k].numpy(),
                                  np.broadcast_to(est.theta_[:-k], (20_000, est.n_params_ - k)))
    mean, cov = draws[:, -k:].mean(0), torch.cov(draws[:, -k:].T)
    expected = torch.linalg.inv(est.posterior_precision_)
    sd = expected.diagonal().sqrt()
    # Monte Carlo with S = 20,000: se(mean) = sd / 141; se(var) / var = sqrt(2 / S) = 1 %;
    # correlations se <= 1 / sqrt(S) = 0.007. Tolerances are 5 standard errors.
    map_last = torch.as_tensor(est.theta_[-k:], dtype=torch.float64)
    assert ((mean - map_last).abs() / sd).max() < 5 / math.sqrt(20_000)
    np.testing.assert_allclose((cov.diagonal() / expected.diagonal()).numpy(), 1, atol=0.05)
    corr = cov / torch.outer(sd, sd)
    np.testing.assert_allclose(corr.numpy(), (expected / torch.outer(sd, sd)).numpy(),
                               atol=0.035)


def test_map_is_the_nn_fit_and_cost_adds_one_pass(data):
    x, y = data
    params = dict(hidden_sizes=(3,), activation="tanh", num_epochs=30, batch_size=7,
                  random_state=4)
    lap = bc.LaplaceClassifier(**params).fit(x, y)
    nn = bc.NNClassifier(**params).fit(x, y)
    np.testing.assert_array_equal(lap.theta_, nn.theta_)
    assert nn.n_grad_evals_ == 30 * 3  # ceil(20 / 7) = 3 steps per epoch
    assert lap.n_grad_evals_ == nn.n_grad_evals_ + 1
    proba = lap.predict_proba_samples(x)
    assert proba.shape == (100, 20, 3)  # a posterior: S = 100 draws by default, not NN's 1


@pytest.mark.parametrize("value", [0, -1.0, float("nan"), "auto"])
def test_bad_prior_precision_raises(data, value):
    with pytest.raises(ValueError, match="prior_precision must be a finite number > 0"):
        bc.LaplaceClassifier(prior_precision=value).fit(*data)


@pytest.mark.slow
def test_iris_accuracy_at_quality_settings(iris):
    """The seed's 4-20-50-20-3 relu net at the documented ``quality`` settings."""
    est = bc.LaplaceClassifier(hidden_sizes=(20, 50, 20), activation="relu", random_state=0,
                               **bc.LaplaceClassifier.settings_for("quality", "fast"))
    est.fit(iris.x_train, iris.y_train)
    assert est.posterior_precision_.shape == (21 * 3, 21 * 3)  # 20 features + bias, 3 classes
    accuracy = np.mean(est.predict(iris.x_test) == iris.y_test)
    assert accuracy >= 0.9, f"iris test accuracy {accuracy:.3f} < 0.9"
