"""One reference NUTS chain per call, and a pool that runs many of them on separate cores
(worker processes here, or the workers of a Dask cluster: :func:`run_chains_dask`).

A chain is a pure function of its :class:`ChainTask` (data, net, settings, seed): run in this
process or in a worker process with one torch/XLA thread, it returns the same draws, so a
parallel run equals the sequential one bit for bit. Two backends sample the identical
potential (the suite's negative log-joint): ``torch`` runs the suite's own sampler
(``bnncompare.methods.reference_sampler``), ``numpyro`` the JAX potential of
:mod:`bnncompare.peers.numpyro_nuts` with NumPyro's NUTS (the optional ``peers`` extra), whose
jitted transition is several times faster per gradient.
"""

from __future__ import annotations

import importlib
import os
import time
import uuid
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from bnncompare import net
from bnncompare.methods._pool import run_in_processes

__all__ = ["BACKENDS", "ChainResult", "ChainTask", "run_chain", "run_chains_dask",
           "run_chains_local"]

BACKENDS = ("torch", "numpyro")
_PROGRESS_EVERY = 10  # iterations between progress reports of the numpyro backend
#: a chain that fails on Dask (an error, a dead worker) is run once more, then named
RETRIES = 1


@dataclass(frozen=True)
class ChainTask:
    """Everything one chain needs; picklable, so it can travel to a worker process.

    ``eval_sets`` maps a name ("test", "ood", "train", "grid") to the float32 inputs whose
    per-draw predictive the chain returns.
    """

    key: str  # the dataset this chain belongs to
    chain: int
    seed: int
    spec: net.MLPSpec
    prior_scale: float
    x_train: np.ndarray
    y_train: np.ndarray
    eval_sets: dict
    num_warmup: int
    num_samples: int
    max_tree_depth: int
    backend: str = "torch"

    @property
    def cost(self) -> float:
        """Relative work (iterations x max leapfrogs x rows x weights): longest runs first."""
        return ((self.num_warmup + self.num_samples) * (2**self.max_tree_depth - 1)
                * len(self.x_train) * self.spec.n_params)


@dataclass
class ChainResult:
    """Draws ``(S, P)``, per-draw predictive ``{name: (S, n, C)}`` and the chain's statistics."""

    key: str
    chain: int
    draws: np.ndarray
    proba: dict
    stats: dict


def run_chain(task: ChainTask, progress: Callable[[int], None] | None = None) -> ChainResult:
    """Run one chain of ``task``; ``progress(k)`` is told of every ``k`` finished iterations."""
    report = progress or (lambda _k: None)
    start = time.perf_counter()
    if task.backend == "torch":
        draws, stats = _torch_chain(task)
        report(task.num_warmup + task.num_samples)
    elif task.backend == "numpyro":
        draws, stats = _numpyro_chain(task, report)
    else:
        raise ValueError(f"unknown backend {task.backend!r}; choose one of {BACKENDS}")
    stats["wall_s"] = time.perf_counter() - start
    theta = torch.as_tensor(draws)
    proba = {name: net.proba_samples(task.spec, theta, torch.as_tensor(x)).numpy()
             for name, x in task.eval_sets.items()}
    return ChainResult(task.key, task.chain, draws, proba, stats)


def _tree_stats(steps: np.ndarray, max_tree_depth: int) -> dict:
    # depth d builds at most 2**d - 1 leapfrog steps: d = floor(log2(steps)) + 1
    depth = np.floor(np.log2(np.maximum(steps, 1))) + 1
    return {"mean_tree_depth": float(depth.mean()),
            "frac_at_max_depth": float((depth >= max_tree_depth).mean())}


def _torch_chain(task: ChainTask) -> tuple[np.ndarray, dict]:
    from bnncompare.methods import reference_sampler

    est = reference_sampler(hidden_sizes=task.spec.hidden_sizes,
                            activation=task.spec.activation, prior_scale=task.prior_scale,
                            num_warmup=task.num_warmup, num_samples=task.num_samples,
                            num_chains=1, max_tree_depth=task.max_tree_depth,
                            random_state=task.seed)
    with warnings.catch_warnings():
        # its one-chain convergence warning says nothing here: the reference judges
        # convergence across all its chains
        warnings.simplefilter("ignore", RuntimeWarning)
        est.fit(task.x_train, task.y_train)
    d = est.diagnostics_
    stats = {"n_grad_evals": int(est.n_grad_evals_), "divergences": int(d["divergences"]),
             "mean_tree_depth": float(d["mean_tree_depth"]),
             "frac_at_max_depth": float(d["frac_at_max_depth"])}
    return np.asarray(est.samples_, dtype=np.float32), stats


