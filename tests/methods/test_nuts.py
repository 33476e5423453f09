"""NUTSClassifier: potential, diagnostics, convergence warning, leapfrog accounting, thinning."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from roundoff import EPS32, assert_within, mean_bound, proba_bound

from bnncompare import NUTSClassifier
from bnncompare.methods.nuts import make_potential
from bnncompare.net import MLPSpec

DIAGNOSTIC_KEYS = {"r_hat_max", "ess_min", "ess_median", "divergences", "mean_tree_depth",
                   "frac_at_max_depth"}


@pytest.fixture(scope="module")
def healthy(data):
    """Two chains on a 9-weight posterior: converged (measured R-hat 1.02-1.04, 0 divergences)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est = NUTSClassifier(num_chains=2, num_warmup=100, num_samples=100, max_tree_depth=4,
                             random_state=0).fit(*data)
    return est, [w for w in caught if issubclass(w.category, RuntimeWarning)]


def _softmax_regression_proba(theta, x):
    """Reference forward pass for theta (S, 9) with layout W (2, 3) row-major, then b (3,)."""
    theta = theta.double()
    logit = torch.as_tensor(x, dtype=torch.float64) @ theta[:, :6].reshape(-1, 2, 3) \
        + theta[:, None, 6:]
    return torch.softmax(logit, -1).numpy()


def test_potential_is_the_negative_log_joint():
    spec = MLPSpec(2, 3)
    gen = torch.Generator().manual_seed(0)
    x, y = torch.randn(6, 2, generator=gen), torch.tensor([0, 1, 2, 2, 1, 0])
    theta = torch.randn(9, generator=gen)
    potential = make_potential(spec, x, y, prior_scale=1.5)
    logit = x @ theta[:6].reshape(2, 3) + theta[6:]
    expected = F.cross_entropy(logit, y, reduction="sum") + (theta**2).sum() / (2 * 1.5**2)
    torch.testing.assert_close(potential({"theta": theta}), expected)
    # up to a theta-free constant it IS -log p(y, theta): differences match exactly
    other = torch.randn(9, generator=gen)

    def log_joint(t):
        lik = torch.distributions.Categorical(logits=x @ t[:6].reshape(2, 3) + t[6:])
        return lik.log_prob(y).sum() + torch.distributions.Normal(0, 1.5).log_prob(t).sum()

    # four float32 sums of n + P terms each: within (n + P + 2) eps of their absolute sizes
    values = [potential({"theta": theta}), potential({"theta": other}),
              log_joint(other), log_joint(theta)]
    tol = (len(y) + spec.n_params + 2) * EPS32 * sum(abs(float(v)) for v in values)
    torch.testing.assert_close(values[0] - values[1], values[2] - values[3], atol=tol, rtol=0)


def test_diagnostics_present_and_sane(healthy):
    est, _ = healthy
    d = est.diagnostics_
    assert set(d) == DIAGNOSTIC_KEYS
    assert isinstance(d["divergences"], int) and d["divergences"] >= 0
    assert 0 <= d["frac_at_max_depth"] <= 1
    assert 1 <= d["mean_tree_depth"] <= est.max_tree_depth
    assert 1 <= d["r_hat_max"] < 1.1
    assert 0 < d["ess_min"] <= d["ess_median"] <= 2 * 200  # ESS of 200 draws (antithetic: < 2x)
    assert est.samples_.shape == (200, 9)


def test_healthy_fit_does_not_warn(healthy):
    est, runtime_warnings = healthy
    assert est.diagnostics_["divergences"] == 0
    assert runtime_warnings == []


def test_chains_start_apart_and_mix(healthy):
    est, _ = healthy
    first, second = est.samples_[:100], est.samples_[100:]
    assert not torch.equal(first[0], second[0])  # independent chains, not a copy
    # both chains sample the same posterior: means agree within a few posterior sds / sqrt(ESS)
    sd = est.samples_.std(0)
    assert ((first.mean(0) - second.mean(0)).abs() / sd).max() < 0.6


def test_leapfrog_accounting_at_depth_one(data):
    # max_tree_depth=1: every iteration takes exactly one leapfrog step, so every tree has
    # depth 1 and all sit at the maximum; the only extra gradient evaluations are Pyro's
    # step-size searches at setup and at adaptation-window ends (measured 17 for 50 warmup).
    warmup, samples = 50, 50
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # one step per draw mixes badly
        est = NUTSClassifier(num_warmup=warmup, num_samples=samples, max_tree_depth=1,
                             random_state=0).fit(*data)
    assert est.diagnostics_["mean_tree_depth"] == 1.0
    assert est.diagnostics_["frac_at_max_depth"] == 1.0
    assert warmup + samples <= est.n_grad_evals_ <= warmup + samples + 40


