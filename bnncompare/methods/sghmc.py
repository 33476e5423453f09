"""Bayesian MLP sampled by stochastic-gradient HMC (Chen et al. 2014) on minibatches, with the
cyclical step size of cSG-MCMC (Zhang et al. 2020).

One step, on the per-row negative log-joint ``u = U / n`` estimated from a minibatch::

    v <- (1 - friction) v - lr_t grad u(theta) + N(0, 2 friction lr_t / n)
    theta <- theta + v

which is Chen et al.'s SGHMC with step ``eta = lr_t / n`` on ``U``: its stationary law is the
posterior as ``lr_t -> 0``. The run is ``num_cycles`` cosine cycles of ``lr_t`` from ``lr`` to 0;
the first half of each cycle explores (momentum SGD, no noise), the second half samples (noise
on) and keeps every ``thin``-th iterate. The draws are fixed by the fit, like NUTS's.

Hand-written (the update above, a dozen lines) rather than ``posteriors``: the library would add
torchopt, tensordict and optree and 25 FutureWarnings at import, and its per-step state objects
buy nothing for one flat tensor; the cyclical schedule and the thinning would still be ours.
"""

from __future__ import annotations

import math
from typing import ClassVar

import torch

from bnncompare import net
from bnncompare.methods._map import minibatches
from bnncompare.methods.base import (
    BaseMLPClassifier,
    StoredDrawsMixin,
    check_fraction,
    check_positive_float,
    check_positive_int,
)

__all__ = ["SGHMCClassifier", "cycle_plan"]


def cycle_plan(num_samples: int, num_cycles: int, thin: int) -> list[int]:
    """Draws kept per cycle: ``num_samples`` spread as evenly as possible, earlier cycles first.

    A cycle keeping ``d`` draws runs ``2 * d * thin`` steps: ``d * thin`` exploring, then
    ``d * thin`` sampling. Cycles that would keep no draw are dropped.
    """
    base, extra = divmod(num_samples, num_cycles)
    return [d for d in (base + (c < extra) for c in range(num_cycles)) if d > 0]


