"""Shards of a sweep: which cells run together in one pytest-benchmark process, and the merge
of the shards' JSON back into one run.

No Dask here (see :mod:`bnncompare.distributed`): the packing is a pure function of the cells
and their expected costs, so the same cells always give the same shards. Each shard is one
``pytest benchmarks --profile P --methods M <node ids>`` process (its command line from
:func:`bnncompare.sweep.benchmark_args`) that also runs the three calibration items
(conftest places them first, halfway and last), so each shard's timings can be normalised by
its own machine's calibration.

The same module is the shards' pytest plugin (``-p bnncompare.shards``): it dumps the
collected items for the driver, logs skipped cells, and has one test hook, for the driver's
retry: ``BNNCOMPARE_FAIL_SHARDS=s0,s0.retry1`` in a worker's environment makes every
non-calibration cell of those shards (the first attempt ``s0``, its retry ``s0.retry1``) fail,
as cells that crash would.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from bnncompare import benchjson
from bnncompare.methods import METHODS
from bnncompare.profiles import Cell, Profile
from bnncompare.sweep import benchmark_command

__all__ = ["CALIBRATION", "Item", "Shard", "collect_items", "estimate_cost", "make_shards",
           "measured_costs", "merge_shards"]

#: the calibration test, run by every shard
CALIBRATION = "test_calibration"
_COLLECT_ENV = "BNNCOMPARE_COLLECT_JSON"
SKIPPED_ENV = "BNNCOMPARE_SKIPPED_LOG"
#: the name of the shard a pytest process runs (``s0``, ``s0.retry1``), set by the driver
SHARD_ENV = "BNNCOMPARE_SHARD"
#: test hook: comma-separated shard names whose non-calibration cells fail on purpose
FAIL_ENV = "BNNCOMPARE_FAIL_SHARDS"


@dataclass(frozen=True)
class Item:
    """One collected benchmark: its pytest node id, test function and parameters."""

    nodeid: str
    test: str
    params: dict = field(hash=False)


@dataclass(frozen=True)
class Shard:
    """Cells run by one pytest process (calibration items are added when it is run)."""

    name: str
    nodeids: tuple[str, ...]
    cost: float


# -- collection --------------------------------------------------------------------------------
def pytest_collection_finish(session):
    """Plugin hook (``-p bnncompare.shards``): dump the collected items for the driver."""
    path = os.environ.get(_COLLECT_ENV)
    if path:
        items = [{"nodeid": i.nodeid, "test": i.originalname,
                  "params": dict(i.callspec.params) if hasattr(i, "callspec") else {}}
                 for i in session.items]
        Path(path).write_text(json.dumps(items, default=str))


def pytest_runtest_logreport(report):
    """Plugin hook: log the node ids a shard skipped (an empty parameter set, a missing
    optional peer), so the driver counts them as done rather than retrying them."""
    path = os.environ.get(SKIPPED_ENV)
    if path and report.skipped:
        with open(path, "a") as log:
            log.write(report.nodeid + "\n")


def pytest_runtest_setup(item):
    """Plugin hook, the test hook of the driver's retry: in a shard named in
    ``$BNNCOMPARE_FAIL_SHARDS``, every cell but calibration fails in setup (the shard still
    calibrates and writes its JSON, as a shard whose cells crash does), so a test can fail a
    shard's first attempt only, or its retry too, without killing anything at random."""
    shard = os.environ.get(SHARD_ENV)
    if shard and shard in os.environ.get(FAIL_ENV, "").split(","):
        if getattr(item, "originalname", None) != CALIBRATION:
            raise RuntimeError(f"{FAIL_ENV}: shard {shard} fails its cells on purpose")


