"""Bayesian MLP by stochastic variational inference (Pyro, mean-field Gaussian).

The model and guide are written in Pyro (``_model``/``_guide``: all weights ONE flat
``pyro.sample`` site, a mean-field Normal guide), and the objective is Pyro's
``TraceMeanField_ELBO`` with vectorised particles. For speed, each step evaluates that ELBO's
closed form directly in torch (:func:`mean_field_loss`: the Gaussian KL analytically, the
expected log-likelihood from K reparameterised draws in one batched forward pass, the same
draws from torch's generator as Pyro takes), which is numerically Pyro's
``differentiable_loss`` (a test) without tracing model and guide on every step; a plain torch
optimiser over two tensors held by the estimator, so no global param store is shared between
fitted models. No ``JitTraceMeanField_ELBO``: it recompiles every step in
Pyro 1.9 (10x slower than eager).
"""

from __future__ import annotations

import math
from typing import ClassVar

import pyro
import pyro.distributions as dist
import torch
import torch.nn.functional as F
from pyro.infer import TraceMeanField_ELBO

from bnncompare import net
from bnncompare.methods._map import minibatches
from bnncompare.methods.base import BaseMLPClassifier, check_positive_float, check_positive_int

__all__ = ["SVIClassifier", "mean_field_loss"]

# Initial posterior standard deviation: small, so the first steps behave like MAP training
# before the variance is learned (Pyro's AutoNormal uses 0.1; 0.01 trains tanh MLPs faster).
INIT_SCALE = 1e-2


def mean_field_loss(spec: net.MLPSpec, loc: torch.Tensor, scale: torch.Tensor,
                    prior_scale: float, x: torch.Tensor, y: torch.Tensor, num_particles: int,
                    data_scale: float = 1.0) -> torch.Tensor:
    """``TraceMeanField_ELBO``'s negative ELBO for the flat-weight model, in plain torch.

    ``KL(N(loc, scale^2) || N(0, prior_scale^2)) + data_scale * mean_k sum_i NLL_i(theta_k)``
    with ``theta_k = loc + scale * eps_k``; ``eps`` is drawn as Pyro draws it (one
    ``(K, 1, P)`` standard-normal block from torch's global generator), so under the same seed
    this equals ``TraceMeanField_ELBO(vectorize_particles=True).differentiable_loss``.
    ``data_scale`` is the minibatch's ``n / B``.
    """
    eps = torch.empty(num_particles, 1, loc.shape[0], dtype=loc.dtype,
                      device=loc.device).normal_()
    theta = (loc + eps * scale).reshape(num_particles, -1)
    logit = net.logits(spec, theta, x)  # (K, B, C)
    nll = torch.nn.functional.cross_entropy(logit.reshape(-1, logit.shape[-1]),
                                            y.repeat(num_particles), reduction="sum")
    # torch's kl_normal_normal, term for term
    var_ratio = (scale / prior_scale).pow(2)
    kl = 0.5 * (var_ratio + (loc / prior_scale).pow(2) - 1 - var_ratio.log())
    return kl.sum() + nll * (data_scale / num_particles)


