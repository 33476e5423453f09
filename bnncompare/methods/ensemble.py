"""Deep ensemble: M independently initialised MAP networks (Lakshminarayanan et al. 2017).

The members are trained together as ONE weight tensor ``theta (M, P)``: the batched forward in
:mod:`bnncompare.net` evaluates every member in one matmul chain, and the loss is the sum of
the members' own per-row negative log-joints (the :class:`~bnncompare.methods.nn.NNClassifier`
objective). Member m's loss depends only on row m, and Adam updates elementwise, so each
member follows exactly the trajectory it would follow alone (up to float32 round-off of the
batched kernels). The draws at prediction are the members.
"""

from __future__ import annotations

from typing import ClassVar

import torch
import torch.nn.functional as F

from bnncompare import net
from bnncompare.methods._map import minibatches
from bnncompare.methods.base import (
    BaseMLPClassifier,
    check_positive_float,
    check_positive_int,
    fitted_array,
)
from bnncompare.methods.nn import NNClassifier

__all__ = ["EnsembleClassifier", "member_seed"]


def member_seed(seed: int, member: int) -> int:
    """Seed of member ``member``'s initial weights: ``seed + 2 * member``.

    Member 0 uses ``seed`` itself, NN's convention, so an ensemble of one IS the NN; even
    offsets never meet ``seed + 1``, the stream of the shared minibatch shuffle.
    """
    return seed + 2 * member


def member_nll(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Summed negative log-likelihood of each member, ``(M,)``, for ``logits (M, n, C)``.

    Cross-entropy with the classes as dim 1 of an ``(M, C, n)`` view: the fast class-axis
    layout of :func:`bnncompare.net.nll_sum`, one kernel for all members.
    """
    per_row = F.cross_entropy(logits.transpose(1, 2), y.expand(logits.shape[0], -1),
                              reduction="none")
    return per_row.sum(1)


class EnsembleClassifier(BaseMLPClassifier):
    """Deep ensemble of MAP-trained MLPs; the members are the posterior draws.

    Parameters
    ----------
    hidden_sizes : tuple of int, default=(50,)
        Hidden layer widths; ``()`` is multinomial logistic regression.
    activation : {'tanh', 'relu'}, default='relu'
    prior_scale : float, default=1.0
        Scale of the N(0, prior_scale^2) prior; each member's weight decay is its MAP twin.
    num_members : int, default=5
        Ensemble size M, the number of predictive draws and the compute budget (cost ~ M x NN).
    num_epochs : int, default=500
    lr : float, default=0.01
        Adam learning rate.
    batch_size : int or None, default=None
        Rows per step; None is full-batch. All members see the same minibatches (one shuffle
        per epoch): the data pass is shared, and members differ by their initialisation.
    random_state : int, RandomState or None, default=None
    device : {'cpu', 'cuda'}, default='cpu'
    num_predictive_samples : int or None, default=None
        Ignored: the draws are the ``num_members`` members.

    Attributes
    ----------
    thetas_ : ndarray of shape (num_members, P), float32
        The fitted members (a copy: prediction uses the fit's own tensor).
    losses_ : ndarray of shape (n_steps, num_members)
        Each member's mean negative log-joint per row at each step.
    n_grad_evals_ : int
        Optimiser steps x ``num_members`` (gradient evaluations of one member's loss).
    """

    label = "Ensemble"
    color = "#CC79A7"
    fixed_draws = True
    # The ensemble's own quality-vs-compute axis is its size: cost grows linearly in M while
    # each member is trained to the same (converged) MAP; scaling epochs instead would retrace
    # the NN's curve M times over.
    budget_param = "num_members"
    # NN's epoch schedule (full-batch sweeps: a fit costs M = 5 NN fits in one batched pass)
    settings: ClassVar[dict] = {**NNClassifier.settings,
                                "instructions": {"": {"num_members": 2, "num_epochs": 10,
                                                      "lr": 0.1}},
                                "test": {"num_members": 3, "num_epochs": 30, "lr": 0.1}}

    def __init__(self, hidden_sizes=(50,), activation="relu", prior_scale=1.0, num_members=5,
                 num_epochs=500, lr=0.01, batch_size=None, random_state=None, device="cpu",
                 num_predictive_samples=None):
        self.hidden_sizes = hidden_sizes
        self.activation = activation
        self.prior_scale = prior_scale
        self.num_members = num_members
        self.num_epochs = num_epochs
        self.lr = lr
        self.batch_size = batch_size
        self.random_state = random_state
        self.device = device
        self.num_predictive_samples = num_predictive_samples

    def _check_method_params(self) -> None:
        check_positive_int("num_members", self.num_members)
        check_positive_int("num_epochs", self.num_epochs)
        check_positive_float("lr", self.lr)
        check_positive_int("batch_size", self.batch_size, allow_none=True)

    def _init_members(self) -> torch.Tensor:
        """``(M, P)`` Glorot initialisations, member m from ``member_seed(seed_, m)``."""
        return torch.stack([
            net.init_theta(self.spec_, torch.Generator().manual_seed(member_seed(self.seed_, m)))
            for m in range(self.num_members)])

    def _fit(self, x: torch.Tensor, y: torch.Tensor) -> None:
        gen = torch.Generator().manual_seed(self.seed_ + 1)  # CPU: randperm's generator
        thetas = self._init_members().to(self.device_).requires_grad_()
        optimiser = torch.optim.Adam([thetas], lr=self.lr)
        n, decay = x.shape[0], 0.5 / self.prior_scale**2
        losses = []
        for _ in range(self.num_epochs):
            for idx in minibatches(n, self.batch_size, gen, self.device_):
                xb, yb = (x, y) if idx is None else (x[idx], y[idx])
                # each member's per-row negative log-joint, exactly NN's objective; their sum
                # has member m's gradient in row m and nothing else
                member_loss = (member_nll(net.logits(self.spec_, thetas, xb), yb) / len(yb)
                               + decay * thetas.pow(2).sum(1) / n)
                optimiser.zero_grad(set_to_none=True)
                member_loss.sum().backward()
                optimiser.step()
                losses.append(member_loss.detach())
        self._thetas = thetas.detach()
        self.thetas_ = fitted_array(self._thetas)
        self.losses_ = torch.stack(losses).cpu().numpy()
        self.n_grad_evals_ = len(losses) * self.num_members

    def _num_draws(self) -> int:
        return self.num_members

    def _draws(self, num: int) -> torch.Tensor:
        return self._thetas
