"""Last-layer Laplace approximation around the MAP (MacKay 1992; Daxberger et al. 2021).

The fit is the NN's MAP training unchanged (the shared :func:`~bnncompare.methods._map.train_map`,
so the same seed gives the NN's weights bit for bit), then a Gaussian over the last layer's
weights and biases: mean = MAP, precision =
the last layer's generalised Gauss-Newton (GGN) matrix plus the prior precision. For a softmax
output the GGN of the last layer is exact (it is the Hessian of the negative log-likelihood in
those weights, which enter the logits linearly) and small::

    G = sum_i (phi_i phi_i^T) kron (diag(p_i) - p_i p_i^T),   phi_i = [features_i, 1]

with ``(D + 1) * C`` rows, ordered like the flat layout of ``net`` (row-major ``W`` then ``b``).
The prior precision is tuned post hoc by maximising the Laplace log marginal likelihood, which
is closed form given G's eigenvalues ``e_k`` and unimodal in ``log lambda``::

    log Z(lambda) = log p(y | theta*) - lambda ||w*||^2 / 2 + K/2 log lambda
                    - 1/2 sum_k log(e_k + lambda)

Hand-written rather than ``laplace-torch``: the last-layer GGN of a softmax is these few lines
of exact algebra, and the library would add three dependencies (curvlinops, backpack, asdfghjkl),
store weights in ``nn.Linear``'s (out, in) layout, and predict by a Python loop over draws.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np
import torch
from scipy.optimize import minimize_scalar

from bnncompare import net
from bnncompare.methods._map import check_map_params, train_map
from bnncompare.methods.base import BaseMLPClassifier, check_positive_float, fitted_array
from bnncompare.methods.nn import NNClassifier

__all__ = ["LaplaceClassifier", "last_layer_features", "last_layer_ggn", "log_marglik"]

# Search range of the prior precision (a 1-D bounded search over its log): 1e-4 is a prior sd of
# 100, 1e6 a prior sd of 1e-3; the optimum of a standardised tabular problem lies well inside.
_LOG_PRECISION_BOUNDS = (math.log(1e-4), math.log(1e6))
# Rows per chunk of the GGN sum: bounds the (rows, K_phi^2) outer-product buffer to 4 M floats.
_GGN_CHUNK_FLOATS = 1 << 22


def last_layer_features(spec: net.MLPSpec, theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Inputs of the last layer for one weight vector, with a column of ones for the bias.

    Returns
    -------
    Tensor of shape (n, D + 1)
        ``D`` is the last hidden width (the input width when there is no hidden layer).
    """
    act = net.ACTIVATIONS[spec.activation]
    h = x
    for weight, bias in spec.unflatten(theta)[:-1]:
        h = act(h @ weight + bias)
    return torch.cat([h, torch.ones_like(h[:, :1])], 1)


