"""The entropy map of a 2-D dataset: stored in the benchmark JSON by ``grid_entropy`` and read
back by the report, with known answers for a uniform and a logistic predictive."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bnncompare import data
from bnncompare.evaluate import grid_entropy
from bnncompare.methods import METHODS


class FixedPredictive:
    """A stand-in for a fitted estimator: ``predict_proba`` is a given function of x."""

    def __init__(self, fn):
        self.fn = fn

    def predict_proba(self, x):
        return self.fn(np.asarray(x, np.float64))


@pytest.fixture(scope="module")
def moons():
    return data.load_dataset("moons", seed=0)


def test_a_uniform_predictive_has_entropy_log_c_everywhere(moons):
    for c in (2, 3, 5):
        est = FixedPredictive(lambda x, c=c: np.full((len(x), c), 1.0 / c))
        out = grid_entropy(est, moons, n=7)
        h = np.asarray(out["grid_entropy"])
        assert h.shape == (7, 7)
        # stored to 3 decimals: within 5e-4 of log C (plus float round-off)
        np.testing.assert_allclose(h, np.log(c), atol=5e-4 + 1e-12)


def test_the_map_has_the_second_feature_down_the_rows(moons):
    """p(class 0) = sigmoid(4 x0): entropy varies along a row (x0) and not down a column."""
    def logistic(x):
        p = 1.0 / (1.0 + np.exp(-4.0 * x[:, 0]))
        return np.stack([p, 1.0 - p], axis=1)

    out = grid_entropy(FixedPredictive(logistic), moons, n=9)
    x, y = np.asarray(out["grid_x"]), np.asarray(out["grid_y"])
    _, axes = data.input_grid(moons, 9)
    np.testing.assert_allclose(x, axes[0], atol=5e-5)  # axes stored to 4 decimals
    np.testing.assert_allclose(y, axes[1], atol=5e-5)
    p = 1.0 / (1.0 + np.exp(-4.0 * axes[0].astype(np.float64)))
    expected = -(p * np.log(p) + (1 - p) * np.log(1 - p))
    h = np.asarray(out["grid_entropy"])
    np.testing.assert_allclose(h, np.tile(expected, (9, 1)), atol=5e-4 + 1e-6)


def test_the_map_survives_json_and_reaches_the_report(moons, tmp_path):
    from bnncompare.report import load_runs
    from bnncompare.report.figures import _map_rows, entropy_map_figure

    out = grid_entropy(FixedPredictive(lambda x: np.full((len(x), 2), 0.5)), moons, n=5)
    doc = {"machine_info": {"node": "m"}, "benchmarks": [
        {"group": "calibration", "name": "test_calibration[start]", "params": {},
         "stats": {"median": 1.0}, "extra_info": {}},
        {"group": "fit", "name": "test_quality[moons-nn-16x16]",
         "params": {"method": "nn", "dataset": "moons", "hidden": "16x16"},
         "stats": {"median": 0.1}, "extra_info": {"axis": "none", "nll": 0.69, "seed": 0,
                                                  "entropy_bins": [0.0, float(np.log(2))],
                                                  **out}}]}
    path = tmp_path / "run.json"
    path.write_text(json.dumps(doc))
    rows = _map_rows(load_runs([path]), "moons")
    assert list(rows["method"]) == ["nn"]
    np.testing.assert_array_equal(np.asarray(rows["grid_entropy"].iloc[0]),
                                  np.full((5, 5), round(np.log(2), 3)))
    reference = (np.asarray(out["grid_x"]), np.asarray(out["grid_y"]), np.zeros((5, 5)),
                 "reference")
    fig = entropy_map_figure(load_runs([path]), "moons", reference)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    # the reference first, then each method
    assert titles == ["reference", METHODS["nn"].method_label()]
    meshes = [ax.collections[0] for ax in fig.axes if ax.get_title()]
    np.testing.assert_array_equal(np.asarray(meshes[0].get_array()).ravel(), 0.0)
    np.testing.assert_array_equal(np.asarray(meshes[1].get_array()).ravel(),
                                  round(np.log(2), 3))
    assert meshes[1].get_clim() == (0.0, pytest.approx(np.log(2)))  # one scale: 0..log C
