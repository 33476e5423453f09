"""Known-answer tests for the performance-regression gate (bnncompare.gate).

Every run JSON is synthetic: a calibration entry plus eight fit/predict benchmarks with
5-7 rounds each and +-5 % uniform noise from a seeded generator, written in tmp_path in
the schema of docs/benchmark-json.md.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from bnncompare import benchjson, gate

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


def _entry(fullname, group, median, rng, rounds, extra=None):
    data = (median * (1 + rng.uniform(-0.05, 0.05, size=rounds))).tolist()
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
    rounds=None,
    extra=None,
    versions=None,
    suite=SUITE,
):
    """Write a synthetic run; return its path.

    ``factor``: a float applied to every judged benchmark, or {fullname: float}.
    ``machine``: multiplies every time INCLUDING calibration (a slower machine).
    ``rounds``: int for all entries (default 5-7 varying per entry).
    ``extra``: {fullname: extra_info additions}.
    """
    rng = np.random.default_rng(seed)
    factors = factor if isinstance(factor, dict) else {n: factor for n, _, _ in suite}
    entries = [_entry(CALIB, "calibration", CALIB_S * machine, rng, rounds or 7)]
    for i, (name, group, median) in enumerate(suite):
        scaled = median * machine * factors.get(name, 1.0)
        n_rounds = rounds or 5 + i % 3
        entries.append(_entry(name, group, scaled, rng, n_rounds, (extra or {}).get(name)))
    doc = {
        "machine_info": {"node": "ci", "machine": "x86_64", **(versions or VERSIONS)},
        "commit_info": {},
        "benchmarks": entries,
        "datetime": "2025-01-01T00:00:00",
        "version": "5.1.0",
    }
    path.write_text(json.dumps(doc))
    return path


@pytest.fixture
def base(tmp_path):
    return make_run(tmp_path / "base.json", seed=1)


def verdicts(result):
    return {row["fullname"]: row["verdict"] for row in result.rows}


# --------------------------------------------------------------------------- verdicts


def test_same_file_passes_all_same(base):
    result = gate.compare_runs(base, base)
    assert result.passed
    assert set(verdicts(result).values()) == {"same"}
    assert result.geomean == pytest.approx(1.0)
    assert result.flagged == []
    assert CALIB not in verdicts(result)  # the calibration entry itself is not judged


def test_noise_only_rerun_passes(base, tmp_path):
    new = make_run(tmp_path / "new.json", seed=2)
    result = gate.compare_runs(base, new)
    assert result.passed
    assert set(verdicts(result).values()) == {"same"}
    assert abs(result.geomean - 1) < 0.05


def test_everything_slower_same_machine_fails(base, tmp_path):
    # 1.5x everywhere sits at the per-benchmark threshold: the suite rule catches it
    new = make_run(tmp_path / "new.json", seed=2, factor=1.5)
    result = gate.compare_runs(base, new)
    assert not result.passed and result.geomean_failed
    assert result.geomean == pytest.approx(1.5, rel=0.05)


def test_everything_twice_as_slow_flags_every_benchmark(base, tmp_path):
    new = make_run(tmp_path / "new.json", seed=2, factor=2.0)
    result = gate.compare_runs(base, new)
    assert not result.passed
    assert set(verdicts(result).values()) == {"slower"}
    assert sorted(result.flagged) == sorted(NAMES)
    assert all(row["p_value"] < gate.ALPHA for row in result.rows)


def test_slower_machine_is_not_a_regression(base, tmp_path):
    new = make_run(tmp_path / "new.json", seed=2, machine=2.0)
    result = gate.compare_runs(base, new)
    assert result.passed
    assert set(verdicts(result).values()) == {"same"}
    assert result.geomean == pytest.approx(1.0, abs=0.05)


def test_faster_machine_hides_no_regression(base, tmp_path):
    # Machine twice as fast, code 1.5x slower: raw times look faster, normalised are slower.
    new = make_run(tmp_path / "new.json", seed=2, machine=0.5, factor=1.5)
    result = gate.compare_runs(base, new)
    assert not result.passed and result.geomean_failed
    assert result.geomean == pytest.approx(1.5, rel=0.05)


def test_everything_faster_passes(base, tmp_path):
    new = make_run(tmp_path / "new.json", seed=2, factor=0.5)
    result = gate.compare_runs(base, new)
    assert result.passed
    assert set(verdicts(result).values()) == {"faster"}


def test_one_benchmark_three_times_slower_is_named(base, tmp_path):
    victim = NAMES[1]
    new = make_run(tmp_path / "new.json", seed=2, factor={victim: 3.0})
    result = gate.compare_runs(base, new)
    assert not result.passed
    assert result.flagged == [victim]
    assert [n for n, v in verdicts(result).items() if v != "same"] == [victim]
    text = gate.format_result(result)
    slower_lines = [line for line in text.splitlines() if line.startswith("slower")]
    assert len(slower_lines) == 1 and victim in slower_lines[0]
    out = tmp_path / "flagged.txt"
    gate.write_flagged(result, out)
    assert out.read_text().splitlines() == [victim, CALIB]


# The calibration median's own noise is common to every normalised ratio: at +-5 % noise and
# 7 calibration rounds an A/A geomean spreads about +-4.5 % (95 %). To test the geomean rule's
# arithmetic exactly, these runs share the base run's noise pattern (same seed); the noise
# itself is covered by test_noise_only_rerun_passes.


def test_small_spread_slowdown_under_geomean_threshold_passes(base, tmp_path):
    new = make_run(tmp_path / "new.json", seed=1, factor=1.08)
    result = gate.compare_runs(base, new)
    assert set(verdicts(result).values()) == {"same"}  # each one is within the threshold
    assert result.geomean == pytest.approx(1.08)
    assert not result.geomean_failed
    assert result.passed


def test_small_spread_slowdown_over_geomean_threshold_fails(base, tmp_path):
    new = make_run(tmp_path / "new.json", seed=1, factor=1.25)
    result = gate.compare_runs(base, new)
    assert set(verdicts(result).values()) == {"same"}  # no single benchmark is guilty ...
    assert result.geomean == pytest.approx(1.25)
    assert result.geomean_failed  # ... but the suite as a whole is slower
    assert not result.passed
    assert result.flagged == []
    out = tmp_path / "flagged.txt"
    gate.write_flagged(result, out)
    assert out.read_text() == ""  # empty: the geomean rule failed, rerun everything
    assert gate.format_result(result).splitlines()[-1].startswith("FAIL")


def test_geomean_threshold_is_an_option(base, tmp_path):
    new = make_run(tmp_path / "new.json", seed=1, factor=1.15)
    assert gate.compare_runs(base, new, geomean_threshold=1.2).passed


def test_microsecond_benchmark_doubling_is_not_a_failure(tmp_path):
    suite = [*SUITE, (TINY, "predict", 20e-6)]
    base = make_run(tmp_path / "base.json", seed=1, suite=suite)
    new = make_run(tmp_path / "new.json", seed=2, suite=suite, factor={TINY: 2.0})
    result = gate.compare_runs(base, new)
    assert result.passed
    row = next(r for r in result.rows if r["fullname"] == TINY)
    assert row["ratio"] == pytest.approx(2.0, rel=0.1)
    assert row["p_value"] < gate.ALPHA  # significant, but only 20 us: not worth failing CI
    assert row["verdict"] == "same"
    assert not row["in_geomean"]  # timer jitter stays out of the suite-wide rule too
    # Without the min-effect rule the same data would fail: the rule is what holds.
    strict = gate.compare_runs(base, new, min_effect_s=0.0)
    assert strict.flagged == [TINY]


def test_new_and_missing_are_reported_never_failing(base, tmp_path):
    suite = [*SUITE[1:], (TINY, "predict", 0.05)]
    new = make_run(tmp_path / "new.json", seed=2, suite=suite)
    result = gate.compare_runs(base, new)
    assert result.passed
    assert verdicts(result)[NAMES[0]] == "missing"
    assert verdicts(result)[TINY] == "new"
    assert result.geomean_n == len(SUITE) - 1


def test_rerun_of_flagged_subset_is_comparable(base, tmp_path):
    # A confirming rerun holds only the flagged benchmarks and calibration.
    victim = NAMES[2]
    new = make_run(tmp_path / "new.json", seed=2, suite=[SUITE[2]], factor=3.0)
    result = gate.compare_runs(base, new)
    assert result.flagged == [victim]
    assert result.geomean_n == 1


# --------------------------------------------------------------------------- few rounds


def test_two_rounds_fall_back_to_min_ratio(tmp_path):
    base = make_run(tmp_path / "base.json", seed=1, rounds=2)
    new = make_run(tmp_path / "new.json", seed=2, rounds=2, factor={NAMES[0]: 1.5})
    result = gate.compare_runs(base, new)
    row = next(r for r in result.rows if r["fullname"] == NAMES[0])
    assert row["p_value"] is None  # no rank test with 2 rounds
    assert row["verdict"] == "slower"
    assert result.flagged == [NAMES[0]]
    assert "min" in gate.format_result(result)


def test_few_rounds_min_must_confirm_median(tmp_path):
    base = make_run(tmp_path / "base.json", seed=1, rounds=2)
    new = make_run(tmp_path / "new.json", seed=2, rounds=2, factor={NAMES[0]: 1.5})
    doc = json.loads(new.read_text())
    entry = next(e for e in doc["benchmarks"] if e["fullname"] == NAMES[0])
    entry["stats"]["data"] = [0.05, 0.2]  # median 2.5x, but the min did not move
    new.write_text(json.dumps(doc))
    row = next(r for r in gate.compare_runs(base, new).rows if r["fullname"] == NAMES[0])
    assert row["ratio"] > gate.THRESHOLD
    assert row["verdict"] == "same"


def test_three_vs_three_rounds_cannot_reach_alpha_so_uses_min(tmp_path):
    # The exact test's smallest one-sided p for 3 vs 3 is 1/20 = 0.05, never < 0.05.
    base = make_run(tmp_path / "base.json", seed=1, rounds=3)
    new = make_run(tmp_path / "new.json", seed=2, rounds=3, factor=2.0)
    result = gate.compare_runs(base, new)
    assert all(row["p_value"] is None for row in result.rows)
    assert set(verdicts(result).values()) == {"slower"}


def test_overlapping_rounds_are_not_significant(tmp_path, capsys):
    base = make_run(tmp_path / "base.json", seed=1, rounds=6)
    new = make_run(tmp_path / "new.json", seed=2, rounds=6, factor={NAMES[0]: 1.5})
    doc = json.loads(new.read_text())
    entry = next(e for e in doc["benchmarks"] if e["fullname"] == NAMES[0])
    # Median 1.6x but three rounds sit among the base rounds: could be a noisy neighbour.
    entry["stats"]["data"] = [0.049, 0.050, 0.051, 0.08, 0.08, 0.08, 0.08]
    new.write_text(json.dumps(doc))
    row = next(r for r in gate.compare_runs(base, new).rows if r["fullname"] == NAMES[0])
    assert row["ratio"] > gate.THRESHOLD
    assert row["p_value"] >= gate.ALPHA
    assert row["verdict"] == "same"
    # A laxer significance level through the command line lets the same data fail.
    assert gate.main([str(base), str(new), "--alpha", "0.3"]) == 1


# --------------------------------------------------------------------------- work counters


def _work_runs(tmp_path, new_versions=None, new_seed=0):
    base_extra = {name: {"n_grad_evals": 1000} for name in NAMES}
    new_extra = {name: {"n_grad_evals": 1000} for name in NAMES}
    new_extra[NAMES[2]] = {"n_grad_evals": 2550, "seed": new_seed}
    base = make_run(tmp_path / "base.json", seed=1, extra=base_extra)
    new = make_run(tmp_path / "new.json", seed=2, extra=new_extra, versions=new_versions)
    return base, new


def test_changed_work_same_seed_and_versions_is_work_changed(tmp_path):
    base, new = _work_runs(tmp_path)
    result = gate.compare_runs(base, new)
    row = next(r for r in result.rows if r["fullname"] == NAMES[2])
    assert row["work"] == "work changed"
    assert "1000 -> 2550" in row["work_note"]
    assert [r["fullname"] for r in result.rows if r["work"]] == [NAMES[2]]
    assert result.passed  # reported, not failing, by default
    assert "work changed: n_grad_evals 1000 -> 2550" in gate.format_result(result)


def test_fail_on_work_change(tmp_path):
    base, new = _work_runs(tmp_path)
    result = gate.compare_runs(base, new, fail_on_work_change=True)
    assert not result.passed
    assert result.flagged == [NAMES[2]]


def test_changed_work_different_torch_is_not_comparable(tmp_path):
    base, new = _work_runs(tmp_path, new_versions={**VERSIONS, "torch": "2.14.0"})
    result = gate.compare_runs(base, new, fail_on_work_change=True)
    row = next(r for r in result.rows if r["fullname"] == NAMES[2])
    assert row["work"] == "not comparable"
    assert "torch 2.13.0 vs 2.14.0" in row["work_note"]
    assert result.passed  # not attributable to the code, so never a failure
    assert any("torch differs" in note for note in result.notes)


def test_changed_work_different_seed_is_not_comparable(tmp_path):
    base, new = _work_runs(tmp_path, new_seed=1)
    row = next(r for r in gate.compare_runs(base, new).rows if r["fullname"] == NAMES[2])
    assert row["work"] == "not comparable"
    assert "seed 0 vs 1" in row["work_note"]


# --------------------------------------------------------------------------- bad input


def _bad_files(tmp_path):
    good = make_run(tmp_path / "good.json")
    doc = json.loads(good.read_text())
    no_calib = {**doc, "benchmarks": [e for e in doc["benchmarks"] if e["group"] != "calibration"]}
    bad_time = json.loads(json.dumps(doc))
    bad_time["benchmarks"][1]["stats"]["data"] = [0.1, -1.0]
    files = {
        "empty.json": ("", "file is empty"),
        "garbage.json": ("{not json", "not valid JSON"),
        "list.json": ("[1, 2]", "not pytest-benchmark output"),
        "other.json": (json.dumps({"results": []}), "not pytest-benchmark output"),
        "nobench.json": (json.dumps({**doc, "benchmarks": []}), "no benchmarks"),
        "nocalib.json": (json.dumps(no_calib), "no 'calibration' group entry"),
        "dupe.json": (
            json.dumps({**doc, "benchmarks": doc["benchmarks"] * 2}),
            "duplicate benchmark",
        ),
        "badtime.json": (json.dumps(bad_time), "positive round times"),
    }
    for name, (text, _) in files.items():
        (tmp_path / name).write_text(text)
    cases = {name: (tmp_path / name, problem) for name, (_, problem) in files.items()}
    cases["missing.json"] = (tmp_path / "missing.json", "no such file")
    return good, cases


BAD = [
    "empty.json",
    "garbage.json",
    "list.json",
    "other.json",
    "nobench.json",
    "nocalib.json",
    "dupe.json",
    "badtime.json",
    "missing.json",
]


@pytest.mark.parametrize("name", BAD)
def test_load_run_rejects_bad_input(tmp_path, name):
    _, cases = _bad_files(tmp_path)
    path, problem = cases[name]
    with pytest.raises(gate.GateInputError) as info:
        gate.load_run(path)
    assert isinstance(info.value, ValueError)
    assert str(info.value).startswith(f"{path}: ")
    assert problem in str(info.value)


@pytest.mark.parametrize("name", BAD)
@pytest.mark.parametrize("position", ["base", "new"])
def test_main_bad_input_exits_2_with_one_line(tmp_path, capsys, name, position):
    good, cases = _bad_files(tmp_path)
    bad, problem = cases[name]
    argv = [str(bad), str(good)] if position == "base" else [str(good), str(bad)]
    assert gate.main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith(f"bnncompare compare: error: {bad}: ")
    assert problem in captured.err
    assert "Traceback" not in captured.err


def test_zero_byte_file_message(tmp_path, capsys):
    good = make_run(tmp_path / "good.json")
    empty = tmp_path / "out.json"
    empty.write_bytes(b"")
    assert gate.main([str(good), str(empty)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"bnncompare compare: error: {empty}: file is empty (0 bytes)")
    assert err.count("\n") == 1


def test_missing_round_data_falls_back_to_median(tmp_path):
    path = make_run(tmp_path / "base.json")
    doc = json.loads(path.read_text())
    for entry in doc["benchmarks"]:
        del entry["stats"]["data"]
    path.write_text(json.dumps(doc))
    run = gate.load_run(path)
    # the gate keys benchmarks by identity (group:function{params}), not by node id
    medians = {benchjson.identity(e)[0]: [e["stats"]["median"]] for e in doc["benchmarks"]
               if e["group"] != "calibration"}
    assert {name: b.rounds.tolist() for name, b in run.benchmarks.items()} == medians
    assert gate.compare(run, run).passed
    # the same run against itself cannot fail: a doubled median must be judged slower
    doc["benchmarks"][1]["stats"]["median"] *= 2  # [0] is the calibration entry
    path.write_text(json.dumps(doc))
    assert gate.compare(run, gate.load_run(path)).flagged == [NAMES[0]]


def test_invalid_options_are_rejected(base):
    with pytest.raises(ValueError, match="threshold"):
        gate.compare_runs(base, base, threshold=0.9)
    with pytest.raises(ValueError, match="alpha"):
        gate.compare_runs(base, base, alpha=1.5)


# --------------------------------------------------------------------------- main end to end


def test_main_pass_prints_table(base, tmp_path, capsys):
    new = make_run(tmp_path / "new.json", seed=2, machine=2.0)
    assert gate.main([str(base), str(new)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["verdict", "ratio", "p", "base", "new", "benchmark"]
    assert all(name in out for name in NAMES)
    assert lines[-1].startswith("PASS: 0 slower")


def test_main_regression_writes_flagged(base, tmp_path, capsys):
    victim = NAMES[5]
    new = make_run(tmp_path / "new.json", seed=2, factor={victim: 3.0})
    flagged = tmp_path / "flagged.txt"
    assert gate.main([str(base), str(new), "--flagged-out", str(flagged)]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[-1].startswith("FAIL: 1 slower")
    assert f"flagged: {victim}" in out
    assert flagged.read_text() == f"{victim}\n{CALIB}\n"


def test_main_options_change_the_verdict(base, tmp_path, capsys):
    new = make_run(tmp_path / "new.json", seed=2, factor={NAMES[5]: 3.0})
    b, n = str(base), str(new)
    # 3^(1/8) = 1.147: one x3 benchmark also trips the default suite-wide rule.
    assert gate.main([b, n, "--geomean-threshold", "1.2"]) == 1
    assert gate.main([b, n, "--geomean-threshold", "1.2", "--threshold", "4"]) == 0
    assert gate.main([b, n, "--geomean-threshold", "1.2", "--min-effect-ms", "100"]) == 0
    flagged = tmp_path / "flagged.txt"
    assert gate.main([b, n, "--threshold", "4", "--flagged-out", str(flagged)]) == 1
    assert "geomean 1.1" in capsys.readouterr().out
    assert flagged.read_text() == ""  # only the geomean rule failed: rerun everything


def test_main_passing_run_writes_empty_flagged_file(base, tmp_path, capsys):
    flagged = tmp_path / "flagged.txt"
    flagged.write_text("stale\n")
    assert gate.main([str(base), str(base), "--flagged-out", str(flagged)]) == 0
    assert flagged.read_text() == ""


def test_main_fail_on_work_change_flag(tmp_path, capsys):
    base, new = _work_runs(tmp_path)
    assert gate.main([str(base), str(new)]) == 0
    assert gate.main([str(base), str(new), "--fail-on-work-change"]) == 1


def test_main_bad_option_exits_2(base, capsys):
    assert gate.main([str(base), str(base), "--threshold", "0.9"]) == 2
    assert "--threshold" in capsys.readouterr().err
    assert gate.main([str(base)]) == 2


def test_only_microsecond_benchmarks_have_no_geomean(tmp_path):
    suite = [(TINY, "predict", 20e-6)]
    base = make_run(tmp_path / "base.json", seed=1, suite=suite)
    new = make_run(tmp_path / "new.json", seed=2, suite=suite, factor=1.5)
    result = gate.compare_runs(base, new)
    assert result.passed and result.geomean_n == 0
    assert "geomean n/a" in gate.format_result(result)


# --------------------------------------------------------------------------- identity


def _cell(group, function, params, workload, median):
    """A new-layout entry: params carry only the cell's own work, the rest is workload."""
    ids = "-".join(str(v) for v in params.values())
    return {"fullname": f"benchmarks/test_{group}.py::{function}[{ids}]", "group": group,
            "params": params, "median": median, "workload": workload}


