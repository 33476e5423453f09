"""The calibration workload: a fixed pure-torch job present in every run, so times can be
normalised across machines (``time / calibration median``).

It is timed three times — first, halfway and last (``pytest_collection_modifyitems`` in
conftest places it) — because the speed of a shared 2-core VM drifts by tens of percent within
one 40-second run; the gate and the report use the geometric mean / median of the three.
"""

from __future__ import annotations

import pytest

from bnncompare.peers import calibration_workload

POSITIONS = ("start", "middle", "end")


@pytest.mark.parametrize("position", POSITIONS)
@pytest.mark.parametrize(("method", "dataset"), [("calibration", "none")])
def test_calibration(benchmark, profile, method, dataset, position):
    benchmark.group = "calibration"
    benchmark.extra_info.update(profile=profile.name, axis="none")
    benchmark.pedantic(calibration_workload, rounds=15, warmup_rounds=1)
