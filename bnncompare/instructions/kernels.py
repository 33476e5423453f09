"""The kernels whose instruction counts the instruction gate compares (workload code only).

Each kernel is a short, seeded piece of the code users change: per method one short fit and
one predict at one number of draws S, the vectorised NUTS's batched gradient, the SVI step
and the report's exponent fit. Every kernel is built once (data, a fitted estimator), run
once to warm up (lazy imports, first-call caches, allocator growth), then counted on its
second run: :mod:`bnncompare.instructions.worker` does the counting, this module only says
what runs. A kernel's ``workload`` names everything that sets its work; the gate compares two
commits' counts only where the workloads are equal (a changed kernel is not a regression).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["KERNELS", "N_DRAWS", "Kernel", "kernel_names", "tiny_data"]

#: posterior draws S every predict kernel averages over
N_DRAWS = 10
# one small tanh MLP on a tiny 3-class problem: big enough that the hot paths are the ones a
# real cell runs (matmuls, activation, softmax, the samplers' loops), small enough that the
# whole set costs minutes under valgrind, which runs the code ~50x slower than natively
_NET = {"hidden_sizes": (8,), "activation": "tanh", "random_state": 0}
_N_ROWS, _N_FEATURES, _N_CLASSES = 48, 4, 3

def _fits() -> dict[str, tuple[str, dict]]:
    """Kernel method name -> (registered method, keywords), from each class's
    ``settings["instructions"]`` in registry order (``nuts``, ``nuts-vectorized``, ...)."""
    from bnncompare.methods import METHODS

    return {(f"{name}-{variant}" if variant else name): (name, params)
            for name, cls in METHODS.items()
            for variant, params in cls.instruction_settings().items()}


#: kernel method name -> (registered method, its keywords)
_FITS = _fits()


@dataclass(frozen=True)
class Kernel:
    """One counted kernel.

    Attributes
    ----------
    name : str
        ``kind/what``, e.g. ``fit/nuts``.
    workload : str
        Everything that sets the kernel's work, as text; equal workloads are comparable.
    build : callable
        ``build() -> run``: the set-up (not counted); ``run()`` is the counted call.
    """

    name: str
    workload: str
    build: Callable[[], Callable[[], object]]


def tiny_data() -> tuple[np.ndarray, np.ndarray]:
    """The kernels' training set: ``_N_ROWS`` seeded rows of 3 Gaussian blobs, float32."""
    rng = np.random.default_rng(0)
    y = np.arange(_N_ROWS) % _N_CLASSES
    centres = rng.normal(size=(_N_CLASSES, _N_FEATURES)) * 2.0
    x = centres[y] + rng.normal(size=(_N_ROWS, _N_FEATURES))
    return x.astype(np.float32), y.astype(np.int64)


def _estimator(method: str):
    from bnncompare.methods import make_method

    name, params = _FITS[method]
    return make_method(name, **_NET, **params, num_predictive_samples=N_DRAWS)


def _fit(method: str) -> Callable[[], object]:
    x, y = tiny_data()
    est = _estimator(method)
    return lambda: est.fit(x, y)


def _predict(method: str) -> Callable[[], object]:
    import warnings

    x, y = tiny_data()
    est = _estimator(method)
    with warnings.catch_warnings():  # a 4-draw NUTS chain warns that it has not converged
        warnings.simplefilter("ignore")
        est.fit(x, y)
    return lambda: est.predict_proba(x)


def _nuts_gradient() -> Callable[[], object]:
    import torch

    from bnncompare import net
    from bnncompare.methods._potential import batched_value_and_grad

    x, y = (torch.as_tensor(a) for a in tiny_data())
    spec = net.MLPSpec(_N_FEATURES, _N_CLASSES, _NET["hidden_sizes"], _NET["activation"])
    gens = [torch.Generator().manual_seed(c) for c in range(2)]
    theta = torch.stack([net.init_theta(spec, g) for g in gens])
    evaluate = batched_value_and_grad(spec, x, y, 1.0)

    def run():
        with torch.inference_mode():  # as the vectorised sampler calls it
            for _ in range(20):
                evaluate(theta)

    return run


def _svi_step() -> Callable[[], object]:
    import torch
    import torch.nn.functional as F

    from bnncompare import net
    from bnncompare.methods.svi import mean_field_loss

    x, y = (torch.as_tensor(a) for a in tiny_data())
    spec = net.MLPSpec(_N_FEATURES, _N_CLASSES, _NET["hidden_sizes"], _NET["activation"])
    loc = net.init_theta(spec, torch.Generator().manual_seed(0)).requires_grad_()
    rho = torch.full_like(loc, -3.0).requires_grad_()
    optimiser = torch.optim.Adam([loc, rho], lr=0.01)

    def run():
        torch.manual_seed(0)  # the particles' draws: the same numbers every call
        for _ in range(10):
            loss = mean_field_loss(spec, loc, F.softplus(rho), 1.0, x, y, 1)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()

    return run


def _power_law() -> Callable[[], object]:
    from bnncompare.report.complexity import fit_power_law

    rng = np.random.default_rng(0)
    sizes = np.repeat([100.0, 200.0, 400.0, 800.0, 1600.0], 3)
    times = 1e-3 + 2e-6 * sizes**1.2 * np.exp(rng.normal(0.0, 0.05, sizes.size))
    return lambda: fit_power_law(sizes, times, n_boot=20, seed=0)


def _kernels() -> dict[str, Kernel]:
    data = f"rows={_N_ROWS} features={_N_FEATURES} classes={_N_CLASSES} net={_NET}"
    out = {}
    for method, (_, params) in _FITS.items():
        out[f"fit/{method}"] = Kernel(f"fit/{method}", f"{data} {params}",
                                      lambda m=method: _fit(m))
    for method, (_, params) in _FITS.items():
        out[f"predict/{method}"] = Kernel(f"predict/{method}", f"{data} {params} S={N_DRAWS}",
                                          lambda m=method: _predict(m))
    out["grad/nuts-batched"] = Kernel("grad/nuts-batched", f"{data} K=2 calls=20",
                                      _nuts_gradient)
    out["step/svi"] = Kernel("step/svi", f"{data} particles=1 steps=10", _svi_step)
    out["report/power-law-fit"] = Kernel("report/power-law-fit", "15 points n_boot=20",
                                         _power_law)
    return out


#: every kernel, by name, in the order they are counted
KERNELS: dict[str, Kernel] = _kernels()


def kernel_names() -> list[str]:
    """The kernels' names in counting order."""
    return list(KERNELS)
