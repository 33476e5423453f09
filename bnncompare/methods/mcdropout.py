"""MC dropout (Gal & Ghahramani 2016): dropout at training AND at prediction time.

Training is NN's MAP objective (NLL + the prior's weight decay) under inverted dropout on the
hidden units (a fresh mask per row and step). Prediction averages S dropout masks, and each
mask is expressed as a WEIGHT DRAW: dropping hidden unit j of layer l zeroes row j of layer
l+1's weight matrix (its outgoing weights), and the inverted-dropout factor 1/(1-p) is folded
into the kept rows. So ``_draws(S)`` returns ``(S, P)`` weights and prediction stays the one
batched forward pass of :mod:`bnncompare.net`, like every other method.

With ``hidden_sizes=()`` there are no hidden units; dropout then acts on the inputs (Gal's
formulation drops the units feeding every weight layer, the inputs included), so logistic
regression still gets a dropout posterior rather than S copies of one point.
"""

from __future__ import annotations

from typing import ClassVar

import torch
import torch.nn.functional as F

from bnncompare import net
from bnncompare.methods._map import check_map_params, train_map
from bnncompare.methods.base import BaseMLPClassifier, check_fraction, fitted_array
from bnncompare.methods.nn import NNClassifier

__all__ = ["MCDropoutClassifier", "apply_masks", "dropped_layers", "sample_masks"]


def dropped_layers(spec: net.MLPSpec) -> list[int]:
    """Indices of the weight layers whose INPUT units are dropped.

    Every layer fed by hidden units (all but the first); the first layer (inputs) only when
    there are no hidden units.
    """
    n_layers = len(spec.layer_shapes)
    return list(range(1, n_layers)) if n_layers > 1 else [0]


def sample_masks(spec: net.MLPSpec, num: int, rate: float,
                 generator: torch.Generator, device: torch.device) -> list[torch.Tensor]:
    """Keep-masks ``(num, fan_in)`` (1 = kept, 0 = dropped), one per dropped layer."""
    shapes = spec.layer_shapes
    return [torch.rand(num, shapes[i][0], generator=generator, device=device) >= rate
            for i in dropped_layers(spec)]


def apply_masks(spec: net.MLPSpec, theta: torch.Tensor, masks: list[torch.Tensor],
                rate: float) -> torch.Tensor:
    """Weight draws ``(S, P)``: ``theta (P,)`` with each mask's dropped rows zeroed.

    The kept rows are scaled by ``1 / (1 - rate)`` (inverted dropout), so ``x @ W_masked``
    equals ``(x * mask / (1 - rate)) @ W`` row for row. Biases are never dropped.
    """
    draws = theta.expand(masks[0].shape[0], -1).clone()
    layers = spec.unflatten(draws)  # views into ``draws``: (S, fan_in, fan_out) per layer
    for i, mask in zip(dropped_layers(spec), masks, strict=True):
        # in place on the dropped layers only: half the memory traffic of a full (S, P)
        # factor tensor (measured 1.3 vs 2.2 ms at S = 100, P = 2233)
        layers[i][0].mul_(mask.to(theta.dtype).unsqueeze(-1) / (1.0 - rate))
    return draws


def _dropout_logits(spec: net.MLPSpec, theta: torch.Tensor, x: torch.Tensor,
                    rate: float) -> torch.Tensor:
    """Training forward ``(n, C)`` of one weight vector with a fresh mask per row.

    ``F.dropout`` (inverted dropout, one fused kernel) draws from torch's global generator,
    which the fit's seed scope has seeded: training is reproducible and the caller's RNG
    untouched.
    """
    act = net.ACTIVATIONS[spec.activation]
    dropped = set(dropped_layers(spec))
    h = x
    for i, (weight, bias) in enumerate(spec.unflatten(theta)):
        if i > 0:
            h = act(h)
        if i in dropped:
            h = F.dropout(h, rate, training=True)
        h = torch.matmul(h, weight) + bias
    return h


class MCDropoutClassifier(BaseMLPClassifier):
    """MLP trained with dropout; the predictive averages S dropout masks (as weight draws).

    Parameters
    ----------
    hidden_sizes : tuple of int, default=(50,)
        With ``()`` dropout acts on the inputs (there are no hidden units).
    activation : {'tanh', 'relu'}, default='relu'
    prior_scale : float, default=1.0
        Scale of the N(0, prior_scale^2) prior; the weight decay is its MAP twin, as in NN.
    dropout : float, default=0.1
        Probability of dropping a unit, in [0, 1); 0 trains NN's MAP and predicts with S
        identical draws.
    num_epochs : int, default=500
    lr : float, default=0.01
        Adam learning rate.
    batch_size : int or None, default=None
        Rows per step; None is full-batch.
    random_state : int, RandomState or None, default=None
    device : {'cpu', 'cuda'}, default='cpu'
    num_predictive_samples : int or None, default=None
        Dropout masks averaged by ``predict_proba*`` (None: 100).

    Attributes
    ----------
    theta_ : ndarray of shape (P,), float32
        The trained weights (no dropout applied; a copy, as for ``NNClassifier``).
    losses_ : ndarray of shape (n_steps,)
        Mean negative log-joint per row at each step, under that step's dropout masks.
    n_grad_evals_ : int
        Optimiser steps.
    """

    label = "MC dropout"
    color = "#56B4E9"
    budget_param = "num_epochs"
    # NN's epoch schedule (one step costs ~ one NN step plus the mask draws)
    settings: ClassVar[dict] = {**NNClassifier.settings,
                                "instructions": {"": {"num_epochs": 20, "lr": 0.1}},
                                "test": {"num_epochs": 50, "lr": 0.1, "num_predictive_samples": 20}}

    def __init__(self, hidden_sizes=(50,), activation="relu", prior_scale=1.0, dropout=0.1,
                 num_epochs=500, lr=0.01, batch_size=None, random_state=None, device="cpu",
                 num_predictive_samples=None):
        self.hidden_sizes = hidden_sizes
        self.activation = activation
        self.prior_scale = prior_scale
        self.dropout = dropout
        self.num_epochs = num_epochs
        self.lr = lr
        self.batch_size = batch_size
        self.random_state = random_state
        self.device = device
        self.num_predictive_samples = num_predictive_samples

    def _check_method_params(self) -> None:
        check_fraction("dropout", self.dropout, include_zero=True)
        check_map_params(self.num_epochs, self.lr, self.batch_size)

    def _fit(self, x: torch.Tensor, y: torch.Tensor) -> None:
        # NN's MAP loop (init, minibatches, Adam, the prior's weight decay), with the training
        # forward swapped for the dropout one
        spec, rate = self.spec_, float(self.dropout)
        self._theta, self.losses_ = train_map(
            spec, x, y, seed=self.seed_, prior_scale=self.prior_scale,
            num_epochs=self.num_epochs, lr=self.lr, batch_size=self.batch_size,
            train_logits=lambda theta, xb: _dropout_logits(spec, theta, xb, rate))
        self.theta_ = fitted_array(self._theta)
        self.n_grad_evals_ = len(self.losses_)

    def _draws(self, num: int) -> torch.Tensor:
        # a private generator from the fitted seed: predictions are reproducible and pure
        masks = sample_masks(self.spec_, num, float(self.dropout), self._generator(1),
                             self.device_)
        return apply_masks(self.spec_, self._theta, masks, float(self.dropout))
