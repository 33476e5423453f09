"""The MLP's negative log-joint and its gradient by a hand-written backward pass.

The net is a plain matmul chain, so its gradient is a handful of matmuls that torch can run
without the autograd engine: on the iris MLP (105 rows, 2,233 weights, one thread) one
evaluation takes ~0.2-0.45 ms by hand against ~0.5-1.1 ms through autograd (measured side by
side, ``benchmarks/nuts_speed.py``). That evaluation is the whole cost of a NUTS leapfrog step.

:class:`ManualGradPotential` plugs it into Pyro's NUTS (which asks autograd for the gradient):
the forward pass computes both the value and the gradient, and the autograd node only hands
the stored gradient back.
"""

from __future__ import annotations

import functools

import torch

from bnncompare import net

__all__ = ["AutogradPotential", "ManualGradPotential", "batched_value_and_grad", "make_potential",
           "value_and_grad"]


def make_potential(spec: net.MLPSpec, x: torch.Tensor, y: torch.Tensor, prior_scale: float):
    """Negative log-joint ``U(theta)`` of the Bayesian MLP, up to a constant.

    ``U = sum_i CE(f(x_i; theta), y_i) + ||theta||^2 / (2 prior_scale^2)``; takes Pyro's
    ``{"theta": tensor(P)}`` dict.
    """
    decay = 0.5 / prior_scale**2

    def potential(params: dict[str, torch.Tensor]) -> torch.Tensor:
        theta = params["theta"]
        return net.nll_sum(net.logits(spec, theta, x), y) + decay * theta.pow(2).sum()

    return potential


# the activation inside the potential's forward pass, in place on its fresh pre-activation,
# and keywords for the matmul that makes it. One op each: per leapfrog step a single chain pays
# every op's fixed dispatch cost. (tanh as 2 sigmoid(2z) - 1 was cheaper per float on an AMD
# EPYC box, 1.1-1.4 vs 2.3-4.9 ns; on this AVX-512 Xeon torch.tanh is the cheaper one, 6.3 vs
# 8-12 us on a (4, 50, 112) tensor, and the trick's two extra ops cost ~13 us at K = 1)
_ACTIVATION = {"tanh": (torch.tanh_, {}), "relu": (torch.relu_, {})}


# backward of the activation from its output h = act(z): one fused aten op each
_ACTIVATION_BACKWARD = {
    "tanh": torch.ops.aten.tanh_backward.default,                    # g * (1 - h^2)
    "relu": lambda g, h: torch.ops.aten.threshold_backward.default(g, h, 0),  # g * (h > 0)
}


