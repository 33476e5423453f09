"""The package-wide number checks: bools are never numbers, NumPy scalars are."""

from __future__ import annotations

import numpy as np
import pytest

from bnncompare import checks, metrics


@pytest.mark.parametrize(("check", "good", "bad"), [
    (checks.check_positive_int, [1, np.int64(3)], [0, -1, True, 1.0, "2", None]),
    (checks.check_nonnegative_int, [0, 5, np.int32(0)], [-1, False, 0.5]),
    (checks.check_positive_float, [0.1, 2, np.float32(1.5)], [0, -0.1, True, np.inf, np.nan]),
    (checks.check_nonnegative_float, [0, 0.0, 3.5], [-1e-9, False, np.nan]),
])
def test_numbers_and_bools(check, good, bad):
    for value in good:
        check("x", value)
    for value in bad:
        with pytest.raises(ValueError, match=r"^x must be "):
            check("x", value)


def test_fraction_names_its_interval():
    checks.check_fraction("p", 0.5)
    checks.check_fraction("p", 0.0, include_zero=True)
    with pytest.raises(ValueError, match=r"p must be a number in \(0, 1\], got 1.5"):
        checks.check_fraction("p", 1.5, include_one=True)
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        checks.check_fraction("p", True, include_zero=True)


def test_allow_none():
    checks.check_positive_int("n_jobs", None, allow_none=True)
    with pytest.raises(ValueError, match="n_jobs must be a positive integer, got None"):
        checks.check_positive_int("n_jobs", None)


def test_metrics_refuse_a_bool_bin_count():
    y, p = np.array([0, 1]), np.array([[0.9, 0.1], [0.2, 0.8]])
    assert metrics.expected_calibration_error(y, p, n_bins=np.int64(2)) >= 0
    with pytest.raises(ValueError, match="n_bins must be a positive integer, got True"):
        metrics.expected_calibration_error(y, p, n_bins=True)
