"""The vectorised NUTS (``chain_method="vectorized"``): batched gradient, agreement with Pyro's
NUTS and with the importance-sampling reference, per-chain randomness, masking of stopped
chains, the warm-up schedule, and the estimator contract."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest
import test_contract
import torch
from pyro.infer import MCMC, NUTS
from pyro.infer.mcmc.adaptation import WarmupAdapter
from test_contract import blobs  # noqa: F401 (the contract's fixture)
from test_known_answers import (
    NET,
    X_TEST,
    _importance_reference,
    _tiny_problem,
    assert_matches_importance_sampling,
)

from bnncompare import NUTSClassifier
from bnncompare.methods._adapt import BatchedAdapter, adaptation_schedule, run_nuts
from bnncompare.methods._potential import batched_value_and_grad, make_potential
from bnncompare.methods._vnuts import BatchedNUTS, draw_randoms
from bnncompare.net import MLPSpec

pytestmark = pytest.mark.filterwarnings("ignore:NUTS diagnostics:RuntimeWarning")


# ------------------------------------------------------------------------ batched gradient
# nets and row counts where, before the data's rows were padded to 16, a chain's gradient
# changed with its batch (BLAS rounds by memory alignment): a digits-like 64-50-10 net and a
# 4-9-11-6 net on 105 rows (105 x width floats put chain c off a 64-byte boundary)
@pytest.mark.parametrize(("n_features", "hidden", "n_classes", "activation", "n_rows"), [
    (4, (), 3, "tanh", 30), (4, (5, 6), 3, "tanh", 30), (4, (5, 6), 3, "relu", 30),
    (64, (50,), 10, "tanh", 105), (4, (9, 11), 6, "relu", 105)])
def test_batched_gradient_equals_autograd_per_chain(n_features, hidden, n_classes, activation,
                                                    n_rows):
    spec = MLPSpec(n_features, n_classes, hidden, activation)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(n_rows, n_features, generator=gen)
    y = torch.randint(0, n_classes, (n_rows,), generator=gen)
    theta = 0.5 * torch.randn(4, spec.n_params, generator=gen)
    evaluate = batched_value_and_grad(spec, x, y, 0.7)
    value, grad = evaluate(theta)
    assert value.shape == (4,) and grad.shape == theta.shape
    for k in range(4):
        leaf = theta[k].clone().requires_grad_()
        expected = make_potential(spec, x, y, 0.7)({"theta": leaf})
        (expected_grad,) = torch.autograd.grad(expected, leaf)
        # float32 round-off of sums over ~100 rows of O(1) terms: ~1e-6 relative (as for the
        # one-chain gradient in test_nuts); a wrong slice or chain mix-up is O(1) off
        torch.testing.assert_close(value[k], expected.detach(), rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(grad[k], expected_grad, rtol=1e-5, atol=1e-5)
    # a chain's numbers do not depend on the batch it is in (per-chain determinism rests on
    # it): every chain alone and in every sub-batch, bit for bit
    for start in range(4):
        for stop in range(start + 1, 5):
            part_value, part_grad = evaluate(theta[start:stop].clone())
            assert torch.equal(part_value, value[start:stop]), (start, stop)
            assert torch.equal(part_grad, grad[start:stop]), (start, stop)


def test_batched_gradient_first_called_under_inference_mode_works_outside_it():
    # the vectorised NUTS calls it under torch.inference_mode; its reusable weight buffer must
    # not become an inference tensor that a later call outside that mode may not write
    spec = MLPSpec(4, 3, (5,), "tanh")
    gen = torch.Generator().manual_seed(0)
    x, y = torch.randn(20, 4, generator=gen), torch.randint(0, 3, (20,), generator=gen)
    theta = torch.randn(2, spec.n_params, generator=gen)
    evaluate = batched_value_and_grad(spec, x, y, 0.7)
    with torch.inference_mode():
        inside = evaluate(theta)
    outside = evaluate(theta)
    assert torch.equal(inside[0], outside[0]) and torch.equal(inside[1], outside[1])


# -------------------------------------------------------------- Gaussian targets, helpers
SCALES = torch.tensor([0.5, 1.0, 2.0, 3.0, 0.7, 1.5, 1.0, 2.5, 0.8, 1.2])


def _gaussian(scales):
    """``theta (K, P) -> (U, dU)`` of N(0, diag(scales^2)), and Pyro's potential_fn of it."""
    precision = scales.pow(-2)

    def evaluate(theta):
        return 0.5 * (theta * theta * precision).sum(1), theta * precision

    def potential(params):
        return 0.5 * (params["theta"].pow(2) * precision).sum()

    return evaluate, potential


