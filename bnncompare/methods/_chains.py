"""NUTS chains, one after another or one per process, with identical results either way.

Two samplers: Pyro's NUTS kernel, one chain at a time (``run_chains``), and the vectorised
NUTS (``_vnuts``: K chains in lockstep, one batched gradient per leapfrog step), the chains split
into ``n_jobs`` groups of one process each (``run_vectorized``).

Each chain owns its randomness: its initial weights and Pyro's momentum/acceptance draws come
from ``seed + chain`` (torch's global generator is re-seeded at the chain's start), never from
a stream shared with the previous chain. So a chain computes the same floats wherever it runs,
and ``n_jobs`` changes only the wall time.

The processes are those of ``_pool.run_in_processes`` (forked where possible, one torch
thread each, so K workers use K cores), the pool the reference posterior's chains use too.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass

import torch
from pyro.infer import MCMC, NUTS

from bnncompare import net
from bnncompare.methods._adapt import run_nuts
from bnncompare.methods._nuts import FlatNUTS
from bnncompare.methods._pool import run_in_processes
from bnncompare.methods._potential import (
    AutogradPotential,
    ManualGradPotential,
    batched_value_and_grad,
)

__all__ = ["ChainResult", "ChainSettings", "available_cores", "run_batch", "run_chains",
           "run_vectorized", "tree_depth"]


@dataclass(frozen=True)
class ChainSettings:
    """Everything one chain needs (picklable: it travels to the worker processes)."""

    spec: net.MLPSpec
    prior_scale: float
    num_warmup: int
    num_samples: int
    max_tree_depth: int
    target_accept_prob: float
    seed: int
    # the lean path (FlatNUTS + hand-written gradient); False: Pyro's NUTS on the autograd
    # potential, the old autograd path, kept as the reference for tests and measurements
    lean: bool = True


@dataclass
class ChainResult:
    draws: torch.Tensor       # (num_samples, P)
    steps_per_draw: list[int]  # leapfrog steps of each sampling iteration
    divergences: int
    grad_evals: int           # every gradient evaluation, warmup and step-size search included
    # vectorised chains compute their whole batch's positions on every call: grad_evals counts
    # the calls (each computes this chain's gradient), used_grad_evals those that advanced
    # this chain (the rest is lockstep waste); one chain per process: both are grad_evals
    batched_calls: int | None = None
    used_grad_evals: int | None = None
    batch_size: int = 1  # chains sharing the batched calls
    step_size: float | None = None  # adapted step size
    # per sampling iteration: diverged, doublings, Hamiltonian at the draw (None: Pyro's
    # kernel does not expose it)
    diverging: list[bool] | None = None
    tree_depth: list[int] | None = None
    energy: list[float] | None = None

    def __post_init__(self):
        if self.batched_calls is None:
            self.batched_calls = self.grad_evals
        if self.used_grad_evals is None:
            self.used_grad_evals = self.grad_evals


def available_cores() -> int:
    """Cores this process may run on (the affinity mask, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def run_chain(settings: ChainSettings, x: torch.Tensor, y: torch.Tensor,
              chain: int) -> ChainResult:
    """One NUTS chain (Pyro's kernel, adaptive step size and diagonal mass matrix)."""
    seed = settings.seed + chain
    torch.manual_seed(seed)
    init = net.init_theta(settings.spec, torch.Generator().manual_seed(seed))
    potential_cls = ManualGradPotential if settings.lean else AutogradPotential
    potential = potential_cls(settings.spec, x, y, settings.prior_scale)
    kernel_cls = FlatNUTS if settings.lean else NUTS
    kernel = kernel_cls(potential_fn=potential, max_tree_depth=settings.max_tree_depth,
                  target_accept_prob=settings.target_accept_prob, adapt_step_size=True,
                  adapt_mass_matrix=True, full_mass=False)
    marks: list[tuple[str, int]] = []
    kernel_diagnostics: dict = {}

    def record(kernel, _params, stage, _i):
        marks.append((stage, potential.calls))
        # the kernel's own record (MCMC.diagnostics() would also compute R-hat/ESS again,
        # and fails below 4 draws); it is defined once sampling has started
        if stage == "Sample":
            kernel_diagnostics.update(kernel.diagnostics(), step_size=kernel.step_size)

    mcmc = MCMC(kernel, num_samples=settings.num_samples, warmup_steps=settings.num_warmup,
                initial_params={"theta": init.to(x.device)}, disable_progbar=True,
                hook_fn=record)
    mcmc.run()
    calls = [c for _, c in marks]
    per_draw = [b - a for a, b, (stage, _) in zip(calls[:-1], calls[1:], marks[1:], strict=True)
                if stage == "Sample"]
    # Pyro lists the divergent sampling iterations by index (0-based)
    divergent = set(kernel_diagnostics.get("divergences", []))
    return ChainResult(mcmc.get_samples()["theta"].detach(), per_draw, len(divergent),
                       potential.calls, step_size=kernel_diagnostics.get("step_size"),
                       diverging=[i in divergent for i in range(len(per_draw))],
                       tree_depth=[tree_depth(n) for n in per_draw])


def tree_depth(n_steps: int) -> int:
    """Doublings of a NUTS trajectory of ``n_steps`` leapfrog steps: depth ``d`` builds
    ``2**(d-1)`` to ``2**d - 1`` steps (a trajectory stopped inside its last subtree
    included), so ``d = floor(log2(n_steps)) + 1``; 0 for no step."""
    return n_steps.bit_length()


def _in_processes(fn, calls: list[tuple], n_jobs: int) -> list:
    """``fn(*args)`` for every ``args`` of ``calls`` on ``n_jobs`` one-thread processes (1: here,
    in order); the results in the order of ``calls``."""
    results: list = [None] * len(calls)
    for i, result in run_in_processes(fn, calls, n_jobs):
        results[i] = result
    return results


def run_chains(settings: ChainSettings, x: torch.Tensor, y: torch.Tensor, num_chains: int,
               n_jobs: int) -> list[ChainResult]:
    """``num_chains`` chains on ``n_jobs`` processes (1: in this process, in order)."""
    n_jobs = min(n_jobs, num_chains)
    calls = [(settings, x, y, chain) for chain in range(num_chains)]
    # a CUDA tensor cannot be forked into a worker: chains on a GPU run here, one by one
    return _in_processes(run_chain, calls, n_jobs if x.device.type == "cpu" else 1)


@contextlib.contextmanager
def flush_denormals():
    """Treat subnormal floats as zero on the CPU for the duration (FTZ/DAZ).

    Why: a relu BNN's softmax and its backward pass underflow into subnormal floats as the
    sampler moves, and x86 CPUs take a slow path for every operation on one. Measured on the
    digits 64-50-10 net, 2 vectorised chains, 100 + 100 draws at depth 5: 54.9 s without,
    7.8 s with, the same predictive to 4 decimals. Restored afterwards (torch's default is
    off): a caller's own arithmetic is not changed.
    """
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(False)


def run_batch(settings: ChainSettings, x: torch.Tensor, y: torch.Tensor,
              chains: list[int]) -> list[ChainResult]:
    """The vectorised NUTS on ``chains`` in one batch; chain ``c`` seeded ``seed + c`` (its
    initial weights, then every random draw of its sampler, from one generator)."""
    generators = [torch.Generator().manual_seed(settings.seed + c) for c in chains]
    init = torch.stack([net.init_theta(settings.spec, g) for g in generators]).to(x)
    evaluate = batched_value_and_grad(settings.spec, x, y, settings.prior_scale)
    # no autograd bookkeeping on any op (the gradient is hand-written): 0.89-0.94x the time
    # per chain-gradient with autograd enabled (K = 4, iris, tanh, 9 interleaved rounds;
    # no_grad measured alike)
    with torch.inference_mode(), flush_denormals():
        run = run_nuts(evaluate, init, generators, settings.num_warmup, settings.num_samples,
                       settings.max_tree_depth, settings.target_accept_prob)
    # clone(): an inference tensor could not take part in autograd later (e.g. a user's)
    return [ChainResult(run.draws[i].clone(), run.steps[i].tolist(), int(run.divergences[i]),
                        run.calls, run.calls, int(run.used[i]), len(chains),
                        float(run.step_size[i]), run.diverging[i].tolist(),
                        run.tree_depth[i].tolist(), run.energy[i].tolist())
            for i in range(len(chains))]


def run_vectorized(settings: ChainSettings, x: torch.Tensor, y: torch.Tensor,
                   num_chains: int, n_jobs: int) -> list[ChainResult]:
    """``num_chains`` vectorised chains in ``n_jobs`` contiguous groups, one process each
    (1: one batch in this process). A chain's draws do not depend on its group."""
    n_jobs = min(n_jobs, num_chains)
    calls = [(settings, x, y, g.tolist()) for g in torch.arange(num_chains).tensor_split(n_jobs)]
    batches = _in_processes(run_batch, calls, n_jobs if x.device.type == "cpu" else 1)
    return [r for batch in batches for r in batch]
