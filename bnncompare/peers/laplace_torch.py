"""laplace-torch's last-layer Laplace on our MAP net: the library peer of ``LaplaceClassifier``
(optional ``peers`` extra).

The MAP weights become an ``nn.Sequential`` of ``nn.Linear`` layers (the library finds the last
layer by its forward hooks), the library fits a full last-layer Hessian (its GGN, exact for a
softmax output) with our prior precision, and predicts by Monte Carlo over last-layer draws, as
ours does. Its own prior-precision optimisation (``optimize_prior_precision(method="marglik")``)
is run beside ours, which maximises the same closed-form marginal likelihood.
"""

from __future__ import annotations

import importlib.util
import math
import time
import warnings

import numpy as np
import torch

from bnncompare import metrics, net

__all__ = ["bnncompare_row", "fit_laplace_torch", "laplace_torch_available", "laplace_torch_proba",
           "last_layer_order", "library_row", "our_curvature", "torch_mlp"]


def laplace_torch_available() -> bool:
    """Whether ``laplace`` (the ``laplace-torch`` distribution) can be imported."""
    return importlib.util.find_spec("laplace") is not None


def torch_mlp(spec: net.MLPSpec, theta: torch.Tensor) -> torch.nn.Sequential:
    """``theta`` as an ``nn.Sequential`` computing the same logits as :func:`net.logits`.

    ``nn.Linear`` keeps its weight as (out, in): ours are (in, out), so each is transposed.
    """
    act = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU}[spec.activation]
    layers: list[torch.nn.Module] = []
    pairs = spec.unflatten(theta.detach().float().cpu())
    for i, (weight, bias) in enumerate(pairs):
        linear = torch.nn.Linear(*weight.shape)
        with torch.no_grad():
            linear.weight.copy_(weight.T)
            linear.bias.copy_(bias)
        layers.append(linear)
        if i < len(pairs) - 1:
            layers.append(act())
    return torch.nn.Sequential(*layers)


def last_layer_order(spec: net.MLPSpec) -> torch.Tensor:
    """Index into the library's flat last layer (``W`` (C, D) row-major, then ``b``) for each
    entry of ours (index ``j * C + c``: feature ``j``, bias last, of class ``c``)."""
    fan_in, c = spec.layer_shapes[-1]
    j, k = np.meshgrid(np.arange(fan_in + 1), np.arange(c), indexing="ij")
    theirs = np.where(j < fan_in, k * fan_in + j, c * fan_in + k)
    return torch.as_tensor(theirs.ravel())


def fit_laplace_torch(spec: net.MLPSpec, theta: torch.Tensor, x: torch.Tensor, y: torch.Tensor,
                      prior_precision: float = 1.0):
    """laplace-torch's last-layer, full-Hessian Laplace around ``theta``; full-batch fit."""
    from laplace import Laplace  # the optional extra, imported when used
    data = torch.utils.data.TensorDataset(x.float().cpu(), y.long().cpu())
    la = Laplace(torch_mlp(spec, theta), "classification", subset_of_weights="last_layer",
                 hessian_structure="full", prior_precision=float(prior_precision))
    la.fit(torch.utils.data.DataLoader(data, batch_size=len(data)))
    return la


def laplace_torch_proba(la, x: torch.Tensor, num_samples: int, seed: int = 0) -> np.ndarray:
    """The library's sampled predictive (``pred_type="nn"``, MC over last-layer draws), (n, C)."""
    torch.manual_seed(seed)  # the library draws from torch's global generator
    with torch.no_grad():
        proba = la(x.float().cpu(), pred_type="nn", link_approx="mc", n_samples=num_samples)
    proba = proba.double().numpy()
    return proba / proba.sum(1, keepdims=True)


def _seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _marglik_prior_precision(spec, theta, x, y) -> tuple[float, float]:
    """laplace-torch's own prior precision (``optimize_prior_precision``, marglik) and seconds."""
    la = fit_laplace_torch(spec, theta, x, y)
    start = time.perf_counter()
    with warnings.catch_warnings():  # its optimiser warns about its own defaults
        warnings.simplefilter("ignore")
        la.optimize_prior_precision(method="marglik")
    return float(la.prior_precision), time.perf_counter() - start