def _layout(nuts_draws=50):
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


def write_layout(path, cells, *, seed=0, factor=None, machine=1.0, gemm=1.0, profile="smoke",
                 cpu="AMD EPYC", kinds=("dispatch", "gemm")):
    """Write a new-layout run. ``machine`` scales dispatch-bound work and the dispatch
    calibration, ``gemm`` the predict cells and the gemm calibration (a machine whose BLAS
    differs); ``factor`` is {fullname: slowdown} of the code."""
    rng = np.random.default_rng(seed)
    entries = []
    for kind in kinds:
        scale = gemm if kind == "gemm" else machine
        for position in ("start", "middle", "end"):
            e = _entry(f"{CALIB}[calibration-none-{kind}-{position}]", "calibration",
                       CALIB_S * scale, rng, 7, {"workload": {"calibration": kind}})
            e["params"] = {"method": "calibration", "dataset": "none", "kind": kind,
                           "position": position}
            entries.append(e)
    for c in cells:
        scale = gemm if c["group"] == "predict" else machine
        median = c["median"] * scale * (factor or {}).get(c["fullname"], 1.0)
        extra = {"workload": c["workload"], "profile": profile}
        if c["group"] == "predict":  # a benchmark opts into the gemm calibration by name
            extra["calibration_kind"] = "gemm"
        e = _entry(c["fullname"], c["group"], median, rng, 5, extra)
        e["params"] = c["params"]
        entries.append(e)
    doc = {"machine_info": {"node": "ci", "profile": profile, "cpu": {"brand_raw": cpu},
                            **VERSIONS},
           "commit_info": {}, "benchmarks": entries}
    path.write_text(json.dumps(doc))
    return path


