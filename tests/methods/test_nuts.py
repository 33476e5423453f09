"""NUTSClassifier: potential and its hand-written gradient, diagnostics (weight and predictive
R-hat), convergence warning, leapfrog accounting, thinning, parallel chains."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from pyro.infer import MCMC, NUTS
from roundoff import EPS32, assert_within, mean_bound, proba_bound

from bnncompare import NUTSClassifier, net
from bnncompare.methods._nuts import FlatNUTS
from bnncompare.methods._potential import ManualGradPotential, value_and_grad
from bnncompare.methods.convergence import R_HAT_LIMIT, predictive_ess_min, predictive_r_hat
from bnncompare.methods.nuts import _stuck_chains, make_potential
from bnncompare.net import MLPSpec

# the net these checks are written for: softmax regression (P = 9 on 2-feature data), stated
# so that no spec changes with the estimators' defaults
NET = {"hidden_sizes": (), "activation": "tanh"}
DIAGNOSTIC_KEYS = {"r_hat_max", "ess_min", "ess_median", "divergences", "mean_tree_depth",
                   "frac_at_max_depth", "predictive_r_hat_max", "predictive_ess_min"}


@pytest.fixture(scope="module")
def healthy(data):
    """Two chains on a 9-weight posterior: converged (measured R-hat 1.02-1.04, 0 divergences)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est = NUTSClassifier(**NET, num_chains=2, num_warmup=100, num_samples=100, max_tree_depth=4,
                             random_state=0).fit(*data)
    return est, [w for w in caught if issubclass(w.category, RuntimeWarning)]


def _softmax_regression_proba(theta, x):
    """Reference forward pass for theta (S, 9) with layout W (2, 3) row-major, then b (3,)."""
    theta = torch.as_tensor(theta).double()
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


@pytest.mark.parametrize(("hidden", "activation"), [((), "tanh"), ((5, 6), "tanh"),
                                                   ((5, 6), "relu")])
