"""Known answers of the pooled verdict rule (bnncompare.gate.pooled): per-benchmark and
suite-wide verdicts, the few-rounds fallback, and normalisation by each run's calibration."""

from __future__ import annotations

import json

import pytest
from gate_runs import (
    CALIB,
    NAMES,
    SUITE,
    TINY,
    layout,
    make_run,
    verdicts,
    write_layout,
)

from bnncompare import gate

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



# --------------------------------------------------------------------------- normalisation


def test_each_benchmark_is_normalised_by_its_kind(tmp_path):
    # Another machine: dispatch-bound work as fast, BLAS 2.5x slower (predict cells and the
    # gemm calibration alike). Per-kind calibration sees no regression ...
    cells = layout()
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
    cells = layout()
    a = write_layout(tmp_path / "a.json", cells, seed=1, kinds=("dispatch",))
    b = write_layout(tmp_path / "b.json", cells, seed=2, gemm=3.0, machine=1.0)
    predict = next(r for r in gate.compare_runs(a, b).rows if r["group"] == "predict")
    assert predict["ratio"] == pytest.approx(3.0, rel=0.1)


def test_runs_of_one_side_are_normalised_each_then_pooled(tmp_path):
    # The second base run came from a 2x slower moment of the machine: after normalising each
    # run by its own calibration, pooling the rounds changes nothing.
    cells = layout()
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
