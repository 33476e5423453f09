"""Findings over method seeds: "best" only where a paired comparison separates the leader,
the tied group otherwise; intervals of the mean; the README holds findings.md verbatim."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from bnncompare import METHODS
from bnncompare.report import build_report, load_runs
from bnncompare.report.findings import BEGIN, END, findings_text, quality_rows, readme_block
from bnncompare.report.replicates import (
    min_detectable_difference,
    rank_methods,
    seed_summary,
    t_interval,
)

A, B, C = list(METHODS)[:3]
ROOT = Path(__file__).resolve().parents[2]

#: per dataset and method, the TV of seeds 0, 1, 2. "apart": A is below B and C on every
#: seed by a steady margin; "tied": A and B trade places from seed to seed.
TV = {
    "apart": {A: [0.020, 0.021, 0.019], B: [0.030, 0.032, 0.029], C: [0.050, 0.049, 0.052]},
    "tied": {A: [0.020, 0.031, 0.024], B: [0.026, 0.022, 0.028], C: [0.060, 0.058, 0.061]},
}


def _entry(dataset: str, method: str, seed: int, tv: float) -> dict:
    extra = {"axis": "none", "profile": "fast", "accuracy": 0.9, "nll": 10 * tv,
             "tv_test": tv, "seed": 0, "method_seed": seed, "n_grad_evals": 10}
    return {"group": "fit", "name": f"test_quality[{dataset}-{method}-s{seed}-4]",
            "params": {"method": method, "dataset": dataset, "seed": seed, "hidden": "4"},
            "extra_info": extra, "stats": {"median": 1.0 + seed, "data": [1.0 + seed]}}


@pytest.fixture(scope="module")
def seeds_json(tmp_path_factory):
    benches = [{"group": "calibration", "name": "test_calibration[start]", "params": {},
                "extra_info": {}, "stats": {"median": 1.0, "data": [1.0]}}]
    benches += [_entry(d, m, s, tv) for d, by in TV.items() for m, tvs in by.items()
                for s, tv in enumerate(tvs)]
    path = tmp_path_factory.mktemp("seeds") / "seeds.json"
    path.write_text(json.dumps({"machine_info": {"node": "box", "profile": "fast"},
                                "benchmarks": benches}), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def rows(seeds_json):
    return quality_rows(load_runs([seeds_json]))


def test_t_interval_is_the_textbook_one():
    mean, lo, hi = t_interval([1.0, 2.0, 4.0])
    half = stats.t.ppf(0.975, 2) * np.std([1.0, 2.0, 4.0], ddof=1) / np.sqrt(3)
    assert (mean, lo, hi) == pytest.approx((7 / 3, 7 / 3 - half, 7 / 3 + half))
    assert np.isnan(t_interval([1.0])[1])


def test_separated_leader_is_named_best(rows):
    ranking = rank_methods(rows[rows["dataset"] == "apart"], "tv_test")
    assert ranking.leader == A and ranking.tied == (A,) and ranking.separated
    # the paired test it rests on: A - B is -0.010, -0.011, -0.010 over the three seeds
    diff = np.subtract(TV["apart"][A], TV["apart"][B])
    assert stats.ttest_1samp(diff, 0.0).pvalue < 0.05


def test_leader_within_seed_noise_is_a_tie(rows):
    ranking = rank_methods(rows[rows["dataset"] == "tied"], "tv_test")
    assert ranking.leader == A  # mean 0.0250 vs B's 0.0253: a lead no seed pairing supports
    assert set(ranking.tied) == {A, B} and not ranking.separated
    assert C not in ranking.tied


def test_findings_say_best_only_where_separated(rows, seeds_json):
    text = findings_text(load_runs([seeds_json]))
    apart, tied = text.split("### apart")[1].split("### tied")
    assert f"apart from every other method (next: {METHODS[B].method_label()}" in apart
    assert "tied within seed noise" not in apart
    assert "tied within seed noise: " in tied and "apart from every" not in tied
    assert "Minimum detectable difference at 3 seeds" in tied


def test_summary_carries_mean_interval_and_seed_count(rows):
    table = seed_summary(rows, ["dataset", "method"], ["tv_test"])
    row = table[(table["dataset"] == "apart") & (table["method"] == A)].iloc[0]
    assert row["n_seeds"] == 3
    assert (row["tv_test"], row["tv_test_lo"], row["tv_test_hi"]) == pytest.approx(
        t_interval(TV["apart"][A]))


def test_min_detectable_difference_scales_with_the_paired_spread(rows):
    tied = min_detectable_difference(rows[rows["dataset"] == "tied"], "tv_test")
    apart = min_detectable_difference(rows[rows["dataset"] == "apart"], "tv_test")
    assert tied > apart > 0


def test_report_writes_findings_and_the_readme_block(seeds_json, tmp_path):
    result = build_report([seeds_json], tmp_path / "out", n_boot=10)
    text = result["findings"].read_text(encoding="utf-8")
    assert text == findings_text(load_runs([seeds_json]))
    assert readme_block(text).startswith(BEGIN) and readme_block(text).endswith(END)


def test_readme_holds_the_committed_findings_verbatim():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    findings = (ROOT / "results" / "findings.md").read_text(encoding="utf-8")
    start, end = readme.index(BEGIN), readme.index(END) + len(END)
    assert readme[start:end] == readme_block(findings)
