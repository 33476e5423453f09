"""Synthetic benchmark JSON whose times and peaks follow a known model: for the n_params axis,
the memory table and the cost model's known-answer tests.

``size_run`` writes the sweeps the benchmarks write (fit vs n_train, fit vs n_params, predict
vs num_samples, predict vs n_params, each with its workload), with each cell's seconds drawn as
``(a + b * units) * exp(noise)``, units as :mod:`bnncompare.costmodel` defines them, and its
peak as ``c + d * floats``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from bnncompare import costmodel, net
from bnncompare.methods import METHODS
from bnncompare.profiles import parse_hidden

__all__ = ["SWEEP", "TRUE", "size_run", "write_run"]

#: the sweep keywords of each synthetic method (as the fast profile states them)
SWEEP = {"nn": {"num_epochs": 100},
         "nuts": {"num_warmup": 50, "num_samples": 50, "max_tree_depth": 4}}
#: the true constants (a seconds, b seconds per unit) per (method, phase), and of memory
TRUE = {("nn", "fit"): (0.01, 2e-9), ("nn", "predict"): (0.0005, 1e-9),
        ("nuts", "fit"): (0.05, 4e-9), ("nuts", "predict"): (0.001, 1.5e-9)}
MEMORY = (0.5, 4e-6)  # MiB, MiB per float
NUTS_PER_ITERATION = 14.8


def _cell(method, phase, axis, hidden, n_train, n_test, s, rng, noise, theory):
    params = {"activation": "tanh", "hidden_sizes": list(parse_hidden(hidden)),
              "random_state": 0, **SWEEP[method]}
    if method == "nuts" and phase == "fit" and axis == "num_samples":
        params["num_samples"] = s
    spec = net.MLPSpec(8, 3, parse_hidden(hidden))
    full = {**METHODS[method]().get_params(), **params}
    its = costmodel.iterations(full, n_train)
    grads = round(its * (NUTS_PER_ITERATION * rng.uniform(0.97, 1.0)
                         if method == "nuts" else 1.0))
    if phase == "fit":
        units = costmodel.fit_units(grads, full, n_train, spec.n_params)
        floats = costmodel.memory_floats(method, "fit", full, spec, n_train)
    else:
        units = costmodel.predict_units(method, full, n_test, s, spec.n_params)
        floats = costmodel.memory_floats(method, "predict", full, spec, n_test, s)
    a, b = TRUE[(method, phase)]
    level = (a + b * units) * np.exp(rng.normal(0, noise))  # the cell's moment of the machine
    times = sorted(level * np.exp(rng.normal(0, 0.01, 3)))
    bench_params = {"method": method, "dataset": "synthetic", "hidden": hidden}
    bench_params.update({"n_train": n_train} if phase == "fit" else
                        {"n_test": n_test, "num_samples": s})
    if phase == "fit" and axis == "num_samples":
        bench_params["num_samples"] = s
    workload = {"estimator": params, "n_train": n_train, "n_test": n_test, "n_features": 8,
                "n_classes": 3}
    if phase == "predict":
        workload["num_predictive_samples"] = s
    name = f"test_{phase}_vs_{axis}[{method}-{hidden}-{n_train}-{n_test}-{s}]"
    return {
        "group": phase, "name": name, "fullname": f"benchmarks/test_{phase}.py::{name}",
        "params": bench_params, "param": name,
        "stats": {"data": times, "median": times[1], "min": times[0], "max": times[2],
                  "mean": float(np.mean(times)), "rounds": 3, "iqr": times[2] - times[0],
                  "q1": times[0], "q3": times[2]},
        "extra_info": {"profile": "fast", "axis": axis, "theory_exponent": theory,
                       "n_grad_evals": grads, "n_params": spec.n_params, "seed": 0,
                       "workload": workload, "peak_memory": "rss_high_water",
                       "peak_mb": MEMORY[0] + MEMORY[1] * floats},
    }


def size_run(noise: float = 0.05, seed: int = 0, methods=("nn", "nuts")) -> dict:
    """A pytest-benchmark document of fit and predict sweeps over n_train, S and n_params."""
    rng = np.random.default_rng(seed)
    benches = []
    for m in methods:
        for n in (100, 300, 1000, 3000, 10000):
            benches.append(_cell(m, "fit", "n_train", "16x16", n, 500, None, rng, noise, 1.0))
        for h in ("8x8", "32x32", "128x128"):
            benches.append(_cell(m, "fit", "n_params", h, 300, 500, None, rng, noise, 1.0))
        for s in (1, 10, 100):
            benches.append(_cell(m, "predict", "num_samples", "16x16", 300, 500, s, rng,
                                 noise, 1.0))
        for h in ("8x8", "32x32", "128x128"):
            benches.append(_cell(m, "predict", "n_params", h, 300, 500, 100, rng, noise, 1.0))
    return {"machine_info": {"node": "synthetic-box", "cpu": {"brand_raw": "Test CPU"},
                             "python_version": "3.11", "profile": "fast", "device": "cpu",
                             "torch_threads": 1},
            "commit_info": {"id": "0" * 40, "dirty": False}, "benchmarks": benches,
            "datetime": "2026-01-01T00:00:00", "version": "5.1.0"}


def write_run(path: Path, doc: dict) -> Path:
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path
