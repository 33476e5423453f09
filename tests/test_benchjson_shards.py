"""Per-shard calibration: a merged run's cells are normalised by their own shard's calibration.

The runs are synthetic and merged by the real :func:`bnncompare.shards.merge_shards`: shard
``s0`` ran on a machine, shard ``s1`` on one exactly 2x slower (its calibration and its cells
2x), so after normalisation ``s1``'s cells must equal what they would have been on ``s0``'s
machine. Doubling is exact in binary floating point, so the expected values are exact.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from bnncompare import benchjson, gate
from bnncompare.report import load_runs
from bnncompare.shards import merge_shards

# start, middle, end calibration medians of the fast machine: median 0.10 s
CALIBRATION = {"start": 0.10, "middle": 0.11, "end": 0.10}
# four fit cells (seconds on the fast machine); s0 runs the first two, s1 the last two
CELLS = {"n100": 0.5, "n300": 1.2, "n1000": 3.0, "n3000": 8.0}
ROUNDS = (0.98, 1.0, 1.03)  # per-round multipliers around the median


def _entry(name: str, group: str, median: float, params: dict) -> dict:
    return {"group": group, "name": name,
            "fullname": f"benchmarks/test_fit.py::{name}", "params": params,
            "stats": {"median": median, "rounds": len(ROUNDS),
                      "data": [median * r for r in ROUNDS]},
            "extra_info": {"profile": "smoke"}}


def _calibrations(machine: float) -> list:
    return [_entry(f"test_calibration[{pos}]", "calibration", t * machine,
                   {"kind": "dispatch", "position": pos}) for pos, t in CALIBRATION.items()]


def _cell(label: str, machine: float) -> dict:
    return _entry(f"test_fit_vs_n_train[synthetic-nn-{label}]", "fit", CELLS[label] * machine,
                  {"method": "nn", "dataset": "synthetic", "n_train": int(label[1:])})


def _shard_json(labels: list, machine: float, node: str) -> dict:
    cal = _calibrations(machine)
    cells = [_cell(label, machine) for label in labels]
    return {"machine_info": {"node": node, "profile": "smoke", "device": "cpu"},
            "commit_info": {}, "benchmarks": [cal[0], cells[0], cal[1], *cells[1:], cal[2]],
            "datetime": "2025-01-01T00:00:00", "version": "5.1.0"}


def _single_process(path, machine: float = 1.0):
    doc = _shard_json(list(CELLS), machine, "box")
    path.write_text(json.dumps(doc))
    return path


def _merged(path):
    """s0 on the fast machine, s1 on a 2x slower one, merged as the driver merges them."""
    results = [{"shard": "s0", "worker": "w0", "json": _shard_json(["n100", "n300"], 1.0, "a")},
               {"shard": "s1", "worker": "w1",
                "json": _shard_json(["n1000", "n3000"], 2.0, "b")}]
    path.write_text(json.dumps(merge_shards(results, [])))
    return path


def test_each_cell_is_divided_by_its_own_shards_calibration(tmp_path):
    run = benchjson.read_run(_merged(tmp_path / "merged.json"))
    assert run.shard_scales == {"s0": {"dispatch": 0.10}, "s1": {"dispatch": 0.20}}
    norm = {b["name"].split("-")[-1].rstrip("]"): b["stats"]["median"] / run.scale(b)
            for b in run.benchmarks if b["group"] == "fit"}
    # the slow worker's cells read as if they had run on the fast one, exactly
    assert norm == {label: t / 0.10 for label, t in CELLS.items()}
    # pooling the six calibrations (the old rule) would have divided every cell by 0.155
    assert run.scales == {"dispatch": pytest.approx((0.11 + 0.20) / 2)}


def test_a_run_without_shards_is_normalised_as_before(tmp_path):
    run = benchjson.read_run(_single_process(tmp_path / "one.json"))
    assert run.shard_scales == {}
    assert run.scales == {"dispatch": 0.10}  # median of the start/middle/end medians
    for bench in run.benchmarks:
        assert run.scale(bench) == 0.10


def test_report_normalises_per_shard(tmp_path):
    df = load_runs([_merged(tmp_path / "merged.json"), _single_process(tmp_path / "one.json")])
    fit = df[df["phase"] == "fit"].sort_values(["run", "n_train"])
    merged, single = fit[fit["run"] == "merged"], fit[fit["run"] == "one"]
    assert merged["calib_median_s"].tolist() == [0.10, 0.10, 0.20, 0.20]
    # the merged run, half of it on a 2x slower worker, normalises to the one-process run
    np.testing.assert_array_equal(merged["median_norm"].to_numpy(),
                                  single["median_norm"].to_numpy())


def test_gate_normalises_per_shard_so_a_slow_worker_is_no_regression(tmp_path):
    base = _single_process(tmp_path / "base.json")
    result = gate.compare_runs(base, _merged(tmp_path / "merged.json"))
    assert result.passed and {r["verdict"] for r in result.rows} == {"same"}
    # every ratio is 1 exactly: the slow shard's 2x cells over its 2x calibration
    assert [r["ratio"] for r in result.rows] == [1.0] * len(CELLS)
    assert result.geomean == 1.0


def test_gate_still_sees_a_uniformly_slower_unsharded_machine_as_no_regression(tmp_path):
    result = gate.compare_runs(_single_process(tmp_path / "base.json"),
                               _single_process(tmp_path / "slow.json", machine=2.0))
    assert [r["ratio"] for r in result.rows] == [1.0] * len(CELLS)


def test_a_series_split_across_shards_fits_the_exponent_of_one_machine(tmp_path):
    # The four sizes of one series ran on two workers, the larger two on the 2x slower one.
    # Raw times would add a spurious jump (a steeper b); on the run's own calibration scale
    # the series is the single machine's, so both fits agree to the bootstrap's precision.
    from bnncompare.report.complexity import exponent_table

    def as_series(path):  # the fit cells form one sweep over n_train
        doc = json.loads(path.read_text())
        for entry in doc["benchmarks"]:
            if entry["group"] == "fit":
                entry["extra_info"]["axis"] = "n_train"
        path.write_text(json.dumps(doc))
        return path

    one = exponent_table(load_runs([as_series(_single_process(tmp_path / "one.json"))]),
                         n_boot=50)
    merged_df = load_runs([as_series(_merged(tmp_path / "merged.json"))])
    merged = exponent_table(merged_df, n_boot=50)
    assert len(one) == len(merged) == 1
    factors = merged_df.set_index("shard")["shard_factor"].dropna().to_dict()
    assert factors == {"s0": pytest.approx(0.155 / 0.10), "s1": pytest.approx(0.155 / 0.20)}
    assert merged["b"].iloc[0] == pytest.approx(one["b"].iloc[0], abs=1e-6)
    # drift is judged within each shard (each calibrated itself: start/middle/end 1.1x)
    assert merged["calib_drift"].iloc[0] == pytest.approx(1.1)


# -- the document reader the sweep, the shards and the Dask driver share -------------------------
def test_read_doc_names_a_zero_byte_or_malformed_file(tmp_path):
    empty, garbage = tmp_path / "empty.json", tmp_path / "garbage.json"
    empty.write_bytes(b"")  # what pytest-benchmark leaves when no benchmark ran
    garbage.write_text('{"benchmarks": [')
    with pytest.raises(benchjson.BenchJSONError, match=r"empty\.json: file is empty \(0 bytes\)"):
        benchjson.read_doc(empty)
    with pytest.raises(benchjson.BenchJSONError, match=r"garbage\.json: not valid JSON"):
        benchjson.read_doc(garbage, allow_empty=True)  # broken is not empty
    (tmp_path / "other.json").write_text('{"results": []}')
    with pytest.raises(benchjson.BenchJSONError, match="no 'benchmarks' list"):
        benchjson.read_doc(tmp_path / "other.json")
    # "nothing ran": a 0-byte or missing file reads as no document, with no entries
    assert benchjson.read_doc(empty, allow_empty=True) is None
    assert benchjson.read_doc(tmp_path / "missing.json", allow_empty=True) is None
    assert benchjson.entries(None) == [] and benchjson.count_entries(None) == 0


def test_write_doc_round_trips_a_merged_run_for_every_reader(tmp_path):
    path = tmp_path / "merged.json"
    benchjson.write_doc(path, json.loads(_merged(tmp_path / "m.json").read_text()))
    assert not list(tmp_path.glob("*.part"))  # written beside, then renamed into place
    doc = benchjson.read_doc(path)
    assert benchjson.count_entries(doc) == 2 * len(CALIBRATION) + len(CELLS)
    assert [e["name"] for e in benchjson.entries(doc)] == [
        e["name"] for e in benchjson.read_run(path).benchmarks]
    with pytest.raises(benchjson.BenchJSONError, match="without a 'benchmarks' list"):
        benchjson.write_doc(path, {})


def test_sweep_and_shards_get_the_readers_error_for_a_broken_file(tmp_path):
    from bnncompare import shards, sweep

    broken = tmp_path / "smoke.json"
    broken.write_text("{not json")
    for read in (sweep.count_benchmarks, shards.measured_costs):
        with pytest.raises(benchjson.BenchJSONError, match=r"smoke\.json: not valid JSON"):
            read(broken)
    assert shards.measured_costs(tmp_path / "none.json") == {}  # no earlier run
    costs = shards.measured_costs(_single_process(tmp_path / "one.json"))
    assert costs["benchmarks/test_fit.py::test_fit_vs_n_train[synthetic-nn-n100]"] == (
        pytest.approx(0.5 * len(ROUNDS)))