def test_two_runs_of_one_profile_match_every_benchmark_by_workload(tmp_path):
    cells = _layout()
    a = write_layout(tmp_path / "a.json", cells, seed=1)
    b = write_layout(tmp_path / "b.json", cells, seed=2)
    result = gate.compare_runs(a, b)
    assert len(result.rows) == len(cells)
    assert {r["verdict"] for r in result.rows} == {"same"}
    assert not any("params only" in note for note in result.notes)


def test_a_nuts_setting_no_longer_renames_nn_benchmarks(tmp_path, capsys):
    a = write_layout(tmp_path / "a.json", _layout(nuts_draws=50), seed=1)
    b = write_layout(tmp_path / "b.json", _layout(nuts_draws=100), seed=2)
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
    cells = _layout()
    moved = [{**c, "fullname": c["fullname"].replace("benchmarks/", "bench/")} for c in cells]
    a = write_layout(tmp_path / "a.json", cells, seed=1)
    b = write_layout(tmp_path / "b.json", moved, seed=2)
    assert {r["verdict"] for r in gate.compare_runs(a, b).rows} == {"same"}


def test_runs_of_different_profiles_exit_2(tmp_path, capsys):
    a = write_layout(tmp_path / "a.json", _layout(), profile="smoke")
    b = write_layout(tmp_path / "b.json", _layout(), profile="fast")
    assert gate.main([str(a), str(b)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "different profiles" in err
    assert f"{a} is 'smoke'" in err and f"{b} is 'fast'" in err


def test_old_files_without_workload_match_by_params_and_say_so(base, tmp_path):
    result = gate.compare_runs(base, make_run(tmp_path / "new.json", seed=2))
    assert {r["verdict"] for r in result.rows} == {"same"}
    assert "BASE and NEW recorded no workload: benchmarks matched by params only" in (
        result.notes)


def test_require_shared_workload_refuses_a_base_of_another_layout(base, tmp_path):
    new = write_layout(tmp_path / "new.json", _layout())
    with pytest.raises(gate.GateInputError, match="share no benchmark workload"):
        gate.compare_runs(base, new, require_shared_workload=True)
    # workloads on one side only: refused even without the option (params would match
    # different work), in both directions
    with pytest.raises(gate.GateInputError, match=r"base\.json records none"):
        gate.compare_runs(base, new)
    with pytest.raises(gate.GateInputError, match=r"base\.json records none"):
        gate.compare_runs(new, base)
    same = write_layout(tmp_path / "same.json", _layout(), seed=3)
    assert gate.compare_runs(same, new, require_shared_workload=True).passed
    # Two runs that both predate workloads still match by params, as they always did.
    old = make_run(tmp_path / "old.json", seed=2)
    assert gate.compare_runs(base, old, require_shared_workload=True).passed
    # Nothing in common at all: refused.
    other = write_layout(tmp_path / "other.json",
                         [{**c, "params": {**c["params"], "hidden": "8"}} for c in _layout()])
    with pytest.raises(gate.GateInputError, match=r"share no benchmark workload$"):
        gate.compare_runs(other, new, require_shared_workload=True)


# --------------------------------------------------------------------------- normalisation


def test_each_benchmark_is_normalised_by_its_kind(tmp_path):
    # Another machine: dispatch-bound work as fast, BLAS 2.5x slower (predict cells and the
    # gemm calibration alike). Per-kind calibration sees no regression ...
    cells = _layout()
    a = write_layout(tmp_path / "a.json", cells, seed=1)
    b = write_layout(tmp_path / "b.json", cells, seed=2, gemm=2.5)
    result = gate.compare_runs(a, b)
    assert result.passed
    predict = next(r for r in result.rows if r["group"] == "predict")
    assert predict["ratio"] == pytest.approx(1.0, abs=0.1)
    # ... while dispatch-only calibration (runs without a gemm kind) calls it 2.5x slower.
    a1 = write_layout(tmp_path / "a1.json", cells, seed=1, kinds=("dispatch",))
    b1 = write_layout(tmp_path / "b1.json", cells, seed=2, gemm=2.5, kinds=("dispatch",))
    predict = next(r for r in gate.compare_runs(a1, b1).rows if r["group"] == "predict")
    assert predict["ratio"] == pytest.approx(2.5, rel=0.1) and predict["verdict"] == "slower"


def test_a_kind_one_side_lacks_falls_back_to_dispatch_on_both(tmp_path):
    # Old base (dispatch only) vs new head (both kinds): predict must not be divided by gemm on
    # one side and by dispatch on the other.
    cells = _layout()
    a = write_layout(tmp_path / "a.json", cells, seed=1, kinds=("dispatch",))
    b = write_layout(tmp_path / "b.json", cells, seed=2, gemm=3.0, machine=1.0)
    predict = next(r for r in gate.compare_runs(a, b).rows if r["group"] == "predict")
    assert predict["ratio"] == pytest.approx(3.0, rel=0.1)


def test_runs_of_one_side_are_normalised_each_then_pooled(tmp_path):
    # The second base run came from a 2x slower moment of the machine: after normalising each
    # run by its own calibration, pooling the rounds changes nothing.
    cells = _layout()
    b1 = write_layout(tmp_path / "b1.json", cells, seed=1)
    b2 = write_layout(tmp_path / "b2.json", cells, seed=2, machine=2.0, gemm=2.0)
    h1 = write_layout(tmp_path / "h1.json", cells, seed=3)
    h2 = write_layout(tmp_path / "h2.json", cells, seed=4)
    result = gate.compare_runs([b1, b2], [h1, h2])
    assert result.passed and {r["verdict"] for r in result.rows} == {"same"}
    assert result.geomean == pytest.approx(1.0, abs=0.05)
    victim = cells[2]["fullname"]
    h3 = write_layout(tmp_path / "h3.json", cells, seed=5, factor={victim: 1.6})
    h4 = write_layout(tmp_path / "h4.json", cells, seed=6, factor={victim: 1.6})
    argv = [str(b1), str(h3), "--also-base", str(b2), "--also-new", str(h4)]
    assert gate.main(argv) == 1
    slow = gate.compare_runs([b1, b2], [h3, h4])
    assert slow.flagged == [victim]


# --------------------------------------------------------------------------- paired runs


def _pairs(tmp_path, factors, cells=None):
    """Write one BASE and one NEW run per pair; ``factors[i]`` scales pair i's NEW run
    (a float for every cell, or {fullname: float})."""
    cells = cells or _layout()
    bases, news = [], []
    for i, factor in enumerate(factors):
        factor = factor if isinstance(factor, dict) else {c["fullname"]: factor for c in cells}
        bases.append(write_layout(tmp_path / f"b{i}.json", cells, seed=10 + i))
        news.append(write_layout(tmp_path / f"n{i}.json", cells, seed=20 + i, factor=factor))
    return bases, news


def test_paired_a_benchmark_is_slower_only_when_every_pair_says_so(tmp_path):
    # Pooled rounds would call the victim slower (median ratio ~1.8 over the pooled rounds of
    # two 2.5x and one 1.0x pair); the pairs disagree, so paired judging says "same".
    victim = _layout()[2]["fullname"]
    bases, news = _pairs(tmp_path, [{victim: 2.5}, {victim: 2.5}, {victim: 1.0}])
    assert gate.compare_runs(bases, news).flagged == [victim]
    paired = gate.compare_runs(bases, news, paired=True)
    assert paired.passed and verdicts(paired)[victim] == "same"
    row = next(r for r in paired.rows if r["fullname"] == victim)
    assert row["pair_ratios"] == pytest.approx([2.5, 2.5, 1.0], rel=0.1)
    bases, news = _pairs(tmp_path, [{victim: 1.8}, {victim: 1.7}, {victim: 1.6}])
    assert gate.compare_runs(bases, news, paired=True).flagged == [victim]


def test_paired_geomean_fails_only_when_every_pair_exceeds_it(tmp_path):
    # one pair whose NEW run hit a uniformly slow moment (x1.3 everywhere) is noise...
    bases, news = _pairs(tmp_path, [1.3, 1.0])
    noisy = gate.compare_runs(bases, news, paired=True)
    assert noisy.passed and not noisy.flagged
    assert noisy.pair_geomeans == pytest.approx([1.3, 1.0], rel=0.03)
    # ...a change that slows every pair is a regression, even under the per-benchmark limit
    bases, news = _pairs(tmp_path, [1.3, 1.25])
    slow = gate.compare_runs(bases, news, paired=True)
    assert not slow.passed and slow.geomean_failed and not slow.flagged
    summary = gate.format_result(slow).splitlines()[-1]
    assert re.search(r"per pair 1\.\d{3}, 1\.\d{3}: all > 1\.15", summary), summary


def test_paired_compares_raw_times_within_each_pair(tmp_path):
    # Pair 2's NEW run read its calibration 2x slower (a slow moment seconds away from the
    # benchmarks) while its benchmarks ran as fast as BASE's: dividing by that calibration
    # would call pair 2 2x *faster*; the pairs ran side by side, so their raw times are the
    # comparison, and every pair ratio is ~1.
    cells = _layout()
    bases = [write_layout(tmp_path / f"b{i}.json", cells, seed=10 + i) for i in range(2)]
    news = [write_layout(tmp_path / "n0.json", cells, seed=20),
            write_layout(tmp_path / "n1.json", cells, seed=21, machine=2.0, gemm=2.0,
                         factor={c["fullname"]: 0.5 for c in cells})]
    result = gate.compare_runs(bases, news, paired=True)
    assert result.pair_geomeans == pytest.approx([1.0, 1.0], abs=0.03)
    assert result.geomean == pytest.approx(1.0, abs=0.03)


def test_paired_needs_as_many_base_as_new_runs(tmp_path, capsys):
    bases, news = _pairs(tmp_path, [1.0, 1.0])
    argv = [str(bases[0]), str(news[0]), "--also-base", str(bases[1]), "--paired"]
    assert gate.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "paired needs as many BASE runs as NEW runs, got 2 and 1" in err[0]
    argv += ["--also-new", str(news[1])]
    assert gate.main(argv) == 0


# --------------------------------------------------------------------------- CPU models

AMD = Path(__file__).parent / "fixtures" / "smoke-amd-epyc.json"


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


# --------------------------------------------------------------------------- .ci/gate

GATE_SCRIPT = Path(__file__).parents[1] / ".ci" / "gate"
FAKE_PYTHON = """#!/usr/bin/env bash
# Stands in for the CI venv's python: "-m pytest" copies the tree's run.json to the
# --benchmark-json path (so BASE and HEAD "measure" what each commit holds); anything else
# runs the real interpreter on this checkout's bnncompare.
if [ "$1 $2" = "-m pytest" ]; then
    [ -n "${GATE_ORDER_LOG:-}" ] && echo "${PWD##*/}" >> "$GATE_ORDER_LOG"
    args=("$@")
    for ((i = 0; i < ${#args[@]}; i++)); do
        [ "${args[i]}" = --benchmark-json ] && out=${args[i + 1]}
    done
    cp run.json "$out"
    exit
fi
PYTHONPATH=%(root)s exec %(python)s "$@"
"""


def _git(repo, *args):
    import subprocess

    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t",
                           *args], check=True, capture_output=True, text=True).stdout.strip()


