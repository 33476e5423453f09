"""SVIClassifier: the ELBO it optimises, its minibatch scaling, its trace and its draws."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from bnncompare import SVIClassifier, net
from bnncompare.methods import svi
from bnncompare.methods.svi import INIT_SCALE


def _init_loc(est):
    return net.init_theta(est.spec_, torch.Generator().manual_seed(est.seed_)).double()


@pytest.mark.parametrize("prior_scale", [1.0, 2.0])
def test_first_loss_is_analytic_kl_plus_nll(data, prior_scale):
    # -ELBO at step 0 = KL(q || prior) + E_q[sum_i NLL_i], q = N(init, INIT_SCALE^2). KL is
    # closed-form (TraceMeanField_ELBO takes it analytically); with 64 particles E_q[NLL] equals
    # the NLL at the mean up to ~1e-3 (q's sd is 0.01). Measured |diff| <= 0.015 even with 1
    # particle; tolerance 0.05 against a total of ~45-66 nats.
    x, y = data
    est = SVIClassifier(hidden_sizes=(), num_steps=1, num_particles=64, prior_scale=prior_scale,
                        random_state=0).fit(x, y)
    mu, q = _init_loc(est), INIT_SCALE
    kl = (math.log(prior_scale / q) + (q**2 + mu**2) / (2 * prior_scale**2) - 0.5).sum()
    logit = torch.as_tensor(x, dtype=torch.float64) @ mu[:6].reshape(2, 3) + mu[6:]
    nll = F.cross_entropy(logit, torch.as_tensor(y), reduction="sum")
    assert est.losses_[0] == pytest.approx(float(kl + nll), abs=0.05)


def test_subsample_branch_over_all_rows_is_the_full_batch(data, monkeypatch):
    # batch_size >= n takes the full-batch branch itself (minibatches yields None, test_nn),
    # so feed the subsample branch all n rows, shuffled: it must pick rows and labels
    # together and scale by n / B = 1, giving the full-batch ELBO trace up to float32
    # round-off. Each step's loss sums n NLL and P KL terms (all >= 0) in another order:
    # (n + P) eps relative (measured <= 0.6 eps).
    x, y = data
    full = SVIClassifier(hidden_sizes=(), num_steps=30, random_state=4).fit(x, y)
    orders = []

    def all_rows_shuffled(n, batch_size, generator, device):
        orders.append(torch.randperm(n, generator=generator).to(device))
        yield orders[-1]

    monkeypatch.setattr(svi, "minibatches", all_rows_shuffled)
    subsampled = SVIClassifier(hidden_sizes=(), num_steps=30, random_state=4).fit(x, y)
    assert len(orders) == 30 and not torch.equal(orders[0], torch.arange(len(y)))
    rtol = (len(y) + full.n_params_) * np.finfo(np.float32).eps
    np.testing.assert_allclose(subsampled.losses_, full.losses_, rtol=rtol, atol=0)


@pytest.mark.parametrize("batch_size", [5, 10])
def test_minibatch_loss_is_scaled_to_the_full_data(data, batch_size):
    # One epoch of minibatch steps at a negligible lr (q stays at its init): each step's loss is
    # KL + (n / B) * sum_batch NLL, so over a partition of the rows the mean equals the
    # full-batch loss KL + sum NLL. Measured |diff| 0.05-0.08 (the draw from q differs per
    # step); unscaled minibatches would give KL + sum NLL * B / n, ~15 nats lower.
    x, y = data
    full = SVIClassifier(hidden_sizes=(), num_steps=1, lr=1e-9, random_state=0).fit(x, y).losses_[0]
    steps = len(y) // batch_size
    est = SVIClassifier(hidden_sizes=(), num_steps=steps, lr=1e-9, batch_size=batch_size,
                        random_state=0)
    est.fit(x, y)
    assert est.losses_.shape == (steps,)
    assert est.losses_.mean() == pytest.approx(full, abs=0.3)
    assert np.ptp(est.losses_) > 0.3  # the minibatches do differ: the mean is doing the work


def test_losses_trace_decreases(data):
    est = SVIClassifier(hidden_sizes=(), num_steps=400, lr=0.05, random_state=0).fit(*data)
    losses = est.losses_
    assert losses.shape == (400,) and losses.dtype == np.float32
    assert np.all(np.isfinite(losses))
    assert losses[:40].mean() > losses[-40:].mean() + 5  # ELBO improves by nats, not noise


def test_minibatch_steps_cycle_through_epochs(data, grad_evals):
    # 7 steps with batch_size 5 on 20 rows = one full epoch (4 steps) + 3 steps of the next
    est = SVIClassifier(hidden_sizes=(), num_steps=7, batch_size=5, random_state=0).fit(*data)
    assert est.losses_.shape == (7,) and grad_evals.backward_calls == 7
    assert est.n_grad_evals_ == grad_evals.evals == 7  # counted passes, not the formula


def test_variational_posterior_is_fitted_and_positive(data):
    est = SVIClassifier(hidden_sizes=(), num_steps=300, lr=0.05, random_state=0).fit(*data)
    assert est.loc_.shape == est.scale_.shape == (9,)
    assert torch.all(est.scale_ > 0)
    # the posterior sd grew from INIT_SCALE towards the posterior's (~0.3-1 here)
    assert est.scale_.min() > 5 * INIT_SCALE


def test_predictive_draws_follow_q(data):
    # predict_proba_samples = softmax(x W_s + b_s) for theta_s ~ N(loc_, diag(scale_^2)). At
    # x = 0 the logits are the biases theta[6:9], so each draw's log(p1 / p0) = b1 - b0 must be
    # distributed N(loc_[7] - loc_[6], scale_[7]^2 + scale_[6]^2).
    x, y = data
    est = SVIClassifier(hidden_sizes=(), num_steps=300, lr=0.05, num_predictive_samples=4000,
                        random_state=0).fit(x, y)
    origin = np.zeros((1, 2), dtype=np.float32)
    samples = est.predict_proba_samples(origin)[:, 0, :]          # (S, C), S = 4000
    log_ratio = np.log(samples[:, 1] / samples[:, 0])              # = b1 - b0 per draw
    loc, scale = est.loc_.double().numpy(), est.scale_.double().numpy()
    sd = math.hypot(scale[7], scale[6])
    assert log_ratio.mean() == pytest.approx(loc[7] - loc[6], abs=4 * sd / math.sqrt(4000))
    assert log_ratio.std() == pytest.approx(sd, rel=0.06)  # se of an sd at S=4000: ~1.1%


def test_draw_cache_follows_num_predictive_samples(data):
    # predict memoises its draws; changing S after fit must not serve stale draws, and the
    # result must equal a model fitted with that S from the start
    x, y = data
    est = SVIClassifier(hidden_sizes=(), num_steps=50, num_predictive_samples=10,
                        random_state=0).fit(x, y)
    assert est.predict_proba_samples(x).shape == (10, 20, 3)
    est.set_params(num_predictive_samples=30)
    fresh = SVIClassifier(hidden_sizes=(), num_steps=50, num_predictive_samples=30,
                          random_state=0).fit(x, y)
    np.testing.assert_array_equal(est.predict_proba_samples(x), fresh.predict_proba_samples(x))
    np.testing.assert_array_equal(est.predict_proba(x), fresh.predict_proba(x))
    # a refit on other data must not reuse the old model's draws
    est.fit(x[::-1].copy(), y[::-1].copy())
    other = SVIClassifier(hidden_sizes=(), num_steps=50, num_predictive_samples=30, random_state=0)
    other.fit(x[::-1].copy(), y[::-1].copy())
    np.testing.assert_array_equal(est.predict_proba(x), other.predict_proba(x))


@pytest.mark.parametrize(("num_particles", "batch"), [(1, None), (4, None), (3, 7)])
def test_loss_equals_pyro_trace_mean_field_elbo(data, num_particles, batch):
    """The torch closed form each step evaluates IS Pyro's TraceMeanField_ELBO (vectorised
    particles, plate subsampling): same value and same gradients under the same seed."""
    x, y = (torch.as_tensor(a) for a in data)
    est = SVIClassifier(hidden_sizes=(5,), activation="tanh", num_steps=1,
                        num_particles=num_particles, prior_scale=1.5, random_state=0).fit(*data)
    gen = torch.Generator().manual_seed(3)
    est._loc = torch.randn(est.n_params_, generator=gen).requires_grad_()
    est._rho = (torch.randn(est.n_params_, generator=gen) - 3).requires_grad_()
    est._prior_loc = torch.zeros(est.n_params_)
    idx = None if batch is None else torch.randperm(len(y), generator=gen)[:batch]
    results = []
    for loss_fn in (est._pyro_loss, est._loss):
        torch.manual_seed(11)
        loss = loss_fn(x, y, idx)
        results.append((loss.detach(), *torch.autograd.grad(loss, [est._loc, est._rho])))
    # float32 sums of ~20-60 O(1) terms in a different order: ~1e-6 relative round-off
    for pyro_value, ours in zip(results[0], results[1], strict=True):
        torch.testing.assert_close(ours, pyro_value, rtol=1e-5, atol=1e-5)