def _ours(scales, chains, warmup, samples, depth, seed=0):
    gens = [torch.Generator().manual_seed(seed + c) for c in range(chains)]
    init = torch.stack([torch.rand(len(scales), generator=g) * 4 - 2 for g in gens])
    return run_nuts(_gaussian(scales)[0], init, gens, warmup, samples, depth, 0.8)


def _pyros(scales, chains, warmup, samples, depth, seed=0):
    """Pyro's own NUTS (autograd) on the same potential, chain by chain: adapted step size,
    tree depth of each sampling iteration (from its potential calls: one per leapfrog step
    while sampling), divergences, draws."""
    calls = []
    _, potential = _gaussian(scales)

    def counting(params):
        calls.append(1)
        return potential(params)

    out = {"step_size": [], "depths": [], "divergences": 0, "draws": []}
    for c in range(chains):
        kernel = NUTS(potential_fn=counting, max_tree_depth=depth, target_accept_prob=0.8)
        init = torch.rand(len(scales), generator=torch.Generator().manual_seed(seed + c)) * 4 - 2
        marks: list[tuple[str, int]] = []

        def record(_kernel, _params, stage, _i, marks=marks):
            marks.append((stage, len(calls)))

        with torch.random.fork_rng():
            torch.manual_seed(seed + c)
            mcmc = MCMC(kernel, num_samples=samples, warmup_steps=warmup,
                        initial_params={"theta": init}, disable_progbar=True,
                        hook_fn=record)
            mcmc.run()
        out["depths"] += [math.floor(math.log2(b - a)) + 1
                          for (_, a), (stage, b) in itertools.pairwise(marks)
                          if stage == "Sample"]
        out["step_size"].append(kernel.step_size)
        out["divergences"] += len(kernel._divergences)
        out["draws"].append(mcmc.get_samples()["theta"])
    return out


@pytest.fixture(scope="module")
def gaussian_runs():
    """Ours and Pyro's NUTS, 2 chains each, 150 warm-up + 120 draws, depth 6, 10-D Gaussian
    with scales 0.5-3 (the mass matrix must adapt: the scales span a factor 6)."""
    return _ours(SCALES, 2, 150, 120, 6), _pyros(SCALES, 2, 150, 120, 6)


def test_adaptation_agrees_with_pyros_nuts(gaussian_runs):
    ours, pyros = gaussian_runs
    # step size: each run's dual-averaging result scatters by ~10-15 % (measured over seeds);
    # mean over 2 chains each side within 25 % (measured ratio 0.93-1.08 over seeds 0, 10, 20,
    # 30). A wrong acceptance statistic or schedule moves it by a factor (target 0.8)
    theirs = float(np.mean(pyros["step_size"]))
    assert float(ours.step_size.mean()) == pytest.approx(theirs, rel=0.25)
    # the mass matrix follows the target's scales (one 25-draw Welford window at 150 warm-up
    # iterations: each sd ~15 % off, so compare in log space across the 10 scales, which span
    # a factor 6: measured correlation 0.95-0.98; no adaptation gives none)
    log_sd = ours.inverse_mass.sqrt().log().mean(0)
    assert np.corrcoef(log_sd.numpy(), SCALES.log().numpy())[0, 1] > 0.9
    # tree depth of the sampling iterations: depth = floor(log2(steps)) + 1 (as NUTSClassifier);
    # measured |difference| <= 0.04 over the same seeds; a wrong U-turn sign moves the mean
    # depth by >= 1 (test_subtrees_match_pyros_build_tree checks the U-turn logic exactly)
    depth = float((ours.steps.double().log2().floor() + 1).mean())
    assert depth == pytest.approx(float(np.mean(pyros["depths"])), abs=0.25)
    assert int(ours.divergences.sum()) == 0 == pyros["divergences"]


def test_gaussian_moments_within_monte_carlo_error():
    draws = _ours(SCALES, 4, 150, 500, 6).draws.reshape(-1, len(SCALES))
    # 2,000 draws, ESS per draw ~0.5-1.5 on a Gaussian (antithetic NUTS): ESS >= 1,000.
    # mean 0 within 4 / sqrt(1000) sd; sd within 10 % (se of an sd ~ 1 / sqrt(2 ESS) = 2.2 %)
    assert (draws.mean(0).abs() / SCALES).max() < 4 / math.sqrt(1000)
    np.testing.assert_allclose(draws.std(0), SCALES, rtol=0.1)


