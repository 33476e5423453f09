"""The library peers compute the same function as ours: laplace-torch on our MAP net,
posteriors' SGHMC on our potential (each skipped without its library, the ``peers`` extra)."""

from __future__ import annotations

import importlib
import math
import warnings

import numpy as np
import pytest
import torch

from bnncompare import net
from bnncompare.methods import LaplaceClassifier, SGHMCClassifier
from bnncompare.methods._potential import make_potential

HIDDEN = (6, 5)


@pytest.fixture(scope="module")
def iris():
    from bnncompare.data import load_dataset
    return load_dataset("iris", seed=0)


@pytest.fixture(scope="module")
def laplace_fit(iris):
    est = LaplaceClassifier(hidden_sizes=HIDDEN, activation="tanh", random_state=0,
                            **LaplaceClassifier.settings_for("test"))
    return est.fit(iris.x_train, iris.y_train)


def _peer(library: str, distribution: str, adapter: str):
    """Our adapter module for ``library``, or a skip when the peers extra is absent (the
    libraries warn at import: silenced)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pytest.importorskip(library, reason=f"{distribution} not installed (the peers extra)")
    return importlib.import_module(f"bnncompare.peers.{adapter}")


@pytest.fixture(scope="module")
def lt():
    return _peer("laplace", "laplace-torch", "laplace_torch")


@pytest.fixture(scope="module")
def ps():
    return _peer("posteriors", "posteriors", "posteriors_sghmc")


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_torch_mlp_logits_equal_ours(lt, iris, activation):
    spec = net.MLPSpec(4, 3, HIDDEN, activation)
    theta = net.init_theta(spec, torch.Generator().manual_seed(0))
    x = torch.as_tensor(iris.x_test)
    torch.testing.assert_close(lt.torch_mlp(spec, theta)(x), net.logits(spec, theta, x),
                               rtol=1e-5, atol=1e-5)


def test_last_layer_order_maps_parameters(lt, laplace_fit):
    """Our flat last layer, reordered, is the library's ``parameters_to_vector`` layout."""
    spec, theta = laplace_fit.spec_, torch.as_tensor(laplace_fit.theta_)
    last = lt.torch_mlp(spec, theta)[-1]
    theirs = torch.nn.utils.parameters_to_vector(last.parameters())
    k = len(theirs)
    torch.testing.assert_close(theirs[lt.last_layer_order(spec)], theta[-k:])


def test_laplace_torch_equals_our_posterior(lt, laplace_fit, iris):
    """Same MAP net, same prior precision: the same posterior precision and marginal
    likelihood, and predictives that differ by Monte-Carlo noise only."""
    spec, theta = laplace_fit.spec_, torch.as_tensor(laplace_fit.theta_)
    x, y = torch.as_tensor(iris.x_train), torch.as_tensor(iris.y_train)
    la = lt.fit_laplace_torch(spec, theta, x, y, laplace_fit.prior_precision_)
    order = lt.last_layer_order(spec)
    theirs = la.posterior_precision.double()[order][:, order]
    torch.testing.assert_close(theirs, laplace_fit.posterior_precision_, rtol=1e-4, atol=1e-4)
    assert float(la.log_marginal_likelihood()) == pytest.approx(
        laplace_fit.log_marginal_likelihood_, rel=1e-5)
    proba = lt.laplace_torch_proba(la, torch.as_tensor(iris.x_test), 2000)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    ours = LaplaceClassifier(**{**laplace_fit.get_params(), "num_predictive_samples": 2000})
    mine = ours.fit(iris.x_train, iris.y_train).predict_proba(iris.x_test)
    assert 0.5 * np.abs(proba - mine).sum(1).mean() < 0.02


def test_laplace_torch_row(lt, laplace_fit, iris):
    work, workload, extra = lt.library_row(laplace_fit, iris.x_train, iris.y_train,
                                           iris.x_test, num_samples=500)
    assert work() == 1
    assert workload["prior_precision"] == laplace_fit.prior_precision_
    assert extra["tv_to_bnncompare"] < 0.02
    # both maximise the same marginal likelihood: the optima agree to the optimisers' slack
    assert math.isclose(extra["prior_precision_laplace_torch"],
                        extra["prior_precision_bnncompare"], rel_tol=0.05)
    assert laplace_fit.num_predictive_samples == 20  # the row left the estimator as it was


