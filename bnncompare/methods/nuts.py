"""Bayesian MLP sampled with NUTS (Pyro ``NUTS`` + ``MCMC``).

Fast by construction (REFERENCE.md): the kernel runs on a flat-parameter ``potential_fn``
written in pure torch (the negative log-joint of the MLP), not on a traced Pyro model, which is
3-6x faster per leapfrog step. Chains run one after another in this process: Pyro's
multi-process chains would fight over 2 cores and break bit-for-bit determinism.
"""

from __future__ import annotations

import numbers
import warnings
from typing import ClassVar

import torch
from pyro.infer import MCMC, NUTS
from pyro.ops.stats import effective_sample_size, split_gelman_rubin

from bnncompare import net
from bnncompare.methods.base import BaseMLPClassifier, check_positive_int

__all__ = ["NUTSClassifier", "make_potential"]


def make_potential(spec: net.MLPSpec, x: torch.Tensor, y: torch.Tensor, prior_scale: float):
    """Negative log-joint ``U(theta)`` of the Bayesian MLP, up to a constant.

    ``U = sum_i CE(f(x_i; theta), y_i) + ||theta||^2 / (2 prior_scale^2)``; takes Pyro's
    ``{"theta": tensor(P)}`` dict.
    """
    decay = 0.5 / prior_scale**2

    def potential(params: dict[str, torch.Tensor]) -> torch.Tensor:
        theta = params["theta"]
        return net.nll_sum(net.logits(spec, theta, x), y) + decay * theta.pow(2).sum()

    return potential


class _CountingPotential:
    """Wraps a potential to count gradient evaluations (one call = one leapfrog step)."""

    def __init__(self, potential):
        self.potential = potential
        self.calls = 0

    def __call__(self, params):
        self.calls += 1
        return self.potential(params)