def collect_items(bench: Path, profile: Profile, *, keyword: str | None = None,
                  device: str = "cpu") -> list[Item]:
    """The benchmarks ``pytest benchmarks --profile ... [-k keyword]`` would run, collected in
    a subprocess (as the shards will be: the driver never imports the benchmark modules).
    Calibration items are always collected, whatever ``keyword`` selects."""
    with tempfile.TemporaryDirectory() as tmp:
        dump = Path(tmp) / "items.json"
        select = f"({keyword}) or {CALIBRATION}" if keyword else None
        cmd = benchmark_command(profile.name, profile.method_names, targets=[str(bench)],
                                rootdir=bench.parent, device=device, keyword=select,
                                seeds=profile.n_seeds,
                                extra=["--collect-only", "-q", "-p", "bnncompare.shards"])
        proc = subprocess.run(cmd, cwd=bench.parent, capture_output=True, text=True,
                              env={**os.environ, _COLLECT_ENV: str(dump)}, check=False)
        if proc.returncode != 0 or not dump.is_file():
            last = (proc.stdout + proc.stderr).strip().splitlines()[-1:] or ["no output"]
            raise ValueError(f"collecting the benchmarks failed: {last[0]}")
        return [Item(**entry) for entry in json.loads(dump.read_text())]


# -- expected cost -----------------------------------------------------------------------------
@functools.cache
def _rows_and_params(dataset: str, hidden: str, n_features: int, n_classes: int,
                     n_rows: int | None) -> tuple[int, int]:
    """(training rows, network parameters P) of a cell; real datasets are loaded once."""
    from bnncompare import data, net
    from bnncompare.profiles import SEED, parse_hidden

    if dataset != "synthetic":
        try:
            ds = data.load_dataset(dataset, seed=SEED)
            n_rows, n_features, n_classes = ds.n_train, ds.n_features, ds.n_classes
        except (ValueError, OSError):  # not available here: a nominal size
            n_rows = n_rows or 1000
    spec = net.MLPSpec(n_features, n_classes, parse_hidden(hidden))
    return int(n_rows), int(spec.n_params)


def _budget(method: str, params: dict) -> float:
    """The method's budget in iterations: the keywords ``scale_budget`` scales, summed (so a
    method whose budget is several keywords, warm-up and draws, counts all of them)."""
    cls = METHODS.get(method)
    if cls is None or cls.budget_param is None:
        return 1.0
    scaled = cls.scale_budget(params, 2.0)
    return float(sum(scaled[k] for k in scaled if scaled[k] != params.get(k)) / 2.0) or 1.0


def estimate_cost(profile: Profile, item: Item) -> float:
    """Expected work of one benchmark, in arbitrary units comparable within a profile:
    rounds x iterations x rows x P for fit cells, rounds x S x n_test x P for predict cells
    (S = 1 for methods whose draws are fixed by the fit). Peers and unknown tests cost one
    median cell."""
    p = item.params
    if "method" not in p or p["method"] not in METHODS or "hidden" not in p:
        return 0.0  # unknown shape: priced later at the median
    cell = Cell(**{k: p[k] for k in Cell.__annotations__ if k in p})
    rows, n_params = _rows_and_params(cell.dataset, cell.hidden, profile.n_features,
                                      profile.n_classes, cell.n_train or profile.base_n_train)
    if cell.n_test is not None:  # predict cell
        draws = 1 if METHODS[cell.method].fixed_draws else cell.num_samples or 1
        return float(profile.predict_rounds * draws * cell.n_test * n_params)
    rounds = profile.quality_rounds if cell.n_train is None else profile.fit_rounds
    return float(rounds * _budget(cell.method, profile.fit_params(cell)) * rows * n_params)


def measured_costs(path: Path | None) -> dict[str, float]:
    """Node id -> seconds it took (median x rounds) in an earlier run's JSON; {} when there
    is none. Entries without a node id, median or round count are left out.

    Raises
    ------
    bnncompare.benchjson.BenchJSONError
        The earlier run's file is there but is not a benchmark JSON (0 bytes, not JSON, ...).
    """
    if path is None or not Path(path).exists():
        return {}
    costs = {}
    for bench in benchjson.entries(benchjson.read_doc(path)):
        stats = bench.get("stats") if isinstance(bench, dict) else None
        if isinstance(stats, dict) and "fullname" in bench and {"median", "rounds"} <= set(stats):
            costs[bench["fullname"]] = stats["median"] * stats["rounds"]
    return costs


