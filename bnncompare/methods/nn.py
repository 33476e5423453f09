"""Point-estimate MLP: the MAP twin of the Bayesian model.

Minimising ``-log p(y | X, theta) + ||theta||^2 / (2 prior_scale^2)`` is weight decay with the
same Gaussian prior the Bayesian methods use, so every method fits one probabilistic model.
"""

from __future__ import annotations

from typing import ClassVar

import torch

from bnncompare.methods._map import check_map_params, minibatches, train_map
from bnncompare.methods.base import BaseMLPClassifier, fitted_array

# minibatches: its old home, kept importable from here
__all__ = ["NNClassifier", "minibatches"]


class NNClassifier(BaseMLPClassifier):
    """MLP trained to the MAP estimate with Adam.

    Parameters
    ----------
    hidden_sizes : tuple of int, default=(50,)
        Hidden layer widths; ``()`` is multinomial logistic regression. The default, one
        hidden layer of 50 relu units, is scikit-learn's ``MLPClassifier`` default (shared by
        every method).
    activation : {'tanh', 'relu'}, default='relu'
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
    theta_ : ndarray of shape (P,), float32
        The fitted flat weight vector (a copy: prediction uses the fit's own tensor).
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
        "instructions": {"": {"num_epochs": 20, "lr": 0.1}},
        "test": {"num_epochs": 50, "lr": 0.1},
        "demo": {"num_epochs": 300},
        "gpu": {"num_epochs": 300},
        "sweep": {"smoke": {"num_epochs": 30}, "fast": {"num_epochs": 100},
                  "full": {"num_epochs": 100}},
        "quality": {"smoke": {"num_epochs": 100}, "fast": {"num_epochs": 300},
                    "full": {"num_epochs": 500}},
    }

    def __init__(self, hidden_sizes=(50,), activation="relu", prior_scale=1.0, num_epochs=500,
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
        check_map_params(self.num_epochs, self.lr, self.batch_size)

    def _fit(self, x: torch.Tensor, y: torch.Tensor) -> None:
        self._theta, self.losses_ = train_map(
            self.spec_, x, y, seed=self.seed_, prior_scale=self.prior_scale,
            num_epochs=self.num_epochs, lr=self.lr, batch_size=self.batch_size)
        self.theta_ = fitted_array(self._theta)
        self.n_grad_evals_ = len(self.losses_)

    def _num_draws(self) -> int:
        return 1

    def _draws(self, num: int) -> torch.Tensor:
        return self._theta.unsqueeze(0)