def _ess_and_r_hat(draws: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-weight ESS and split R-hat of ``draws (chains, samples, P)``; NaN when a chain has
    fewer than 4 draws (split R-hat needs two halves of at least 2 draws each)."""
    if draws.shape[1] < 4:
        nan = torch.full(draws.shape[2:], float("nan"), dtype=draws.dtype)
        return nan, nan
    return (effective_sample_size(draws, chain_dim=0, sample_dim=1),
            split_gelman_rubin(draws, chain_dim=0, sample_dim=1))


class NUTSClassifier(BaseMLPClassifier):
    """MLP whose weight posterior is sampled with the No-U-Turn Sampler.

    Parameters
    ----------
    hidden_sizes : tuple of int, default=()
    activation : {'tanh', 'relu'}, default='tanh'
    prior_scale : float, default=1.0
        N(0, prior_scale^2) prior on every weight and bias.
    num_warmup : int, default=200
        Adaptation iterations per chain (step size and diagonal mass matrix), discarded.
    num_samples : int, default=200
        Retained draws per chain.
    num_chains : int, default=1
        Independent chains, run sequentially from different random initialisations.
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

    Attributes
    ----------
    samples_ : Tensor of shape (num_chains * num_samples, P)
    diagnostics_ : dict
        ``r_hat_max``, ``ess_min``, ``ess_median`` (over weights, ``pyro.ops.stats``),
        ``divergences``, ``mean_tree_depth``, ``frac_at_max_depth`` (sampling iterations).
    n_grad_evals_ : int
        Leapfrog steps (gradient evaluations of the log-joint), warmup included.
    """

    label = "NUTS"
    color = "#009E73"
    budget_param = "num_samples"
    fit_draws_param = "num_samples"
    settings: ClassVar[dict] = {
        "test": {"num_warmup": 30, "num_samples": 30, "max_tree_depth": 3,
                 "num_predictive_samples": 20},
        "demo": {"num_warmup": 75, "num_samples": 75, "max_tree_depth": 5},
        "gpu": {"num_warmup": 100, "num_samples": 100, "max_tree_depth": 5},
        "sweep": {"smoke": {"num_warmup": 10, "num_samples": 10, "max_tree_depth": 3},
                  "fast": {"num_warmup": 50, "num_samples": 50, "max_tree_depth": 4},
                  "full": {"num_warmup": 50, "num_samples": 50, "max_tree_depth": 5}},
        "quality": {"smoke": {"num_warmup": 20, "num_samples": 20, "max_tree_depth": 3},
                    "fast": {"num_warmup": 100, "num_samples": 100, "max_tree_depth": 5},
                    "full": {"num_warmup": 300, "num_samples": 300, "max_tree_depth": 6}},
    }

    @classmethod
    def scale_budget(cls, params, factor):
        """Warm-up and draws both scale: the budget is iterations per chain."""
        out = super().scale_budget(params, factor)
        warmup = params.get("num_warmup", cls().num_warmup)
        out["num_warmup"] = max(1, round(warmup * factor))
        return out

    def __init__(self, hidden_sizes=(), activation="tanh", prior_scale=1.0, num_warmup=200,
                 num_samples=200, num_chains=1, max_tree_depth=8, target_accept_prob=0.8,
                 random_state=None, device="cpu", num_predictive_samples=None):
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

    def _check_method_params(self) -> None:
        check_positive_int("num_samples", self.num_samples)
        check_positive_int("num_chains", self.num_chains)
        check_positive_int("max_tree_depth", self.max_tree_depth)
        if isinstance(self.num_warmup, bool) \
                or not isinstance(self.num_warmup, numbers.Integral) \
                or self.num_warmup < 0:
            raise ValueError(f"num_warmup must be an integer >= 0, got {self.num_warmup!r}")
        p = self.target_accept_prob
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 < p < 1:
            raise ValueError(f"target_accept_prob must be in (0, 1), got {p!r}")

    def _fit(self, x: torch.Tensor, y: torch.Tensor) -> None:
        potential = _CountingPotential(make_potential(self.spec_, x, y, self.prior_scale))
        chains, steps, divergences = [], [], 0
        for chain in range(self.num_chains):
            draws, chain_steps, chain_div = self._run_chain(potential, chain)
            chains.append(draws)
            steps += chain_steps
            divergences += chain_div
        stacked = torch.stack(chains)  # (chains, samples, P)
        self.samples_ = stacked.reshape(-1, self.n_params_)
        self.n_grad_evals_ = potential.calls
        self.diagnostics_ = self._diagnostics(stacked, steps, divergences)
        self._warn_if_unhealthy()

    def _run_chain(self, potential: _CountingPotential, chain: int):
        """One chain; returns draws (num_samples, P), per-draw leapfrog counts, divergences."""
        init = net.init_theta(self.spec_, torch.Generator().manual_seed(self.seed_ + chain))
        kernel = NUTS(potential_fn=potential, max_tree_depth=self.max_tree_depth,
                      target_accept_prob=self.target_accept_prob, adapt_step_size=True,
                      adapt_mass_matrix=True, full_mass=False)
        marks: list[tuple[str, int]] = []
        kernel_diagnostics: dict = {}

        def record(kernel, _params, stage, _i):
            marks.append((stage, potential.calls))
            # the kernel's own record (MCMC.diagnostics() would also compute R-hat/ESS again,
            # and fails below 4 draws); it is defined once sampling has started
            if stage == "Sample":
                kernel_diagnostics.update(kernel.diagnostics())

        mcmc = MCMC(kernel, num_samples=self.num_samples, warmup_steps=self.num_warmup,
                    initial_params={"theta": init.to(self.device_)}, disable_progbar=True,
                    hook_fn=record)
        mcmc.run()
        calls = [c for _, c in marks]
        per_draw = [b - a for a, b, (stage, _) in zip(calls[:-1], calls[1:], marks[1:],
                                                      strict=True) if stage == "Sample"]
        divergent = len(kernel_diagnostics.get("divergences", []))
        return mcmc.get_samples()["theta"].detach(), per_draw, divergent

    def _diagnostics(self, stacked: torch.Tensor, steps: list[int], divergences: int) -> dict:
        ess, r_hat = _ess_and_r_hat(stacked.double())
        # depth d builds at most 2**d - 1 leapfrog steps: d = floor(log2(steps)) + 1
        depth = torch.tensor(steps, dtype=torch.float64).log2().floor() + 1
        finite = r_hat[torch.isfinite(r_hat)]
        return {
            "r_hat_max": float(finite.max()) if finite.numel() else float("nan"),
            "ess_min": float(ess.min()),
            "ess_median": float(ess.median()),
            "divergences": int(divergences),
            "mean_tree_depth": float(depth.mean()) if steps else float("nan"),
            "frac_at_max_depth": float((depth >= self.max_tree_depth).double().mean())
            if steps else float("nan"),
        }

    def _warn_if_unhealthy(self) -> None:
        d = self.diagnostics_
        # NaN R-hat = every weight constant: a chain that never moved, the worst failure
        if d["divergences"] > 0 or not d["r_hat_max"] <= 1.1:
            warnings.warn(f"NUTS diagnostics: {d['divergences']} divergent transitions, "
                          f"max R-hat {d['r_hat_max']:.3f} (> 1.1 means not converged)",
                          RuntimeWarning, stacklevel=4)  # points at the caller's fit()

    def _num_draws(self) -> int:
        total = self.samples_.shape[0]
        s = total if self.num_predictive_samples is None else self.num_predictive_samples
        if s > total:
            raise ValueError(f"num_predictive_samples={s} exceeds the {total} posterior draws "
                             "NUTS retained; fit with more num_samples or num_chains")
        return s

    def _draws(self, num: int) -> torch.Tensor:
        total = self.samples_.shape[0]
        if num == total:
            return self.samples_
        idx = torch.linspace(0, total - 1, num, device=self.device_).round().long()
        return self.samples_[idx]
