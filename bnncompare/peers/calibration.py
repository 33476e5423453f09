"""Fixed pure-torch workloads timed in every run, so times can be normalised: time divided by
the same run's calibration time is scale-free, within one machine and (partly) across machines.

There are two kinds, because the benchmarks are bound by two different things and machines
differ in the balance between them (measured: an AMD EPYC ran the GEMM-heavy predict cells
1.6-3x "slower" than an Intel Xeon after dispatch-only calibration, the raw batched-matmul
floor too, while fits were within 0.9-1.4x):

* ``dispatch``: small tensors, where Python, the autograd engine and per-op overhead dominate
  (every fit, SVI step and leapfrog). A small MLP trained with Adam. A 128x128 matmul loop,
  tried first for this, moved by +-40 % between runs while the fits moved by +-10 % (its speed
  follows the vector units' clock, theirs the interpreter's).
* ``gemm``: the model average of ``predict_proba``: one broadcast matmul chain over S weight
  draws on many rows, bound by the BLAS kernels. Shaped like the largest predict cells.

Which kind normalises which benchmark is :func:`bnncompare.benchjson.calibration_kind`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["CALIBRATION_KINDS", "calibration_workload", "gemm_calibration_workload"]


def calibration_workload(steps: int = 60, rows: int = 64) -> float:
    """``dispatch`` kind: ``steps`` full-batch Adam steps of a 4-32-32-3 tanh MLP.

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


def gemm_calibration_workload(repeats: int = 2, draws: int = 100, rows: int = 1000) -> float:
    """``gemm`` kind: ``repeats`` predictive means of an 8-16-16-3 tanh MLP over S draws.

    The shape of the smoke profile's largest predict cells (S = 100 draws, 1000 rows, 16x16
    hidden): per repeat, three batched matmuls of ``draws`` x ``rows`` x width, then a
    softmax and a mean over draws. Deterministic; about 20-40 ms on one core. Returns a sum
    of the result so the work cannot be skipped.
    """
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(rows, 8, generator=gen)
    layers = [(torch.randn(draws, i, o, generator=gen) * 0.3, torch.randn(draws, 1, o,
                                                                          generator=gen))
              for i, o in [(8, 16), (16, 16), (16, 3)]]
    total = 0.0
    with torch.no_grad():
        for _ in range(repeats):
            h = x
            for k, (w, b) in enumerate(layers):
                h = torch.baddbmm(b, h.expand(draws, *h.shape[-2:]), w)
                h = torch.tanh(h) if k < len(layers) - 1 else h
            total += float(torch.softmax(h, -1).mean(0).sum())
    return total


#: kind -> workload; the calibration benchmark times each, at the start, middle and end
CALIBRATION_KINDS = {"dispatch": calibration_workload, "gemm": gemm_calibration_workload}
