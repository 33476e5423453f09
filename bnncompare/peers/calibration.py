"""A fixed pure-torch workload timed in every run, so runs on different machines (or the same
machine on a noisy day) can be normalised: time / calibration time is scale-free.

It must slow down when the benchmarks slow down. The benchmarks here are dispatch-bound
(small tensors: Python, the autograd engine and per-op overhead dominate), so the workload is
a small MLP trained with Adam, not a large matmul: a 128x128 matmul loop, tried first, moved
by +-40 % between runs while the benchmarks moved by +-10 % (its speed follows the vector
units' clock, theirs the interpreter's), and turned every A/A comparison into a "regression".
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["calibration_workload"]


def calibration_workload(steps: int = 60, rows: int = 64) -> float:
    """``steps`` full-batch Adam steps of a 4-32-32-3 tanh MLP on fixed random data.

    Deterministic (fixed seed, fixed shapes); about 20-40 ms on one core. Returns the final
    loss so the work cannot be skipped.
    """
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(rows, 4, generator=gen)
    y = torch.randint(0, 3, (rows,), generator=gen)
    sizes = [(4, 32), (32, 32), (32, 3)]
    params = [t.requires_grad_() for i, o in sizes
              for t in (torch.randn(i, o, generator=gen) * 0.3, torch.zeros(o))]
    optimiser = torch.optim.Adam(params, lr=0.01)
    for _ in range(steps):
        h = x
        for k in range(0, len(params), 2):
            h = h @ params[k] + params[k + 1]
            h = torch.tanh(h) if k < len(params) - 2 else h
        loss = F.cross_entropy(h, y)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
    return float(loss.detach())
