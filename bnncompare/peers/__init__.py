"""Reference implementations that bnncompare is measured against, side by side in one run.

Each peer is a workload: ``setup`` builds fresh state (untimed), the returned callable does the
timed work and returns how many units (draw-predictions, steps, leapfrog steps) it did. Nothing
here is used by the estimators; these exist so speed claims are ratios, not adjectives.
"""

from __future__ import annotations

from bnncompare.peers.calibration import calibration_workload
from bnncompare.peers.floors import (
    bbb_floor_steps,
    manual_grad_calls,
    potential_grad_floor,
    predict_floor,
)
from bnncompare.peers.numpyro_nuts import numpyro_available, numpyro_nuts
from bnncompare.peers.tutorial import (
    predictive_loop,
    tutorial_nuts,
    tutorial_svi_steps,
    weights_as_tutorial_samples,
)

__all__ = ["bbb_floor_steps", "calibration_workload", "manual_grad_calls", "numpyro_available",
           "numpyro_nuts", "potential_grad_floor", "predict_floor", "predictive_loop",
           "tutorial_nuts", "tutorial_svi_steps", "weights_as_tutorial_samples"]
