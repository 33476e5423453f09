"""Known answers of the paired verdict rule (bnncompare.gate.paired): BASE and NEW runs
judged pair by pair on raw times.

These test the rule's arithmetic: a pair's two runs are measured in one moment of the machine
(one ``moment`` per pair, see gate_runs), different pairs in different moments. How the rule
fares when a pair's runs are two moments is test_gate_noise.py's subject.
"""

from __future__ import annotations

import re

import pytest
from gate_runs import (
    layout,
    verdicts,
    write_layout,
)

from bnncompare import gate

# --------------------------------------------------------------------------- paired runs


def _pairs(tmp_path, factors, cells=None):
    """Write one BASE and one NEW run per pair, pair i in moment 10 + i; ``factors[i]``
    scales pair i's NEW run (a float for every cell, or {fullname: float})."""
    cells = cells or layout()
    bases, news = [], []
    for i, factor in enumerate(factors):
        factor = factor if isinstance(factor, dict) else {c["fullname"]: factor for c in cells}
        bases.append(write_layout(tmp_path / f"b{i}.json", cells, seed=10 + i))
        news.append(write_layout(tmp_path / f"n{i}.json", cells, seed=20 + i, moment=10 + i,
                                 factor=factor))
    return bases, news


def test_paired_a_benchmark_is_slower_only_when_every_pair_says_so(tmp_path):
    # Pooled rounds at 1.5 would call the victim slower (median ratio ~1.8 over the pooled
    # rounds of two 2.5x and one 1.0x pair); the pairs disagree, so paired judging says "same".
    victim = layout()[2]["fullname"]
    bases, news = _pairs(tmp_path, [{victim: 2.5}, {victim: 2.5}, {victim: 1.0}])
    assert gate.compare_runs(bases, news, threshold=1.5).flagged == [victim]
    paired = gate.compare_runs(bases, news, paired=True)
    assert paired.passed and verdicts(paired)[victim] == "same"
    row = next(r for r in paired.rows if r["fullname"] == victim)
    assert row["pair_ratios"] == pytest.approx([2.5, 2.5, 1.0], rel=0.1)
    bases, news = _pairs(tmp_path, [{victim: 2.4}, {victim: 2.3}, {victim: 2.2}])
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
    cells = layout()
    bases = [write_layout(tmp_path / f"b{i}.json", cells, seed=10 + i) for i in range(2)]
    news = [write_layout(tmp_path / "n0.json", cells, seed=20, moment=10),
            write_layout(tmp_path / "n1.json", cells, seed=21, moment=11, machine=2.0,
                         gemm=2.0, factor={c["fullname"]: 0.5 for c in cells})]
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