def test_tree_depth_statistics_follow_leapfrog_counts(healthy):
    # depth 4 allows at most 15 leapfrog steps per draw; a posterior this small needs ~3-4 levels
    est, _ = healthy
    d = est.diagnostics_
    assert d["mean_tree_depth"] > 2
    n_iter = 2 * (100 + 100)
    assert est.n_grad_evals_ <= n_iter * (2**4 - 1) + 2 * 40
    # the mean depth bounds the sampling-phase work from below: steps >= 2**(depth-1) per draw
    assert est.n_grad_evals_ >= 200 * 2 ** (math.floor(d["mean_tree_depth"]) - 1)


@pytest.fixture(scope="module")
def iris_xy(iris):
    return iris.x_train, iris.y_train


def test_unconverged_fit_warns(iris_xy):
    # 2 chains of 20 draws after 20 warmup steps on an iris MLP (67 weights, multimodal):
    # the chains sit in different modes (measured R-hat 3.1), so fit must warn
    est = NUTSClassifier(hidden_sizes=(8,), num_chains=2, num_warmup=20, num_samples=20,
                         max_tree_depth=4, random_state=0)
    with pytest.warns(RuntimeWarning, match=r"NUTS diagnostics: .*max R-hat"):
        est.fit(*iris_xy)
    assert est.diagnostics_["r_hat_max"] > 1.1


@pytest.mark.parametrize(("r_hat", "divergences", "warns"), [
    (1.01, 0, False), (1.2, 0, True), (1.01, 3, True), (float("nan"), 0, True)])
def test_warning_rule(healthy, r_hat, divergences, warns):
    # NaN R-hat means every weight was constant: a chain that never moved must not pass silently
    est, _ = healthy
    saved = est.diagnostics_
    est.diagnostics_ = {**saved, "r_hat_max": r_hat, "divergences": divergences}
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            est._warn_if_unhealthy()
    finally:
        est.diagnostics_ = saved
    assert any(issubclass(w.category, RuntimeWarning) for w in caught) == warns


def test_more_predictive_samples_than_draws_raises(data):
    # 2 chains x 10 draws = 20 retained; asking predict for 21 is an error, not a resample
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        est = NUTSClassifier(num_chains=2, num_warmup=10, num_samples=10, max_tree_depth=2,
                             num_predictive_samples=21, random_state=0).fit(*data)
    with pytest.raises(ValueError, match="num_predictive_samples=21 exceeds the 20 posterior"):
        est.predict_proba(data[0])
    with pytest.raises(ValueError, match="exceeds"):
        est.predict_proba_samples(data[0])
    est.set_params(num_predictive_samples=20)
    assert est.predict_proba_samples(data[0]).shape == (20, 20, 3)


def test_fewer_predictive_samples_are_evenly_thinned(data):
    # 41 retained draws thinned to 5: draws 0, 10, 20, 30, 40 (evenly spaced, ends included)
    x, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        est = NUTSClassifier(num_warmup=30, num_samples=41, max_tree_depth=3,
                             num_predictive_samples=5, random_state=0).fit(x, y)
    kept = est.samples_[[0, 10, 20, 30, 40]]
    expected = _softmax_regression_proba(kept, x)
    samples = est.predict_proba_samples(x)
    assert samples.shape == (5, 20, 3)
    # float32 forward pass vs the float64 reference: within round-off (tests/roundoff.py)
    per_draw = proba_bound(est.spec_, kept, x, expected)
    assert_within(samples, expected, per_draw, "thinned draws")
    # the mean adds a float32 sum over the 5 draws ((5 - 1) u of the mean) and a
    # renormalisation by its row total ((5 - 1 + C) u): mean_bound(2 (5 + C)) is twice both
    assert_within(est.predict_proba(x), expected.mean(0),
                  per_draw.mean(0) + mean_bound(2 * (5 + 3), expected.mean(0)), "predictive mean")
    # None uses every retained draw
    est.set_params(num_predictive_samples=None)
    everything = _softmax_regression_proba(est.samples_, x)
    assert_within(est.predict_proba_samples(x), everything,
                  proba_bound(est.spec_, est.samples_, x, everything), "every draw")


def test_fewer_than_four_draws_give_nan_diagnostics_not_a_crash(iris):
    """pyro.ops.stats needs >= 4 draws per chain; below that R-hat/ESS are NaN and the
    unhealthy-chain warning fires (NaN R-hat is not <= 1.1)."""
    est = NUTSClassifier(num_warmup=3, num_samples=3, max_tree_depth=2, random_state=0)
    with pytest.warns(RuntimeWarning, match="R-hat"):
        est.fit(iris.x_train, iris.y_train)
    assert np.isnan(est.diagnostics_["r_hat_max"]) and np.isnan(est.diagnostics_["ess_min"])
    assert est.predict_proba(iris.x_test).shape == (len(iris.x_test), 3)
