"""Reference posterior predictives: long multi-chain NUTS on the suite's own model, stored.

``bnncompare reference iris`` samples the identical model the quality benchmarks fit on a
dataset (:mod:`~bnncompare.reference.spec`) with many long NUTS chains, one per worker process
(:mod:`~bnncompare.reference.chains`), judges their convergence in function space
(:mod:`~bnncompare.reference.diagnostics`) and stores each chain's predictive under
``results/reference/<dataset>/`` (:mod:`~bnncompare.reference.store`). This module puts those
together: one job per dataset, the chains of every dataset in one pool, each dataset written as
soon as its chains finish.
"""

from __future__ import annotations

import socket
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from bnncompare import data, net
from bnncompare.checks import check_nonnegative_int, check_positive_int
from bnncompare.reference.chains import BACKENDS, ChainTask, run_chains_dask, run_chains_local
from bnncompare.reference.diagnostics import TARGETS, diagnose, meets_targets
from bnncompare.reference.spec import (
    DATA_SEED,
    RunSettings,
    architecture,
    chain_seeds,
    model_meta,
    reference_inputs,
    run_settings,
)
from bnncompare.reference.store import provenance, reference_root, save_reference

__all__ = ["run_reference"]


@dataclass
class _Job:
    """One dataset's run: its inputs, settings and the chains collected so far."""

    name: str
    ds: data.Dataset
    spec: net.MLPSpec
    prior_scale: float
    settings: RunSettings
    seeds: list
    sets: dict
    info: dict
    results: dict = field(default_factory=dict)

    def tasks(self, backend: str) -> list[ChainTask]:
        return [ChainTask(self.name, c, self.seeds[c], self.spec, self.prior_scale,
                          self.ds.x_train, self.ds.y_train, self.sets, self.settings.warmup,
                          self.settings.draws, self.settings.depth, backend)
                for c in range(self.settings.chains)]


def _check_names(datasets: Sequence[str]) -> dict[str, str]:
    """Dataset name -> what loads it (the name, or a file's path), each known and named once.

    A file is named by its stem (``data/wine.csv -> wine``), as in the benchmarks."""
    if not datasets:
        raise ValueError("name at least one dataset")
    resolved = [(data.find_loader(d)[0], str(d)) for d in datasets]
    names = [name for name, _ in resolved]
    if len(set(names)) != len(names):
        raise ValueError(f"a dataset is named twice: {names}")
    return dict(resolved)


def run_reference(datasets: Sequence[str], *, out=None, backend: str = "torch",
                  workers: int = 1, seed: int = 0, blocks: int = 2, chains: int | None = None,
                  warmup: int | None = None, draws: int | None = None,
                  depth: int | None = None, where: str | None = None,
                  progress: bool = True, command: str | None = None, dask: bool = False,
                  scheduler: str | None = None, hidden: str | None = None,
                  label_column: str | None = None) -> dict[str, Path]:
    """Sample and store the reference of each dataset; chains of all datasets share one pool.

    Parameters
    ----------
    datasets : sequence of str or path
        Dataset names (``data.load_dataset`` takes them) or ``.csv`` / ``.npz`` files, each
        named by its stem; the net is :func:`architecture`'s.
    out : path, optional
        Folder of the references (default :data:`DEFAULT_ROOT`); each dataset writes
        ``out/<dataset>/reference.json`` and ``predictive.npz`` as soon as its chains finish.
    hidden : str, optional
        The net's hidden layers (``"50x50"``) instead of the quality cells' (a run's
        ``--hidden``), so that run's TV is measured against this reference.
    label_column : str, optional
        The label column of CSV files (default: the last).
    backend : {'torch', 'numpyro'}, default='torch'
    workers : int, default=1
        Chains run at once, each in its own process with one thread; 1 runs them here, one by
        one. The result does not depend on it.
    dask : bool, default=False
        Run the chains on a Dask ``LocalCluster`` of ``workers`` one-thread workers on
        127.0.0.1 (the ``distributed`` extra), chain by chain: a chain that fails or whose
        worker dies is run once more, then the run stops naming it. Same result.
    scheduler : str, optional
        Run the chains on the running Dask scheduler at this address instead (its workers
        need this package); same result, same retry.
    seed : int, default=0
        Run seed; chain ``c`` gets ``chain_seeds(seed, chains)[c]``.
    blocks : int, default=2
        Draw blocks per chain whose mean predictive is stored.
    chains, warmup, draws, depth : int, optional
        Override :data:`RECOMMENDED` for every dataset (``depth`` is NUTS's max tree depth).
    where : str, optional
        Where it ran, for the provenance (default: the host name).

    Returns
    -------
    dict
        Dataset name -> its folder.
    """
    sources = _check_names(datasets)
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if backend == "numpyro":
        from bnncompare.peers.numpyro_nuts import numpyro_available
        if not numpyro_available():
            raise ValueError("backend 'numpyro' needs the optional 'peers' extra "
                             "(pip install 'bnncompare[peers]')")
    check_nonnegative_int("seed", seed)
    for label, value in (("workers", workers), ("blocks", blocks)):
        check_positive_int(label, value)
    if scheduler is not None and workers != 1:
        raise ValueError("give --workers or --scheduler, not both")
    overrides = {"chains": chains, "warmup": warmup, "draws": draws, "depth": depth}
    # every dataset loaded (a file read and checked) before any chain runs or folder is made
    jobs = {name: _job(name, source, run_settings(name, overrides), seed, hidden,
                       label_column) for name, source in sources.items()}
    for job in jobs.values():
        if blocks > job.settings.draws:
            raise ValueError(f"blocks={blocks} exceeds draws={job.settings.draws}")
    torch.set_num_threads(1)  # before any fork: a forked child must not inherit a thread pool
    root = reference_root(out)
    engine = (f"dask scheduler {scheduler}" if scheduler else
              f"dask LocalCluster of {workers}" if dask else
              f"{workers} processes" if workers > 1 else "in-process")
    context = {"backend": backend, "workers": workers, "seed": seed, "blocks": blocks,
               "where": where or socket.gethostname(), "command": command, "engine": engine,
               "dask": dask or scheduler is not None, "scheduler": scheduler}
    return _collect(jobs, root, context, progress)


