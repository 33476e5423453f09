"""Reference posterior predictives: long multi-chain NUTS on the suite's own model, stored.

``bnncompare reference iris`` samples the identical model the quality benchmarks fit on a
dataset (same split, net, activation and N(0, prior_scale^2) prior) with many long NUTS chains,
one per worker process, and stores each chain's predictive on the dataset's test rows, its OOD
inputs, its training rows (and the input plane of a 2-D dataset) under
``results/reference/<dataset>/``:

- ``predictive.npz``: for each input set ``S in {test, ood, train, grid}`` an array ``S`` of
  shape ``(chains, blocks, n, C)``, float16: the mean predictive probabilities of each of
  ``blocks`` consecutive, equal-as-possible blocks of every chain's draws (``block_sizes``
  gives their draw counts; ``blocks = 2`` is each chain's first and second half). float16 keeps
  the files small; its rounding (< 2.5e-4 per probability) is far below the TV targets, and
  :func:`load_reference` renormalises rows after reading. ``grid_x``/``grid_y`` are the plane's
  axes (``data.input_grid``).
- ``reference.json``: settings, seeds, the model, the data fingerprint, per-chain statistics,
  the function-space diagnostics (computed from every draw, before block averaging) and
  provenance (versions, machine, wall times, backend, where it ran).

Convergence is judged in function space: split-R-hat across chains of the predictive
probabilities (target <= 1.01 on test rows) and the total variation between the predictive
means of the two halves of the chains (target <= 0.01). Weight-space R-hat is reported but
meaningless here: permutation and sign symmetries put every chain in a different, equivalent
mode. :func:`reference_scores` holds a fitted estimator against a stored reference.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

from bnncompare import data, metrics, net
from bnncompare.refchains import BACKENDS, ChainTask, run_chains, run_chains_dask

__all__ = ["DEFAULT_ROOT", "RECOMMENDED", "TARGETS", "Reference", "RunSettings", "architecture",
           "chain_seeds", "find_reference", "half_split_tv", "load_reference", "model_meta",
           "predictive_r_hat", "reference_inputs", "reference_scores", "run_reference",
           "save_reference"]

#: where references live: ``<repo>/results/reference`` (``$BNNCOMPARE_REFERENCE_DIR`` wins)
DEFAULT_ROOT = Path(__file__).resolve().parents[1] / "results" / "reference"
#: the convergence targets of a committed reference (issue 12)
TARGETS = {"predictive_r_hat_test": 1.01, "tv_halves_test": 0.01}
#: the net of datasets the quality benchmarks do not fit (yet): the 2-D toy's small relu MLP
EXTRA_ARCHITECTURES = {"moons": ((16, 16), "relu")}
#: data split, OOD draw and chain seeds are separate: the split and OOD inputs are the suite's
DATA_SEED = 0
OOD_SEED = 0
GRID_POINTS = 100  # per axis of a 2-D dataset's input plane
_R_HAT_CHUNK = 1024  # quantities per split-R-hat call (bounds its float64 copies)
_WEIGHT_R_HAT_NOTE = ("weight-space split-R-hat across chains: meaningless for a BNN, whose "
                      "permutation and sign symmetries put every chain in a different, "
                      "equivalent mode; judge convergence by the predictive R-hat")


@dataclass(frozen=True)
class RunSettings:
    """Chains and their length for one dataset."""

    chains: int
    warmup: int
    draws: int
    depth: int


#: per-dataset defaults of ``bnncompare reference`` (flags override them for every dataset)
RECOMMENDED = {
    "iris": RunSettings(chains=8, warmup=1000, draws=1000, depth=9),
    "digits": RunSettings(chains=8, warmup=800, draws=800, depth=7),
    # reached R-hat 1.002 and half-split TV 0.001 (test) on the 2-core box: see its JSON
    "moons": RunSettings(chains=6, warmup=500, draws=1000, depth=7),
}
_FALLBACK = RunSettings(chains=4, warmup=500, draws=500, depth=8)


def _root(root=None) -> Path:
    return Path(root or os.environ.get("BNNCOMPARE_REFERENCE_DIR") or DEFAULT_ROOT)


# --------------------------------------------------------------------------- the model


def architecture(dataset: str) -> tuple[tuple[int, ...], str, float]:
    """``(hidden_sizes, activation, prior_scale)`` of the net the suite fits on ``dataset``.

    Read from the profiles' quality settings (the ``fast`` profile first), so a reference is
    always sampled on the model the quality benchmarks score; datasets they do not fit use
    :data:`EXTRA_ARCHITECTURES`. The prior scale is ``NUTSClassifier``'s quality setting.
    """
    from bnncompare.methods.nuts import NUTSClassifier
    from bnncompare.profiles import PROFILES, parse_hidden

    prior = NUTSClassifier.settings_for("quality").get("prior_scale",
                                                       NUTSClassifier().prior_scale)
    for name in ("fast", *PROFILES):
        for q in PROFILES[name].quality:
            if q.dataset == dataset:
                return parse_hidden(q.hidden), q.activation, float(prior)
    if dataset in EXTRA_ARCHITECTURES:
        hidden, activation = EXTRA_ARCHITECTURES[dataset]
        return hidden, activation, float(prior)
    raise ValueError(f"no reference architecture for dataset {dataset!r}; known: "
                     f"{sorted({q.dataset for p in PROFILES.values() for q in p.quality})} "
                     f"and {sorted(EXTRA_ARCHITECTURES)}")


def reference_inputs(ds: data.Dataset) -> tuple[dict, dict]:
    """The inputs a reference predicts on, and how they were made.

    Returns
    -------
    sets : dict
        ``test``, ``ood`` (``data.default_ood_kind``, seed :data:`OOD_SEED`, as many as test
        rows, as ``evaluate`` draws them), ``train`` and, for a 2-D dataset, ``grid``: float32.
    info : dict
        JSON-ready: split seed and sizes, OOD kind and seed, the test and OOD fingerprints
        :func:`reference_scores` checks, the grid's size and axes.
    """
    kind = data.default_ood_kind(ds)
    sets = {"test": ds.x_test, "ood": data.make_ood(ds, kind, len(ds.x_test), seed=OOD_SEED),
            "train": ds.x_train}
    info = {"seed": DATA_SEED, "n_train": len(ds.x_train), "n_test": len(ds.x_test),
            "ood_kind": kind, "ood_seed": OOD_SEED, "n_ood": len(ds.x_test),
            "fingerprint": {k: _fingerprint(sets[k]) for k in ("test", "ood")}}
    if ds.n_features == 2:
        sets["grid"], axes = data.input_grid(ds, GRID_POINTS)
        info["grid"] = {"n": GRID_POINTS, "axes": [a.tolist() for a in axes]}
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sets.items()}, info


def _fingerprint(x: np.ndarray) -> dict:
    """Row count and column means: enough to tell whether two input sets are the same."""
    return {"n": len(x), "column_means": np.asarray(x, np.float64).mean(0).round(6).tolist()}


def _same_inputs(x: np.ndarray, fingerprint: dict) -> bool:
    # 1e-4: column means of float32 inputs agree across numpy/BLAS builds to ~1e-7 relative
    return len(x) == fingerprint["n"] and np.allclose(
        np.asarray(x, np.float64).mean(0), fingerprint["column_means"], rtol=0, atol=1e-4)


# --------------------------------------------------------------------------- diagnostics


def predictive_r_hat(proba: np.ndarray) -> np.ndarray:
    """Split-R-hat across chains of predictive probabilities, per input and class.

    Parameters
    ----------
    proba : array of shape (chains, draws, n, C)
        Per-draw class probabilities of each chain; ``draws >= 4``.

    Returns
    -------
    ndarray of shape (n, C)
        ``pyro.ops.stats.split_gelman_rubin``; a probability that no draw of any chain moves
        (0/0) counts as converged, 1.0.
    """
    from pyro.ops.stats import split_gelman_rubin

    p = np.asarray(proba)
    if p.ndim != 4 or p.shape[0] < 2 or p.shape[1] < 4:
        raise ValueError(f"proba must be (chains >= 2, draws >= 4, n, C), got shape {p.shape}")
    flat = torch.as_tensor(p.reshape(*p.shape[:2], -1))
    out = []
    # in float64 column chunks: digits' training rows are 12,570 quantities x 6,400 draws
    for start in range(0, flat.shape[2], _R_HAT_CHUNK):
        chunk = flat[:, :, start:start + _R_HAT_CHUNK].double()
        r_hat = split_gelman_rubin(chunk, chain_dim=0, sample_dim=1)
        constant = chunk.amax((0, 1)) == chunk.amin((0, 1))
        out.append(torch.where(constant, 1.0, r_hat))
    return torch.cat(out).numpy().reshape(p.shape[2:])


def half_split_tv(chain_means: np.ndarray) -> np.ndarray:
    """Per-input TV between the predictive means of the first and second half of the chains.

    Parameters
    ----------
    chain_means : array of shape (chains, n, C)
        Each chain's predictive mean; ``chains >= 2`` (an odd last chain joins the second half).

    Returns
    -------
    ndarray of shape (n,)
    """
    m = np.asarray(chain_means, dtype=np.float64)
    if m.ndim != 3 or m.shape[0] < 2:
        raise ValueError(f"chain_means must be (chains >= 2, n, C), got shape {m.shape}")
    half = m.shape[0] // 2
    return metrics.total_variation(m[:half].mean(0), m[half:].mean(0))


def _diagnose(proba: dict, draws: np.ndarray, y_test: np.ndarray) -> dict:
    """Function-space diagnostics of every draw of every chain (see the module docstring)."""
    from pyro.ops.stats import split_gelman_rubin

    r_hat = {name: float(np.max(predictive_r_hat(p))) for name, p in proba.items()
             if name != "grid"}
    tv = {name: half_split_tv(p.mean(1)) for name, p in proba.items()}
    weights = split_gelman_rubin(torch.as_tensor(draws, dtype=torch.float64), 0, 1)
    mean_test = proba["test"].mean((0, 1), dtype=np.float64)
    mean_test /= mean_test.sum(1, keepdims=True)
    return {
        "predictive_r_hat_max": r_hat,
        "tv_halves_mean": {k: float(v.mean()) for k, v in tv.items()},
        "tv_halves_max": {k: float(v.max()) for k, v in tv.items()},
        "weight_r_hat_max": float(weights[torch.isfinite(weights)].max()),
        "weight_r_hat_note": _WEIGHT_R_HAT_NOTE,
        "test_accuracy": metrics.accuracy(y_test, mean_test),
        "test_nll": metrics.nll(y_test, mean_test),
    }


def _meets(diagnostics: dict) -> dict:
    return {
        "predictive_r_hat_test": diagnostics["predictive_r_hat_max"]["test"]
        <= TARGETS["predictive_r_hat_test"],
        "tv_halves_test": diagnostics["tv_halves_mean"]["test"] <= TARGETS["tv_halves_test"],
        "tv_halves_ood": diagnostics["tv_halves_mean"]["ood"] <= TARGETS["tv_halves_test"],
    }


# --------------------------------------------------------------------------- running


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


def chain_seeds(seed: int, chains: int) -> list[int]:
    """Independent per-chain seeds derived from one run seed (``numpy.random.SeedSequence``)."""
    return [int(s.generate_state(1)[0] % 2**31) for s in np.random.SeedSequence(seed).spawn(chains)]


def _settings(name: str, overrides: dict) -> RunSettings:
    base = RECOMMENDED.get(name, _FALLBACK)
    chosen = RunSettings(**{k: getattr(base, k) if overrides.get(k) is None else overrides[k]
                            for k in ("chains", "warmup", "draws", "depth")})
    if chosen.chains < 2:
        raise ValueError(f"chains must be >= 2 (convergence is judged across chains), "
                         f"got {chosen.chains}")
    if chosen.draws < 4 or chosen.warmup < 1 or chosen.depth < 1:
        raise ValueError(f"need draws >= 4, warmup >= 1 and depth >= 1, got {chosen}")
    return chosen


def _check_names(datasets: Sequence[str]) -> list[str]:
    if not datasets:
        raise ValueError("name at least one dataset")
    names = [str(d).lower() for d in datasets]
    for name in names:
        if name not in data.DATASETS:
            raise ValueError(f"unknown dataset {name!r}; choose from {', '.join(data.DATASETS)}")
    if len(set(names)) != len(names):
        raise ValueError(f"a dataset is named twice: {names}")
    return names


def run_reference(datasets: Sequence[str], *, out=None, backend: str = "torch",
                  workers: int = 1, seed: int = 0, blocks: int = 2, chains: int | None = None,
                  warmup: int | None = None, draws: int | None = None,
                  depth: int | None = None, where: str | None = None,
                  progress: bool = True, command: str | None = None, dask: bool = False,
                  scheduler: str | None = None) -> dict[str, Path]:
    """Sample and store the reference of each dataset; chains of all datasets share one pool.

    Parameters
    ----------
    datasets : sequence of str
        ``data.DATASETS`` names with a known architecture (:func:`architecture`).
    out : path, optional
        Folder of the references (default :data:`DEFAULT_ROOT`); each dataset writes
        ``out/<dataset>/reference.json`` and ``predictive.npz`` as soon as its chains finish.
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
    names = _check_names(datasets)
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if backend == "numpyro":
        from bnncompare.peers.numpyro_nuts import numpyro_available
        if not numpyro_available():
            raise ValueError("backend 'numpyro' needs the optional 'peers' extra "
                             "(pip install 'bnncompare[peers]')")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    for label, value in (("workers", workers), ("blocks", blocks)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{label} must be a positive integer, got {value!r}")
    if scheduler is not None and workers != 1:
        raise ValueError("give --workers or --scheduler, not both")
    overrides = {"chains": chains, "warmup": warmup, "draws": draws, "depth": depth}
    jobs = {name: _job(name, _settings(name, overrides), seed) for name in names}
    for job in jobs.values():
        if blocks > job.settings.draws:
            raise ValueError(f"blocks={blocks} exceeds draws={job.settings.draws}")
    torch.set_num_threads(1)  # before any fork: a forked child must not inherit a thread pool
    root = _root(out)
    engine = (f"dask scheduler {scheduler}" if scheduler else
              f"dask LocalCluster of {workers}" if dask else
              f"{workers} processes" if workers > 1 else "in-process")
    context = {"backend": backend, "workers": workers, "seed": seed, "blocks": blocks,
               "where": where or socket.gethostname(), "command": command, "engine": engine,
               "dask": dask or scheduler is not None, "scheduler": scheduler}
    return _collect(jobs, root, context, progress)


def _job(name: str, settings: RunSettings, seed: int) -> _Job:
    hidden, activation, prior = architecture(name)
    ds = data.load_dataset(name, seed=DATA_SEED)
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
        yield from run_chains(tasks, context["workers"], update)
        return
    from bnncompare.distributed import dask_client

    scheduler = context["scheduler"]
    with dask_client(None if scheduler else context["workers"], scheduler) as client:
        yield from run_chains_dask(tasks, client, update,
                                   log=lambda m: print(m, file=sys.stderr, flush=True))


# --------------------------------------------------------------------------- storing


def _block_means(p: np.ndarray, blocks: int) -> np.ndarray:
    """``(S, n, C) -> (blocks, n, C)``: means of consecutive, equal-as-possible draw blocks."""
    return np.stack([b.mean(0) for b in np.array_split(p, blocks)])


def save_reference(folder, proba: dict, meta: dict, blocks: int = 2,
                   grid_axes: tuple | None = None) -> Path:
    """Write ``predictive.npz`` and ``reference.json`` of one reference to ``folder``.

    Parameters
    ----------
    folder : path
        Created if missing; :func:`load_reference` reads ``<root>/<dataset>``.
    proba : dict
        Input-set name (``test``, ``ood``, ``train``, ``grid``) -> per-draw predictive of
        every chain, shape ``(chains, draws, n, C)``.
    meta : dict
        The JSON document; :func:`reference_scores` needs its ``dataset``, ``model`` and
        ``data`` entries (see :func:`run_reference`'s output).
    blocks : int, default=2
        Draw blocks per chain whose means are stored (the grid stores each chain's mean).
    grid_axes : tuple of two arrays, optional
        The axes of the ``grid`` set (``data.input_grid``).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    # the grid (10^4 points) only needs each chain's mean: one block, a fraction of the bytes
    arrays = {name: np.stack([_block_means(p, 1 if name == "grid" else blocks)
                              for p in np.asarray(chains)]).astype(np.float16)
              for name, chains in proba.items()}
    draws = next(iter(proba.values())).shape[1]
    arrays["block_sizes"] = np.array([len(b) for b in np.array_split(np.arange(draws), blocks)])
    if grid_axes is not None:
        arrays["grid_x"], arrays["grid_y"] = (np.asarray(a, np.float32) for a in grid_axes)
    np.savez_compressed(folder / "predictive.npz", **arrays)
    (folder / "reference.json").write_text(json.dumps(meta, indent=2) + "\n")
    return folder


def _write(job: _Job, root: Path, context: dict) -> Path:
    results = [job.results[c] for c in range(job.settings.chains)]
    proba = {name: np.stack([r.proba[name] for r in results]) for name in job.sets}
    diagnostics = _diagnose(proba, np.stack([r.draws for r in results]),
                            job.ds.y_test.astype(np.int64))
    axes = job.info["grid"]["axes"] if "grid" in job.info else None
    return save_reference(root / job.name, proba, _metadata(job, results, diagnostics, context),
                          context["blocks"], axes)


def model_meta(spec: net.MLPSpec, prior_scale: float, classes) -> dict:
    """The ``model`` entry of a reference's JSON: what :meth:`Reference.matches` compares."""
    return {"hidden_sizes": list(spec.hidden_sizes), "activation": spec.activation,
            "prior_scale": float(prior_scale), "n_features": spec.n_features,
            "n_classes": spec.n_classes, "n_params": spec.n_params,
            "classes": np.asarray(classes).tolist()}


def _metadata(job: _Job, results: list, diagnostics: dict, context: dict) -> dict:
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
        "diagnostics": {**diagnostics, "targets": TARGETS, "meets_targets": _meets(diagnostics),
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
        "provenance": _provenance(context),
    }


def _provenance(context: dict) -> dict:
    versions = {}
    for pkg in ("bnncompare", "torch", "pyro-ppl", "numpy", "scikit-learn", "numpyro", "jax",
                "jaxlib"):
        try:
            versions[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            versions[pkg] = None
    return {
        "date_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "where": context["where"], "command": context["command"],
        "engine": context.get("engine"),
        "wall_s_total": round(context["wall_s_total"], 2),
        "python": platform.python_version(), "versions": versions,
        "machine": {"platform": platform.platform(), "cpu": _cpu_model(),
                    "cpu_count": os.cpu_count()},
        "git_commit": _git_commit(),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent,
                             capture_output=True, text=True, timeout=5, check=True)
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


# --------------------------------------------------------------------------- reading


@dataclass
class Reference:
    """A stored reference predictive (see the module docstring for the arrays).

    ``blocks[name]`` is ``(chains, blocks, n, C)`` float64 with rows renormalised;
    ``meta`` is ``reference.json``.
    """

    dataset: str
    meta: dict
    blocks: dict
    block_sizes: np.ndarray
    grid_axes: tuple | None = None

    def chain_means(self, name: str) -> np.ndarray:
        """Each chain's predictive mean on input set ``name``, shape (chains, n, C)."""
        p = self.blocks[name]
        sizes = self.block_sizes if p.shape[1] == len(self.block_sizes) else np.ones(p.shape[1])
        return np.einsum("kbnc,b->knc", p, sizes / sizes.sum())

    def predictive(self, name: str) -> np.ndarray:
        """The reference's posterior predictive mean on input set ``name``, shape (n, C)."""
        return self.chain_means(name).mean(0)

    @property
    def test(self) -> np.ndarray:
        return self.predictive("test")

    @property
    def ood(self) -> np.ndarray:
        return self.predictive("ood")

    @property
    def grid(self) -> np.ndarray | None:
        return self.predictive("grid") if "grid" in self.blocks else None

    def matches(self, est) -> bool:
        """Whether fitted ``est`` has this reference's net, prior and classes."""
        model = self.meta["model"]
        spec = getattr(est, "spec_", None)
        return (spec is not None
                and tuple(spec.hidden_sizes) == tuple(model["hidden_sizes"])
                and spec.activation == model["activation"]
                and spec.n_features == model["n_features"]
                and spec.n_classes == model["n_classes"]
                and np.isclose(float(getattr(est, "prior_scale", np.nan)),
                               model["prior_scale"])
                and np.array_equal(np.asarray(est.classes_), model["classes"]))


def load_reference(dataset: str, root=None) -> Reference:
    """The stored reference of ``dataset`` under ``root`` (default :data:`DEFAULT_ROOT`).

    Raises
    ------
    FileNotFoundError
        No reference is stored there (the message says how to make one).
    """
    folder = _root(root) / str(dataset).lower()
    meta_path, npz_path = folder / "reference.json", folder / "predictive.npz"
    if not (meta_path.is_file() and npz_path.is_file()):
        raise FileNotFoundError(f"no reference for {dataset!r} in {folder}; make one with: "
                                f"bnncompare reference {dataset} --out {folder.parent}")
    meta = json.loads(meta_path.read_text())
    with np.load(npz_path) as z:
        names = [k for k in ("test", "ood", "train", "grid") if k in z.files]
        blocks = {k: _renormalise(z[k]) for k in names}
        sizes = z["block_sizes"].astype(np.int64)
        axes = (z["grid_x"], z["grid_y"]) if "grid_x" in z.files else None
    return Reference(meta["dataset"], meta, blocks, sizes, axes)


def _renormalise(p: np.ndarray) -> np.ndarray:
    p = np.clip(p.astype(np.float64), 0.0, 1.0)
    return p / p.sum(-1, keepdims=True)


def find_reference(dataset: str, root=None) -> Reference | None:
    """:func:`load_reference`, or None when none is stored."""
    try:
        return load_reference(dataset, root)
    except FileNotFoundError:
        return None


def reference_scores(est, ds: data.Dataset, root=None) -> dict | None:
    """How close fitted ``est``'s predictive is to the stored reference posterior's.

    Parameters
    ----------
    est : fitted estimator
    ds : Dataset
        Must be the reference's split (checked by its test rows' fingerprint).
    root : path, optional

    Returns
    -------
    dict or None
        ``tv_test``, ``tv_ood`` (mean ``metrics.total_variation``) and ``agreement_test``,
        ``agreement_ood`` (``metrics.agreement``) on the reference's test rows and OOD inputs;
        None when no reference exists for ``ds.name`` with ``est``'s architecture (hidden
        sizes, activation, prior scale, classes) and these inputs.
    """
    ref = find_reference(ds.name, root)
    if ref is None or not ref.matches(est):
        return None
    info = ref.meta["data"]
    x_ood = data.make_ood(ds, info["ood_kind"], info["n_ood"], seed=info["ood_seed"])
    if not (_same_inputs(ds.x_test, info["fingerprint"]["test"])
            and _same_inputs(x_ood, info["fingerprint"]["ood"])):
        return None
    out = {}
    for name, x in (("test", ds.x_test), ("ood", x_ood)):
        p = est.predict_proba(x)
        out[f"tv_{name}"] = float(metrics.total_variation(p, ref.predictive(name)).mean())
        out[f"agreement_{name}"] = float(metrics.agreement(p, ref.predictive(name)))
    return out