@pytest.mark.parametrize("direction", [1, -1])
def test_subtrees_match_pyros_build_tree(direction):
    """Each chain's subtree, built in one batch, stops at the same leaf for the same reason
    (U-turn of a sub-subtree or of the whole subtree, divergence) as Pyro's recursive
    ``NUTS._build_tree`` from the same state: the U-turn logic, leaf by leaf. Float64 on both
    sides, so a U-turn decision cannot flip by round-off."""
    scales = torch.tensor([0.3, 1.0, 2.0, 0.6, 1.4], dtype=torch.float64)
    evaluate, potential = _gaussian(scales)
    gen = torch.Generator().manual_seed(3)
    k, depth = 48, 4
    z = torch.randn(k, 5, generator=gen, dtype=torch.float64) * scales
    r = torch.randn(k, 5, generator=gen, dtype=torch.float64)
    # step sizes from tiny (no U-turn within 16 leaves) to unstable (divergence)
    steps = torch.logspace(-1.5, 0.9, k, dtype=torch.float64)
    ours = BatchedNUTS(evaluate, k, 5, depth + 1, z)
    pe, grad = evaluate(z)
    energy0 = pe + 0.5 * (r * r).sum(1)
    signed = (direction * steps).unsqueeze(1)
    end, _, _, log_w, r_sum, ok, (_, built) = ours._subtree(
        (z, r, grad), signed, depth, energy0, torch.ones(k, dtype=torch.bool),
        torch.full((k,), 0.5, dtype=torch.float64))
    kernel = NUTS(potential_fn=potential, max_tree_depth=depth + 1)
    kernel.initial_params = {"theta": z[0]}
    with torch.random.fork_rng():
        kernel.setup(warmup_steps=0)
    outcomes = set()
    for c in range(k):
        kernel._adapter.step_size = float(steps[c])
        tree = kernel._build_tree({"theta": z[c]}, {"theta": r[c]}, {"theta": grad[c]},
                                  -energy0[c], direction, depth, energy0[c])
        assert int(built[c].sum()) == tree.num_proposals, c
        assert bool(ok[c]) == (not (tree.turning or tree.diverging)), c
        if ok[c]:  # a complete subtree: same far end, weight and momentum sum
            far = tree.z_right if direction == 1 else tree.z_left
            torch.testing.assert_close(end[0][c], far["theta"])
            torch.testing.assert_close(log_w[c], tree.weight)
            torch.testing.assert_close(r_sum[c], tree.r_sum[("theta",)])
        outcomes.add((tree.num_proposals, bool(tree.turning), bool(tree.diverging)))
    # not vacuous: stops at several different leaves, complete trees, and divergences
    assert len({n for n, _, _ in outcomes}) >= 4
    assert any(t for _, t, _ in outcomes) and any(d for _, _, d in outcomes)
    assert any(n == 2**depth and not t and not d for n, t, d in outcomes)


# -------------------------------------------------------------- known-answer posterior
@pytest.fixture(scope="module")
def reference():
    x, y = _tiny_problem()
    return _importance_reference(x, y, X_TEST)


def test_matches_importance_sampling(reference):
    x, y = _tiny_problem()
    est = NUTSClassifier(**NET, num_chains=4, num_warmup=200, num_samples=250, max_tree_depth=5,
                         chain_method="vectorized", n_jobs=1, random_state=0)
    est.fit(x.astype(np.float32), y)
    # the tolerances of test_known_answers.test_nuts_matches_importance_sampling (1000 draws,
    # ESS >= ~580 there; here 4 x 250 draws, ESS measured 490-680): 0.03 on every predictive
    # probability (~3 combined se), posterior mean within 0.2 sd, sd within 15 % (measured
    # seeds 0-2: 0.009-0.010, 0.06-0.09 sd, 6-8 %)
    assert_matches_importance_sampling(est, reference)


