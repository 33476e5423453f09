"""fit_power_law recovers known exponents under overhead and noise; exponent_table on the
fixture matches the cost curves the fixture was generated from."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from bnncompare.report import exponent_table, fit_power_law
from bnncompare.report.complexity import naive_slope

SIZES = np.geomspace(100, 10_000, 5)
ROUNDS = 5


def synthetic_rounds(b: float, seed: int, noise: str = "uniform", overhead: float = 5.0):
    """Times ``c0 + c1 x^b`` with c0 = ``overhead`` x the growing part at the smallest x,
    and +-10 % multiplicative noise per round."""
    rng = np.random.default_rng(seed)
    c1 = 1.0 / SIZES[0] ** b
    true = overhead + c1 * SIZES**b
    shape = (len(SIZES), ROUNDS)
    factor = (rng.uniform(0.9, 1.1, shape) if noise == "uniform"
              else np.exp(rng.normal(0.0, 0.1, shape)))
    return np.repeat(SIZES, ROUNDS), (true[:, None] * factor).ravel(), c1


@pytest.mark.parametrize("noise", ["uniform", "lognormal"])
@pytest.mark.parametrize("b", [1.0, 2.0])
@pytest.mark.parametrize("seed", range(5))
def test_recovers_exponent_with_overhead_and_noise(b, seed, noise):
    x, t, c1 = synthetic_rounds(b, seed, noise)
    fit = fit_power_law(x, t, n_boot=100, seed=seed)
    assert fit.b == pytest.approx(b, abs=0.1)
    assert fit.b_lo <= fit.b <= fit.b_hi
    assert fit.b_hi - fit.b_lo < 0.35
    assert fit.c0 == pytest.approx(5.0, rel=0.15)
    assert fit.predict(SIZES[-1]) == pytest.approx(5.0 + c1 * SIZES[-1] ** b, rel=0.05)
    assert fit.n_points == len(SIZES)


@pytest.mark.parametrize("b", [1.0, 2.0])
def test_naive_slope_is_biased_by_overhead(b):
    for seed in range(5):
        x, t, _ = synthetic_rounds(b, seed)
        fit = fit_power_law(x, t, n_boot=20, seed=seed)
        assert b - fit.naive_slope > 0.25          # naive slope reads ~0.63 / ~1.65
        assert abs(fit.b - b) < abs(fit.naive_slope - b) / 3
        # the naive slope is the least-squares line through the log per-size medians
        meds = np.median(t.reshape(len(SIZES), ROUNDS), axis=1)
        assert fit.naive_slope == pytest.approx(
            stats.linregress(np.log(SIZES), np.log(meds)).slope, rel=1e-9)


def test_naive_slope_of_an_exact_power_law_is_its_exponent():
    assert naive_slope(SIZES, 3.0 * SIZES**1.7) == pytest.approx(1.7, abs=1e-12)


def test_heavy_overhead_reproduces_the_reference_bias():
    """Heavy overhead: a true exponent of 1 reads as ~0.13 by the naive slope."""
    x, t, _ = synthetic_rounds(1.0, seed=3, overhead=50.0)
    fit = fit_power_law(x, t, n_boot=50)
    assert fit.naive_slope < 0.25
    assert fit.b_lo <= 1.0 <= fit.b_hi


def test_exact_power_law_and_constant_work():
    exact = fit_power_law(SIZES, 25_500 + 255 * SIZES, n_boot=20)
    assert exact.b == pytest.approx(1.0, abs=1e-3)
    assert exact.c0 == pytest.approx(25_500, rel=1e-3)
    assert exact.c1 == pytest.approx(255, rel=1e-3)
    flat = fit_power_law(SIZES, np.full(SIZES.shape, 51_000.0), n_boot=20)
    assert (flat.b, flat.b_lo, flat.b_hi, flat.c1) == (0.0, 0.0, 0.0, 0.0)


def test_noise_without_growth_is_flat():
    rng = np.random.default_rng(0)
    x = np.repeat(SIZES, ROUNDS)
    fit = fit_power_law(x, 2e-4 * rng.uniform(0.9, 1.1, x.size), n_boot=50)
    assert fit.b == 0.0 and fit.c1 == 0.0
    assert fit.b_lo == 0.0


def test_same_seed_same_interval():
    x, t, _ = synthetic_rounds(1.0, seed=0)
    assert fit_power_law(x, t, seed=7) == fit_power_law(x, t, seed=7)


@pytest.mark.parametrize(("x", "t", "match"), [
    ([1, 2, 3], [1, 2], "same length"),
    ([1, 2, 2], [1, 2, 3], "3 distinct"),
    ([1, 2, 3], [1, 0, 3], "positive"),
    ([1, 2, np.nan], [1, 2, 3], "finite"),
])
def test_rejects_bad_input(x, t, match):
    with pytest.raises(ValueError, match=match):
        fit_power_law(x, t)


def _row(exps, **key):
    mask = np.ones(len(exps), dtype=bool)
    for col, value in key.items():
        mask &= (exps[col] == value).to_numpy()
    assert mask.sum() == 1, key
    return exps[mask].iloc[0]


@pytest.fixture(scope="module")
def exps(frame):
    return exponent_table(frame, n_boot=100)


def test_exponent_table_on_fixture(exps):
    # 4 fit sweeps (nn/svi/nuts vs n_train, NUTS vs S) + 6 predict sweeps.
    assert len(exps) == 10
    assert (exps["n_points"] >= 3).all()
    for method in ("nn", "svi", "nuts"):
        row = _row(exps, phase="fit", method=method, axis="n_train")
        assert row["theory_exponent"] == 1.0
        assert row["b_lo"] <= 1.0 <= row["b_hi"]
        assert row["b_work"] == 0.0 and row["theory_exponent_work"] == 0.0
        assert row["flag"] == ""
    nuts_n = _row(exps, phase="fit", method="nuts", axis="n_train")
    assert nuts_n["naive_slope"] < 0.2          # overhead-dominated: naive reads ~0.12
    nuts_s = _row(exps, phase="fit", method="nuts", axis="num_samples")
    assert nuts_s["b"] == pytest.approx(1.0, abs=0.1)
    assert nuts_s["b_work"] == pytest.approx(1.0, abs=1e-3)
    for method in ("svi", "nuts"):
        row = _row(exps, phase="predict", method=method, axis="num_samples")
        assert row["b"] == pytest.approx(1.0, abs=0.05)
        assert np.isnan(row["b_work"])
    nn_s = _row(exps, phase="predict", method="nn", axis="num_samples")
    assert (nn_s["b"], nn_s["theory_exponent"], nn_s["flag"]) == (0.0, 0.0, "")


def test_exponent_table_flags_theory_outside_interval(frame):
    wrong = frame.copy()
    mask = (wrong["phase"] == "predict") & (wrong["axis"] == "n_test")
    wrong.loc[mask, "theory_exponent"] = 2.0
    flagged = exponent_table(wrong, n_boot=30)
    assert set(flagged.loc[flagged["flag"] != "", "axis"]) == {"n_test"}
    assert (flagged.loc[flagged["axis"] == "n_test", "flag"] == "time").all()


def test_series_with_two_sizes_is_skipped(frame):
    two = frame[~((frame["axis"] == "n_test") & (frame["n_test"] > 300))]
    assert "n_test" not in set(exponent_table(two, n_boot=10)["axis"])
