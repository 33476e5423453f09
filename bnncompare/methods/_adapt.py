"""Warm-up and sampling loop of the vectorised NUTS: Pyro's ``WarmupAdapter`` per chain.

Step by step what ``pyro.infer.mcmc.adaptation.WarmupAdapter`` does for one chain, done for K
chains at once: dual averaging of the log step size (``pyro.ops.dual_averaging.DualAveraging``,
which is elementwise, on a (K,) float64 tensor), Welford estimates of the diagonal mass
matrix (``pyro.ops.welford.WelfordCovariance``, elementwise on (K, P)), Stan's windows as
Pyro builds them (taken from Pyro's own ``WarmupAdapter.adaptation_schedule``), and the
step-size search ``HMC._find_reasonable_step_size`` at the start and after each mass-matrix
update. The search runs each chain until its own direction flips; chains that have finished
are masked and draw no more random numbers (a chain's stream does not depend on the others).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from pyro.infer.mcmc.adaptation import WarmupAdapter
from pyro.ops.dual_averaging import DualAveraging
from pyro.ops.welford import WelfordCovariance

from bnncompare.methods._vnuts import BatchedNUTS, draw_randoms

__all__ = ["BatchRun", "BatchedAdapter", "adaptation_schedule", "find_reasonable_step_size",
           "run_nuts"]

DIRECTION_THRESHOLD = math.log(0.8)  # Pyro's HMC._direction_threshold (from Stan)
MIN_STEP, MAX_STEP = 1e-10, 1e10      # Pyro's HMC min_stepsize, max_stepsize defaults


def adaptation_schedule(num_warmup: int) -> list[tuple[int, int]]:
    """Stan's windows ``(start, end)`` for ``num_warmup`` steps, exactly as Pyro builds them."""
    adapter = WarmupAdapter(adapt_step_size=True, adapt_mass_matrix=True)
    adapter.configure(num_warmup, initial_step_size=1.0, mass_matrix_shape={("theta",): (1,)})
    return [(w.start, w.end) for w in adapter.adaptation_schedule]


def _energy_change(kernel: BatchedNUTS, z, pe, grad, unscaled, step, active):
    """``H(new) - H(old)`` after one leapfrog step of size ``step (K,)`` per chain."""
    _, u_new, _, pe_new = kernel.leapfrog(z, unscaled, grad, step.to(z.dtype).unsqueeze(1),
                                          active)
    return (pe_new + kernel.kinetic(u_new)) - (pe + kernel.kinetic(unscaled))


def _draw_momentum(generators, active, like: torch.Tensor) -> torch.Tensor:
    """Standard normals for the ``active`` chains only (zeros elsewhere, nothing drawn)."""
    rows = [torch.randn(like.shape[1], generator=g).to(like) if bool(a)
            else torch.zeros_like(like[0]) for g, a in zip(generators, active, strict=True)]
    return torch.stack(rows)


def find_reasonable_step_size(kernel: BatchedNUTS, z, pe, grad, generators) -> torch.Tensor:
    """Pyro's ``HMC._find_reasonable_step_size`` per chain, from ``kernel.step_size``:
    double (or halve) the step until one leapfrog step's acceptance crosses 0.8."""
    step = kernel.step_size.clone()
    searching = torch.ones_like(step, dtype=torch.bool)
    delta = _energy_change(kernel, z, pe, grad, _draw_momentum(generators, searching, z),
                           step, searching)
    # NaN energy change compares False: direction -1 (smaller), as in Pyro
    direction = torch.where(DIRECTION_THRESHOLD < -delta, 1.0, -1.0).double()
    searching &= (MIN_STEP < step) & (step < MAX_STEP)
    while bool(searching.any()):
        step = torch.where(searching, step * 2.0**direction, step)
        delta = _energy_change(kernel, z, pe, grad, _draw_momentum(generators, searching, z),
                               step, searching)
        new_direction = torch.where(DIRECTION_THRESHOLD < -delta, 1.0, -1.0).double()
        searching &= (new_direction == direction) & (MIN_STEP < step) & (step < MAX_STEP)
    return step.clamp(MIN_STEP, MAX_STEP)