def _job(name: str, source: str, settings: RunSettings, seed: int, hidden: str | None,
         label_column: str | None) -> _Job:
    hidden, activation, prior = architecture(name, hidden)
    csv = source.lower().endswith(".csv")
    kwargs = {"label_column": label_column} if csv and label_column is not None else {}
    ds = data.load_dataset(source, seed=DATA_SEED, **kwargs)
    spec = net.MLPSpec(ds.n_features, ds.n_classes, tuple(hidden), activation)
    sets, info = reference_inputs(ds)
    return _Job(name, ds, spec, prior, settings, chain_seeds(seed, settings.chains), sets, info)


def _collect(jobs: dict, root: Path, context: dict, show: bool) -> dict[str, Path]:
    from tqdm.auto import tqdm

    tasks = [t for job in jobs.values() for t in job.tasks(context["backend"])]
    total = sum(t.num_warmup + t.num_samples for t in tasks)
    written, start = {}, time.perf_counter()
    with tqdm(total=total, desc=f"reference {','.join(jobs)}", unit="it", disable=not show,
              file=sys.stderr) as bar:
        for res in _chains(tasks, context, bar.update):
            job = jobs[res.key]
            job.results[res.chain] = res
            if len(job.results) == job.settings.chains:
                wall = time.perf_counter() - start
                written[job.name] = _write(job, root, {**context, "wall_s_total": wall})
                job.results.clear()  # free the per-draw arrays
    return written


def _chains(tasks: list, context: dict, update):
    """The chains' results as they finish: on Dask, in worker processes or here."""
    if not context["dask"]:
        yield from run_chains_local(tasks, context["workers"], update)
        return
    from bnncompare.distributed import dask_client

    scheduler = context["scheduler"]
    with dask_client(None if scheduler else context["workers"], scheduler) as client:
        yield from run_chains_dask(tasks, client, update,
                                   log=lambda m: print(m, file=sys.stderr, flush=True))


def _write(job: _Job, root: Path, context: dict) -> Path:
    """Diagnose a finished job's chains and store its reference under ``root``."""
    results = [job.results[c] for c in range(job.settings.chains)]
    proba = {name: np.stack([r.proba[name] for r in results]) for name in job.sets}
    diagnostics = diagnose(proba, np.stack([r.draws for r in results]),
                           job.ds.y_test.astype(np.int64))
    axes = job.info["grid"]["axes"] if "grid" in job.info else None
    return save_reference(root / job.name, proba, _metadata(job, results, diagnostics, context),
                          context["blocks"], axes)


def _metadata(job: _Job, results: list, diagnostics: dict, context: dict) -> dict:
    """The ``reference.json`` document of a finished job."""
    stats = [{"chain": r.chain, "seed": job.seeds[r.chain], **r.stats} for r in results]
    info = {k: v for k, v in job.info.items() if k != "grid"}
    if "grid" in job.info:
        info["grid"] = {"n": job.info["grid"]["n"], "arrays": "grid_x, grid_y in predictive.npz"}
    return {
        "dataset": job.name,
        "model": model_meta(job.spec, job.prior_scale, np.unique(job.ds.y_train)),
        "data": info,
        "settings": {"chains": job.settings.chains, "warmup": job.settings.warmup,
                     "draws": job.settings.draws, "max_tree_depth": job.settings.depth,
                     "target_accept_prob": 0.8, "backend": context["backend"],
                     "workers": context["workers"], "seed": context["seed"],
                     "chain_seeds": job.seeds, "blocks": context["blocks"]},
        "diagnostics": {**diagnostics, "targets": TARGETS,
                        "meets_targets": meets_targets(diagnostics),
                        "divergences": int(sum(s["divergences"] for s in stats)),
                        "frac_at_max_depth": float(np.mean([s["frac_at_max_depth"]
                                                            for s in stats])),
                        "mean_tree_depth": float(np.mean([s["mean_tree_depth"]
                                                          for s in stats]))},
        "chains": stats,
        "storage": ("predictive.npz: per input set (test, ood, train[, grid]) an array "
                    "(chains, blocks, n, C) float16 of mean predictive probabilities over "
                    "consecutive draw blocks of each chain (block_sizes draws each); the grid "
                    "stores one block, each chain's mean"),
        "provenance": provenance(context),
    }