def our_curvature(spec: net.MLPSpec, theta: torch.Tensor, x: torch.Tensor, y: torch.Tensor,
                  prior_precision: float | None = None) -> float:
    """``LaplaceClassifier``'s step after the MAP, redone with its public pieces: last-layer
    features, the exact GGN, its eigendecomposition (what our draws are made from) and, when
    ``prior_precision`` is None, the marginal-likelihood search. The work one library fit
    replaces; returns the prior precision."""
    from scipy.optimize import minimize_scalar

    from bnncompare.methods.laplace import last_layer_features, last_layer_ggn, log_marglik
    with torch.no_grad():
        phi = last_layer_features(spec, theta, x).double()
        w_last = theta[-phi.shape[1] * spec.n_classes:].double()
        logits = phi @ w_last.reshape(phi.shape[1], -1)
        log_lik = -float(net.nll_sum(logits, y))
        eig, _ = torch.linalg.eigh(last_layer_ggn(phi, torch.softmax(logits, 1)))
    if prior_precision is not None:
        return float(prior_precision)
    e, sq = eig.clamp_min(0).numpy(), float(w_last.pow(2).sum())
    best = minimize_scalar(lambda t: -log_marglik(t, e, sq, log_lik),
                           bounds=(math.log(1e-4), math.log(1e6)), method="bounded")
    return math.exp(best.x)


def _workload(ours, n_train: int) -> dict:
    return {"subset_of_weights": "last_layer", "hessian_structure": "full", "n_train": n_train,
            "prior_precision": ours.prior_precision_, "hidden": list(ours.hidden_sizes),
            "activation": ours.activation}


def bnncompare_row(ours, x_train, y_train):
    """Our side of the row: ``(work, workload)``, ``work()`` being :func:`our_curvature` at
    ``ours.prior_precision_`` on ``ours``' MAP (the same work as the library's timed fit)."""
    spec, theta = ours.spec_, torch.as_tensor(ours.theta_)
    x, y = torch.as_tensor(x_train), torch.as_tensor(y_train)
    lam = ours.prior_precision_
    return (lambda: (our_curvature(spec, theta, x, y, lam), 1)[1]), _workload(ours, len(x_train))


def library_row(ours, x_train, y_train, x_test, num_samples: int = 2000):
    """The benchmark row: ``(work, workload, extra_info)`` for the fitted ``LaplaceClassifier``
    ``ours`` (its MAP, its prior precision).

    ``work()`` is laplace-torch's fit on that MAP net (the timed unit: one fit);
    ``extra_info`` has ``tv_to_bnncompare`` (mean TV of the two sampled predictives on
    ``x_test``, ``num_samples`` draws each, so about 0.002 of it is Monte-Carlo noise),
    both prior precisions (ours, and the library's own ``optimize_prior_precision``), the
    seconds of each search (ours with its curvature, theirs after its fit), and the largest gap
    between the two posterior precision matrices.
    """
    spec, theta = ours.spec_, torch.as_tensor(ours.theta_)
    x, y = torch.as_tensor(x_train), torch.as_tensor(y_train)
    lam = ours.prior_precision_
    la = fit_laplace_torch(spec, theta, x, y, lam)
    order = last_layer_order(spec)
    theirs_prec = la.posterior_precision.double()[order][:, order]
    draws = ours.num_predictive_samples
    mine = ours.set_params(num_predictive_samples=num_samples).predict_proba(x_test)
    ours.set_params(num_predictive_samples=draws)
    theirs = laplace_torch_proba(la, torch.as_tensor(x_test), num_samples, ours.seed_)
    lam_lib, opt_s = _marglik_prior_precision(spec, theta, x, y)
    extra = {
        "bnncompare_curvature_and_search_s": _seconds(lambda: our_curvature(spec, theta, x, y)),
        "tv_to_bnncompare": float(metrics.total_variation(theirs, mine).mean()),
        "predictive_draws": num_samples,
        "prior_precision_bnncompare": lam,
        "prior_precision_laplace_torch": lam_lib,
        "prior_precision_optimize_s": opt_s,
        "posterior_precision_max_abs_diff": float((theirs_prec - ours.posterior_precision_)
                                                  .abs().max()),
        "log_marglik_bnncompare": ours.log_marginal_likelihood_,
        "log_marglik_laplace_torch": float(la.log_marginal_likelihood()),
    }
    workload = _workload(ours, len(x_train))
    return (lambda: (fit_laplace_torch(spec, theta, x, y, lam), 1)[1]), workload, extra