def test_our_side_of_the_laplace_row(lt, laplace_fit, iris):
    """Our timed step redoes ``LaplaceClassifier``'s: its search finds the fit's precision."""
    spec, theta = laplace_fit.spec_, torch.as_tensor(laplace_fit.theta_)
    x, y = torch.as_tensor(iris.x_train), torch.as_tensor(iris.y_train)
    assert lt.our_curvature(spec, theta, x, y) == pytest.approx(laplace_fit.prior_precision_,
                                                                rel=1e-4)
    work, workload = lt.bnncompare_row(laplace_fit, iris.x_train, iris.y_train)
    assert work() == 1
    assert workload["prior_precision"] == laplace_fit.prior_precision_


def test_posteriors_potential_is_ours(ps):
    """Full batch: n times the library's log posterior is minus our NUTS potential."""
    spec = net.MLPSpec(4, 3, HIDDEN, "tanh")
    gen = torch.Generator().manual_seed(0)
    x, y = torch.randn(30, 4, generator=gen), torch.randint(0, 3, (30,), generator=gen)
    theta = net.init_theta(spec, gen)
    value, aux = ps.log_posterior_fn(spec, len(x), prior_scale=0.7)(theta, (x, y))
    expected = -make_potential(spec, x, y, 0.7)({"theta": theta})
    torch.testing.assert_close(len(x) * value, expected)
    assert isinstance(aux, torch.Tensor)


def test_posteriors_step_is_our_sde(ps):
    """One library step, its noise replaced by a known draw, is our update in velocity form
    ``v = eps m`` (explicit Euler: the position moves by the old velocity)."""
    posteriors = ps._import_posteriors()
    spec = net.MLPSpec(4, 3, (5,), "tanh")
    gen = torch.Generator().manual_seed(1)
    x, y = torch.randn(20, 4, generator=gen), torch.randint(0, 3, (20,), generator=gen)
    theta, v0 = net.init_theta(spec, gen), 0.01 * torch.randn(spec.n_params, generator=gen)
    lr, friction, n = 0.02, 0.1, len(x)
    settings = ps.step_settings(lr, friction, n)
    log_post = ps.log_posterior_fn(spec, n)
    transform = posteriors.sgmcmc.sghmc.build(log_post, momenta=0.0, **settings)
    state = transform.init(theta.clone())
    state = type(state)(state.params, v0 / settings["lr"])  # the momentum of velocity v0
    with torch.random.fork_rng():  # the library's one randn_like: make it ours
        torch.manual_seed(7)
        state, _ = transform.update(state, (x, y))
        torch.manual_seed(7)
        noise = torch.randn_like(theta)
    grad_u = -torch.func.grad(lambda t: log_post(t, (x, y))[0])(theta)
    v1 = (1 - friction) * v0 - lr * grad_u + math.sqrt(2 * friction * lr / n) * noise
    torch.testing.assert_close(state.params, theta + v0)
    torch.testing.assert_close(settings["lr"] * state.momenta, v1, rtol=1e-5, atol=1e-7)


def test_posteriors_row(ps, iris):
    ours = SGHMCClassifier(hidden_sizes=HIDDEN, activation="tanh", random_state=0,
                           **SGHMCClassifier.settings_for("test")).fit(iris.x_train, iris.y_train)
    work, workload, extra = ps.library_row(ours, iris.x_train, iris.y_train, iris.x_test)
    assert workload["num_steps"] == ours.n_grad_evals_
    assert workload["draws"] == ours.n_grad_evals_ // 2 // ours.thin
    assert extra["finite"]
    assert 0 <= extra["tv_to_bnncompare"] < 0.2
    assert extra["agreement_to_bnncompare"] > 0.8
    assert work() == 1
    ours_work, ours_workload = ps.bnncompare_row(ours, iris.x_train, iris.y_train)
    assert ours_work() == 1
    assert ours_workload["num_steps"] == workload["num_steps"]