class BatchedAdapter:
    """``WarmupAdapter.step`` for K chains (Pyro's order of operations, per chain).

    Parameters
    ----------
    kernel : BatchedNUTS
        Its ``step_size`` and ``inverse_mass`` are adapted in place.
    num_warmup : int
    target_accept_prob : float
    generators : list of torch.Generator
        One per chain, for the step-size searches.
    """

    def __init__(self, kernel: BatchedNUTS, num_warmup: int, target_accept_prob: float,
                 generators):
        self.kernel, self.num_warmup, self.target = kernel, num_warmup, target_accept_prob
        self.generators = generators
        self.schedule = adaptation_schedule(num_warmup)
        self.window = 0
        self.dual = DualAveraging()
        self.welford = WelfordCovariance(diagonal=True)

    def reset_step_size(self, z, pe, grad) -> None:
        """Search a step size, centre dual averaging at 10x it (Pyro's
        ``reset_step_size_adaptation``)."""
        self.kernel.step_size = find_reasonable_step_size(self.kernel, z, pe, grad,
                                                          self.generators)
        self.dual.prox_center = (10 * self.kernel.step_size).log()
        self.dual.reset()

    def step(self, t: int, z, pe, grad, accept_prob: torch.Tensor) -> None:
        """After warm-up iteration ``t`` (1-based, as Pyro's kernel counts)."""
        if t >= self.num_warmup:
            return
        end = self.schedule[self.window][1]
        last = len(self.schedule) - 1
        mass_phase = 0 < self.window < last
        self.dual.step(self.target - accept_prob.double())
        self.kernel.step_size = self.dual.get_state()[0].exp()
        if mass_phase:
            self.welford.update(z)
        if t != end:
            return
        if self.window == last:
            self.kernel.step_size = self.dual.get_state()[1].exp()
        elif mass_phase:
            self.kernel.inverse_mass = self.welford.get_covariance(regularize=True)
            self.welford.reset()
            self.reset_step_size(z, pe, grad)
        self.window += 1


@dataclass
class BatchRun:
    """K chains' draws and statistics of the sampling phase (``run_nuts``)."""

    draws: torch.Tensor        # (K, num_samples, P)
    steps: torch.Tensor        # (K, num_samples) leapfrog steps that advanced each chain
    divergences: torch.Tensor  # (K,)
    diverging: torch.Tensor    # (K, num_samples) bool
    tree_depth: torch.Tensor   # (K, num_samples) doublings of each draw's trajectory
    energy: torch.Tensor       # (K, num_samples) float64, Hamiltonian at each draw
    step_size: torch.Tensor    # (K,) after adaptation
    inverse_mass: torch.Tensor  # (K, P)
    calls: int                 # batched potential+gradient calls, warm-up included
    used: torch.Tensor         # (K,) of them that advanced each chain


def run_nuts(evaluate, init: torch.Tensor, generators, num_warmup: int, num_samples: int,
             max_tree_depth: int, target_accept_prob: float) -> BatchRun:
    """Vectorised NUTS from ``init (K, P)``: ``num_warmup`` adapting iterations (step size,
    diagonal mass matrix), then ``num_samples`` draws; ``evaluate`` is the batched
    ``theta (K, P) -> (U, dU)``; ``generators`` one per chain (every random draw)."""
    k, p = init.shape
    kernel = BatchedNUTS(evaluate, k, p, max_tree_depth, init)
    adapter = BatchedAdapter(kernel, num_warmup, target_accept_prob, generators)
    z = init
    pe, grad = kernel.evaluate(z)
    adapter.reset_step_size(z, pe, grad)
    draws, stats = [], []
    for t in range(num_warmup + num_samples):
        rand = draw_randoms(generators, p, max_tree_depth, z)
        (z, pe, grad), info = kernel.transition(z, pe, grad, rand)
        if t < num_warmup:
            adapter.step(t + 1, z, pe, grad, info.accept_prob)
        else:
            draws.append(z)
            stats.append((info.steps, info.diverged, info.tree_depth, info.energy))
    # per-draw statistics stacked once at the end: (K, num_samples) each
    if stats:
        columns = zip(*stats, strict=True)
        steps, diverging, depth, energy = (torch.stack(c, 1).cpu() for c in columns)
    else:
        steps = depth = torch.zeros(k, 0, dtype=torch.long)
        diverging, energy = torch.zeros(k, 0, dtype=torch.bool), torch.zeros(k, 0)
    return BatchRun(torch.stack(draws, 1) if draws else z.new_zeros(k, 0, p), steps,
                    diverging.sum(1), diverging, depth, energy.double(),
                    kernel.step_size.cpu(), kernel.inverse_mass, kernel.calls,
                    kernel.used.cpu())
