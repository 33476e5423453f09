"""The peers compute the same thing as bnncompare: a speed ratio is only meaningful then."""

from __future__ import annotations

import numpy as np
import pyro
import pyro.poutine as poutine
import pytest
import torch
from roundoff import EPS32, assert_within, mean_bound, proba_bound

from bnncompare import net, peers
from bnncompare.methods.nuts import make_potential
from bnncompare.peers import floors, tutorial

SPEC = net.MLPSpec(4, 3, (5, 6), "tanh")


@pytest.fixture
def draws():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(7, 4, generator=gen)
    y = torch.tensor([0, 1, 2, 0, 1, 2, 0])
    theta = torch.randn(5, SPEC.n_params, generator=gen)
    return x, y, theta


def _mean_proba_tolerance(theta, x):
    """Two float32 predictive means of the same draws, computed through different GEMMs:
    each draw's round-off (both sides) plus two orders of summing the S draws."""
    exact = net.proba_samples(SPEC, theta.double(), x.double())
    per_draw = proba_bound(SPEC, theta, x, exact)
    return 2 * per_draw.mean(0) + mean_bound(len(theta), exact.mean(0))


def test_predict_floor_equals_library_forward(draws):
    x, _, theta = draws
    expected = net.mean_proba(SPEC, theta, x)
    got = floors.predict_floor(floors.layer_tensors(SPEC, theta), x)
    assert_within(got, expected, _mean_proba_tolerance(theta, x), "torch floor")


def test_pyro_predictive_on_tutorial_model_equals_library_forward(draws):
    x, _, theta = draws
    model = tutorial.TutorialBNN(SPEC, 1.0)
    got = tutorial.predictive_loop(model, tutorial.weights_as_tutorial_samples(SPEC, theta), x)
    assert_within(got, net.mean_proba(SPEC, theta, x), _mean_proba_tolerance(theta, x),
                  "Pyro Predictive")


def test_tutorial_model_has_the_same_log_joint_as_our_potential(draws):
    """Same prior, same likelihood: log p(theta, y) differs from -U(theta) by the Gaussian
    normalising constant only, P * log(sqrt(2 pi) * prior_scale)."""
    x, y, theta = draws
    prior_scale, one = 0.7, theta[0]
    samples = tutorial.weights_as_tutorial_samples(SPEC, one)
    model = tutorial.TutorialBNN(SPEC, prior_scale)
    trace = poutine.trace(poutine.condition(model, data=samples)).get_trace(x, y)
    log_joint = trace.log_prob_sum()
    potential = make_potential(SPEC, x, y, prior_scale)({"theta": one})
    constant = SPEC.n_params * np.log(np.sqrt(2 * np.pi) * prior_scale)
    # float32 sums of P prior and n likelihood terms on each side, in different orders:
    # within (P + n + 1) eps of the terms' absolute sum, |log p| + |U| (all terms share a sign)
    tol = (SPEC.n_params + len(y) + 1) * EPS32 * (abs(float(log_joint)) + abs(float(potential)))
    assert float(-log_joint - constant) == pytest.approx(float(potential), abs=tol)


def test_bbb_floor_kl_matches_torch_distributions():
    loc, scale = torch.tensor([0.3, -1.0]), torch.tensor([0.5, 2.0])
    expected = torch.distributions.kl_divergence(
        torch.distributions.Normal(loc, scale), torch.distributions.Normal(0.0, 1.5)).sum()
    torch.testing.assert_close(floors._kl_normal(loc, scale, 1.5), expected)


def _counting(monkeypatch, owner, name):
    """Replace ``owner.name`` by a wrapper that counts its calls; returns the call list."""
    calls, real = [], getattr(owner, name)

    def counted(*args, **kwargs):
        calls.append(name)
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    return calls


def test_floors_and_tutorial_peers_report_the_work_they_did(draws, monkeypatch):
    # Each peer returns its unit count; check it against the gradient passes it really ran
    # (the return value alone restates the argument and could not fail).
    x, y, _ = draws
    grads = _counting(monkeypatch, torch.autograd, "grad")
    backwards = _counting(monkeypatch, torch.Tensor, "backward")
    assert floors.potential_grad_floor(SPEC, x, y, 1.0, 3) == 3 == len(grads)
    assert floors.bbb_floor_steps(SPEC, x, y, 1.0, 2) == 2 == len(backwards)
    assert tutorial.tutorial_svi_steps(SPEC, x, y, 1.0, 2) == 2 == len(backwards) - 2
    assert len(pyro.get_param_store()) == 0  # the tutorial peer leaves no global state
    # NUTS: at least one gradient per iteration, at most 2**depth - 1 (+ setup evaluations)
    leapfrogs = tutorial.tutorial_nuts(SPEC, x, y, 1.0, 3, 3, max_tree_depth=2)
    assert 6 <= leapfrogs <= 6 * 3 + 20


def test_calibration_workload_is_deterministic():
    assert peers.calibration_workload(5, 8) == peers.calibration_workload(5, 8)


@pytest.mark.skipif(not peers.numpyro_available(), reason="numpyro not installed (peers extra)")
def test_numpyro_potential_equals_ours(draws):
    x, y, theta = draws
    from bnncompare.peers.numpyro_nuts import _potential

    potential = _potential(SPEC, x.numpy(), y.numpy(), 0.8)
    expected = make_potential(SPEC, x, y, 0.8)({"theta": theta[0]})
    assert float(potential(theta[0].numpy())) == pytest.approx(float(expected), rel=1e-4)


def test_manual_grad_peer_reports_its_calls(draws):
    x, y, _ = draws
    assert floors.manual_grad_calls(SPEC, x, y, 1.0, 3) == 3