def _numpyro_chain(task: ChainTask, report: Callable[[int], None]) -> tuple[np.ndarray, dict]:
    # the module, not the function of the same name that bnncompare.peers re-exports
    # a reference chain runs on one CPU core: a CUDA build of JAX must not grab the GPU from
    # every worker process (set before JAX is first imported in this process)
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    numpyro_nuts = importlib.import_module("bnncompare.peers.numpyro_nuts")
    jax, jnp = numpyro_nuts._import_jax()  # sets one XLA thread before JAX is first imported
    from numpyro.infer import NUTS

    potential = numpyro_nuts._potential(task.spec, jnp.asarray(task.x_train),
                                        jnp.asarray(task.y_train), task.prior_scale)
    kernel = NUTS(potential_fn=potential, max_tree_depth=task.max_tree_depth)
    init = net.init_theta(task.spec, torch.Generator().manual_seed(task.seed)).numpy()
    state = kernel.init(jax.random.PRNGKey(task.seed), task.num_warmup,
                        init_params=jnp.asarray(init), model_args=(), model_kwargs={})
    # the transition jitted once and iterated: MCMC.run would re-trace on every call
    step = jax.jit(lambda s: kernel.sample(s, (), {}))
    draws, steps, diverging, compile_s = [], [], [], 0.0
    total = task.num_warmup + task.num_samples
    for i in range(total):
        t0 = time.perf_counter()
        state = step(state)
        if i == 0:
            jax.block_until_ready(state.z)
            compile_s = time.perf_counter() - t0  # trace + compile + one transition
        steps.append(state.num_steps)
        if i >= task.num_warmup:
            draws.append(state.z)
            diverging.append(state.diverging)
        if (i + 1) % _PROGRESS_EVERY == 0 or i + 1 == total:
            jax.block_until_ready(state.z)  # dispatch is asynchronous: report real progress
            report((i + 1) % _PROGRESS_EVERY or _PROGRESS_EVERY)
    steps_np = np.asarray(jnp.stack(steps)).astype(np.int64)
    stats = {"n_grad_evals": int(steps_np.sum()),
             "divergences": int(np.asarray(jnp.stack(diverging)).sum()),
             "step_size": float(state.adapt_state.step_size),
             "compile_s": compile_s,
             **_tree_stats(steps_np[task.num_warmup:], task.max_tree_depth)}
    return np.array(jnp.stack(draws), dtype=np.float32), stats  # a writable copy


# --------------------------------------------------------------------------- the pool


def run_chains_local(tasks: Sequence[ChainTask], workers: int = 1,
                     progress: Callable[[int], None] | None = None) -> Iterator[ChainResult]:
    """Run ``tasks``, ``workers`` at a time, yielding each :class:`ChainResult` as it finishes.

    ``workers == 1`` runs them one by one in this process. Otherwise each chain runs in its own
    worker process (one torch/XLA thread each; the pool of the NUTS estimator's chains,
    ``bnncompare.methods._pool``), the costliest first; the torch backend forks, the numpyro
    backend spawns (JAX must not be forked). ``progress(k)`` hears of every ``k`` finished
    iterations.
    """
    ordered = sorted(tasks, key=lambda t: -t.cost)
    spawn = any(t.backend == "numpyro" for t in ordered)
    if workers > 1 and len(ordered) > 1:
        os.environ.setdefault("OMP_NUM_THREADS", "1")  # inherited by the workers
    for _, result in run_in_processes(run_chain, [(t,) for t in ordered], workers,
                                      start_method="spawn" if spawn else "fork",
                                      progress=progress or (lambda _k: None)):
        yield result


# --------------------------------------------------------------------------- Dask


def _run_on_dask_worker(task: ChainTask) -> ChainResult:
    torch.set_num_threads(1)  # one chain per one-thread worker, as in the process pool
    return run_chain(task)


def _chain_name(task: ChainTask) -> str:
    return f"{task.key} chain {task.chain} (seed {task.seed})"


def run_chains_dask(tasks: Sequence[ChainTask], client,
                    progress: Callable[[int], None] | None = None,
                    log: Callable[[str], None] | None = None) -> Iterator[ChainResult]:
    """Run ``tasks`` on the workers of a Dask ``client``, yielding each result as it finishes.

    Each chain is one task, submitted costliest first; being a pure function of its
    :class:`ChainTask`, it returns what :func:`run_chains_local` returns, bit for bit. A chain
    that fails (an error, a dead worker) is submitted once more; a second failure raises.
    ``progress(k)`` hears of each finished chain's ``k`` iterations; ``log`` of retries.

    Raises
    ------
    ValueError
        Naming the chain that failed twice, and why.
    """
    import distributed

    progress = progress or (lambda _k: None)
    log = log or (lambda _m: None)
    owner: dict = {}  # future key -> (task, attempt)

    def submit(task: ChainTask, attempt: int):
        # a key unique to this run: a scheduler may still hold an earlier run's task
        future = client.submit(_run_on_dask_worker, task, pure=False, retries=0,
                               key=f"bnncompare-chain-{task.key}-{task.chain}-{attempt}-"
                                   f"{uuid.uuid4().hex}")
        owner[future.key] = (task, attempt)
        submitted.append(future)
        return future

    submitted: list = []
    pending = distributed.as_completed([submit(t, 0) for t in sorted(tasks, key=lambda t: -t.cost)])
    try:
        for future in pending:
            task, attempt = owner.pop(future.key)
            try:
                result = future.result()
            except Exception as err:  # the chain's own error, or KilledWorker
                why = f"{type(err).__name__}: {err}"
                if attempt >= RETRIES:
                    raise ValueError(f"reference {_chain_name(task)} failed on Dask twice "
                                     f"({why})") from None
                log(f"reference {_chain_name(task)} failed on Dask ({why}); retrying once")
                pending.add(submit(task, attempt + 1))
                continue
            progress(task.num_warmup + task.num_samples)
            yield result
    finally:  # a failure or Ctrl-C: nothing left running on the cluster
        client.cancel([f for f in submitted if not f.done()])
