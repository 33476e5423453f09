"""Known answers of the pooled verdict rule (bnncompare.gate.pooled): per-benchmark and
suite-wide verdicts, the few-rounds fallback, and normalisation by each run's calibration.

These test the rule's arithmetic, so every compared run is measured in the base run's moment
(``moment=BASE_MOMENT``, see gate_runs): the runs differ by round noise and by the change the
test makes, not by the run-level noise of another moment. How the rule fares across moments
is test_gate_noise.py's subject.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from gate_runs import (
    BASE_MOMENT,
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

# The per-benchmark threshold these known answers were planted around (the default is
# .ci/gate's paired 2.0; the pooled rule's arithmetic is the same at any threshold).
AT = 1.5

# --------------------------------------------------------------------------- verdicts


def test_same_file_passes_all_same(base):
    result = gate.compare_runs(base, base)
    assert result.passed
    assert set(verdicts(result).values()) == {"same"}
    assert result.geomean == pytest.approx(1.0)
    assert result.flagged == []
    assert CALIB not in verdicts(result)  # the calibration entry itself is not judged


def test_round_noise_alone_passes(base, tmp_path):
    new = make_run(tmp_path / "new.json", seed=2, moment=BASE_MOMENT)
    result = gate.compare_runs(base, new)
    assert result.passed
    assert set(verdicts(result).values()) == {"same"}
    assert abs(result.geomean - 1) < 0.03
    # the rounds did differ (another seed): the rule saw noise, and called it nothing
    assert new.read_text() != base.read_text()


def test_everything_slower_same_machine_fails(base, tmp_path):
    # 1.5x everywhere sits at the per-benchmark threshold: the suite rule catches it
    new = make_run(tmp_path / "new.json", seed=2, moment=BASE_MOMENT, factor=1.5)
    result = gate.compare_runs(base, new)
    assert not result.passed and result.geomean_failed
    assert result.geomean == pytest.approx(1.5, rel=0.05)


def test_everything_twice_as_slow_flags_every_benchmark(base, tmp_path):
    new = make_run(tmp_path / "new.json", seed=2, moment=BASE_MOMENT, factor=2.0)
    result = gate.compare_runs(base, new, threshold=AT)
    assert not result.passed
    assert set(verdicts(result).values()) == {"slower"}
    assert sorted(result.flagged) == sorted(NAMES)
    assert all(row["p_value"] < gate.ALPHA for row in result.rows)


def test_slower_machine_is_not_a_regression(base, tmp_path):
    new = make_run(tmp_path / "new.json", seed=2, moment=BASE_MOMENT, machine=2.0)
    result = gate.compare_runs(base, new)
    assert result.passed
    assert set(verdicts(result).values()) == {"same"}
    assert result.geomean == pytest.approx(1.0, abs=0.05)


def test_faster_machine_hides_no_regression(base, tmp_path):
    # Machine twice as fast, code 1.5x slower: raw times look faster, normalised are slower.
    new = make_run(tmp_path / "new.json", seed=2, moment=BASE_MOMENT, machine=0.5, factor=1.5)
    result = gate.compare_runs(base, new)
    assert not result.passed and result.geomean_failed
    assert result.geomean == pytest.approx(1.5, rel=0.05)


def test_everything_faster_passes(base, tmp_path):
    new = make_run(tmp_path / "new.json", seed=2, moment=BASE_MOMENT, factor=0.5)
    result = gate.compare_runs(base, new, threshold=AT)
    assert result.passed
    assert set(verdicts(result).values()) == {"faster"}


def test_one_benchmark_three_times_slower_is_named(base, tmp_path):
    victim = NAMES[1]
    new = make_run(tmp_path / "new.json", seed=2, moment=BASE_MOMENT, factor={victim: 3.0})
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


# These runs share the base run's round noise too (same seed and moment), so the geometric
# mean is exactly the factor applied: the rule's arithmetic, without any noise at all.


def test_small_spread_slowdown_under_geomean_threshold_passes(base, tmp_path):
    new = make_run(tmp_path / "new.json", seed=BASE_MOMENT, factor=1.08)
    result = gate.compare_runs(base, new)
    assert set(verdicts(result).values()) == {"same"}  # each one is within the threshold
    assert result.geomean == pytest.approx(1.08)
    assert not result.geomean_failed
    assert result.passed


def test_small_spread_slowdown_over_geomean_threshold_fails(base, tmp_path):
    new = make_run(tmp_path / "new.json", seed=BASE_MOMENT, factor=1.25)
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
    new = make_run(tmp_path / "new.json", seed=BASE_MOMENT, factor=1.18)
    assert not gate.compare_runs(base, new).passed  # 1.18 > the default 1.15 ...
    assert gate.compare_runs(base, new, geomean_threshold=1.2).passed  # ... but not > 1.2


def test_microsecond_benchmark_doubling_is_not_a_failure(tmp_path):
    suite = [*SUITE, (TINY, "predict", 20e-6)]
    base = make_run(tmp_path / "base.json", seed=BASE_MOMENT, suite=suite)
    new = make_run(tmp_path / "new.json", seed=2, moment=BASE_MOMENT, suite=suite,
                   factor={TINY: 2.0})
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
    new = make_run(tmp_path / "new.json", seed=2, moment=BASE_MOMENT, suite=suite,
                   factor={TINY: 5.0})  # a new benchmark has nothing to be slower than
    result = gate.compare_runs(base, new)
    assert result.passed
    assert verdicts(result)[NAMES[0]] == "missing"
    assert verdicts(result)[TINY] == "new"
    assert result.geomean_n == len(SUITE) - 1


def test_rerun_of_flagged_subset_is_comparable(base, tmp_path):
    # A confirming rerun holds only the flagged benchmarks and calibration.
    victim = NAMES[2]
    new = make_run(tmp_path / "new.json", seed=2, moment=BASE_MOMENT, suite=[SUITE[2]],
                   factor=3.0)
    result = gate.compare_runs(base, new)
    assert result.flagged == [victim]
    assert result.geomean_n == 1


# --------------------------------------------------------------------------- few rounds


def _runs(tmp_path, rounds, factor):
    """A base run and a run in its moment with ``rounds`` rounds per benchmark."""
    base = make_run(tmp_path / "base.json", seed=BASE_MOMENT, rounds=rounds)
    new = make_run(tmp_path / "new.json", seed=2, moment=BASE_MOMENT, rounds=rounds,
                   factor=factor)
    return base, new


def _set_rounds(path, fullname, data):
    """Replace one benchmark's round times in a written run."""
    doc = json.loads(path.read_text())
    entry = next(e for e in doc["benchmarks"] if e["fullname"] == fullname)
    entry["stats"].update(data=data, median=float(np.median(data)))
    path.write_text(json.dumps(doc))