class SVIClassifier(BaseMLPClassifier):
    """MLP with a mean-field Gaussian posterior fitted by Pyro SVI.

    Parameters
    ----------
    hidden_sizes : tuple of int, default=(50,)
        Hidden layer widths; ``()`` is multinomial logistic regression.
    activation : {'tanh', 'relu'}, default='relu'
    prior_scale : float, default=1.0
        N(0, prior_scale^2) prior on every weight and bias.
    num_steps : int, default=2000
        Optimiser steps (each step sees one minibatch).
    lr : float, default=0.01
        Adam learning rate.
    batch_size : int or None, default=None
        Rows per step; None is full-batch. Minibatches are scaled by n / batch_size through
        ``pyro.plate`` subsampling, so the ELBO stays unbiased.
    num_particles : int, default=1
        Monte Carlo samples per ELBO estimate, evaluated in one vectorised pass.
    random_state : int, RandomState or None, default=None
    device : {'cpu', 'cuda'}, default='cpu'
    num_predictive_samples : int or None, default=None
        Draws from the variational posterior used by ``predict_proba*`` (None: 100).

    Attributes
    ----------
    loc_, scale_ : Tensor of shape (P,)
        Variational posterior mean and standard deviation.
    losses_ : ndarray of shape (num_steps,)
        Negative ELBO at each step (the ELBO trace).
    n_grad_evals_ : int
        ``num_steps * num_particles``.
    """

    label = "SVI"
    color = "#E69F00"
    budget_param = "num_steps"
    settings: ClassVar[dict] = {
        "instructions": {"": {"num_steps": 20, "lr": 0.05}},
        "test": {"num_steps": 100, "lr": 0.05, "num_predictive_samples": 20},
        "demo": {"num_steps": 1000},
        "gpu": {"num_steps": 2000},
        "sweep": {"smoke": {"num_steps": 30}, "fast": {"num_steps": 100},
                  "full": {"num_steps": 100}},
        "quality": {"smoke": {"num_steps": 300}, "fast": {"num_steps": 2000},
                    "full": {"num_steps": 4000}},
    }

    def __init__(self, hidden_sizes=(50,), activation="relu", prior_scale=1.0, num_steps=2000,
                 lr=0.01, batch_size=None, num_particles=1, random_state=None, device="cpu",
                 num_predictive_samples=None):
        self.hidden_sizes = hidden_sizes
        self.activation = activation
        self.prior_scale = prior_scale
        self.num_steps = num_steps
        self.lr = lr
        self.batch_size = batch_size
        self.num_particles = num_particles
        self.random_state = random_state
        self.device = device
        self.num_predictive_samples = num_predictive_samples

    def _check_method_params(self) -> None:
        check_positive_int("num_steps", self.num_steps)
        check_positive_float("lr", self.lr)
        check_positive_int("batch_size", self.batch_size, allow_none=True)
        check_positive_int("num_particles", self.num_particles)

    def _model(self, x, y, idx):
        spec = self.spec_
        prior = dist.Normal(self._prior_loc, self.prior_scale).to_event(1)
        theta = pyro.sample("theta", prior)
        # vectorised particles arrive as (K, 1, P); flatten to (K, P) -> logits (K, B, C)
        theta = theta.reshape(-1, spec.n_params) if theta.dim() > 1 else theta
        xb, yb = (x, y) if idx is None else (x[idx], y[idx])
        with pyro.plate("data", x.shape[0], subsample=idx):
            pyro.sample("y", dist.Categorical(logits=net.logits(spec, theta, xb)), obs=yb)

    def _guide(self, x, y, idx):
        pyro.sample("theta", dist.Normal(self._loc, F.softplus(self._rho)).to_event(1))

    def _fit(self, x: torch.Tensor, y: torch.Tensor) -> None:
        init = net.init_theta(self.spec_, torch.Generator().manual_seed(self.seed_))
        self._loc = init.to(self.device_).requires_grad_()
        rho0 = math.log(math.expm1(INIT_SCALE))  # softplus^-1(INIT_SCALE)
        self._rho = torch.full_like(self._loc, rho0).detach().requires_grad_()
        self._prior_loc = torch.zeros_like(init, device=self.device_)
        optimiser = torch.optim.Adam([self._loc, self._rho], lr=self.lr)
        losses = self._train(optimiser, x, y)
        self._draw_cache = None
        self.loc_ = self._loc.detach()
        self.scale_ = F.softplus(self._rho).detach()
        del self._loc, self._rho, self._prior_loc
        self.losses_ = torch.stack(losses).cpu().numpy()
        self.n_grad_evals_ = self.num_steps * self.num_particles

    def _pyro_loss(self, x, y, idx) -> torch.Tensor:
        """The step's loss through Pyro's own ELBO machinery (the reference for the tests)."""
        elbo = TraceMeanField_ELBO(num_particles=self.num_particles, vectorize_particles=True,
                                   max_plate_nesting=1)
        return elbo.differentiable_loss(self._model, self._guide, x, y, idx)

    def _loss(self, x, y, idx) -> torch.Tensor:
        """The step's loss: :func:`mean_field_loss` on the minibatch ``idx`` (None: all)."""
        xb, yb = (x, y) if idx is None else (x[idx], y[idx])
        return mean_field_loss(self.spec_, self._loc, F.softplus(self._rho), self.prior_scale,
                               xb, yb, self.num_particles, x.shape[0] / xb.shape[0])

    def _train(self, optimiser, x, y) -> list[torch.Tensor]:
        gen = torch.Generator().manual_seed(self.seed_ + 1)
        losses: list[torch.Tensor] = []
        while len(losses) < self.num_steps:
            for idx in minibatches(x.shape[0], self.batch_size, gen, self.device_):
                loss = self._loss(x, y, idx)
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
                losses.append(loss.detach())
                if len(losses) == self.num_steps:
                    break
        return losses

    def _draws(self, num: int) -> torch.Tensor:
        # Drawn once per S from a fixed seed, then reused: predictions are reproducible, and
        # repeated predict calls skip S*P normal draws (10 ms at S=1000, P=2233 on one core,
        # as long as the forward pass itself on 50 rows).
        draws = getattr(self, "_draw_cache", None)
        if draws is None or draws.shape[0] != num or draws.device != self.loc_.device:
            noise = torch.randn(num, self.n_params_, generator=self._generator(1),
                                device=self.device_)
            draws = self._draw_cache = self.loc_ + self.scale_ * noise
        return draws
