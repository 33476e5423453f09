"""A reference on disk: ``results/reference/<dataset>/``, written and read back.

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
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import subprocess
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

__all__ = ["DEFAULT_ROOT", "Reference", "find_reference", "load_reference", "provenance",
           "reference_root", "save_reference"]

#: where references live: ``<repo>/results/reference`` (``$BNNCOMPARE_REFERENCE_DIR`` wins)
DEFAULT_ROOT = Path(__file__).resolve().parents[2] / "results" / "reference"


def reference_root(root=None) -> Path:
    """``root``, else ``$BNNCOMPARE_REFERENCE_DIR``, else :data:`DEFAULT_ROOT`."""
    return Path(root or os.environ.get("BNNCOMPARE_REFERENCE_DIR") or DEFAULT_ROOT)


# --------------------------------------------------------------------------- writing


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


def provenance(context: dict) -> dict:
    """The ``provenance`` entry of a reference's JSON: when, where, how and with what it ran.

    ``context`` holds ``where``, ``command``, ``engine`` and ``wall_s_total``.
    """
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
    # a user's file is stored under its stem as it is spelled; built-in names lower-cased
    folder = reference_root(root) / str(dataset)
    if not folder.is_dir():
        folder = folder.with_name(str(dataset).lower())
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
