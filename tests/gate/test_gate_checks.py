"""Whether two runs are comparable (bnncompare.gate.checks): work counters, benchmark
identity and layouts, profiles, CPU models.

A ``same`` verdict here is the evidence that two benchmarks were matched, so the runs compared
are measured in one moment (see gate_runs): there, an unchanged benchmark's ratio is ~1.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gate_runs import (
    BASE_MOMENT,
    NAMES,
    VERSIONS,
    layout,
    make_run,
    work_runs,
    write_layout,
)

from bnncompare import gate

# --------------------------------------------------------------------------- work counters


def test_changed_work_same_seed_and_versions_is_work_changed(tmp_path):
    base, new = work_runs(tmp_path)
    result = gate.compare_runs(base, new)
    row = next(r for r in result.rows if r["fullname"] == NAMES[2])
    assert row["work"] == "work changed"
    assert "1000 -> 2550" in row["work_note"]
    assert [r["fullname"] for r in result.rows if r["work"]] == [NAMES[2]]
    assert result.passed  # reported, not failing, by default
    assert "work changed: n_grad_evals 1000 -> 2550" in gate.format_result(result)


def test_fail_on_work_change(tmp_path):
    base, new = work_runs(tmp_path)
    result = gate.compare_runs(base, new, fail_on_work_change=True)
    assert not result.passed
    assert result.flagged == [NAMES[2]]


def test_changed_work_different_torch_is_not_comparable(tmp_path):
    base, new = work_runs(tmp_path, new_versions={**VERSIONS, "torch": "2.14.0"})
    result = gate.compare_runs(base, new, fail_on_work_change=True)
    row = next(r for r in result.rows if r["fullname"] == NAMES[2])
    assert row["work"] == "not comparable"
    assert "torch 2.13.0 vs 2.14.0" in row["work_note"]
    assert result.passed  # not attributable to the code, so never a failure
    assert any("torch differs" in note for note in result.notes)


def test_changed_work_different_seed_is_not_comparable(tmp_path):
    base, new = work_runs(tmp_path, new_seed=1)
    row = next(r for r in gate.compare_runs(base, new).rows if r["fullname"] == NAMES[2])
    assert row["work"] == "not comparable"
    assert "seed 0 vs 1" in row["work_note"]


# --------------------------------------------------------------------------- identity


def test_two_runs_of_one_profile_match_every_benchmark_by_workload(tmp_path):
    cells = layout()
    a = write_layout(tmp_path / "a.json", cells, seed=BASE_MOMENT)
    b = write_layout(tmp_path / "b.json", cells, seed=2, moment=BASE_MOMENT)
    result = gate.compare_runs(a, b)
    assert len(result.rows) == len(cells)
    assert {r["verdict"] for r in result.rows} == {"same"}
    assert not any("params only" in note for note in result.notes)


def test_a_nuts_setting_no_longer_renames_nn_benchmarks(tmp_path, capsys):
    a = write_layout(tmp_path / "a.json", layout(nuts_draws=50), seed=BASE_MOMENT)
    b = write_layout(tmp_path / "b.json", layout(nuts_draws=100), seed=2, moment=BASE_MOMENT)
    # The same names over different work: refused, naming the benchmark and the change.
    assert gate.main([str(a), str(b)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "test_fit_vs_n_train[nuts-synthetic-100-16x16]" in err
    assert "different workload (and 1 more)" in err and '"num_samples": 100' in err
    # Told to skip them, the NN cells are still matched and compared: nothing renamed them.
    result = gate.compare_runs(a, b, skip_changed_workloads=True)
    verdict = {r["fullname"].split("::")[1]: r["verdict"] for r in result.rows}
    assert verdict == {
        "test_fit_vs_n_train[nn-synthetic-100-16x16]": "same",
        "test_fit_vs_n_train[nuts-synthetic-100-16x16]": "workload changed",
        "test_fit_vs_n_train[nn-synthetic-300-16x16]": "same",
        "test_fit_vs_n_train[nuts-synthetic-300-16x16]": "workload changed",
        "test_predict_vs_n_test[nn-synthetic-1000-100-16x16]": "same",
    }
    assert result.geomean_n == 3


def test_node_ids_do_not_identify_benchmarks(tmp_path):
    # Same params and workload under another node id (a renamed file): still one benchmark.
    cells = layout()
    moved = [{**c, "fullname": c["fullname"].replace("benchmarks/", "bench/")} for c in cells]
    a = write_layout(tmp_path / "a.json", cells, seed=BASE_MOMENT)
    b = write_layout(tmp_path / "b.json", moved, seed=2, moment=BASE_MOMENT)
    assert {r["verdict"] for r in gate.compare_runs(a, b).rows} == {"same"}


def test_runs_of_different_profiles_exit_2(tmp_path, capsys):
    a = write_layout(tmp_path / "a.json", layout(), profile="smoke")
    b = write_layout(tmp_path / "b.json", layout(), profile="fast")
    assert gate.main([str(a), str(b)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "different profiles" in err
    assert f"{a} is 'smoke'" in err and f"{b} is 'fast'" in err


def test_old_files_without_workload_match_by_params_and_say_so(base, tmp_path):
    result = gate.compare_runs(base, make_run(tmp_path / "new.json", seed=2,
                                              moment=BASE_MOMENT))
    assert {r["verdict"] for r in result.rows} == {"same"}
    assert "BASE and NEW recorded no workload: benchmarks matched by params only" in (
        result.notes)


def test_require_shared_workload_refuses_a_base_of_another_layout(base, tmp_path):
    new = write_layout(tmp_path / "new.json", layout(), seed=0)
    with pytest.raises(gate.GateInputError, match="share no benchmark workload"):
        gate.compare_runs(base, new, require_shared_workload=True)
    # workloads on one side only: refused even without the option (params would match
    # different work), in both directions
    with pytest.raises(gate.GateInputError, match=r"base\.json records none"):
        gate.compare_runs(base, new)
    with pytest.raises(gate.GateInputError, match=r"base\.json records none"):
        gate.compare_runs(new, base)
    same = write_layout(tmp_path / "same.json", layout(), seed=3, moment=0)  # new's moment
    assert gate.compare_runs(same, new, require_shared_workload=True).passed
    # Two runs that both predate workloads still match by params, as they always did.
    old = make_run(tmp_path / "old.json", seed=2, moment=BASE_MOMENT)
    assert gate.compare_runs(base, old, require_shared_workload=True).passed
    # Nothing in common at all: refused.
    other = write_layout(tmp_path / "other.json",
                         [{**c, "params": {**c["params"], "hidden": "8"}} for c in layout()])
    with pytest.raises(gate.GateInputError, match=r"share no benchmark workload$"):
        gate.compare_runs(other, new, require_shared_workload=True)


# --------------------------------------------------------------------------- CPU models

AMD = Path(__file__).parents[1] / "fixtures" / "smoke-amd-epyc.json"


def _as_cpu(tmp_path, name, brand, factor=1.0):
    doc = json.loads(AMD.read_text())
    doc["machine_info"]["cpu"]["brand_raw"] = brand
    for entry in doc["benchmarks"]:
        if entry["group"] != "calibration":
            entry["stats"]["data"] = [t * factor for t in entry["stats"]["data"]]
            entry["stats"]["median"] *= factor
    return write_doc(tmp_path / name, doc)


def write_doc(path, doc):
    path.write_text(json.dumps(doc))
    return path


def test_baseline_from_another_cpu_model_is_not_gated(tmp_path, capsys):
    # The AMD run against itself relabelled as an Intel run, made 3x slower: a regression the
    # gate must not judge across CPU models (ratios do not carry over), so it passes, saying so.
    intel = _as_cpu(tmp_path, "intel.json", "Intel(R) Xeon(R) Processor")
    slow = _as_cpu(tmp_path, "slow.json", "AMD EPYC", factor=3.0)
    assert gate.main([str(intel), str(slow), "--same-cpu-or-pass"]) == 0
    out = capsys.readouterr().out
    assert out == ("no comparable baseline: BASE was recorded on Intel(R) Xeon(R) Processor, "
                   "NEW on AMD EPYC; not gated\n")
    # On the same CPU model the same flag gates as usual: 3x slower fails.
    assert gate.main([str(AMD), str(slow), "--same-cpu-or-pass"]) == 1


def test_amd_fixture_matches_itself_by_params(capsys):
    assert gate.main([str(AMD), str(AMD)]) == 0
    assert "matched by params only" in capsys.readouterr().out