def _gate_repo(tmp_path, base_run, head_run, baseline_cpu="AMD EPYC"):
    """A repository whose previous commit (BASE) and HEAD hold the given runs; the committed
    baseline records BASE's commit, as a re-recorded baseline does."""
    import shutil
    import sys

    repo = tmp_path / "repo"
    (repo / ".ci").mkdir(parents=True)
    (repo / "benchmarks").mkdir()
    (repo / "results" / "baseline").mkdir(parents=True)
    shutil.copy(GATE_SCRIPT, repo / ".ci" / "gate")
    (repo / "benchmarks" / "conftest.py").write_text("")
    shutil.copy(base_run, repo / "run.json")
    _git(tmp_path, "init", "-q", str(repo))
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "base")
    base_sha = _git(repo, "rev-parse", "HEAD")
    doc = json.loads(Path(base_run).read_text())
    doc["commit_info"] = {"id": base_sha}
    doc["machine_info"]["cpu"]["brand_raw"] = baseline_cpu
    (repo / "results" / "baseline" / "smoke.json").write_text(json.dumps(doc))
    shutil.copy(head_run, repo / "run.json")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "head")
    fake = tmp_path / "python"
    fake.write_text(FAKE_PYTHON % {"root": Path(__file__).parents[1], "python": sys.executable})
    fake.chmod(0o755)
    return repo, fake, base_sha


