"""Known-answer tests for bnncompare.metrics (hand arithmetic and sklearn as oracles)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, brier_score_loss, log_loss, roc_auc_score

from bnncompare.metrics import (
    accuracy,
    agreement,
    brier,
    expected_calibration_error,
    expected_entropy,
    mutual_information,
    nll,
    ood_auroc,
    predictive_entropy,
    refusal_rate,
    selective_accuracy,
    total_variation,
    uncertainty_summary,
)

LOG2 = math.log(2.0)

# Tiny 3-class case used for the hand-computed point metrics.
Y3 = np.array([0, 1])
P3 = np.array([[0.5, 0.25, 0.25], [0.1, 0.8, 0.1]])


def _random_proba(rng, n, c, dtype=np.float64):
    """Row-wise softmax of Gaussian logits, shape (n, c)."""
    z = rng.normal(size=(n, c)) * 2.0
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True)).astype(dtype)


# --------------------------------------------------------------------------- point metrics


def test_nll_hand_computed():
    # -(log 0.5 + log 0.8) / 2 = (0.693147 + 0.223144) / 2 = 0.458145
    assert nll(Y3, P3) == pytest.approx((LOG2 - math.log(0.8)) / 2, rel=1e-12)
    assert nll(Y3, P3) == pytest.approx(0.458145, abs=1e-6)


def test_nll_is_finite_for_zero_probability_on_the_label():
    # p[y] = 0 is clipped to EPS = 1e-12: -log(1e-12) = 27.631...
    assert nll([1], [[1.0, 0.0]]) == pytest.approx(-math.log(1e-12))


def test_brier_hand_computed():
    # row 0: (0.5-1)^2 + 0.25^2 + 0.25^2 = 0.25 + 0.0625 + 0.0625 = 0.375
    # row 1: 0.1^2 + (0.8-1)^2 + 0.1^2  = 0.01 + 0.04 + 0.01     = 0.06
    # mean: (0.375 + 0.06) / 2 = 0.2175
    assert brier(Y3, P3) == pytest.approx(0.2175, rel=1e-12)


def test_brier_perfect_and_worst():
    assert brier([0, 1], [[1.0, 0.0], [0.0, 1.0]]) == 0.0
    # fully wrong one-hot: (1-0)^2 + (0-1)^2 = 2
    assert brier([0, 1], [[0.0, 1.0], [1.0, 0.0]]) == pytest.approx(2.0)


def test_accuracy_hand_computed_and_ties_go_to_lowest_index():
    # argmax rows: 0, 1, 0 (tie 0.5/0.5 -> index 0); labels 0, 1, 1 -> 2/3 correct
    p = np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]])
    assert accuracy([0, 1, 1], p) == pytest.approx(2 / 3)


def test_point_metrics_match_sklearn():
    rng = np.random.default_rng(0)
    p = _random_proba(rng, 200, 4)
    y = rng.integers(0, 4, size=200)
    assert accuracy(y, p) == pytest.approx(accuracy_score(y, p.argmax(axis=1)), abs=1e-15)
    assert nll(y, p) == pytest.approx(log_loss(y, p, labels=[0, 1, 2, 3]), rel=1e-10)


def test_binary_brier_is_twice_sklearn_binary_convention():
    rng = np.random.default_rng(1)
    p = _random_proba(rng, 100, 2)
    y = rng.integers(0, 2, size=100)
    # sklearn scores the positive column only: mean (p1 - y)^2; ours adds the equal p0 term.
    assert brier(y, p) == pytest.approx(2 * brier_score_loss(y, p[:, 1]), rel=1e-12)


def test_float32_softmax_within_tolerance_is_accepted():
    p = _random_proba(np.random.default_rng(2), 50, 10, dtype=np.float32)
    y = np.zeros(50, dtype=np.int64)
    # float32 rows miss 1 by a few ulps (an exact simplex check would raise); the NLL is
    # scikit-learn's log loss of the same rows (renormalised there: a few ulps apart)
    assert np.abs(p.astype(np.float64).sum(1) - 1).max() > 0
    rows = p.astype(np.float64)
    assert nll(y, p) == pytest.approx(
        log_loss(y, rows / rows.sum(1, keepdims=True), labels=range(10)), rel=1e-6)


def test_integral_float_labels_are_accepted():
    assert accuracy(np.array([0.0, 1.0]), P3) == 1.0


# --------------------------------------------------------------------------- ECE


def test_ece_hand_computed_with_right_closed_bins():
    # n_bins=2: bins (0, 0.5] and (0.5, 1].
    # conf = 0.9, 0.6, 0.7, 0.5; argmax = 0, 0, 1, 0 (tie -> 0); correct = 1, 0, 1, 1.
    # bin (0, 0.5]: {0.5}          acc 1,   conf 0.5      -> 1/4 * |1 - 0.5|       = 0.125
    # bin (0.5, 1]: {0.9,0.6,0.7}  acc 2/3, conf 2.2/3    -> 3/4 * |2/3 - 2.2/3|   = 0.05
    # ECE = 0.175. (Were 0.5 put in the upper bin, the single bin would give 0.075.)
    p = np.array([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.5, 0.5]])
    y = np.array([0, 1, 1, 0])
    assert expected_calibration_error(y, p, n_bins=2) == pytest.approx(0.175, rel=1e-12)


def test_ece_one_bin_is_gap_between_mean_accuracy_and_confidence():
    # One bin: |mean correct - mean conf|; same data as above: |3/4 - 2.7/4| = 0.075.
    p = np.array([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.5, 0.5]])
    y = np.array([0, 1, 1, 0])
    assert expected_calibration_error(y, p, n_bins=1) == pytest.approx(0.075, rel=1e-12)


def test_ece_default_bins_hand_computed():
    # 15 bins of width 1/15: conf 0.95 -> (14/15, 1], conf 0.55 -> (8/15, 9/15].
    # Both wrong: 1/2 * |0 - 0.95| + 1/2 * |0 - 0.55| = 0.75
    p = np.array([[0.95, 0.05], [0.45, 0.55]])
    assert expected_calibration_error([1, 0], p) == pytest.approx(0.75, rel=1e-12)


def test_ece_zero_when_perfectly_calibrated():
    # 10 rows at confidence 0.8 with 8 correct, 5 rows at confidence 0.6 with 3 correct.
    p = np.array([[0.8, 0.2]] * 10 + [[0.4, 0.6]] * 5)
    y = np.array([0] * 8 + [1] * 2 + [1] * 3 + [0] * 2)
    assert expected_calibration_error(y, p) == pytest.approx(0.0, abs=1e-12)
    assert expected_calibration_error(y, p, n_bins=4) == pytest.approx(0.0, abs=1e-12)


# --------------------------------------------------------------------------- entropy decomposition


def test_entropy_of_uniform_is_log_c():
    for c in (2, 3, 10):
        u = np.full((4, c), 1.0 / c)
        np.testing.assert_allclose(predictive_entropy(u), math.log(c), rtol=1e-12)
        np.testing.assert_allclose(expected_entropy(u), math.log(c), rtol=1e-12)


def test_entropy_of_one_hot_is_zero():
    np.testing.assert_array_equal(predictive_entropy(np.eye(3)), 0.0)


def test_mi_zero_when_all_draws_agree():
    p = _random_proba(np.random.default_rng(3), 20, 5)
    samples = np.stack([p] * 7)
    np.testing.assert_allclose(mutual_information(samples), 0.0, atol=1e-12)
    np.testing.assert_allclose(predictive_entropy(samples), expected_entropy(samples))


def test_mi_is_log2_for_opposite_one_hot_draws():
    # mean of [1,0] and [0,1] is [0.5,0.5]: total log 2; each draw has entropy 0.
    samples = np.array([[[1.0, 0.0]], [[0.0, 1.0]]])
    np.testing.assert_allclose(predictive_entropy(samples), [LOG2], rtol=1e-12)
    np.testing.assert_allclose(expected_entropy(samples), [0.0], atol=1e-15)
    np.testing.assert_allclose(mutual_information(samples), [LOG2], rtol=1e-12)


def test_total_equals_aleatoric_plus_epistemic():
    rng = np.random.default_rng(4)
    samples = np.stack([_random_proba(rng, 30, 4) for _ in range(16)])
    total = predictive_entropy(samples)
    assert total.shape == (30,)
    np.testing.assert_allclose(
        total, expected_entropy(samples) + mutual_information(samples), atol=1e-12
    )
    assert np.all(mutual_information(samples) > 0)  # draws disagree: strictly positive


def test_two_d_input_is_one_draw():
    p = _random_proba(np.random.default_rng(5), 8, 3)
    np.testing.assert_array_equal(predictive_entropy(p), predictive_entropy(p[None]))
    np.testing.assert_array_equal(mutual_information(p), np.zeros(8))


# --------------------------------------------------------------------------- OOD AUROC


def test_ood_auroc_matches_sklearn_with_ties():
    rng = np.random.default_rng(6)
    s_in = rng.integers(0, 5, size=70).astype(float)  # few distinct values: many ties
    s_out = rng.integers(1, 6, size=40).astype(float)
    expected = roc_auc_score(np.r_[np.zeros(70), np.ones(40)], np.r_[s_in, s_out])
    assert ood_auroc(s_in, s_out) == pytest.approx(expected, abs=1e-14)


def test_ood_auroc_hand_computed():
    # pairs (in, out): out above in -> 1, tie -> 1/2, below -> 0.
    # in = [0, 1], out = [1, 2]: (0,1)=1, (0,2)=1, (1,1)=0.5, (1,2)=1 -> 3.5 / 4
    assert ood_auroc([0.0, 1.0], [1.0, 2.0]) == pytest.approx(0.875)
    assert ood_auroc([0.0, 0.1], [0.5, 0.9]) == 1.0  # higher = more uncertain = OOD
    assert ood_auroc([0.5, 0.9], [0.0, 0.1]) == 0.0
    assert ood_auroc([0.3, 0.3], [0.3]) == 0.5


# --------------------------------------------------------------------------- selective accuracy


def _ranked_example():
    # 10 examples, score = 0..9; the 7 least uncertain are correct, the last 3 wrong.
    y = np.zeros(10, dtype=int)
    p = np.array([[0.9, 0.1]] * 7 + [[0.4, 0.6]] * 3)
    return y, p, np.arange(10.0)


def test_selective_accuracy_hand_computed_and_monotone():
    y, p, score = _ranked_example()
    cov = np.arange(1, 11) / 10
    # keep k = 1..10 lowest scores: 1 up to k=7 (0.7*10 must give k=7, not 8), then 7/8, 7/9, 7/10
    expected = [1.0] * 7 + [7 / 8, 7 / 9, 0.7]
    got = selective_accuracy(y, p, score, cov)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert np.all(np.diff(got) <= 0)


def test_selective_accuracy_at_full_coverage_is_accuracy():
    rng = np.random.default_rng(7)
    p = _random_proba(rng, 101, 3)
    y = rng.integers(0, 3, size=101)
    got = selective_accuracy(y, p, predictive_entropy(p))
    assert got.shape == (4,)
    assert got[-1] == pytest.approx(accuracy(y, p), abs=1e-15)


def test_selective_accuracy_rounds_up_and_breaks_ties_stably():
    # All scores tie; stable sort keeps input order. n=3, coverage 0.5 -> ceil(1.5) = 2 kept:
    # rows 0 (correct) and 1 (wrong) -> 0.5. Coverage 0.01 -> ceil(0.03) = 1 kept -> 1.0.
    p = np.array([[0.9, 0.1], [0.9, 0.1], [0.9, 0.1]])
    got = selective_accuracy([0, 1, 0], p, np.zeros(3), (0.01, 0.5))
    np.testing.assert_allclose(got, [1.0, 0.5])


def test_refusal_rate_strictly_above_threshold():
    score = np.array([0.1, 0.5, 0.5, 0.9])
    assert refusal_rate(score, 0.5) == 0.25  # only 0.9 > 0.5; ties are answered
    assert refusal_rate(score, 0.0) == 1.0
    assert refusal_rate(score, 1.0) == 0.0


# --------------------------------------------------------------------------- against a reference

# Three inputs: a swap of two classes' mass, an identical row, disjoint one-hot rows.
P_REF = np.array([[0.5, 0.25, 0.25], [0.1, 0.8, 0.1], [1.0, 0.0, 0.0]])
Q_REF = np.array([[0.25, 0.5, 0.25], [0.1, 0.8, 0.1], [0.0, 0.0, 1.0]])


def test_total_variation_hand_computed():
    tv = total_variation(P_REF, Q_REF)
    # row 0: 0.5 * (0.25 + 0.25 + 0) ; row 1: identical ; row 2: disjoint support
    np.testing.assert_allclose(tv, [0.25, 0.0, 1.0], rtol=0, atol=1e-15)
    assert tv.shape == (3,) and tv.dtype == np.float64
    np.testing.assert_array_equal(total_variation(Q_REF, P_REF), tv)  # symmetric


def test_total_variation_is_the_largest_event_probability_gap():
    # Independent definition: TV = max over events A of |P(A) - Q(A)|, by enumerating all 2^C
    # subsets of C = 4 classes, on random float64 rows (exact up to float64 round-off).
    rng = np.random.default_rng(0)
    p, q = _random_proba(rng, 50, 4), _random_proba(rng, 50, 4)
    events = np.array([[(k >> c) & 1 for c in range(4)] for k in range(16)], dtype=float)
    gap = np.abs(p @ events.T - q @ events.T).max(axis=1)
    np.testing.assert_allclose(total_variation(p, q), gap, rtol=0, atol=1e-12)


def test_total_variation_accepts_float32_softmax_rows():
    rng = np.random.default_rng(1)
    p = _random_proba(rng, 20, 10, np.float32)
    # float32 rows are read as float64; the distance to themselves is exactly 0
    assert np.array_equal(total_variation(p, p), np.zeros(20))


def test_agreement_hand_computed_and_ties_go_to_lowest_index():
    # top classes: p -> 0, 1, 0 ; q -> 1, 1, 2 : only row 1 agrees
    assert agreement(P_REF, Q_REF) == pytest.approx(1 / 3)
    assert agreement(P_REF, P_REF) == 1.0
    # a tied row picks class 0, so it agrees with a row leaning to 0 and not with one leaning to 1
    tied = np.array([[0.5, 0.5], [0.5, 0.5]])
    assert agreement(tied, [[0.6, 0.4], [0.4, 0.6]]) == 0.5


# --------------------------------------------------------------------------- summary


def _summary_inputs():
    # In-distribution: 2 draws, confident and correct for 8 of 10 test rows. OOD: uniform.
    c = 3
    p = np.full((10, c), 0.05)
    p[np.arange(10), np.arange(10) % c] = 0.9
    y = np.arange(10) % c
    y[:2] = (y[:2] + 1) % c  # first two wrong
    samples = np.stack([p, p])
    samples_ood = np.full((4, 6, c), 1.0 / c)
    return samples, y, samples_ood


def test_uncertainty_summary_values_and_types():
    samples, y, samples_ood = _summary_inputs()
    out = uncertainty_summary(samples, y, samples_ood)
    json.dumps(out)  # must be serialisable as is
    for key in (
        "accuracy",
        "nll",
        "brier",
        "ece",
        "ood_auroc",
        "ood_auroc_mi",
        "mean_entropy_test",
        "mean_entropy_ood",
        "sel_acc_80",
    ):
        assert type(out[key]) is float, key
    assert out["accuracy"] == pytest.approx(0.8)
    assert out["ood_auroc"] == 1.0  # uniform OOD has maximal entropy
    assert out["ood_auroc_mi"] == 0.5  # draws agree everywhere: MI ties at 0
    assert out["mean_entropy_ood"] == pytest.approx(math.log(3))
    assert out["coverages"] == [0.5, 0.8, 0.9, 1.0]
    # all test rows tie in entropy -> stable order keeps the 2 wrong rows first:
    # keep 8 -> 6/8 correct.
    assert out["sel_acc_80"] == pytest.approx(0.75)
    assert out["selective_accuracy"][-1] == pytest.approx(0.8)
    assert len(out["entropy_bins"]) == 21
    assert out["entropy_bins"][0] == 0.0
    assert out["entropy_bins"][-1] == pytest.approx(math.log(3))
    for key in ("entropy_hist_test", "entropy_hist_ood"):
        assert len(out[key]) == 20
        assert sum(out[key]) == pytest.approx(1.0)
    assert out["entropy_hist_ood"][-1] == 1.0  # log C lands in the closed last bin


# --------------------------------------------------------------------------- bad inputs


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: nll([0, 1, 0], P3), "shape mismatch"),
        (lambda: nll(Y3, [[0.5, 0.6, 0.1], [0.1, 0.8, 0.1]]), "simplex"),
        (lambda: brier(Y3, [[1.5, -0.5, 0.0], [0.1, 0.8, 0.1]]), "simplex"),
        (lambda: accuracy(Y3, [[2.0, 1.0, 0.5], [0.1, 3.0, 0.2]]), "simplex"),
        (lambda: accuracy([], np.zeros((0, 3))), "empty"),
        (lambda: accuracy(Y3, P3[None]), "2-D"),
        (lambda: nll(Y3, [[np.nan, 0.5, 0.5], [0.1, 0.8, 0.1]]), "NaN"),
        (lambda: nll([0, 3], P3), r"class indices in \[0, 3\)"),
        (lambda: nll([0.5, 1.0], P3), "integer class indices"),
        (lambda: expected_calibration_error(Y3, P3, n_bins=0), "n_bins"),
        (lambda: predictive_entropy(np.zeros((2, 2, 2, 2))), r"\(S, n, C\)"),
        (lambda: mutual_information(np.zeros((0, 4, 3))), "empty"),
        (lambda: expected_entropy(np.ones((2, 4, 3))), "simplex"),
        (lambda: ood_auroc([], [0.1]), "score_in is empty"),
        (lambda: ood_auroc([0.1], [np.inf]), "NaN or inf"),
        (lambda: selective_accuracy(Y3, P3, [0.1, 0.2], (0.0, 1.0)), r"\(0, 1\]"),
        (lambda: selective_accuracy(Y3, P3, [0.1, 0.2], (0.5, 1.2)), r"\(0, 1\]"),
        (lambda: selective_accuracy(Y3, P3, [0.1], (1.0,)), "shape mismatch"),
        (lambda: refusal_rate([], 0.5), "empty"),
        (lambda: refusal_rate([0.1], float("nan")), "threshold"),
        (
            lambda: uncertainty_summary(np.full((1, 2, 3), 1 / 3), [0, 1], np.full((1, 2, 2), 0.5)),
            "shape mismatch",
        ),
        (lambda: total_variation(P_REF, Q_REF[:2]), r"shape mismatch.*\(3, 3\).*\(2, 3\)"),
        (lambda: agreement(P_REF, np.full((3, 2), 0.5)), r"shape mismatch.*\(3, 2\)"),
        (lambda: total_variation(P_REF, Q_REF * 2), "q is not on the probability simplex"),
        (lambda: agreement(np.log(P_REF + 0.1), Q_REF), "p is not on the probability simplex"),
        (lambda: total_variation(P_REF[None], Q_REF[None]), "p must be a 2-D"),
        (lambda: agreement(P_REF, np.full((3, 3), np.nan)), "q contains NaN"),
        (lambda: total_variation(np.zeros((0, 3)), np.zeros((0, 3))), "p is empty"),
    ],
)
def test_bad_inputs_raise_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()