class SGHMCClassifier(StoredDrawsMixin, BaseMLPClassifier):
    """MLP whose weight posterior is sampled by cyclical stochastic-gradient HMC.

    Parameters
    ----------
    hidden_sizes : tuple of int, default=(50,)
        Hidden layer widths; ``()`` is multinomial logistic regression.
    activation : {'tanh', 'relu'}, default='relu'
    prior_scale : float, default=1.0
        N(0, prior_scale^2) prior on every weight and bias.
    num_samples : int, default=100
        Draws kept. The run is ``2 * num_samples * thin`` minibatch steps (half exploring).
    thin : int, default=10
        Sampling-phase steps per kept draw.
    num_cycles : int, default=4
        Cosine step-size cycles; each restarts exploration at ``lr`` (at most ``num_samples``).
    lr : float, default=0.05
        Peak step size on the per-row loss (the SGD learning rate of the exploration phase;
        ``lr / friction`` is the effective SGD step).
    friction : float, default=0.1
        Momentum decay per step, in (0, 1]; 1 - friction is the momentum of SGD.
    batch_size : int or None, default=32
        Rows per step; None is full-batch.
    random_state : int, RandomState or None, default=None
    device : {'cpu', 'cuda'}, default='cpu'
    num_predictive_samples : int or None, default=None
        Draws used by ``predict_proba*``: None uses all ``num_samples``; fewer are taken evenly
        spaced.

    Attributes
    ----------
    samples_ : ndarray of shape (num_samples, P), float32
        The kept draws (a copy: prediction uses the fit's own tensor).
    losses_ : ndarray of shape (n_steps,)
        Minibatch estimate of the per-row negative log-joint at each step.
    n_grad_evals_ : int
        Minibatch gradient evaluations (= steps).

    Raises
    ------
    FloatingPointError
        From ``fit`` when the trajectory diverges (non-finite weights): lower ``lr``.
    """

    label = "SGHMC"
    color = "#000000"
    budget_param = "num_samples"
    fit_draws_param = "num_samples"
    settings: ClassVar[dict] = {
        "instructions": {"": {"num_samples": 10, "thin": 2, "num_cycles": 1, "lr": 0.1,
                              "batch_size": 16}},
        "test": {"num_samples": 20, "thin": 2, "num_cycles": 2, "lr": 0.1, "batch_size": 15,
                 "num_predictive_samples": 20},
        "demo": {"num_samples": 100},
        "gpu": {"num_samples": 100},
        # full-batch, one step per draw: the fast profile's 50 draws are 100 full-data
        # gradient steps, the cost of the NN's 100 sweep epochs
        "sweep": {"smoke": {"num_samples": 15, "thin": 1, "batch_size": None},
                  "fast": {"num_samples": 50, "thin": 1, "batch_size": None},
                  "full": {"num_samples": 50, "thin": 1, "batch_size": None}},
        "quality": {"smoke": {"num_samples": 20, "thin": 5}, "fast": {"num_samples": 100},
                    "full": {"num_samples": 200}},
    }

    def __init__(self, hidden_sizes=(50,), activation="relu", prior_scale=1.0, num_samples=100,
                 thin=10, num_cycles=4, lr=0.05, friction=0.1, batch_size=32,
                 random_state=None, device="cpu", num_predictive_samples=None):
        self.hidden_sizes = hidden_sizes
        self.activation = activation
        self.prior_scale = prior_scale
        self.num_samples = num_samples
        self.thin = thin
        self.num_cycles = num_cycles
        self.lr = lr
        self.friction = friction
        self.batch_size = batch_size
        self.random_state = random_state
        self.device = device
        self.num_predictive_samples = num_predictive_samples

    def _check_method_params(self) -> None:
        check_positive_int("num_samples", self.num_samples)
        check_positive_int("thin", self.thin)
        check_positive_int("num_cycles", self.num_cycles)
        check_positive_float("lr", self.lr)
        check_positive_int("batch_size", self.batch_size, allow_none=True)
        check_fraction("friction", self.friction, include_one=True)

    def _fit(self, x: torch.Tensor, y: torch.Tensor) -> None:
        theta = net.init_theta(self.spec_, torch.Generator().manual_seed(self.seed_))
        theta = theta.to(self.device_).requires_grad_()
        velocity = torch.zeros_like(theta)
        noise_gen = self._generator(2)
        batches = self._batches(x.shape[0])
        n, decay = x.shape[0], 0.5 / self.prior_scale**2
        samples, losses = [], []
        for draws in cycle_plan(self.num_samples, self.num_cycles, self.thin):
            half = draws * self.thin
            for t in range(2 * half):
                lr_t = 0.5 * self.lr * (math.cos(math.pi * t / (2 * half)) + 1)
                idx = next(batches)
                xb, yb = (x, y) if idx is None else (x[idx], y[idx])
                loss = net.nll_sum(net.logits(self.spec_, theta, xb), yb) / len(yb) \
                    + decay * theta.pow(2).sum() / n
                (grad,) = torch.autograd.grad(loss, theta)
                with torch.no_grad():
                    velocity.mul_(1 - self.friction).sub_(lr_t * grad)
                    if t >= half:  # sampling phase: inject the Langevin noise, keep draws
                        noise = torch.randn(theta.shape, generator=noise_gen,
                                            device=self.device_)
                        velocity.add_(noise, alpha=math.sqrt(2 * self.friction * lr_t / n))
                    theta.add_(velocity)
                    if t >= half and (t - half + 1) % self.thin == 0:
                        samples.append(theta.detach().clone())
                losses.append(loss.detach())
        self._store_samples(torch.stack(samples))
        self.losses_ = torch.stack(losses).cpu().numpy()
        self.n_grad_evals_ = len(losses)
        self._check_finite()

    def _batches(self, n: int):
        """Minibatch indices (or None for full-batch), epoch after shuffled epoch, forever."""
        gen = torch.Generator().manual_seed(self.seed_ + 1)  # CPU: randperm's generator
        while True:
            yield from minibatches(n, self.batch_size, gen, self.device_)

    def _check_finite(self) -> None:
        # NaN/inf are absorbing in the update (inf - inf = NaN), so one check after the run
        # catches any divergence without a device sync per step
        if bool(torch.isfinite(self._samples).all()):
            return
        bad = ~torch.isfinite(torch.as_tensor(self.losses_))
        first = int(bad.nonzero()[0]) + 1 if bool(bad.any()) else len(self.losses_)
        raise FloatingPointError(
            f"SGHMC diverged: non-finite weights by step {first} of {len(self.losses_)} "
            f"(lr={self.lr}, friction={self.friction}); lower lr or raise friction")