def _run_gate(repo, fake, order_log=None):
    import os
    import subprocess

    env = {**os.environ, "GATE_PYTHON": str(fake)}
    if order_log:
        env["GATE_ORDER_LOG"] = str(order_log)
    env.pop("GATE_BASE", None)
    proc = subprocess.run(["bash", str(repo / ".ci" / "gate")], env=env, capture_output=True,
                          text=True, timeout=600)
    return proc.returncode, proc.stdout + proc.stderr


def test_ci_gate_measures_the_recorded_base_against_head(tmp_path):
    cells = _layout()
    base = write_layout(tmp_path / "b.json", cells, seed=1)
    slow = write_layout(tmp_path / "s.json", cells, seed=2, factor={c["fullname"]: 2.0
                                                                   for c in cells})
    repo, fake, base_sha = _gate_repo(tmp_path, base, slow)
    order = tmp_path / "order.txt"
    rc, out = _run_gate(repo, fake, order)
    assert f"gate: BASE {base_sha[:7]}" in out  # the baseline's recorded commit, not HEAD~0
    assert rc == 1, out
    assert "confirming with one more pair" in out
    # pairs alternate their order (BASE runs in the worktree "base", HEAD in "repo"), so a
    # run that is systematically slower for running second cannot favour one side
    assert order.read_text().split() == ["base", "repo", "repo", "base", "base", "repo"]
    assert "FAIL" in out.splitlines()[-2]
    assert _git(repo, "worktree", "list").count("\n") == 0  # the BASE worktree is removed


