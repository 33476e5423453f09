"""The regular grid over a two-feature dataset's plane."""

from __future__ import annotations

import numpy as np

from bnncompare.data import input_grid, load_dataset


def test_input_grid_covers_the_training_box_with_margin():
    ds = load_dataset("moons")
    points, (ax0, ax1) = input_grid(ds, 7, margin=0.5)
    assert points.shape == (49, 2) and points.dtype == np.float32
    lo, hi = ds.x_train.min(axis=0).astype(float), ds.x_train.max(axis=0).astype(float)
    for k, ax in enumerate((ax0, ax1)):
        assert ax.shape == (7,) and ax.dtype == np.float32
        # float32 endpoints of a float64 linspace: relative round-off 6e-8 on values <= 5
        np.testing.assert_allclose([ax[0], ax[-1]], [lo[k] - 0.5 * (hi[k] - lo[k]),
                                                     hi[k] + 0.5 * (hi[k] - lo[k])], atol=1e-6)
        np.testing.assert_allclose(np.diff(ax), (ax[-1] - ax[0]) / 6, rtol=1e-5)
    # row i * n + j is (ax0[j], ax1[i]): values reshape to (n, n), second feature down rows
    assert np.array_equal(points[2 * 7 + 5], [ax0[5], ax1[2]])
    grid = points.reshape(7, 7, 2)
    assert np.all(grid[:, :, 0] == ax0[None, :]) and np.all(grid[:, :, 1] == ax1[:, None])
    tight, axes = input_grid(ds, 2, margin=0)
    assert np.array_equal(axes[0], [lo[0], hi[0]]) and np.array_equal(axes[1], [lo[1], hi[1]])
    assert np.array_equal(tight, [[lo[0], lo[1]], [hi[0], lo[1]], [lo[0], hi[1]], [hi[0], hi[1]]])