def value_and_grad(spec: net.MLPSpec, x: torch.Tensor, y: torch.Tensor, prior_scale: float):
    """``theta (P,) -> (U, dU/dtheta)`` for ``U = sum_i CE(f(x_i), y_i) + |theta|^2 / 2s^2``.

    The same ``U`` as :func:`make_potential`, evaluated without autograd: the forward pass
    keeps each layer's input, the backward pass is one ``addmm_`` per weight matrix written
    straight into the flat gradient (which starts as the prior's ``theta / s^2``).
    """
    act, scaled = _ACTIVATION[spec.activation]
    act_backward = _ACTIVATION_BACKWARD[spec.activation]
    shapes = spec.layer_shapes
    sizes = [n for fan_in, fan_out in shapes for n in (fan_in * fan_out, fan_out)]
    onehot = torch.nn.functional.one_hot(y, spec.n_classes).to(x.dtype)
    precision = 1.0 / prior_scale**2
    last = len(shapes) - 1

    def evaluate(theta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        parts = theta.split(sizes)
        weights = [parts[2 * i].view(shape) for i, shape in enumerate(shapes)]
        inputs, h = [x], x
        for i, weight in enumerate(weights):
            if i < last:
                h = act(torch.addmm(parts[2 * i + 1], h, weight, **scaled))
                inputs.append(h)
            else:
                h = torch.addmm(parts[2 * i + 1], h, weight)
        log_p = torch.log_softmax(h, 1)
        value = (0.5 * precision) * theta.dot(theta) - (log_p * onehot).sum()
        grad = theta * precision
        grad_parts = grad.split(sizes)
        delta = log_p.exp_().sub_(onehot)  # dU/dlogits, (n, C)
        for i in range(last, -1, -1):
            grad_parts[2 * i].view(shapes[i]).addmm_(inputs[i].T, delta)
            grad_parts[2 * i + 1].add_(delta.sum(0))
            if i > 0:
                delta = act_backward(torch.mm(delta, weights[i].T), inputs[i])
        return value, grad

    return evaluate


# a fresh CPU tensor starts on a 64-byte boundary: 16 float32 (the widest SIMD load, AVX-512)
_ALIGN = 16


def batched_value_and_grad(spec: net.MLPSpec, x: torch.Tensor, y: torch.Tensor,
                           prior_scale: float):
    """``theta (K, P) -> (U (K,), dU/dtheta (K, P))``: :func:`value_and_grad` for K chains.

    The same ``U`` with every matmul batched over the K weight vectors (``bmm``), so K chains
    cost one forward/backward pass (the vectorised NUTS, ``_vnuts``). Activations are kept
    feature-major, ``(K, width, rows)``: ``W^T h`` forward and ``W delta`` backward, which MKL
    runs faster at these sizes than the row-major ``h W`` (0.89-0.91x per call on the iris MLP,
    K = 4). Each layer's parameters are one ``(fan_in + 1, fan_out)`` block of ``theta``
    (``W`` then ``b``), and each layer's input carries a row of ones, so one ``bmm`` makes
    ``W^T h + b`` and one makes the block's whole gradient ``[h; 1] delta^T``: at K = 1 every
    op pays a fixed dispatch cost, and the bias sums were four of them.

    Each chain's numbers do not depend on the others in the batch (per-chain determinism rests
    on it). BLAS and torch's vectorised loops round by memory alignment, so a chain's block of
    every batched tensor must start on a 64-byte boundary, as a lone chain's does: the weights
    are read from (K, P) rows padded to 16 floats, and the data's rows are padded to a
    multiple of 16 with zero rows whose gradient is masked out (they add nothing to ``U``).
    Without the row padding a chain's gradient changed with its batch-mates for many shapes
    (96 of 576 sub-batch comparisons, e.g. a 64-50-10 net on 105 rows); it costs ~1.05x.
    """
    act, _ = _ACTIVATION[spec.activation]
    act_backward = _ACTIVATION_BACKWARD[spec.activation]
    shapes = spec.layer_shapes
    n_rows = x.shape[0]
    row_padding = -n_rows % _ALIGN
    pad_rows = functools.partial(torch.nn.functional.pad, pad=(0, 0, 0, row_padding))
    # (features + 1, rows): the input and its row of ones
    x_t = torch.cat([pad_rows(x).T, x.new_ones(1, n_rows + row_padding)]).contiguous()
    onehot = torch.nn.functional.one_hot(y, spec.n_classes).to(x.dtype)
    onehot_t = pad_rows(onehot).T.contiguous()  # (C, rows)
    onehot_flat = onehot_t.reshape(-1)
    is_real_row = (torch.arange(n_rows + row_padding, device=x.device) < n_rows).to(x.dtype)
    precision = 1.0 / prior_scale**2
    last = len(shapes) - 1
    n_params = spec.n_params
    padding = -n_params % _ALIGN
    blocks = [(fan_in + 1) * fan_out for fan_in, fan_out in shapes]

    buffers: dict[int, tuple] = {}

    def batch_buffers(k: int) -> tuple:
        """Made once per batch size: a (K, P + padding) buffer the weights are copied into,
        its ``[W; b]`` blocks transposed (K, fan_out, fan_in + 1) and ``W`` alone
        (K, fan_in, fan_out), and per hidden layer its output with a row of ones below
        (K, width + 1, rows) and the part the matmul writes, grouped per layer in the order
        each pass visits them."""
        if k not in buffers:
            # ordinary tensors even when first made under inference_mode (the vectorised
            # NUTS runs there): an inference tensor could not be written outside it later
            with torch.inference_mode(False):
                rows = x.new_empty(k, n_params + padding)
                parts = rows.split_with_sizes([*blocks, padding], 1)
                full = [parts[i].view(k, fan_in + 1, fan_out)
                        for i, (fan_in, fan_out) in enumerate(shapes)]
                hidden = [x.new_ones(k, fan_out + 1, x_t.shape[1]) for _, fan_out in shapes[:-1]]
                out = [h[:, :-1] for h in hidden]
                inputs = [x_t.expand(k, *x_t.shape), *hidden]
                full_t = [w.transpose(1, 2) for w in full]
                forward = list(zip(full_t[:-1], out, hidden, strict=True))
                backward = [(inputs[i], full[i][:, :-1], out[i - 1]) for i in range(last, 0, -1)]
                buffers[k] = (rows[:, :n_params], forward, full_t[-1], inputs[-1], backward,
                              inputs[0])
        return buffers[k]

    def evaluate(theta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        k = theta.shape[0]
        rows, forward, last_t, last_input, backward, first_input = batch_buffers(k)
        rows.copy_(theta)  # views made once: ~30 us a call less than padding theta anew
        h = first_input
        for weight_t, out, with_ones in forward:
            act(torch.bmm(weight_t, h, out=out))
            h = with_ones  # the activation and its row of ones: the next layer's input
        log_p = torch.log_softmax(torch.bmm(last_t, last_input), 1)  # (K, C, rows)
        value = (0.5 * precision) * torch.linalg.vecdot(theta, theta) \
            - torch.linalg.vecdot(log_p.view(k, -1), onehot_flat)
        delta = log_p.exp_().sub_(onehot_t)  # dU/dlogits, (K, C, rows)
        if row_padding:
            delta.mul_(is_real_row)
        grads = []  # last layer first
        for layer_input, weight, previous_out in backward:
            grads.append(torch.bmm(layer_input, delta.transpose(1, 2)).view(k, -1))
            delta = act_backward(torch.bmm(weight, delta), previous_out)
        grads.append(torch.bmm(first_input, delta.transpose(1, 2)).view(k, -1))
        return value, torch.cat(grads[::-1], 1).add_(theta, alpha=precision)

    return evaluate


class _StoredGrad(torch.autograd.Function):
    """``U`` as an autograd leaf function whose backward returns a precomputed gradient."""

    @staticmethod
    def forward(ctx, theta, value, grad):
        ctx.save_for_backward(grad)
        return value

    @staticmethod
    def backward(ctx, grad_output):
        (grad,) = ctx.saved_tensors
        return grad_output * grad, None, None


class ManualGradPotential:
    """Pyro ``potential_fn`` (``{"theta": tensor}`` -> ``U``) with the hand-written gradient.

    Counts its calls: one call is one gradient evaluation (one leapfrog step, or one step of
    Pyro's step-size search).
    """

    def __init__(self, spec: net.MLPSpec, x: torch.Tensor, y: torch.Tensor, prior_scale: float):
        self.evaluate = value_and_grad(spec, x, y, prior_scale)
        self.calls = 0

    def __call__(self, params: dict[str, torch.Tensor]) -> torch.Tensor:
        self.calls += 1
        theta = params["theta"]
        with torch.no_grad():
            value, grad = self.evaluate(theta.detach())
        return _StoredGrad.apply(theta, value, grad)


class AutogradPotential:
    """:func:`make_potential` differentiated by autograd, counting calls (the slower path,
    kept as the reference the hand-written gradient is measured and tested against)."""

    def __init__(self, spec: net.MLPSpec, x: torch.Tensor, y: torch.Tensor, prior_scale: float):
        self.potential = make_potential(spec, x, y, prior_scale)
        self.calls = 0

    def __call__(self, params: dict[str, torch.Tensor]) -> torch.Tensor:
        self.calls += 1
        return self.potential(params)
