"""Synthetic pytest-benchmark runs for the gate tests, written in the schema of
docs/benchmark-json.md.

Two layouts: :func:`make_run` writes an old-layout run (a calibration entry plus eight
fit/predict benchmarks with 5-7 rounds each, no recorded workloads); :func:`write_layout`
writes a new-layout run (per-kind calibration at start, middle and end, workloads recorded).

Noise follows what the gate measured on its CI machine: a benchmark's rounds run within a
second of each other and share one moment of a shared VM, so a run's rounds sit within a few
per cent of each other while the same cell's median moves by a factor e^0.29 (sd of its log)
from one identical run to the next. Each benchmark of a run (calibration included) therefore
gets one factor, lognormal with sd(log) :data:`RUN_SD_LOG`, shared by all its rounds, and each
round its own lognormal noise with sd(log) :data:`ROUND_SD_LOG`.

The run-level factors come from the run's ``moment`` (a seed; by default the run's own
``seed``, so two runs are two independent moments). Runs written with one ``moment`` were
measured in the same moment of the machine and differ only by round noise and by what the
test changed: tests of a rule's arithmetic use that, tests of the gate's error rates under
realistic noise (test_gate_noise.py) do not.
"""

from __future__ import annotations

import json
import zlib

import numpy as np

__all__ = ["BASE_MOMENT", "CALIB", "CALIB_S", "NAMES", "ROUND_SD_LOG", "RUN_SD_LOG", "SUITE",
           "TINY", "VERSIONS", "bench_entry", "layout", "make_run", "moment_factor", "verdicts",
           "work_runs", "write_layout"]

#: sd of the log of a benchmark's run-level factor: one moment of the machine per run
RUN_SD_LOG = 0.29
#: sd of the log of one round's noise around its run's level
ROUND_SD_LOG = 0.02
#: the seed, hence the moment, of the shared ``base`` run (conftest.py)
BASE_MOMENT = 1

CALIB = "benchmarks/test_calibration.py::test_calibration[dispatch]"
CALIB_S = 0.2
# (fullname, group, median seconds): spans 20 ms .. 1.5 s, all well above the 1 ms min effect.
SUITE = [
    ("benchmarks/test_fit.py::test_fit_vs_n_train[synthetic-nn-n1000]", "fit", 0.05),
    ("benchmarks/test_fit.py::test_fit_vs_n_train[synthetic-svi-n1000]", "fit", 0.4),
    ("benchmarks/test_fit.py::test_fit_vs_n_train[synthetic-nuts-n1000]", "fit", 1.5),
    ("benchmarks/test_fit.py::test_fit_quality[iris-svi]", "fit", 0.12),
    ("benchmarks/test_predict.py::test_predict_vs_s[synthetic-nn-s1]", "predict", 0.02),
    ("benchmarks/test_predict.py::test_predict_vs_s[synthetic-svi-s100]", "predict", 0.03),
    ("benchmarks/test_predict.py::test_predict_vs_s[synthetic-nuts-s100]", "predict", 0.08),
    ("benchmarks/test_predict.py::test_predict_vs_n_test[iris-nuts-n1000]", "predict", 0.25),
]
NAMES = [name for name, _, _ in SUITE]
TINY = "benchmarks/test_predict.py::test_predict_vs_s[iris-nn-s1]"
VERSIONS = {"torch": "2.13.0", "pyro": "1.9.2"}


def _params(name):
    """``test_x[synthetic-nn-n1000]`` -> {"dataset": "synthetic", "method": "nn", "size": ...}."""
    dataset, method, size = [*name.split("[")[1].rstrip("]").split("-"), "", ""][:3]
    return {"dataset": dataset, "method": method, "size": size}


def moment_factor(moment, fullname):
    """The run-level factor of benchmark ``fullname`` in ``moment`` (a seed).

    Drawn from the moment and the benchmark's test name alone (not its node id's path, nor
    its position in the suite), so a rerun of a subset, or of a moved test file, in the same
    moment reads the same factor.
    """
    key = zlib.crc32(fullname.split("::")[-1].encode())
    return float(np.exp(np.random.default_rng([moment, key]).normal(0.0, RUN_SD_LOG)))


def bench_entry(fullname, group, median, rng, rounds, extra=None, level=1.0):
    """One ``benchmarks[]`` entry: ``rounds`` round times around ``median * level``, each
    with its own lognormal noise (sd of log :data:`ROUND_SD_LOG`) drawn from ``rng``."""
    data = (median * level * np.exp(rng.normal(0.0, ROUND_SD_LOG, size=rounds))).tolist()
    name = fullname.split("::")[-1]
    return {
        "group": group,
        "name": name,
        "fullname": fullname,
        "params": _params(name) if group != "calibration" else {"kind": "dispatch"},
        "stats": {
            "min": min(data),
            "max": max(data),
            "median": float(np.median(data)),
            "mean": float(np.mean(data)),
            "rounds": rounds,
            "iterations": 1,
            "data": data,
        },
        "extra_info": {"profile": "smoke", "seed": 0, **(extra or {})},
    }