def test_ci_gate_passes_unchanged_code(tmp_path):
    cells = _layout()
    base = write_layout(tmp_path / "b.json", cells, seed=1)
    same = write_layout(tmp_path / "h.json", cells, seed=2)
    repo, fake, _ = _gate_repo(tmp_path, base, same)
    rc, out = _run_gate(repo, fake)
    assert rc == 0, out
    assert "PASS" in out and "falling back" not in out


def test_ci_gate_new_layout_falls_back_and_another_cpu_is_not_gated(tmp_path):
    # BASE predates workloads (the transition of this round) and the baseline came from
    # another CPU model: no comparison is possible, and the gate must say so and pass.
    old = make_run(tmp_path / "old.json", seed=1)
    doc = json.loads(old.read_text())
    doc["machine_info"]["cpu"] = {"brand_raw": "AMD EPYC"}
    old.write_text(json.dumps(doc))
    head = write_layout(tmp_path / "h.json", _layout(), seed=2,
                        factor={c["fullname"]: 3.0 for c in _layout()})
    repo, fake, _ = _gate_repo(tmp_path, old, head, baseline_cpu="Intel(R) Xeon(R) Processor")
    rc, out = _run_gate(repo, fake)
    assert rc == 0, out
    assert "BASE and HEAD are not comparable; falling back" in out
    assert "no comparable baseline: BASE was recorded on Intel(R) Xeon(R) Processor" in out
