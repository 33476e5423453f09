"""What a reference is: its dataset's split and inputs, the net and prior it samples, its chains
and their settings.

A reference samples the identical model the quality benchmarks fit on a dataset (same split,
net, activation and N(0, prior_scale^2) prior), predicts on the dataset's test rows, its OOD
inputs, its training rows (and the input plane of a 2-D dataset), and says how those inputs were
made so that a later score can check it is looking at the same ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bnncompare import data, net

__all__ = ["DATA_SEED", "EXTRA_ARCHITECTURES", "GRID_POINTS", "OOD_SEED", "RECOMMENDED",
           "RunSettings", "architecture", "chain_seeds", "model_meta", "reference_inputs",
           "run_settings", "same_inputs"]

#: the net of datasets the quality benchmarks do not fit (yet): the 2-D toy's small relu MLP
EXTRA_ARCHITECTURES = {"moons": ((16, 16), "relu")}
#: data split, OOD draw and chain seeds are separate: the split and OOD inputs are the suite's
DATA_SEED = 0
OOD_SEED = 0
GRID_POINTS = 100  # per axis of a 2-D dataset's input plane


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


def architecture(dataset: str, hidden: str | None = None) -> tuple[tuple[int, ...], str, float]:
    """``(hidden_sizes, activation, prior_scale)`` of the net the suite fits on ``dataset``.

    Read from the profiles' quality settings (the ``fast`` profile first), so a reference is
    always sampled on the model the quality benchmarks score; other datasets use
    :data:`EXTRA_ARCHITECTURES`, else the net ``bnncompare run --dataset`` fits on a dataset
    no profile names (``profiles.DEFAULT_QUALITY_HIDDEN``, relu). ``hidden`` (``"50x50"``)
    replaces the hidden layers, as a run's ``--hidden`` does. The prior scale is the reference
    sampler's quality setting (``bnncompare.methods.reference_sampler``).
    """
    from bnncompare.methods import reference_sampler
    from bnncompare.profiles import PROFILES, parse_hidden, quality_setting_for

    sampler = reference_sampler()
    prior = float(sampler.settings_for("quality").get("prior_scale", sampler.prior_scale))
    named = any(q.dataset == dataset for p in PROFILES.values() for q in p.quality)
    if not named and dataset in EXTRA_ARCHITECTURES:
        sizes, activation = EXTRA_ARCHITECTURES[dataset]
    else:
        setting = quality_setting_for(dataset)
        sizes, activation = parse_hidden(setting.hidden), setting.activation
    return (tuple(sizes) if hidden is None else parse_hidden(hidden)), activation, prior


def model_meta(spec: net.MLPSpec, prior_scale: float, classes) -> dict:
    """The ``model`` entry of a reference's JSON: what :meth:`Reference.matches` compares."""
    return {"hidden_sizes": list(spec.hidden_sizes), "activation": spec.activation,
            "prior_scale": float(prior_scale), "n_features": spec.n_features,
            "n_classes": spec.n_classes, "n_params": spec.n_params,
            "classes": np.asarray(classes).tolist()}


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


def same_inputs(x: np.ndarray, fingerprint: dict) -> bool:
    """Whether ``x`` has the row count and column means recorded in ``fingerprint``."""
    # 1e-4: column means of float32 inputs agree across numpy/BLAS builds to ~1e-7 relative
    return len(x) == fingerprint["n"] and np.allclose(
        np.asarray(x, np.float64).mean(0), fingerprint["column_means"], rtol=0, atol=1e-4)


def chain_seeds(seed: int, chains: int) -> list[int]:
    """Independent per-chain seeds derived from one run seed (``numpy.random.SeedSequence``)."""
    return [int(s.generate_state(1)[0] % 2**31) for s in np.random.SeedSequence(seed).spawn(chains)]


def run_settings(name: str, overrides: dict) -> RunSettings:
    """:data:`RECOMMENDED` for dataset ``name`` with the non-None ``overrides``, checked.

    Raises
    ------
    ValueError
        Fewer than 2 chains (convergence is judged across chains), fewer than 4 draws, or no
        warmup or tree depth.
    """
    base = RECOMMENDED.get(name, _FALLBACK)
    chosen = RunSettings(**{k: getattr(base, k) if overrides.get(k) is None else overrides[k]
                            for k in ("chains", "warmup", "draws", "depth")})
    if chosen.chains < 2:
        raise ValueError(f"chains must be >= 2 (convergence is judged across chains), "
                         f"got {chosen.chains}")
    if chosen.draws < 4 or chosen.warmup < 1 or chosen.depth < 1:
        raise ValueError(f"need draws >= 4, warmup >= 1 and depth >= 1, got {chosen}")
    return chosen