# ------------------------------------------------------------------- determinism, masking
def test_chain_draws_do_not_depend_on_batch_or_n_jobs(data):
    kwargs = dict(**NET, num_chains=3, num_warmup=20, num_samples=15, max_tree_depth=3,
                  random_state=4, chain_method="vectorized")
    one_batch = NUTSClassifier(n_jobs=1, **kwargs).fit(*data)
    two_procs = NUTSClassifier(n_jobs=2, **kwargs).fit(*data)   # groups [0, 1] and [2]
    alone = NUTSClassifier(n_jobs=1, **{**kwargs, "num_chains": 1}).fit(*data)
    np.testing.assert_array_equal(one_batch.samples_, two_procs.samples_)
    np.testing.assert_array_equal(alone.samples_, one_batch.samples_[:15])
    assert one_batch.diagnostics_ == two_procs.diagnostics_
    assert one_batch.samples_.std(0).min() > 0  # the chains moved: not vacuous
    # the work differs: 3 chains in one batch compute each call for all three
    assert one_batch.n_grad_evals_ == 3 * one_batch.n_batched_grad_calls_
    assert one_batch.n_useful_grad_evals_ <= one_batch.n_grad_evals_


def _one_transition(step_sizes, scales, seed=0):
    """One transition of a batch on N(0, diag(scales^2)) with fixed per-chain step sizes."""
    k, p = len(step_sizes), len(scales)
    gens = [torch.Generator().manual_seed(seed + c) for c in range(k)]
    kernel = BatchedNUTS(_gaussian(scales)[0], k, p, 5, torch.zeros(k, p))
    kernel.step_size = torch.tensor(step_sizes, dtype=torch.float64)
    z = torch.stack([torch.randn(p, generator=g) for g in gens])
    pe, grad = kernel.evaluate(z)
    (z_new, _, _), info = kernel.transition(z, pe, grad, draw_randoms(gens, p, 5, z))
    return z, z_new, info


def test_stopped_chains_do_not_move_and_do_not_disturb_others():
    # chain 0's step (1e3) diverges on its first leapfrog step; chain 1's (0.3) builds a tree
    z, z_new, info = _one_transition([1e3, 0.3], SCALES)
    assert info.diverged.tolist() == [True, False]
    assert info.steps[0] == 1 and info.steps[1] > 3
    assert torch.equal(z_new[0], z[0])           # masked: its state did not change
    assert not torch.equal(z_new[1], z[1])
    # and each chain's transition equals the one it makes in a batch of its own: nothing of
    # the longer tree leaks into the stopped chain, nothing of it into the longer one
    for c in (0, 1):
        alone_z, alone_new, alone_info = _one_transition([[1e3, 0.3][c]], SCALES, seed=c)
        assert torch.equal(alone_z[0], z[c]) and torch.equal(alone_new[0], z_new[c])
        assert alone_info.steps[0] == info.steps[c]


def test_short_and_long_trees_in_one_batch():
    # one chain with a small step (long tree), one with a large stable step (short tree):
    # the short one stops at an earlier doubling and must be the same as alone
    _, z_new, info = _one_transition([0.05, 1.2], torch.ones(10))
    assert info.steps[0] > info.steps[1] >= 1 and not info.diverged.any()
    for c in (0, 1):
        _, alone_new, _ = _one_transition([[0.05, 1.2][c]], torch.ones(10), seed=c)
        assert torch.equal(alone_new[0], z_new[c])


