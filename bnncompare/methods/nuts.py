"""Bayesian MLP sampled with NUTS: a vectorised NUTS by default, Pyro's ``NUTS`` on request.

Fast by construction (measured by ``benchmarks/nuts_speed.py``):
- both samplers run on a flat-parameter ``potential_fn`` of the MLP, not a traced Pyro model
  (3-6x faster per leapfrog step), and that potential's gradient is a hand-written backward
  pass (``_potential``: ~3x faster than autograd on the iris MLP);
- ``chain_method="pyro"`` runs Pyro's NUTS with its per-leapfrog code replaced by a
  flat-tensor one (``_nuts.FlatNUTS``): adaptation, tree doubling and every random draw stay
  Pyro's, and the draws are bit-for-bit those of Pyro's NUTS on the same potential (a test);
- the default sampler (``chain_method="vectorized"``) is this package's NUTS (``_vnuts``,
  checked against Pyro's statistically in ``tests/methods/test_vnuts.py``): K chains in
  lockstep, one batched (K, P) gradient per leapfrog step, the chains split into ``n_jobs``
  processes (one core and one torch thread each, ``_chains``); per-chain seeds make the draws
  bit-identical whatever ``n_jobs`` is. Pyro's kernel stays the reference the tests hold
  the default against.
Convergence is judged in function space: weight-space R-hat cannot pass on a BNN (permutation
and sign symmetries put every chain in a different, equivalent mode), so the warning reads the
split R-hat of the predictive probabilities on the training inputs
(``convergence.predictive_r_hat``, the one the reference posteriors are judged by).
"""

from __future__ import annotations

import warnings
from typing import ClassVar

import numpy as np
import torch

from bnncompare import net
from bnncompare.checks import check_fraction, check_nonnegative_int
from bnncompare.methods._chains import ChainSettings, available_cores, run_chains, run_vectorized
from bnncompare.methods._potential import make_potential
from bnncompare.methods.base import BaseMLPClassifier, StoredDrawsMixin, check_positive_int
from bnncompare.methods.convergence import (
    R_HAT_LIMIT,
    ess_and_r_hat,
    finite_max,
    predictive_ess_min,
    predictive_r_hat,
)

__all__ = ["CHAIN_METHODS", "NUTSClassifier", "make_potential"]

CHAIN_METHODS = ("vectorized", "pyro", "parallel")
# "parallel" is the old name of "pyro" (NumPyro's "parallel" means something else: one chain
# per device), accepted for old callers
_PYRO_KERNEL = ("pyro", "parallel")
_QUALITY_CHAINS = {"num_chains": 2, "chain_method": "vectorized", "n_jobs": 1}