# -- packing -----------------------------------------------------------------------------------
def _units(profile: Profile, items: list[Item], measured: dict[str, float]):
    """Packing units: one per cell, except that a method's predict cells stay together (they
    share one fitted estimator per process, so splitting them fits it again)."""
    modelled = {i.nodeid: estimate_cost(profile, i) for i in items}
    # model costs are rescaled to seconds by the cells that have both; with no such cell the
    # measurements cannot be put on the model's scale and are not used
    both = [n for n in modelled if n in measured and modelled[n] > 0]
    if both:
        scale = sum(measured[n] for n in both) / sum(modelled[n] for n in both)
        cost = {n: measured.get(n, modelled[n] * scale) for n in modelled}
    else:
        cost = modelled
    positive = sorted(c for c in cost.values() if c > 0)
    median = positive[len(positive) // 2] if positive else 1.0
    units: dict[tuple, list[str]] = {}
    for item in items:
        p = item.params
        key = (("predict", p.get("method"), p.get("dataset"), p.get("hidden"))
               if "n_test" in p else (item.nodeid,))
        units.setdefault(key, []).append(item.nodeid)
    return [(sum(cost[n] or median for n in ids), ids) for ids in units.values()]


def make_shards(profile: Profile, items: list[Item], n_shards: int, *,
                measured: dict[str, float] | None = None) -> list[Shard]:
    """Pack the non-calibration ``items`` into at most ``n_shards`` shards balanced by expected
    cost: longest-processing-time first (each unit, most expensive first, goes to the shard with
    the least work so far; ties by name, so the result is deterministic). Within a shard, cells
    keep their collection order. Measured seconds (``measured``, node id -> s) replace the
    model's estimate where available."""
    if n_shards < 1:
        raise ValueError(f"n_shards must be >= 1, got {n_shards}")
    cells = [i for i in items if i.test != CALIBRATION]
    order = {item.nodeid: k for k, item in enumerate(cells)}
    units = sorted(_units(profile, cells, measured or {}), key=lambda u: (-u[0], u[1]))
    loads = [0.0] * min(n_shards, len(units))
    members: list[list[str]] = [[] for _ in loads]
    for cost, ids in units:
        target = min(range(len(loads)), key=lambda k: (loads[k], k))
        loads[target] += cost
        members[target].extend(ids)
    return [Shard(f"s{k}", tuple(sorted(ids, key=order.__getitem__)), loads[k])
            for k, ids in enumerate(members)]


# -- merging -----------------------------------------------------------------------------------
def merge_shards(results: list[dict], missing: list[str]) -> dict:
    """One pytest-benchmark JSON from the shards' JSONs.

    ``results``: dicts with ``shard``, ``worker`` and the shard's pytest-benchmark ``json``.
    Every benchmark gets ``extra_info["shard"]``, ``["worker"]`` and ``["machine_info"]`` (its
    shard's); calibration entries appear once per shard, every other cell once (the first shard
    that reported it). The top-level ``machine_info`` is the first shard's, plus ``sharding``:
    the shards, their workers and cells, and the cells still ``missing``.
    """
    ran = [r for r in results if r.get("json")]
    if not ran:
        return {}
    first = ran[0]["json"]
    seen: set[str] = set()
    benchmarks, shards = [], []
    for result in ran:
        doc, done = result["json"], 0
        for bench in benchjson.entries(doc):
            is_calibration = bench["group"] == "calibration"
            if not is_calibration and bench["fullname"] in seen:
                continue
            seen.add(bench["fullname"])
            done += not is_calibration
            bench["extra_info"].update(shard=result["shard"], worker=result["worker"],
                                       machine_info=doc["machine_info"])
            benchmarks.append(bench)
        shards.append({"shard": result["shard"], "worker": result["worker"],
                       "node": doc["machine_info"].get("node"), "cells": done,
                       "returncode": result.get("returncode")})
    machine_info = {**first["machine_info"],
                    "sharding": {"shards": shards, "missing": sorted(missing)}}
    return {"machine_info": machine_info, "commit_info": first.get("commit_info", {}),
            "benchmarks": benchmarks,
            "datetime": datetime.now(timezone.utc).isoformat(),
            "version": first.get("version")}