def make_run(
    path,
    *,
    factor=1.0,
    machine=1.0,
    seed=0,
    moment=None,
    rounds=None,
    extra=None,
    versions=None,
    suite=SUITE,
):
    """Write a synthetic run; return its path.

    ``factor``: a float applied to every judged benchmark, or {fullname: float}.
    ``machine``: multiplies every time INCLUDING calibration (a slower machine).
    ``seed``: the round noise; ``moment``: the run-level factors (default ``seed``).
    ``rounds``: int for all entries (default 5-7 varying per entry).
    ``extra``: {fullname: extra_info additions}.
    """
    rng = np.random.default_rng(seed)
    moment = seed if moment is None else moment
    factors = factor if isinstance(factor, dict) else {n: factor for n, _, _ in suite}
    entries = [bench_entry(CALIB, "calibration", CALIB_S * machine, rng, rounds or 7,
                           level=moment_factor(moment, CALIB))]
    for i, (name, group, median) in enumerate(suite):
        scaled = median * machine * factors.get(name, 1.0)
        n_rounds = rounds or 5 + i % 3
        entries.append(bench_entry(name, group, scaled, rng, n_rounds, (extra or {}).get(name),
                                   level=moment_factor(moment, name)))
    doc = {
        "machine_info": {"node": "ci", "machine": "x86_64", **(versions or VERSIONS)},
        "commit_info": {},
        "benchmarks": entries,
        "datetime": "2025-01-01T00:00:00",
        "version": "5.1.0",
    }
    path.write_text(json.dumps(doc))
    return path


def verdicts(result):
    """fullname -> verdict of a GateResult."""
    return {row["fullname"]: row["verdict"] for row in result.rows}


def work_runs(tmp_path, new_versions=None, new_seed=0):
    """BASE and NEW runs, in one moment, whose third benchmark's n_grad_evals went
    1000 -> 2550."""
    base_extra = {name: {"n_grad_evals": 1000} for name in NAMES}
    new_extra = {name: {"n_grad_evals": 1000} for name in NAMES}
    new_extra[NAMES[2]] = {"n_grad_evals": 2550, "seed": new_seed}
    base = make_run(tmp_path / "base.json", seed=BASE_MOMENT, extra=base_extra)
    new = make_run(tmp_path / "new.json", seed=2, moment=BASE_MOMENT, extra=new_extra,
                   versions=new_versions)
    return base, new


def _cell(group, function, params, workload, median):
    """A new-layout entry: params carry only the cell's own work, the rest is workload."""
    ids = "-".join(str(v) for v in params.values())
    return {"fullname": f"benchmarks/test_{group}.py::{function}[{ids}]", "group": group,
            "params": params, "median": median, "workload": workload}


def layout(nuts_draws=50):
    """fit vs n_train for two methods; NUTS's draws live in its workload, not in any id."""
    cells = []
    for n in (100, 300):
        cells.append(_cell("fit", "test_fit_vs_n_train",
                           {"method": "nn", "dataset": "synthetic", "n_train": n,
                            "hidden": "16x16"},
                           {"num_epochs": 200, "n_test": 200}, 0.02 * n / 100))
        cells.append(_cell("fit", "test_fit_vs_n_train",
                           {"method": "nuts", "dataset": "synthetic", "n_train": n,
                            "hidden": "16x16"},
                           {"num_warmup": 50, "num_samples": nuts_draws, "n_test": 200},
                           0.3 * n / 100))
    cells.append(_cell("predict", "test_predict_vs_n_test",
                       {"method": "nn", "dataset": "synthetic", "n_test": 1000,
                        "num_samples": 100, "hidden": "16x16"}, {"n_train": 200}, 0.01))
    return cells


def write_layout(path, cells, *, seed=0, moment=None, factor=None, machine=1.0, gemm=1.0,
                 profile="smoke", cpu="AMD EPYC", kinds=("dispatch", "gemm")):
    """Write a new-layout run. ``machine`` scales dispatch-bound work and the dispatch
    calibration, ``gemm`` the predict cells and the gemm calibration (a machine whose BLAS
    differs); ``factor`` is {fullname: slowdown} of the code; ``seed`` seeds the round noise
    and ``moment`` the run-level factors (default ``seed``)."""
    rng = np.random.default_rng(seed)
    moment = seed if moment is None else moment
    entries = []
    for kind in kinds:
        scale = gemm if kind == "gemm" else machine
        for position in ("start", "middle", "end"):
            name = f"{CALIB}[calibration-none-{kind}-{position}]"
            e = bench_entry(name, "calibration", CALIB_S * scale, rng, 7,
                            {"workload": {"calibration": kind}}, moment_factor(moment, name))
            e["params"] = {"method": "calibration", "dataset": "none", "kind": kind,
                           "position": position}
            entries.append(e)
    for c in cells:
        scale = gemm if c["group"] == "predict" else machine
        median = c["median"] * scale * (factor or {}).get(c["fullname"], 1.0)
        extra = {"workload": c["workload"], "profile": profile}
        if c["group"] == "predict":  # a benchmark opts into the gemm calibration by name
            extra["calibration_kind"] = "gemm"
        e = bench_entry(c["fullname"], c["group"], median, rng, 5, extra,
                        moment_factor(moment, c["fullname"]))
        e["params"] = c["params"]
        entries.append(e)
    doc = {"machine_info": {"node": "ci", "profile": profile, "cpu": {"brand_raw": cpu},
                            **VERSIONS},
           "commit_info": {}, "benchmarks": entries}
    path.write_text(json.dumps(doc))
    return path
