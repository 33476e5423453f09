"""``bnncompare compare`` end to end (bnncompare.gate.cli): table, exit status, options and
the flagged-benchmarks file. The runs compared share the base run's moment (see gate_runs), so
each verdict is the change the test made."""

from __future__ import annotations

from gate_runs import (
    BASE_MOMENT,
    CALIB,
    NAMES,
    TINY,
    make_run,
    work_runs,
)

from bnncompare import gate

# --------------------------------------------------------------------------- main end to end


def test_main_pass_prints_table(base, tmp_path, capsys):
    new = make_run(tmp_path / "new.json", seed=2, moment=BASE_MOMENT, machine=2.0)
    assert gate.main([str(base), str(new)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["verdict", "ratio", "p", "base", "new", "benchmark"]
    assert all(name in out for name in NAMES)
    assert lines[-1].startswith("PASS: 0 slower")


def test_main_regression_writes_flagged(base, tmp_path, capsys):
    victim = NAMES[5]
    new = make_run(tmp_path / "new.json", seed=2, moment=BASE_MOMENT, factor={victim: 3.0})
    flagged = tmp_path / "flagged.txt"
    assert gate.main([str(base), str(new), "--flagged-out", str(flagged)]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[-1].startswith("FAIL: 1 slower")
    assert f"flagged: {victim}" in out
    assert flagged.read_text() == f"{victim}\n{CALIB}\n"


def test_main_options_change_the_verdict(base, tmp_path, capsys):
    new = make_run(tmp_path / "new.json", seed=2, moment=BASE_MOMENT, factor={NAMES[5]: 3.5})
    b, n = str(base), str(new)
    # 3.5^(1/8) = 1.169: one x3.5 benchmark also trips the default suite-wide rule (1.15),
    # not a laxer one (1.2); its change, 2.5x its base median, is below 3x that median.
    before = next(x for x in gate.load_run(base).benchmarks.values() if x.fullname == NAMES[5])
    above_change = f"{3 * before.median * 1000:.3f}"
    assert gate.main([b, n, "--geomean-threshold", "1.2"]) == 1
    assert gate.main([b, n, "--geomean-threshold", "1.2", "--threshold", "4"]) == 0
    assert gate.main([b, n, "--geomean-threshold", "1.2", "--min-effect-ms", above_change]) == 0
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
    base, new = work_runs(tmp_path)
    assert gate.main([str(base), str(new)]) == 0
    assert gate.main([str(base), str(new), "--fail-on-work-change"]) == 1


def test_main_bad_option_exits_2(base, capsys):
    assert gate.main([str(base), str(base), "--threshold", "0.9"]) == 2
    assert "--threshold" in capsys.readouterr().err
    assert gate.main([str(base)]) == 2


def test_only_microsecond_benchmarks_have_no_geomean(tmp_path):
    suite = [(TINY, "predict", 20e-6)]
    base = make_run(tmp_path / "base.json", seed=BASE_MOMENT, suite=suite)
    new = make_run(tmp_path / "new.json", seed=2, moment=BASE_MOMENT, suite=suite, factor=2.0)
    result = gate.compare_runs(base, new)
    assert result.passed and result.geomean_n == 0
    assert "geomean n/a" in gate.format_result(result)
    # the 20 us doubling is real: only the min effect keeps it from failing
    assert not gate.compare_runs(base, new, min_effect_s=0.0).passed
