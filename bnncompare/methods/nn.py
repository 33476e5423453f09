"""Point-estimate MLP: the MAP twin of the Bayesian model.

Minimising ``-log p(y | X, theta) + ||theta||^2 / (2 prior_scale^2)`` is weight decay with the
same Gaussian prior the Bayesian methods use, so all three methods fit one probabilistic model.
"""

from __future__ import annotations

from typing import ClassVar

import torch

from bnncompare import net
from bnncompare.methods.base import BaseMLPClassifier, check_positive_float, check_positive_int

__all__ = ["NNClassifier", "minibatches"]


def minibatches(n: int, batch_size: int | None, generator: torch.Generator,
                device: torch.device):
    """Index tensors of one shuffled epoch; ``None`` once when full-batch (no copy at all)."""
    if batch_size is None or batch_size >= n:
        yield None
        return
    order = torch.randperm(n, generator=generator).to(device)
    yield from order.split(batch_size)


class NNClassifier(BaseMLPClassifier):
    """MLP trained to the MAP estimate with Adam.

    Parameters
    ----------
    hidden_sizes : tuple of int, default=()
        Hidden layer widths; ``()`` is multinomial logistic regression.
    activation : {'tanh', 'relu'}, default='tanh'
    prior_scale : float, default=1.0
        Scale of the N(0, prior_scale^2) prior; the weight decay is its MAP twin.
    num_epochs : int, default=500
    lr : float, default=0.01
        Adam learning rate.
    batch_size : int or None, default=None
        Rows per step; None is full-batch.
    random_state : int, RandomState or None, default=None
    device : {'cpu', 'cuda'}, default='cpu'
    num_predictive_samples : int or None, default=None
        Ignored: a point estimate has one draw (``predict_proba_samples`` gives S = 1).

    Attributes
    ----------
    theta_ : Tensor of shape (P,)
        The fitted flat weight vector.
    losses_ : ndarray of shape (n_steps,)
        Mean negative log-joint per row at each step.
    n_grad_evals_ : int
        Optimiser steps.
    """

    label = "NN"
    color = "#0072B2"
    point_estimate = True
    fixed_draws = True
    budget_param = "num_epochs"
    settings: ClassVar[dict] = {
        "test": {"num_epochs": 50, "lr": 0.1},
        "demo": {"num_epochs": 300},
        "gpu": {"num_epochs": 300},
        "sweep": {"smoke": {"num_epochs": 30}, "fast": {"num_epochs": 100},
                  "full": {"num_epochs": 100}},
        "quality": {"smoke": {"num_epochs": 100}, "fast": {"num_epochs": 300},
                    "full": {"num_epochs": 500}},
    }

    def __init__(self, hidden_sizes=(), activation="tanh", prior_scale=1.0, num_epochs=500,
                 lr=0.01, batch_size=None, random_state=None, device="cpu",
                 num_predictive_samples=None):
        self.hidden_sizes = hidden_sizes
        self.activation = activation
        self.prior_scale = prior_scale
        self.num_epochs = num_epochs
        self.lr = lr
        self.batch_size = batch_size
        self.random_state = random_state
        self.device = device
        self.num_predictive_samples = num_predictive_samples

    def _check_method_params(self) -> None:
        check_positive_int("num_epochs", self.num_epochs)
        check_positive_float("lr", self.lr)
        check_positive_int("batch_size", self.batch_size, allow_none=True)

    def _fit(self, x: torch.Tensor, y: torch.Tensor) -> None:
        gen = torch.Generator().manual_seed(self.seed_ + 1)  # CPU: randperm's generator
        theta = net.init_theta(self.spec_, torch.Generator().manual_seed(self.seed_))
        theta = theta.to(self.device_).requires_grad_()
        optimiser = torch.optim.Adam([theta], lr=self.lr)
        n, decay = x.shape[0], 0.5 / self.prior_scale**2
        losses = []
        for _ in range(self.num_epochs):
            for idx in minibatches(n, self.batch_size, gen, self.device_):
                xb, yb = (x, y) if idx is None else (x[idx], y[idx])
                # per-row negative log-joint: batch NLL mean + prior term spread over n rows
                logits = self._train_logits(theta, xb)
                loss = net.nll_sum(logits, yb) / len(yb) + decay * theta.pow(2).sum() / n
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
                losses.append(loss.detach())
        self.theta_ = theta.detach()
        self.losses_ = torch.stack(losses).cpu().numpy()
        self.n_grad_evals_ = len(losses)

    def _train_logits(self, theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """The training forward ``(n, C)``; a subclass changes it (MC dropout masks units)."""
        return net.logits(self.spec_, theta, x)

    def _num_draws(self) -> int:
        return 1

    def _draws(self, num: int) -> torch.Tensor:
        return self.theta_.unsqueeze(0)
