"""Raw-torch floors: the least code that does the same arithmetic, with no library around it.

They take per-layer tensors prepared outside the timed region, so what they time is only the
arithmetic every implementation must do (plus torch's own dispatch).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from bnncompare import net

__all__ = ["bbb_floor_steps", "layer_tensors", "manual_grad_calls", "potential_grad_floor",
           "predict_floor"]


def layer_tensors(spec: net.MLPSpec, theta: torch.Tensor) -> list[tuple[torch.Tensor, ...]]:
    """Contiguous per-layer ``(W, b)`` copies of flat ``theta[..., P]`` (untimed setup)."""
    return [(w.contiguous(), b.unsqueeze(-2).contiguous()) for w, b in spec.unflatten(theta)]


def predict_floor(layers, x: torch.Tensor, activation=torch.tanh) -> torch.Tensor:
    """Posterior predictive mean of S draws: one broadcast matmul chain, softmax, mean."""
    h = x
    for i, (w, b) in enumerate(layers):
        h = torch.matmul(h, w) + b
        if i < len(layers) - 1:
            h = activation(h)
    return torch.softmax(h, -1).mean(0)


def _layer_logits(params, x, activation):
    h = x
    for i, (w, b) in enumerate(params):
        h = h @ w + b
        if i < len(params) - 1:
            h = activation(h)
    return h


def potential_grad_floor(spec: net.MLPSpec, x, y, prior_scale: float, num_calls: int,
                         seed: int = 0) -> int:
    """``num_calls`` evaluations of the log-joint and its gradient (one NUTS leapfrog's work)."""
    gen = torch.Generator().manual_seed(seed)
    params = [(torch.randn(i, o, generator=gen) * 0.1, torch.zeros(o))
              for i, o in spec.layer_shapes]
    leaves = [t.requires_grad_() for pair in params for t in pair]
    act = net.ACTIVATIONS[spec.activation]
    for _ in range(num_calls):
        nll = F.cross_entropy(_layer_logits(params, x, act), y, reduction="sum")
        prior = sum(t.pow(2).sum() for t in leaves) * (0.5 / prior_scale**2)
        torch.autograd.grad(nll + prior, leaves)
    return num_calls


def manual_grad_calls(spec: net.MLPSpec, x, y, prior_scale: float, num_calls: int,
                      seed: int = 0) -> int:
    """``num_calls`` evaluations of bnncompare's own hand-written potential + gradient: what
    its NUTS pays per leapfrog before any sampler code (the gap to its NUTS time is the
    sampler's overhead)."""
    from bnncompare.methods._potential import value_and_grad

    evaluate = value_and_grad(spec, x, y, prior_scale)
    theta = torch.randn(spec.n_params, generator=torch.Generator().manual_seed(seed)) * 0.1
    for _ in range(num_calls):
        evaluate(theta)
    return num_calls


def bbb_floor_steps(spec: net.MLPSpec, x, y, prior_scale: float, num_steps: int,
                    lr: float = 0.01, seed: int = 0) -> int:
    """Hand-written Bayes-by-Backprop: mean-field Gaussian, analytic KL, Adam, full batch."""
    gen = torch.Generator().manual_seed(seed)
    locs = [(torch.randn(i, o, generator=gen) * 0.1).requires_grad_()
            for i, o in spec.layer_shapes] + \
           [torch.zeros(o, requires_grad=True) for _, o in spec.layer_shapes]
    rhos = [torch.full_like(t, math.log(math.expm1(1e-2))).requires_grad_() for t in locs]
    optimiser = torch.optim.Adam(locs + rhos, lr=lr)
    act, n_layers = net.ACTIVATIONS[spec.activation], len(spec.layer_shapes)
    for _ in range(num_steps):
        scales = [F.softplus(r) for r in rhos]
        draws = [m + s * torch.randn_like(m) for m, s in zip(locs, scales, strict=True)]
        params = list(zip(draws[:n_layers], draws[n_layers:], strict=True))
        nll = F.cross_entropy(_layer_logits(params, x, act), y, reduction="sum")
        kl = sum(_kl_normal(m, s, prior_scale) for m, s in zip(locs, scales, strict=True))
        optimiser.zero_grad(set_to_none=True)
        (nll + kl).backward()
        optimiser.step()
    return num_steps


def _kl_normal(loc, scale, prior_scale: float) -> torch.Tensor:
    """KL(N(loc, scale^2) || N(0, prior_scale^2)), summed."""
    ratio = scale / prior_scale
    return (0.5 * (ratio.pow(2) + (loc / prior_scale).pow(2) - 1) - ratio.log()).sum()
