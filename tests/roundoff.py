"""Float32 round-off bounds for comparing the library's float32 results with references.

Tolerances in the tests come from here, not from what one CPU happened to give: BLAS kernels
differ between CPUs (Intel vs AMD: blocking, FMA, vector width), and so does the order in which
a GEMM or a reduction adds its terms, so a float32 result may move by a few ulps of the
quantity's scale from one machine to the next. The bounds are the textbook worst case (Higham,
*Accuracy and Stability of Numerical Algorithms*, ch. 3): a sum of k float32 terms is within
``gamma_k = k * u`` (u = eps / 2) of the exact sum, relative to the sum of the terms' absolute
values. Every bound below is twice that (``k * eps``): the factor 2 leaves room for tanh and
exp kernels that are not correctly rounded. Any real bug (a wrong slice, a transposed weight,
a dropped bias or draw) moves results by 1e-2 or more, far above these bounds.
"""

from __future__ import annotations

import numpy as np
import torch

from bnncompare.net import MLPSpec

EPS32 = float(torch.finfo(torch.float32).eps)  # 2**-23: one ulp at 1.0


def _abs_forward(spec: MLPSpec, theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``|x| @ |W| + |b|`` layer by layer in float64: the sum of |terms| behind each output.

    tanh and relu are 1-Lipschitz with ``|act(h)| <= |h|``, so an error in one layer's output
    reaches the logits amplified by at most this same ``|W|`` chain.
    """
    theta = torch.as_tensor(theta).double().abs()
    h, start = torch.as_tensor(x).double().abs(), 0
    for fan_in, fan_out in spec.layer_shapes:
        w = theta[..., start:start + fan_in * fan_out].reshape(*theta.shape[:-1], fan_in, fan_out)
        start += fan_in * fan_out
        b = theta[..., start:start + fan_out].unsqueeze(-2)
        start += fan_out
        h = h @ w + b
    return h


def logit_bound(spec: MLPSpec, theta, x) -> torch.Tensor:
    """Elementwise bound on |float32 ``net.logits`` - exact logits|, shape ``(..., n, C)``.

    ``k`` counts the roundings on the way to a logit: ``fan_in`` products and adds plus the
    bias per layer, and one per activation.
    """
    k = sum(fan_in + 1 for fan_in, _ in spec.layer_shapes) + len(spec.hidden_sizes)
    return k * EPS32 * _abs_forward(spec, theta, x)


def proba_bound(spec: MLPSpec, theta, x, exact_proba) -> torch.Tensor:
    """Elementwise bound on |float32 softmax probabilities - exact ones|, shape ``(..., n, C)``.

    A logit error ``dz`` (each ``|dz_j| <= delta``, delta the row's largest logit bound) moves
    ``p_i = softmax(z)_i`` by ``p_i (dz_i - sum_j p_j dz_j)``, at most ``2 delta p_i (1 - p_i)``;
    softmax's own exp, sum and division add at most ``(C + 2)`` ulps of 1.
    """
    delta = logit_bound(spec, theta, x).amax(-1, keepdim=True)
    p = torch.as_tensor(np.asarray(exact_proba, dtype=np.float64))
    return 2 * delta * p * (1 - p) + (spec.n_classes + 2) * EPS32


def mean_bound(num: int, mean) -> torch.Tensor:
    """Bound on the float32 round-off of a mean of ``num`` non-negative values, any order.

    Recursive summation of ``num`` terms is within ``(num - 1) u`` of the exact sum relative to
    the sum itself (the terms are >= 0), and the division adds u: any order is within
    ``num * u * mean`` of the exact mean, so two orders are within ``num * eps * mean``.
    """
    return num * EPS32 * torch.as_tensor(np.asarray(mean, dtype=np.float64))


def assert_within(actual, expected, bound, what: str = "values") -> None:
    """Assert ``|actual - expected| <= bound`` elementwise, naming the worst element."""
    actual, expected, bound = (torch.as_tensor(np.asarray(a, dtype=np.float64))
                               for a in (actual, expected, bound))
    diff = (actual - expected).abs()
    bound = bound.expand_as(diff)
    worst = int((diff / bound).argmax())
    ratio = float((diff / bound).flatten()[worst])
    assert ratio <= 1.0, (
        f"{what}: |diff| {float(diff.flatten()[worst]):.3g} exceeds the float32 round-off "
        f"bound {float(bound.flatten()[worst]):.3g} ({ratio:.1f}x) at flat index {worst}")
