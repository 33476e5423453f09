"""MAP training shared by the methods that start from a point estimate (NN, Laplace, MC dropout).

The objective is the per-row negative log-joint ``NLL / n + ||theta||^2 / (2 prior_scale^2 n)``:
weight decay with the same N(0, prior_scale^2) prior the Bayesian methods use. One function,
so the three methods train bit for bit the same way from the same seed (the tests compare
them), and each estimator only subclasses the base template.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import torch

from bnncompare import net
from bnncompare.methods.base import check_positive_float, check_positive_int

__all__ = ["check_map_params", "minibatches", "train_map"]

#: ``(theta, x) -> logits (n, C)``: the training forward pass of one weight vector
TrainLogits = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def minibatches(n: int, batch_size: int | None, generator: torch.Generator,
                device: torch.device) -> Iterator[torch.Tensor | None]:
    """Index tensors of one shuffled epoch; ``None`` once when full-batch (no copy at all)."""
    if batch_size is None or batch_size >= n:
        yield None
        return
    order = torch.randperm(n, generator=generator).to(device)
    yield from order.split(batch_size)


def check_map_params(num_epochs, lr, batch_size) -> None:
    """Raise ``ValueError`` naming the first invalid MAP-training hyper-parameter."""
    check_positive_int("num_epochs", num_epochs)
    check_positive_float("lr", lr)
    check_positive_int("batch_size", batch_size, allow_none=True)


def train_map(spec: net.MLPSpec, x: torch.Tensor, y: torch.Tensor, *, seed: int,
              prior_scale: float, num_epochs: int, lr: float, batch_size: int | None,
              train_logits: TrainLogits | None = None) -> tuple[torch.Tensor, np.ndarray]:
    """Adam on the per-row negative log-joint, from the Glorot initialisation of ``seed``.

    Parameters
    ----------
    spec : MLPSpec
        The net; ``x (n, d)`` and encoded labels ``y (n,)`` live on the training device.
    seed : int
        ``seed`` draws the initial weights, ``seed + 1`` shuffles the minibatches (both on
        CPU generators, so a CUDA fit starts from the CPU fit's weights).
    prior_scale, num_epochs, lr, batch_size
        The estimator's hyper-parameters (``batch_size=None``: full-batch).
    train_logits : callable, optional
        The training forward ``(theta, x) -> (n, C)``; None is the plain ``net.logits``
        (MC dropout passes its masked forward).

    Returns
    -------
    theta : Tensor of shape (P,)
        The trained weights, detached, on the device of ``x``.
    losses : ndarray of shape (n_steps,)
        The loss of each step (one step per minibatch), evaluated before the step.
    """
    if train_logits is None:
        # looked up at call time: tests count gradient evaluations by patching net.logits
        def train_logits(theta, xb):
            return net.logits(spec, theta, xb)

    gen = torch.Generator().manual_seed(seed + 1)  # CPU: randperm's generator
    theta = net.init_theta(spec, torch.Generator().manual_seed(seed))
    theta = theta.to(x.device).requires_grad_()
    optimiser = torch.optim.Adam([theta], lr=lr)
    n, decay = x.shape[0], 0.5 / prior_scale**2
    losses = []
    for _ in range(num_epochs):
        for idx in minibatches(n, batch_size, gen, x.device):
            xb, yb = (x, y) if idx is None else (x[idx], y[idx])
            # per-row negative log-joint: batch NLL mean + prior term spread over n rows
            loss = net.nll_sum(train_logits(theta, xb), yb) / len(yb) \
                + decay * theta.pow(2).sum() / n
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            losses.append(loss.detach())
    return theta.detach(), torch.stack(losses).cpu().numpy()
