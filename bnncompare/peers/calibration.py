"""A fixed pure-torch workload timed in every run, so runs on different machines (or the same
machine on a noisy day) can be normalised: time / calibration time is scale-free."""

from __future__ import annotations

import torch

__all__ = ["calibration_workload"]


def calibration_workload(size: int = 128, repeats: int = 60) -> float:
    """Matmul + tanh + a backward pass: the same kinds of kernels the methods spend time in.

    Deterministic (fixed seed, fixed shapes); about 10-20 ms on one core.
    """
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(size, size, generator=gen, requires_grad=True)
    b = torch.randn(size, size, generator=gen)
    total = torch.zeros(())
    for _ in range(repeats):
        out = torch.tanh(a @ b).sum()
        (grad,) = torch.autograd.grad(out, a)
        total = total + grad.sum().detach()
    return float(total)