# --------------------------------------------------------------------- warm-up schedule
@pytest.mark.parametrize("num_warmup", [10, 50, 150, 300])
def test_adapter_follows_pyros_warmup_adapter(monkeypatch, num_warmup):
    """Fed the same positions and acceptance probabilities, the batched adapter gives each
    chain the step size and inverse mass matrix Pyro's ``WarmupAdapter`` gives it, after every
    warm-up iteration: same windows (Stan's, t counted from 1 as Pyro's kernel does), dual
    averaging, Welford estimates and resets. The step-size search (random) is fixed at 0.5
    on both sides; it runs at the same iterations or the step sizes would differ."""
    k, p = 2, 3
    searches = []

    def fixed_search(*_args):
        searches.append(1)
        return torch.full((k,), 0.5, dtype=torch.float64)

    monkeypatch.setattr("bnncompare.methods._adapt.find_reasonable_step_size", fixed_search)
    kernel = BatchedNUTS(_gaussian(torch.ones(p))[0], k, p, 3, torch.zeros(k, p))
    ours = BatchedAdapter(kernel, num_warmup, 0.8, None)
    gen = torch.Generator().manual_seed(9)
    positions = torch.randn(num_warmup, k, p, generator=gen)
    accept = torch.rand(num_warmup, k, generator=gen, dtype=torch.float64)
    theirs = []
    for c in range(k):
        adapter = WarmupAdapter(adapt_step_size=True, adapt_mass_matrix=True,
                                target_accept_prob=0.8)
        adapter.configure(num_warmup, initial_step_size=1.0,
                          mass_matrix_shape={("theta",): (p,)},
                          find_reasonable_step_size_fn=lambda _z: 0.5)
        adapter.reset_step_size_adaptation({"theta": positions[0, c]})
        theirs.append(adapter)
    ours.reset_step_size(positions[0], None, None)
    for t in range(1, num_warmup + 1):
        ours.step(t, positions[t - 1], None, None, accept[t - 1])
        for c, adapter in enumerate(theirs):
            adapter.step(t, {"theta": positions[t - 1, c]}, accept[t - 1, c])
            # float64 dual averaging on both sides, the same operations: equal to round-off
            assert float(kernel.step_size[c]) == pytest.approx(adapter.step_size, rel=1e-12)
            torch.testing.assert_close(kernel.inverse_mass[c],
                                       adapter.mass_matrix_adapter.inverse_mass_matrix[("theta",)])
    middle = len(adaptation_schedule(num_warmup)) - 2
    assert len(searches) == 1 + max(0, middle)
    if middle > 0:  # the mass matrix did adapt (not the initial identity): not vacuous
        assert not torch.equal(kernel.inverse_mass, torch.ones(k, p))


# --------------------------------------------------------------------- estimator contract
def test_chain_method_is_validated(data):
    with pytest.raises(ValueError, match="chain_method"):
        NUTSClassifier(chain_method="vectorised").fit(*data)


def test_iris_accuracy_vectorized(iris):
    est = NUTSClassifier(hidden_sizes=(20, 50, 20), activation="relu", num_warmup=60,
                         num_samples=60, max_tree_depth=5, chain_method="vectorized",
                         num_chains=2, n_jobs=1, random_state=0)
    est.fit(iris.x_train, iris.y_train)
    assert np.mean(est.predict(iris.x_test) == iris.y_test) >= 0.9
    assert est.diagnostics_["mean_tree_depth"] > 3  # it sampled, not a degenerate depth-1 run


@pytest.fixture
def vectorized_settings(monkeypatch):
    """The contract's NUTS test settings with chain_method="vectorized"."""
    monkeypatch.setitem(test_contract.FAST, "nuts",
                        {**test_contract.FAST["nuts"], "chain_method": "vectorized"})


CONTRACT = [
    (test_contract.test_fit_returns_self_and_sets_fitted_attributes, {}),
    (test_contract.test_nuts_grad_evals_bounded, {}),
    (test_contract.test_same_seed_bit_identical_different_seed_differs, {}),
    (test_contract.test_fit_and_predict_leave_global_rng_untouched, {"seed": 0}),
    (test_contract.test_predict_maps_back_through_classes, {"labels": np.array([9, 3, 7])}),
    (test_contract.test_fitted_models_are_independent, {}),
]


@pytest.mark.parametrize(("check", "extra"), CONTRACT, ids=[c.__name__ for c, _ in CONTRACT])
def test_contract_holds_vectorized(vectorized_settings, blobs, check, extra):  # noqa: F811
    kwargs = {"blobs": blobs, **extra}
    if "name" in check.__code__.co_varnames[:check.__code__.co_argcount]:
        kwargs["name"] = "nuts"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        check(**kwargs)
    est = test_contract._make("nuts")
    assert est.chain_method == "vectorized"  # the settings really reached the estimator


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_vectorized_fit(blobs):  # noqa: F811
    x, y = blobs
    torch.cuda.manual_seed_all(11)
    before = torch.cuda.get_rng_state()
    est = NUTSClassifier(**NET, num_chains=2, num_warmup=30, num_samples=30,
                         max_tree_depth=3, chain_method="vectorized", device="cuda",
                         random_state=0).fit(x, y)
    assert torch.equal(torch.cuda.get_rng_state(), before)  # per-chain generators only
    proba = est.predict_proba(x)
    np.testing.assert_allclose(proba.sum(1), 1.0, atol=1e-12)
    assert np.mean(est.predict(x) == y) >= 0.95
    assert est._samples.device.type == "cuda"  # the draws stay on the device for prediction
    assert isinstance(est.samples_, np.ndarray) and est.samples_.std(0).min() > 0