class NUTSClassifier(StoredDrawsMixin, BaseMLPClassifier):
    """MLP whose weight posterior is sampled with the No-U-Turn Sampler.

    Parameters
    ----------
    hidden_sizes : tuple of int, default=(50,)
        Widths of the hidden layers; ``()`` gives multinomial logistic regression.
    activation : {'tanh', 'relu'}, default='relu'
    prior_scale : float, default=1.0
        N(0, prior_scale^2) prior on every weight and bias.
    num_warmup : int, default=200
        Adaptation iterations per chain (step size and diagonal mass matrix), discarded.
    num_samples : int, default=200
        Retained draws per chain.
    num_chains : int, default=1
        Independent chains from different random initialisations, each seeded on its own.
    max_tree_depth : int, default=8
        NUTS doubles its trajectory at most this often: at most ``2**max_tree_depth - 1``
        gradient evaluations per draw. BNN posteriors usually hit it (``diagnostics_``).
    target_accept_prob : float, default=0.8
        Dual-averaging target for the step size, in (0, 1).
    random_state : int, RandomState or None, default=None
    device : {'cpu', 'cuda'}, default='cpu'
    num_predictive_samples : int or None, default=None
        Draws used by ``predict_proba*``: None uses all ``num_chains * num_samples``; fewer
        are taken evenly spaced (thinned).
    n_jobs : int or None, default=None
        Processes the chains run in (one core and one torch thread each). None: one per
        chain, up to the cores available (a single chain never starts a process); 1: in
        this process. The draws do not depend on it.
    chain_method : {'vectorized', 'pyro', 'parallel'}, default='vectorized'
        ``'vectorized'`` (the fastest): this package's NUTS with the chains in lockstep,
        one batched gradient per leapfrog step for all chains of a process (``n_jobs``
        groups); Pyro's algorithm, checked against Pyro's NUTS statistically, not draw for
        draw. Its draws do not depend on ``n_jobs`` (each chain has its own generator);
        every chain of a group is computed until the group's longest trajectory ends, so
        ``n_grad_evals_`` counts more evaluations than advanced the chains.
        ``'pyro'``: Pyro's NUTS kernel (with a lean leapfrog step), one chain at a time in
        each process; its draws are bit-for-bit those of ``pyro.infer.NUTS`` on the same
        potential, at ~2x the default's time per gradient with one chain. ``'parallel'``
        is the old name of ``'pyro'``, still accepted (NumPyro's
        ``chain_method='parallel'`` means one chain per device, not this).

    Attributes
    ----------
    samples_ : ndarray of shape (num_chains * num_samples, P), float32
        The draws, chain after chain (a copy: prediction uses the fit's own tensor).
    diagnostics_ : dict
        ``predictive_r_hat_max`` (split R-hat across chains of the predictive probabilities
        on the training inputs: the convergence check; an entry no draw moves counts 1.0;
        NaN below 4 draws), ``r_hat_max``, ``ess_min``,
        ``ess_median`` (weight space, ``pyro.ops.stats``; symmetric modes keep weight-space
        R-hat high on a BNN), ``predictive_ess_min`` (the smallest ESS over the predictive
        probabilities on the training inputs, across chains: function-space ESS, the one
        that means something for a BNN; entries no draw moves are left out; NaN below 4
        draws), ``divergences``, ``mean_tree_depth``, ``frac_at_max_depth`` (sampling
        iterations).
    n_grad_evals_ : int
        Gradient evaluations of the log-joint computed, one per chain per leapfrog step (or
        step-size search step), warmup included; vectorised: the chains of a group times
        its batched calls.
    n_useful_grad_evals_ : int
        Those of ``n_grad_evals_`` that advanced a chain (equal for ``'pyro'``).
    n_batched_grad_calls_ : int
        Potential+gradient calls made (``'vectorized'``: one per group and leapfrog step).
    sample_stats_ : dict of ndarray of shape (num_chains, num_samples)
        Per draw of the sampling phase (the sample statistics ArviZ reads): ``diverging``
        (bool), ``tree_depth`` (int, doublings of the trajectory: ``n_steps`` lies in
        ``[2**(d-1), 2**d - 1]``), ``n_steps`` (int, leapfrog steps that advanced the chain),
        ``step_size`` (float, the chain's adapted step size repeated) and, for
        ``'vectorized'`` only, ``energy`` (float, the Hamiltonian ``U + |M^{-1/2} r|^2 / 2``
        at the chosen point); Pyro's kernel does not expose the energy, so ``'pyro'`` has no
        ``energy`` key.
    """

    label = "NUTS"
    color = "#009E73"
    budget_param = "num_samples"
    fit_draws_param = "num_samples"
    settings: ClassVar[dict] = {
        # the instruction gate's kernels: Pyro's kernel, and the default vectorised sampler
        "instructions": {"": {"num_warmup": 5, "num_samples": 10, "max_tree_depth": 3,
                              "n_jobs": 1, "chain_method": "pyro"},
                         "vectorized": {"num_warmup": 5, "num_samples": 5, "max_tree_depth": 3,
                                        "num_chains": 2, "chain_method": "vectorized",
                                        "n_jobs": 1}},
        "test": {"num_warmup": 30, "num_samples": 30, "max_tree_depth": 3,
                 "num_predictive_samples": 20},
        "demo": {"num_warmup": 75, "num_samples": 75, "max_tree_depth": 5},
        "gpu": {"num_warmup": 100, "num_samples": 100, "max_tree_depth": 5},
        "sweep": {"smoke": {"num_warmup": 10, "num_samples": 10, "max_tree_depth": 3},
                  "fast": {"num_warmup": 50, "num_samples": 50, "max_tree_depth": 4},
                  "full": {"num_warmup": 50, "num_samples": 50, "max_tree_depth": 5}},
        # quality cells: two chains or more, so the predictive R-hat compares chains (the
        # vectorised sampler batches them in one process, one core: cheaper per chain than
        # a lone chain on Pyro's kernel)
        "quality": {"smoke": {"num_warmup": 20, "num_samples": 20, "max_tree_depth": 3,
                              **_QUALITY_CHAINS},
                    "fast": {"num_warmup": 100, "num_samples": 100, "max_tree_depth": 5,
                             **_QUALITY_CHAINS},
                    "full": {"num_warmup": 300, "num_samples": 300, "max_tree_depth": 6,
                             "num_chains": 4, "chain_method": "vectorized", "n_jobs": 1}},
    }

    @classmethod
    def scale_budget(cls, params, factor):
        """Warm-up and draws both scale: the budget is iterations per chain."""
        out = super().scale_budget(params, factor)
        warmup = params.get("num_warmup", cls().num_warmup)
        out["num_warmup"] = max(1, round(warmup * factor))
        return out

    def __init__(self, hidden_sizes=(50,), activation="relu", prior_scale=1.0, num_warmup=200,
                 num_samples=200, num_chains=1, max_tree_depth=8, target_accept_prob=0.8,
                 random_state=None, device="cpu", num_predictive_samples=None, n_jobs=None,
                 chain_method="vectorized"):
        self.hidden_sizes = hidden_sizes
        self.activation = activation
        self.prior_scale = prior_scale
        self.num_warmup = num_warmup
        self.num_samples = num_samples
        self.num_chains = num_chains
        self.max_tree_depth = max_tree_depth
        self.target_accept_prob = target_accept_prob
        self.random_state = random_state
        self.device = device
        self.num_predictive_samples = num_predictive_samples
        self.n_jobs = n_jobs
        self.chain_method = chain_method

    def _check_method_params(self) -> None:
        check_positive_int("n_jobs", self.n_jobs, allow_none=True)
        if self.chain_method not in CHAIN_METHODS:
            raise ValueError(f"chain_method must be one of {CHAIN_METHODS}, "
                             f"got {self.chain_method!r}")
        check_positive_int("num_samples", self.num_samples)
        check_positive_int("num_chains", self.num_chains)
        check_positive_int("max_tree_depth", self.max_tree_depth)
        check_nonnegative_int("num_warmup", self.num_warmup)
        check_fraction("target_accept_prob", self.target_accept_prob)

    def _fit(self, x: torch.Tensor, y: torch.Tensor) -> None:
        settings = ChainSettings(self.spec_, self.prior_scale, self.num_warmup,
                                 self.num_samples, self.max_tree_depth,
                                 self.target_accept_prob, self.seed_)
        n_jobs = available_cores() if self.n_jobs is None else self.n_jobs
        run = run_chains if self.chain_method in _PYRO_KERNEL else run_vectorized
        results = run(settings, x, y, self.num_chains, n_jobs)
        stacked = torch.stack([r.draws for r in results]).to(self.device_)  # (chains, S, P)
        self._store_samples(stacked.reshape(-1, self.n_params_))
        self.n_grad_evals_ = sum(r.grad_evals for r in results)
        self.n_useful_grad_evals_ = sum(r.used_grad_evals for r in results)
        # the chains of a batch share its calls: each reports all of them
        self.n_batched_grad_calls_ = round(sum(r.batched_calls / r.batch_size for r in results))
        self.sample_stats_ = _sample_stats(results)
        self.diagnostics_ = self._diagnostics(stacked, self.sample_stats_["tree_depth"],
                                              sum(r.divergences for r in results))
        proba = net.proba_samples(self.spec_, self._samples, x)
        per_chain = proba.reshape(self.num_chains, self.num_samples, *proba.shape[1:])
        few = self.num_samples < 4
        self.diagnostics_["predictive_r_hat_max"] = float("nan") if few \
            else float(predictive_r_hat(per_chain).max())
        self.diagnostics_["predictive_ess_min"] = float("nan") if few \
            else predictive_ess_min(per_chain)
        self._warn_if_unhealthy(_stuck_chains(stacked))

    def _diagnostics(self, stacked: torch.Tensor, tree_depth: np.ndarray,
                     divergences: int) -> dict:
        ess, r_hat = ess_and_r_hat(stacked)
        depth = torch.as_tensor(tree_depth, dtype=torch.float64).flatten()
        any_draws = depth.numel() > 0
        return {
            "r_hat_max": finite_max(r_hat),
            "ess_min": float(ess.min()),
            "ess_median": float(ess.median()),
            "divergences": int(divergences),
            "mean_tree_depth": float(depth.mean()) if any_draws else float("nan"),
            "frac_at_max_depth": float((depth >= self.max_tree_depth).double().mean())
            if any_draws else float("nan"),
        }

    def _warn_if_unhealthy(self, stuck: int = 0) -> None:
        """Warn of divergences, a predictive R-hat above ``R_HAT_LIMIT`` (or NaN: fewer than
        4 draws, nothing to judge) or ``stuck`` chains whose every draw equals their first."""
        d = self.diagnostics_
        # function space: weight-space R-hat stays high on a BNN whose chains found
        # equivalent (permuted) modes. A stuck chain is named on its own: alone, its
        # predictive is constant, which R-hat counts as converged.
        r_hat = d["predictive_r_hat_max"]
        if d["divergences"] > 0 or not r_hat <= R_HAT_LIMIT or stuck:
            never_moved = f", {stuck} chain(s) that never moved" if stuck else ""
            warnings.warn(f"NUTS diagnostics: {d['divergences']} divergent transitions, "
                          f"max predictive R-hat {r_hat:.3f} (> {R_HAT_LIMIT} means not "
                          f"converged){never_moved}", RuntimeWarning,
                          stacklevel=4)  # points at the caller's fit()


def _sample_stats(results) -> dict[str, np.ndarray]:
    """``sample_stats_`` from the chains' results: (num_chains, num_samples) arrays."""
    def column(name, dtype):
        return np.array([getattr(r, name) for r in results], dtype=dtype) \
            .reshape(len(results), -1)

    stats = {"diverging": column("diverging", bool), "tree_depth": column("tree_depth", np.int64),
             "n_steps": column("steps_per_draw", np.int64)}
    stats["step_size"] = np.repeat(np.array([[r.step_size] for r in results], dtype=np.float64),
                                   stats["n_steps"].shape[1], axis=1)
    if all(r.energy is not None for r in results):  # Pyro's kernel does not expose it
        stats["energy"] = column("energy", np.float64)
    return stats


def _stuck_chains(draws: torch.Tensor) -> int:
    """Chains of ``draws (chains, samples, P)`` whose every draw equals their first (none
    when a chain has a single draw: it had no chance to move)."""
    if draws.shape[1] < 2:
        return 0
    return int((draws == draws[:, :1]).flatten(1).all(1).sum())
