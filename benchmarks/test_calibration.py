"""The calibration workload: a fixed pure-torch job present in every run, so times can be
normalised across machines (``time / calibration median``). Many cheap rounds keep its own
median tight: its noise enters every normalised ratio."""

from __future__ import annotations

import pytest

from bnncompare.peers import calibration_workload


@pytest.mark.parametrize(("method", "dataset"), [("calibration", "none")])
def test_calibration(benchmark, profile, method, dataset):
    benchmark.group = "calibration"
    benchmark.extra_info.update(profile=profile.name, axis="none")
    benchmark.pedantic(calibration_workload, rounds=21, warmup_rounds=2)