def test_hand_written_gradient_equals_autograd(hidden, activation):
    spec = MLPSpec(4, 3, hidden, activation)
    gen = torch.Generator().manual_seed(0)
    x, y = torch.randn(30, 4, generator=gen), torch.randint(0, 3, (30,), generator=gen)
    theta = torch.randn(spec.n_params, generator=gen).requires_grad_()
    expected = make_potential(spec, x, y, 0.7)({"theta": theta})
    (expected_grad,) = torch.autograd.grad(expected, theta)
    value, grad = value_and_grad(spec, x, y, 0.7)(theta.detach())
    # float32 round-off of sums over ~30 rows of O(1) terms: ~1e-6 relative
    torch.testing.assert_close(value, expected.detach(), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(grad, expected_grad, rtol=1e-5, atol=1e-5)


def _pyro_run(kernel_cls, spec, x, y, warmup=60, samples=40, depth=4):
    potential = ManualGradPotential(spec, x, y, 1.0)
    kernel = kernel_cls(potential_fn=potential, max_tree_depth=depth, target_accept_prob=0.8)
    init = net.init_theta(spec, torch.Generator().manual_seed(1))
    with torch.random.fork_rng():
        torch.manual_seed(0)
        mcmc = MCMC(kernel, num_samples=samples, warmup_steps=warmup,
                    initial_params={"theta": init}, disable_progbar=True)
        mcmc.run()
    return (mcmc.get_samples()["theta"], kernel.step_size,
            kernel.inverse_mass_matrix[("theta",)], potential.calls)


@pytest.mark.parametrize(("hidden", "activation"), [((), "tanh"), ((6,), "relu")])
def test_lean_kernel_is_pyros_nuts_draw_for_draw(data, hidden, activation):
    """FlatNUTS replaces Pyro's per-leapfrog code only: same random draws, same arithmetic
    in the same order, so draws, adapted step size and mass matrix, and the number of
    gradient evaluations (hence every tree depth) equal Pyro's NUTS on the same potential."""
    spec = MLPSpec(2, 3, hidden, activation)
    x, y = torch.as_tensor(data[0]), torch.as_tensor(data[1])
    theirs = _pyro_run(NUTS, spec, x, y)
    ours = _pyro_run(FlatNUTS, spec, x, y)
    assert torch.equal(ours[0], theirs[0])
    assert ours[1] == theirs[1]
    assert torch.equal(ours[2], theirs[2])
    assert ours[3] == theirs[3]
    assert ours[0].std(0).min() > 0  # the chain moved: the comparison is not vacuous


def test_diagnostics_present_and_sane(healthy):
    est, _ = healthy
    d = est.diagnostics_
    assert set(d) == DIAGNOSTIC_KEYS
    assert isinstance(d["divergences"], int) and d["divergences"] >= 0
    assert 0 <= d["frac_at_max_depth"] <= 1
    assert 1 <= d["mean_tree_depth"] <= est.max_tree_depth
    assert 1 <= d["r_hat_max"] < 1.1
    assert 0.98 <= d["predictive_r_hat_max"] < 1.1
    assert 0 < d["ess_min"] <= d["ess_median"] <= 2 * 200  # ESS of 200 draws (antithetic: < 2x)
    assert est.samples_.shape == (200, 9)


def test_samples_are_a_float32_array_apart_from_prediction(healthy, data):
    est, _ = healthy
    assert isinstance(est.samples_, np.ndarray) and est.samples_.dtype == np.float32
    before = est.predict_proba(data[0])
    est.samples_[:] = 0.0  # a copy: writing into it leaves the fitted posterior alone
    try:
        np.testing.assert_array_equal(est.predict_proba(data[0]), before)
    finally:
        est.samples_[:] = est._samples.numpy()


def test_healthy_fit_does_not_warn(healthy):
    est, runtime_warnings = healthy
    assert est.diagnostics_["divergences"] == 0
    assert runtime_warnings == []


def test_chains_start_apart_and_mix(healthy):
    est, _ = healthy
    first, second = est.samples_[:100], est.samples_[100:]
    assert not np.array_equal(first[0], second[0])  # independent chains, not a copy
    # both chains sample the same posterior: means agree within a few posterior sds / sqrt(ESS)
    sd = est.samples_.std(0, ddof=1)
    assert (np.abs(first.mean(0) - second.mean(0)) / sd).max() < 0.6


def test_leapfrog_accounting_at_depth_one(data):
    # max_tree_depth=1: every iteration takes exactly one leapfrog step, so every tree has
    # depth 1 and all sit at the maximum; the only extra gradient evaluations are Pyro's
    # step-size searches at setup and at adaptation-window ends (measured 17 for 50 warmup).
    warmup, samples = 50, 50
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # one step per draw mixes badly
        est = NUTSClassifier(**NET, num_warmup=warmup, num_samples=samples, max_tree_depth=1,
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
    est = NUTSClassifier(hidden_sizes=(8,), activation="tanh", num_chains=2, num_warmup=20,
                         num_samples=20, max_tree_depth=4, random_state=0)
    with pytest.warns(RuntimeWarning, match=r"NUTS diagnostics: .*max predictive R-hat"):
        est.fit(*iris_xy)
    assert est.diagnostics_["predictive_r_hat_max"] > 1.1


@pytest.mark.parametrize(("r_hat", "divergences", "stuck", "warns"), [
    (1.01, 0, 0, False), (R_HAT_LIMIT, 0, 0, False), (1.2, 0, 0, True), (1.01, 3, 0, True),
    (float("nan"), 0, 0, True), (float("inf"), 0, 0, True), (1.0, 0, 1, True)])
def test_warning_rule(healthy, r_hat, divergences, stuck, warns):
    # NaN R-hat: fewer than 4 draws, nothing judged; a chain that never moved (its predictive
    # is constant, R-hat 1.0) must not pass silently either. Weight-space R-hat does not enter
    # the rule (symmetric modes keep it high).
    est, _ = healthy
    saved = est.diagnostics_
    est.diagnostics_ = {**saved, "predictive_r_hat_max": r_hat, "divergences": divergences,
                        "r_hat_max": 5.0}
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            est._warn_if_unhealthy(stuck)
    finally:
        est.diagnostics_ = saved
    assert any(issubclass(w.category, RuntimeWarning) for w in caught) == warns


def test_stuck_chains_are_counted():
    draws = torch.randn(3, 5, 4)
    draws[1] = draws[1, 0]  # chain 1 never moved
    assert _stuck_chains(draws) == 1
    assert _stuck_chains(draws[:, :1]) == 0  # one draw: no chance to move, not stuck


def test_more_predictive_samples_than_draws_raises(data):
    # 2 chains x 10 draws = 20 retained; asking predict for 21 is an error, not a resample
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        est = NUTSClassifier(**NET, num_chains=2, num_warmup=10, num_samples=10, max_tree_depth=2,
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
        est = NUTSClassifier(**NET, num_warmup=30, num_samples=41, max_tree_depth=3,
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
    est = NUTSClassifier(**NET, num_warmup=3, num_samples=3, max_tree_depth=2, random_state=0)
    with pytest.warns(RuntimeWarning, match="R-hat"):
        est.fit(iris.x_train, iris.y_train)
    assert np.isnan(est.diagnostics_["r_hat_max"]) and np.isnan(est.diagnostics_["ess_min"])
    assert np.isnan(est.diagnostics_["predictive_r_hat_max"])
    assert np.isnan(est.diagnostics_["predictive_ess_min"])
    assert est.predict_proba(iris.x_test).shape == (len(iris.x_test), 3)


def _gaussian_chains(offsets, draws=500, seed=0):
    """Chains (K, draws, 4, 3) of softmax probabilities of logits ~ N(offset_k, 1) iid:
    chains whose 'posterior' is one known Gaussian (equal offsets) or sits in different modes."""
    gen = torch.Generator().manual_seed(seed)
    logits = torch.randn(len(offsets), draws, 4, 3, generator=gen, dtype=torch.float64)
    logits += torch.tensor(offsets, dtype=torch.float64)[:, None, None, None] \
        * torch.tensor([1.0, -1.0, 0.0], dtype=torch.float64)
    return torch.softmax(logits, -1)


def test_predictive_r_hat_near_one_for_chains_on_one_gaussian():
    # 4 chains x 500 iid draws of one distribution: split R-hat - 1 is O(1/draws)
    r_hat = predictive_r_hat(_gaussian_chains([0.0] * 4))
    assert r_hat.shape == (4, 3) and 0.99 < r_hat.min() and r_hat.max() < 1.01


def test_predictive_r_hat_far_above_one_for_chains_in_different_modes():
    # chains centred 3 logit-sds apart never overlap in their class probabilities
    assert predictive_r_hat(_gaussian_chains([0.0, 3.0, 0.0, 3.0])).max() > 2.0


def test_predictive_r_hat_counts_constant_entries_as_converged():
    proba = _gaussian_chains([0.0, 0.0])
    proba[..., 0, :] = torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)  # pinned input
    r_hat = predictive_r_hat(proba)
    np.testing.assert_array_equal(r_hat[0], 1.0)
    assert 0.99 < r_hat[1:].min() and r_hat.max() < 1.02
    np.testing.assert_array_equal(predictive_r_hat(torch.ones(2, 10, 3, 2)), 1.0)
    # constant within each chain but not across them: chains that disagree, not converged
    apart = torch.ones(2, 10, 3, 2) * torch.tensor([0.25, 0.75])[:, None, None, None]
    assert np.isinf(predictive_r_hat(apart)).all()


def test_predictive_r_hat_of_the_fit_equals_one_over_its_own_draws(healthy, data):
    est, _ = healthy
    proba = torch.as_tensor(est.predict_proba_samples(data[0])).reshape(2, 100, 20, 3)
    assert est.diagnostics_["predictive_r_hat_max"] == pytest.approx(
        predictive_r_hat(proba).max(), rel=1e-6)


def test_parallel_chains_are_bit_identical_to_sequential(data):
    # Pyro's kernel, one chain per process (the vectorised path: test_vnuts)
    kwargs = dict(**NET, num_chains=3, num_warmup=20, num_samples=15, max_tree_depth=3,
                  random_state=4, chain_method="pyro")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        sequential = NUTSClassifier(n_jobs=1, **kwargs).fit(*data)
        parallel = NUTSClassifier(n_jobs=2, **kwargs).fit(*data)
    np.testing.assert_array_equal(sequential.samples_, parallel.samples_)
    assert sequential.n_grad_evals_ == parallel.n_grad_evals_
    assert sequential.diagnostics_ == parallel.diagnostics_
    # and a chain does not depend on which others run: chain 0 alone is the same chain
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        single = NUTSClassifier(**{**kwargs, "num_chains": 1}).fit(*data)
    np.testing.assert_array_equal(single.samples_, sequential.samples_[:15])


def test_n_jobs_must_be_positive(data):
    with pytest.raises(ValueError, match="n_jobs"):
        NUTSClassifier(n_jobs=0).fit(*data)


def test_predictive_ess_of_iid_chains_is_their_draw_count():
    # 4 chains x 500 iid draws: ESS ~ 2000 for every entry (sd of the estimate ~ a few %)
    ess = predictive_ess_min(_gaussian_chains([0.0] * 4))
    assert 0.75 * 2000 < ess < 1.25 * 2000


def test_predictive_ess_of_sticky_chains_is_far_smaller():
    """Each draw repeated 20 times: 2000 draws worth about 100 independent ones."""
    sticky = _gaussian_chains([0.0] * 4, draws=25).repeat_interleave(20, dim=1)
    assert predictive_ess_min(sticky) < 200


def test_predictive_ess_leaves_out_entries_no_draw_moves():
    proba = _gaussian_chains([0.0] * 2)
    pinned = proba.clone()
    pinned[..., 0, :] = torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)
    moving = predictive_ess_min(proba[..., 1:, :])
    assert predictive_ess_min(pinned) == pytest.approx(moving)
    assert np.isnan(predictive_ess_min(torch.ones(2, 10, 3, 2)))


def test_predictive_ess_of_the_fit_is_over_its_own_draws(healthy, data):
    est, _ = healthy
    proba = torch.as_tensor(est.predict_proba_samples(data[0])).reshape(2, 100, 20, 3)
    assert est.diagnostics_["predictive_ess_min"] == pytest.approx(
        predictive_ess_min(proba), rel=1e-5)


def test_default_is_vectorized_and_parallel_is_the_old_name_of_pyro(data, monkeypatch):
    assert NUTSClassifier().chain_method == "vectorized"
    kwargs = dict(**NET, num_warmup=10, num_samples=8, max_tree_depth=2, random_state=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        pyro = NUTSClassifier(chain_method="pyro", **kwargs).fit(*data)
        old = NUTSClassifier(chain_method="parallel", **kwargs).fit(*data)
        # a single chain with n_jobs=None never starts a worker process
        import bnncompare.methods._pool as pool

        def no_pool(*args, **kwargs):
            raise AssertionError("a single-chain fit started a process pool")

        monkeypatch.setattr(pool, "ProcessPoolExecutor", no_pool)
        vec = NUTSClassifier(**kwargs).fit(*data)
    np.testing.assert_array_equal(pyro.samples_, old.samples_)
    assert vec.n_batched_grad_calls_ == vec.n_grad_evals_  # one chain: one batch of one


@pytest.mark.parametrize("chain_method", ["vectorized", "pyro"])
def test_sample_stats_per_draw(data, chain_method):
    """``sample_stats_``: (chains, draws) arrays; divergences and tree depths agree with
    ``diagnostics_`` and the leapfrog counts; the energy (vectorised only) is the finite
    Hamiltonian, never below the potential at the draw."""
    chains, draws = 2, 25
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        est = NUTSClassifier(**NET, num_chains=chains, num_warmup=30, num_samples=draws,
                             max_tree_depth=4, chain_method=chain_method, n_jobs=1,
                             random_state=0).fit(*data)
    stats = est.sample_stats_
    expected = {"diverging", "tree_depth", "n_steps", "step_size"}
    assert set(stats) == expected | ({"energy"} if chain_method == "vectorized" else set())
    for name, array in stats.items():
        assert isinstance(array, np.ndarray) and array.shape == (chains, draws), name
    assert stats["diverging"].dtype == bool
    assert int(stats["diverging"].sum()) == est.diagnostics_["divergences"]
    depth, steps = stats["tree_depth"], stats["n_steps"]
    assert (2 ** (depth - 1) <= steps).all() and (steps <= 2**depth - 1).all()
    assert (depth >= 1).all() and (depth <= est.max_tree_depth).all()
    assert depth.mean() == pytest.approx(est.diagnostics_["mean_tree_depth"])
    assert steps.sum() <= est.n_useful_grad_evals_
    step = stats["step_size"]
    assert (step > 0).all() and (step == step[:, :1]).all()
    if chain_method == "vectorized":
        theta = torch.as_tensor(est.samples_).reshape(chains, draws, -1)
        evaluate = value_and_grad(est.spec_, torch.as_tensor(data[0]), torch.as_tensor(data[1]),
                                  1.0)
        potential = np.array([[float(evaluate(t)[0]) for t in chain] for chain in theta])
        kinetic = stats["energy"] - potential  # H = U + |u|^2 / 2 at the draw
        assert np.isfinite(kinetic).all() and (kinetic >= -1e-3).all()
        # at equilibrium |u|^2 / 2 ~ Gamma(P / 2): mean 4.5 for P = 9, sd of a 50-draw mean
        # ~0.3 (measured 4.1-4.6 over seeds 0-3)
        assert 3.0 < kinetic.mean() < 6.0