def _rounds_of(path, fullname):
    doc = json.loads(path.read_text())
    return next(e for e in doc["benchmarks"] if e["fullname"] == fullname)["stats"]["data"]


def test_two_rounds_fall_back_to_min_ratio(tmp_path):
    base, new = _runs(tmp_path, 2, {NAMES[0]: 1.8})
    result = gate.compare_runs(base, new, threshold=AT)
    row = next(r for r in result.rows if r["fullname"] == NAMES[0])
    assert row["p_value"] is None  # no rank test with 2 rounds
    assert row["min_ratio"] > AT
    assert row["verdict"] == "slower"
    assert result.flagged == [NAMES[0]]
    assert "min" in gate.format_result(result)


def test_few_rounds_min_must_confirm_median(tmp_path):
    base, new = _runs(tmp_path, 2, 1.0)
    b = min(_rounds_of(base, NAMES[0]))
    _set_rounds(new, NAMES[0], [b, 4 * b])  # median 2.5x, but the min did not move
    row = next(r for r in gate.compare_runs(base, new).rows if r["fullname"] == NAMES[0])
    assert row["ratio"] > gate.THRESHOLD
    assert row["min_ratio"] < gate.THRESHOLD
    assert row["verdict"] == "same"


def test_three_vs_three_rounds_cannot_reach_alpha_so_uses_min(tmp_path):
    # The exact test's smallest one-sided p for 3 vs 3 is 1/20 = 0.05, never < 0.05.
    base, new = _runs(tmp_path, 3, 2.0)
    result = gate.compare_runs(base, new, threshold=AT)
    assert all(row["p_value"] is None for row in result.rows)
    assert set(verdicts(result).values()) == {"slower"}