def last_layer_ggn(phi: torch.Tensor, proba: torch.Tensor) -> torch.Tensor:
    """Exact softmax GGN of the last layer, ``(K, K)`` with ``K = (D + 1) * C``.

    Index ``j * C + c`` is feature ``j`` (bias last) of class ``c``: the flat layout of the
    last layer in ``theta``. Computed in the dtype of the inputs (callers pass float64).
    """
    n, k_phi = phi.shape
    c = proba.shape[1]
    curv = torch.diag_embed(proba) - proba[:, :, None] * proba[:, None, :]  # (n, C, C)
    total = torch.zeros(k_phi * k_phi, c * c, dtype=phi.dtype, device=phi.device)
    step = max(1, _GGN_CHUNK_FLOATS // (k_phi * k_phi))
    for start in range(0, n, step):
        f, a = phi[start:start + step], curv[start:start + step]
        outer = (f[:, :, None] * f[:, None, :]).reshape(len(f), -1)
        total += outer.T @ a.reshape(len(f), -1)  # sum over rows as one GEMM
    g = total.reshape(k_phi, k_phi, c, c).permute(0, 2, 1, 3)
    return g.reshape(k_phi * c, k_phi * c)


def log_marglik(log_precision: float, eigenvalues: np.ndarray, sq_norm: float,
                log_lik: float) -> float:
    """Laplace log marginal likelihood at prior precision ``exp(log_precision)``.

    ``eigenvalues`` of the GGN over the ``K`` weights the prior precision applies to,
    ``sq_norm`` = their squared MAP norm, ``log_lik`` = the log-likelihood at the MAP.
    """
    lam = math.exp(log_precision)
    k = len(eigenvalues)
    return float(log_lik - 0.5 * lam * sq_norm + 0.5 * k * log_precision
                 - 0.5 * np.log(eigenvalues + lam).sum())


class LaplaceClassifier(BaseMLPClassifier):
    """MLP trained to the MAP, with a last-layer Laplace posterior.

    Parameters
    ----------
    hidden_sizes : tuple of int, default=(50,)
        ``()``: the last layer is the whole model (Laplace for softmax regression).
    activation : {'tanh', 'relu'}, default='relu'
    prior_scale : float, default=1.0
        N(0, prior_scale^2) prior of the MAP fit (weight decay), as for ``NNClassifier``.
    num_epochs, lr, batch_size
        The MAP training, exactly as ``NNClassifier``.
    prior_precision : float or None, default=None
        Prior precision of the last-layer posterior; None tunes it by maximising the Laplace
        log marginal likelihood (the MAP itself stays the one fitted with ``prior_scale``).
    random_state : int, RandomState or None, default=None
    device : {'cpu', 'cuda'}, default='cpu'
    num_predictive_samples : int or None, default=None
        Last-layer draws used by ``predict_proba*`` (None: 100).

    Attributes
    ----------
    theta_ : ndarray of shape (P,), float32
        The MAP weights (the posterior mean; a copy, as for ``NNClassifier``).
    losses_ : ndarray of shape (n_steps,)
        Mean negative log-joint per row at each MAP step, as for ``NNClassifier``.
    prior_precision_ : float
        The prior precision of the last-layer posterior (tuned or given).
    log_marginal_likelihood_ : float
        Laplace log marginal likelihood at ``prior_precision_`` (last layer, rest fixed).
    posterior_precision_ : Tensor of shape (K, K), float64
        GGN + ``prior_precision_`` * I over the last layer's ``K = (D + 1) * C`` weights, in
        the flat layout (row-major ``W`` then ``b``).
    n_grad_evals_ : int
        MAP optimiser steps plus one: the closed-form curvature costs one full-data pass.
    """

    label = "Laplace"
    color = "#D55E00"
    point_estimate = False
    fixed_draws = False
    budget_param = "num_epochs"
    # NN's epoch schedule: the MAP is the NN's fit, the curvature one more full-data pass
    settings: ClassVar[dict] = {**NNClassifier.settings,
                                "instructions": {"": {"num_epochs": 20, "lr": 0.1}},
                                "test": {"num_epochs": 50, "lr": 0.1, "num_predictive_samples": 20}}

    def __init__(self, hidden_sizes=(50,), activation="relu", prior_scale=1.0, num_epochs=500,
                 lr=0.01, batch_size=None, prior_precision=None, random_state=None,
                 device="cpu", num_predictive_samples=None):
        self.hidden_sizes = hidden_sizes
        self.activation = activation
        self.prior_scale = prior_scale
        self.num_epochs = num_epochs
        self.lr = lr
        self.batch_size = batch_size
        self.prior_precision = prior_precision
        self.random_state = random_state
        self.device = device
        self.num_predictive_samples = num_predictive_samples

    def _check_method_params(self) -> None:
        check_map_params(self.num_epochs, self.lr, self.batch_size)
        if self.prior_precision is not None:
            check_positive_float("prior_precision", self.prior_precision)

    def _fit(self, x: torch.Tensor, y: torch.Tensor) -> None:
        theta, self.losses_ = train_map(  # the NN's MAP, then one full-data curvature pass
            self.spec_, x, y, seed=self.seed_, prior_scale=self.prior_scale,
            num_epochs=self.num_epochs, lr=self.lr, batch_size=self.batch_size)
        self._theta, self.theta_ = theta, fitted_array(theta)
        self.n_grad_evals_ = len(self.losses_) + 1
        k = self._last_layer_size()
        with torch.no_grad():
            phi = last_layer_features(self.spec_, theta, x).double()
            w_last = theta[-k:].double()
            logits = phi @ w_last.reshape(phi.shape[1], -1)
            log_lik = -float(net.nll_sum(logits, y))
            ggn = last_layer_ggn(phi, torch.softmax(logits, 1))
        eigval, eigvec = torch.linalg.eigh(ggn)
        eigval = eigval.clamp_min(0)  # PSD in exact arithmetic; round-off gives -1e-15
        e, sq_norm = eigval.cpu().numpy(), float(w_last.pow(2).sum())
        if self.prior_precision is None:
            best = minimize_scalar(lambda t: -log_marglik(t, e, sq_norm, log_lik),
                                   bounds=_LOG_PRECISION_BOUNDS, method="bounded",
                                   options={"xatol": 1e-6})
            lam = math.exp(best.x)
        else:
            lam = float(self.prior_precision)
        self.prior_precision_ = lam
        self.log_marginal_likelihood_ = log_marglik(math.log(lam), e, sq_norm, log_lik)
        self.posterior_precision_ = ggn + lam * torch.eye(k, dtype=ggn.dtype, device=ggn.device)
        # posterior covariance = V diag(1 / (e + lam)) V^T: a draw is mean + V (z / sqrt(e+lam))
        self._draw_basis = (eigvec / (eigval + lam).sqrt()).float()

    def _last_layer_size(self) -> int:
        fan_in, fan_out = self.spec_.layer_shapes[-1]
        return (fan_in + 1) * fan_out

    def _draws(self, num: int) -> torch.Tensor:
        """The MAP with its last-layer block replaced by ``num`` Gaussian draws, (num, P)."""
        k = self._last_layer_size()
        z = torch.randn(num, k, generator=self._generator(1), device=self.device_)
        draws = self._theta.expand(num, -1).clone()
        draws[:, -k:] += z @ self._draw_basis.T
        return draws
