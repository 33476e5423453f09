"""Sharded sweeps: the packing (no cluster), the merge, and real 2-worker LocalClusters."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from bnncompare import shards
from bnncompare.cli import main
from bnncompare.peers.calibration import CALIBRATION_KINDS
from bnncompare.profiles import get_profile

ROOT = Path(__file__).resolve().parents[1]
SMOKE = get_profile("smoke")


def _fit(method: str, n: int) -> shards.Item:
    return shards.Item(f"benchmarks/test_fit.py::test_fit_vs_n_train[synthetic-{method}-n{n}]",
                       "test_fit_vs_n_train",
                       {"method": method, "dataset": "synthetic", "n_train": n, "hidden": "16x16"})


def _predict(method: str, s: int) -> shards.Item:
    return shards.Item(
        f"benchmarks/test_predict.py::test_predict_vs_num_samples[synthetic-{method}-S{s}]",
        "test_predict_vs_num_samples",
        {"method": method, "dataset": "synthetic", "n_test": 200, "num_samples": s,
         "hidden": "16x16"})


def _calibration(position: str) -> shards.Item:
    return shards.Item(f"benchmarks/test_calibration.py::test_calibration[{position}]",
                       shards.CALIBRATION, {"method": "calibration", "position": position})


# -- packing, no cluster -----------------------------------------------------------------------
def test_cost_model_scales_with_rows_and_draws():
    # same method, budget and net: fit cost is proportional to n_train
    assert shards.estimate_cost(SMOKE, _fit("svi", 1000)) == pytest.approx(
        10 * shards.estimate_cost(SMOKE, _fit("svi", 100)))
    # predict cost is proportional to S, except for a method whose draws are fixed by the fit
    assert shards.estimate_cost(SMOKE, _predict("svi", 100)) == pytest.approx(
        10 * shards.estimate_cost(SMOKE, _predict("svi", 10)))
    assert shards.estimate_cost(SMOKE, _predict("nn", 100)) == shards.estimate_cost(
        SMOKE, _predict("nn", 1))


def test_shards_are_balanced_by_cost_and_keep_predict_cells_together():
    items = [_calibration("start"), *(_fit("nn", n) for n in (100, 300, 1000)),
             *(_predict("svi", s) for s in (1, 10))]
    plan = shards.make_shards(SMOKE, items, 2)
    # smoke model costs, in units of P: nn fit 5 rounds x 30 epochs x n = 15000, 45000, 150000;
    # the svi predict bundle (kept together: one fitted estimator per process) 7 x (1 + 10) x
    # 200 = 15400. LPT: n1000 alone; the bundle, n300 and n100 on the other shard.
    # Calibration is in neither: each shard runs it itself.
    assert [set(s.nodeids) for s in plan] == [
        {_fit("nn", 1000).nodeid},
        {_fit("nn", 100).nodeid, _fit("nn", 300).nodeid, _predict("svi", 1).nodeid,
         _predict("svi", 10).nodeid}]
    costs = {i.nodeid: shards.estimate_cost(SMOKE, i) for i in items}
    assert [s.cost for s in plan] == pytest.approx(
        [sum(costs[n] for n in s.nodeids) for s in plan])
    assert plan[1].cost / plan[0].cost == pytest.approx((15000 + 45000 + 15400) / 150000)
    # within a shard, cells keep their collection order
    assert plan[1].nodeids[0] == _fit("nn", 100).nodeid


def test_shards_follow_measured_seconds_with_the_lpt_known_answer():
    items = [_fit("nn", n) for n in (100, 200, 300, 400, 500)]
    seconds = dict(zip([i.nodeid for i in items], [3.0, 3.0, 3.0, 4.0, 5.0], strict=True))
    plan = shards.make_shards(SMOKE, items, 2, measured=seconds)
    # LPT: 5 -> A, 4 -> B, 3 -> B (7), 3 -> A (8), 3 -> B (10): loads 8 and 10
    assert sorted(s.cost for s in plan) == pytest.approx([8.0, 10.0])


def test_same_cells_give_the_same_shards_whatever_their_order():
    items = [*(_fit(m, n) for m in ("nn", "svi") for n in (100, 300, 1000)),
             *(_predict(m, s) for m in ("nn", "svi") for s in (1, 10, 100))]
    plan = shards.make_shards(SMOKE, items, 3)
    again = shards.make_shards(SMOKE, list(reversed(items)), 3)
    assert [set(s.nodeids) for s in plan] == [set(s.nodeids) for s in again]
    assert plan == shards.make_shards(SMOKE, items, 3)
    with pytest.raises(ValueError, match="n_shards"):
        shards.make_shards(SMOKE, items, 0)


def test_merge_records_shard_worker_and_machine_on_every_benchmark():
    def doc(node, cells):
        cal = [{"group": "calibration", "fullname": "cal[start]", "extra_info": {}}]
        return {"machine_info": {"node": node, "device": "cpu"}, "commit_info": {"id": "x"},
                "version": "5", "datetime": "t",
                "benchmarks": cal + [{"group": "fit", "fullname": c, "extra_info": {}}
                                     for c in cells]}

    merged = shards.merge_shards(
        [{"shard": "s0", "worker": "0", "json": doc("a", ["c1", "c2"])},
         {"shard": "s1", "worker": "1", "json": None},  # a dead worker: nothing came back
         {"shard": "s1.retry1", "worker": "0", "json": doc("b", ["c2", "c3"])}], ["c4"])
    assert set(merged) == {"machine_info", "commit_info", "benchmarks", "datetime", "version"}
    cells = Counter(b["fullname"] for b in merged["benchmarks"] if b["group"] == "fit")
    assert cells == {"c1": 1, "c2": 1, "c3": 1}  # c2 reported twice, kept once
    calibration = [b["extra_info"]["shard"] for b in merged["benchmarks"]
                   if b["group"] == "calibration"]
    assert calibration == ["s0", "s1.retry1"]
    last = merged["benchmarks"][-1]["extra_info"]
    assert (last["shard"], last["worker"], last["machine_info"]["node"]) == ("s1.retry1", "0", "b")
    assert merged["machine_info"]["sharding"]["missing"] == ["c4"]


# -- real clusters -----------------------------------------------------------------------------
needs_dask = pytest.mark.skipif(
    importlib.util.find_spec("distributed") is None,
    reason="dask.distributed not installed (pip install -e '.[distributed]')")
# a tiny slice: calibration plus three NN fit cells of the smoke profile
KEYWORD = "test_fit_vs_n_train"
CELLS = {f"test_fit_vs_n_train[synthetic-nn-n{n}-16x16]" for n in SMOKE.n_train_grid}


def _check_merged(path: Path) -> dict:
    run = json.loads(path.read_text())
    cells = Counter(b["name"] for b in run["benchmarks"] if b["group"] != "calibration")
    assert cells == dict.fromkeys(CELLS, 1)  # every cell exactly once
    by_shard = Counter(b["extra_info"]["shard"] for b in run["benchmarks"]
                       if b["group"] == "calibration")
    shards_ran = {s["shard"] for s in run["machine_info"]["sharding"]["shards"]}
    # every shard that ran calibrated at start, middle and end on its own worker, each
    # calibration kind (dispatch- and GEMM-bound) at each position
    assert by_shard == dict.fromkeys(shards_ran, 3 * len(CALIBRATION_KINDS))
    for bench in run["benchmarks"]:
        extra = bench["extra_info"]
        assert extra["worker"] is not None and extra["machine_info"]["device"] == "cpu"
    return run


@needs_dask
@pytest.mark.slow
def test_two_local_workers_run_a_sharded_slice_and_the_report_renders(tmp_path):
    # nn draws nothing at fit: its fit-vs-draws test is an empty parameter set, skipped by
    # pytest, which must count as done (exit 0, smoke.json), not as a missing cell
    code = main(["run", "--profile", "smoke", "--methods", "nn", "-k",
                 f"{KEYWORD} or test_fit_vs_num_samples", "--workers", "2", "--out",
                 str(tmp_path), "--no-report"])
    assert code == 0
    path = tmp_path / "raw" / "smoke.json"
    run = _check_merged(path)
    workers = {s["worker"] for s in run["machine_info"]["sharding"]["shards"]}
    assert len(run["machine_info"]["sharding"]["shards"]) == 2 and len(workers) >= 1
    # pytest-benchmark's own reader accepts the merged file
    cli = "import sys; from pytest_benchmark.cli import main; sys.argv[0] = 'x'; main()"
    proc = subprocess.run([sys.executable, "-c", cli, "compare", str(path)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-1000:]
    assert "test_fit_vs_n_train[synthetic-nn-n1000-16x16]" in proc.stdout
    assert main(["report", str(path), "--out", str(tmp_path)]) == 0
    assert (tmp_path / "README.md").is_file()


@contextlib.contextmanager
def _local_cluster(**env):
    """Two one-thread worker processes on 127.0.0.1 with ``env`` in their environment (what
    each shard's pytest inherits); the scheduler never reruns a task itself (the driver's one
    retry is under test)."""
    import dask
    import distributed

    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \
            distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                     host="127.0.0.1", dashboard_address=None,
                                     env=env) as local:
        yield local


# The smoke profile's three NN cells pack into two shards by expected cost: s0 holds the
# costliest cell alone, s1 the other two (longest-processing-time first is deterministic).
S0_CELL = "test_fit_vs_n_train[synthetic-nn-n1000-16x16]"


def _run_with_failing(failing: str, tmp_path):
    """The sliced sweep on a fresh cluster whose shards named in ``failing`` fail their cells
    (the shards plugin's test hook); the result, the merged run and the driver's log."""
    from bnncompare.distributed import run_distributed

    lines: list[str] = []
    with _local_cluster(**{shards.FAIL_ENV: failing}) as cluster:
        result = run_distributed(SMOKE.with_methods("nn"), tmp_path, keyword=KEYWORD,
                                 scheduler=cluster.scheduler_address, n_shards=2,
                                 log=lines.append)
    return result, json.loads(result.json_path.read_text()), lines


def _shard_of_cell(run: dict) -> dict:
    return {b["name"]: b["extra_info"]["shard"] for b in run["benchmarks"]
            if b["group"] != "calibration"}


@needs_dask
@pytest.mark.slow
def test_a_failed_shard_is_retried_and_its_cells_kept(tmp_path):
    result, run, lines = _run_with_failing("s0", tmp_path)  # the first attempt fails only
    assert not result.missing and result.json_path.name == "smoke.json", lines
    assert "shard s0: 1 cell(s) unfinished; retrying them once" in lines
    _check_merged(result.json_path)  # every cell once, every shard that ran calibrated
    shards_ran = {s["shard"]: s for s in run["machine_info"]["sharding"]["shards"]}
    assert set(shards_ran) == {"s0", "s1", "s0.retry1"}
    # the failed attempt is on record (its calibration, no cell, pytest's failure exit)
    assert shards_ran["s0"]["cells"] == 0 and shards_ran["s0"]["returncode"] == 1
    assert _shard_of_cell(run)[S0_CELL] == "s0.retry1"
    assert run["machine_info"]["sharding"]["missing"] == []


@needs_dask
@pytest.mark.slow
def test_a_shard_whose_retry_fails_too_is_named_missing_and_the_rest_kept(tmp_path):
    result, run, lines = _run_with_failing("s0,s0.retry1", tmp_path)
    assert [m.split("::")[-1] for m in result.missing] == [S0_CELL], lines
    assert result.json_path.name == "smoke.partial.json"
    assert run["machine_info"]["sharding"]["missing"] == list(result.missing)
    # the other shard's cells are kept, once each, from s1
    assert _shard_of_cell(run) == dict.fromkeys(CELLS - {S0_CELL}, "s1")
    shards_ran = {s["shard"]: s["cells"] for s in run["machine_info"]["sharding"]["shards"]}
    assert shards_ran == {"s0": 0, "s1": 2, "s0.retry1": 0}


@needs_dask
@pytest.mark.slow
def test_ctrl_c_keeps_the_shards_that_finished(tmp_path):
    from bnncompare.distributed import run_distributed

    def log(line: str) -> None:  # Ctrl-C as the first shard's result arrives
        if " on worker " in line:
            raise KeyboardInterrupt

    with _local_cluster() as cluster:
        result = run_distributed(SMOKE.with_methods("nn"), tmp_path, keyword=KEYWORD,
                                 scheduler=cluster.scheduler_address, n_shards=2, log=log)
    assert result.interrupted and result.json_path.name == "smoke.partial.json"
    run = json.loads(result.json_path.read_text())
    cells = [b["name"] for b in run["benchmarks"] if b["group"] != "calibration"]
    # the shard whose arrival was interrupted is kept (its cells once each, with calibration)
    assert cells and len(cells) == len(set(cells)) and set(cells) <= CELLS
    calibration = Counter(b["extra_info"]["shard"] for b in run["benchmarks"]
                          if b["group"] == "calibration")
    assert set(calibration) <= {"s0", "s1"}
    assert set(calibration.values()) == {3 * len(CALIBRATION_KINDS)}