def test_overlapping_rounds_are_not_significant(tmp_path, capsys):
    base, new = _runs(tmp_path, 6, 1.0)
    rounds = _rounds_of(base, NAMES[0])
    # Median 1.6x, but three rounds are as fast as the base's fastest: a noisy neighbour may
    # have slowed the other four. 5 % below the fastest and 1.6x above the median, the ranks
    # (hence p = 0.33) cannot depend on the noise of the rounds or of the calibration.
    fast, slow = 0.95 * min(rounds), 1.6 * float(np.median(rounds))
    _set_rounds(new, NAMES[0], [fast] * 3 + [slow] * 4)
    rows = gate.compare_runs(base, new, threshold=AT).rows
    row = next(r for r in rows if r["fullname"] == NAMES[0])
    assert row["ratio"] > AT
    assert row["p_value"] >= gate.ALPHA
    assert row["verdict"] == "same"
    # A laxer significance level through the command line lets the same data fail.
    assert gate.main([str(base), str(new), "--threshold", "1.5"]) == 0
    assert gate.main([str(base), str(new), "--threshold", "1.5", "--alpha", "0.4"]) == 1


# --------------------------------------------------------------------------- normalisation


def test_each_benchmark_is_normalised_by_its_kind(tmp_path):
    # Another machine: dispatch-bound work as fast, BLAS 2.5x slower (predict cells and the
    # gemm calibration alike). Per-kind calibration sees no regression ...
    cells = layout()
    a = write_layout(tmp_path / "a.json", cells, seed=BASE_MOMENT)
    b = write_layout(tmp_path / "b.json", cells, seed=2, moment=BASE_MOMENT, gemm=2.5)
    result = gate.compare_runs(a, b)
    assert result.passed
    predict = next(r for r in result.rows if r["group"] == "predict")
    assert predict["ratio"] == pytest.approx(1.0, abs=0.1)
    # ... while dispatch-only calibration (runs without a gemm kind) calls it 2.5x slower.
    a1 = write_layout(tmp_path / "a1.json", cells, seed=BASE_MOMENT, kinds=("dispatch",))
    b1 = write_layout(tmp_path / "b1.json", cells, seed=2, moment=BASE_MOMENT, gemm=2.5,
                      kinds=("dispatch",))
    predict = next(r for r in gate.compare_runs(a1, b1).rows if r["group"] == "predict")
    assert predict["ratio"] == pytest.approx(2.5, rel=0.1) and predict["verdict"] == "slower"


def test_a_kind_one_side_lacks_falls_back_to_dispatch_on_both(tmp_path):
    # Old base (dispatch only) vs new head (both kinds): predict must not be divided by gemm on
    # one side and by dispatch on the other.
    cells = layout()
    a = write_layout(tmp_path / "a.json", cells, seed=BASE_MOMENT, kinds=("dispatch",))
    b = write_layout(tmp_path / "b.json", cells, seed=2, moment=BASE_MOMENT, gemm=3.0)
    predict = next(r for r in gate.compare_runs(a, b).rows if r["group"] == "predict")
    assert predict["ratio"] == pytest.approx(3.0, rel=0.1)


def test_runs_of_one_side_are_normalised_each_then_pooled(tmp_path):
    # The second base run ran on a machine uniformly 2x slower (calibration included): after
    # normalising each run by its own calibration, pooling the rounds changes nothing.
    cells = layout()

    def run(name, seed, **kw):
        return write_layout(tmp_path / name, cells, seed=seed, moment=BASE_MOMENT, **kw)

    b1, b2 = run("b1.json", 1), run("b2.json", 2, machine=2.0, gemm=2.0)
    h1, h2 = run("h1.json", 3), run("h2.json", 4)
    result = gate.compare_runs([b1, b2], [h1, h2])
    assert result.passed and {r["verdict"] for r in result.rows} == {"same"}
    assert result.geomean == pytest.approx(1.0, abs=0.03)
    # Unnormalised, pooling b2's rounds would make the base look slower: half its rounds 2x.
    raw = gate.compare_runs([b1, b2], [h1, h2], paired=True)
    assert raw.pair_geomeans[1] == pytest.approx(0.5, rel=0.05)
    victim = cells[2]["fullname"]
    h3, h4 = run("h3.json", 5, factor={victim: 1.6}), run("h4.json", 6, factor={victim: 1.6})
    argv = [str(b1), str(h3), "--also-base", str(b2), "--also-new", str(h4), "--threshold", "1.5"]
    assert gate.main(argv) == 1
    slow = gate.compare_runs([b1, b2], [h3, h4], threshold=AT)
    assert slow.flagged == [victim]
