"""The calibration workloads: fixed pure-torch jobs present in every run, so times can be
normalised (``time / calibration median``); see :mod:`bnncompare.peers.calibration`.

Each kind (``dispatch``: small-tensor training steps; ``gemm``: a batched matmul chain over
draws) is timed three times — first, halfway and last (``pytest_collection_modifyitems`` in
conftest places them) — because the speed of a shared 2-core VM drifts by tens of percent
within one run; the gate and the report divide by the median of the three
(:func:`bnncompare.benchjson.calibration_scales`).
"""

from __future__ import annotations

import pytest

from bnncompare.peers.calibration import CALIBRATION_KINDS

POSITIONS = ("start", "middle", "end")


@pytest.mark.parametrize("position", POSITIONS)
@pytest.mark.parametrize("kind", list(CALIBRATION_KINDS))
@pytest.mark.parametrize(("method", "dataset"), [("calibration", "none")])
def test_calibration(benchmark, profile, method, dataset, kind, position):
    benchmark.group = "calibration"
    benchmark.extra_info.update(profile=profile.name, axis="none",
                                workload={"calibration": kind})
    benchmark.pedantic(CALIBRATION_KINDS[kind], rounds=profile.calibration_rounds,
                       warmup_rounds=1)
