"""Evaluation helpers and the sweep's result handling."""

from __future__ import annotations

import json

import numpy as np
import pytest

import bnncompare as bc
from bnncompare import evaluate, sweep


@pytest.fixture(scope="module")
def fitted():
    ds = bc.load_dataset("iris", seed=0)
    est = bc.SVIClassifier(hidden_sizes=(), num_steps=200, lr=0.05, random_state=0,
                           num_predictive_samples=20).fit(ds.x_train, ds.y_train)
    return ds, est


def test_label_index_maps_labels_to_proba_columns():
    ds = bc.load_dataset("iris", seed=0)
    est = bc.NNClassifier(hidden_sizes=(), num_epochs=2, random_state=0).fit(
        ds.x_train, ds.y_train * 2 + 3)
    np.testing.assert_array_equal(evaluate.label_index(est, np.array([7, 3, 5])), [2, 0, 1])
    with pytest.raises(ValueError, match="not fitted on"):
        evaluate.label_index(est, np.array([3, 9]))


def test_evaluate_agrees_with_metrics_on_the_same_predictions(fitted):
    ds, est = fitted
    out = evaluate.evaluate(est, ds, seed=0)
    y = ds.y_test  # classes_ are 0, 1, 2
    mean = est.predict_proba_samples(ds.x_test).mean(0)
    # by hand, not through metrics (evaluate calls metrics itself): the test rows' predictive
    # mean scored against their labels
    assert out["nll"] == pytest.approx(-np.log(mean[np.arange(len(y)), y]).mean())
    assert out["accuracy"] == pytest.approx(np.mean(mean.argmax(1) == y))
    assert out["ood_kind"] == "uniform" and out["n_params"] == est.n_params_ == 15
    assert out["n_grad_evals"] == 200
    json.dumps(out)  # every value is JSON-ready for pytest-benchmark's extra_info


@pytest.mark.filterwarnings("ignore:NUTS diagnostics")
def test_cost_summary_reports_predictive_ess_per_second_for_nuts():
    ds = bc.load_dataset("iris", seed=0)
    est = bc.NUTSClassifier(hidden_sizes=(), num_warmup=20, num_samples=20, max_tree_depth=3,
                            num_chains=2, random_state=0).fit(ds.x_train, ds.y_train)
    out = evaluate.cost_summary(est, fit_time_s=2.0)
    assert out["predictive_ess_per_s"] == pytest.approx(
        est.diagnostics_["predictive_ess_min"] / 2.0)
    assert "ess_per_s" not in out  # weight-space ESS per second: meaningless for a BNN
    assert out["fit_time_s"] == 2.0 and out["r_hat_max"] == est.diagnostics_["r_hat_max"]


def _entropy(p):
    return -(p * np.log(np.clip(p, 1e-12, None))).sum(1)


def test_far_inputs_are_scored_like_sklearn_scores_them(fitted):
    from sklearn.metrics import roc_auc_score

    ds, est = fitted
    out = evaluate.evaluate(est, ds, seed=0)
    far = bc.data.far_shell(ds, len(ds.x_test), seed=0)
    h_test, h_far = _entropy(est.predict_proba(ds.x_test)), _entropy(est.predict_proba(far))
    expected = roc_auc_score(np.r_[np.zeros(len(h_test)), np.ones(len(h_far))],
                             np.r_[h_test, h_far])
    assert out["ood_auroc_far"] == pytest.approx(expected, abs=1e-6)
    assert out["mean_entropy_far"] == pytest.approx(h_far.mean(), abs=1e-5)


def test_tv_comes_with_the_reference_noise_of_its_inputs():
    """A net of the committed iris reference's shape is scored against it, and each TV sits
    beside the reference's own half-split TV read from its reference.json."""
    ds = bc.load_dataset("iris", seed=0)
    est = bc.NNClassifier(hidden_sizes=(20, 50, 20), activation="relu", num_epochs=5,
                          random_state=0).fit(ds.x_train, ds.y_train)
    out = evaluate.evaluate(est, ds, seed=0)
    from bnncompare.reference import DEFAULT_ROOT

    meta = json.loads((DEFAULT_ROOT / "iris" / "reference.json").read_text())
    halves = meta["diagnostics"]["tv_halves_mean"]
    assert out["tv_test_ref_noise"] == halves["test"]
    assert out["tv_ood_ref_noise"] == halves["ood"]
    assert 0 <= out["tv_test"] <= 1


def test_empty_or_broken_benchmark_json_counts_zero(tmp_path):
    empty = tmp_path / "empty.json"
    empty.write_text("")  # what pytest-benchmark writes when nothing ran
    assert sweep.count_benchmarks(empty) == 0
    assert sweep.count_benchmarks(tmp_path / "missing.json") == 0
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"benchmarks": [{}, {}]}))
    assert sweep.count_benchmarks(good) == 2


def test_a_run_where_nothing_ran_keeps_earlier_results(tmp_path):
    (tmp_path / "smoke.json").write_text("earlier results")
    tmp = tmp_path / ".smoke.json.tmp"
    tmp.write_text("")
    with pytest.raises(ValueError, match="no benchmark ran"):
        sweep._keep_results(tmp, tmp_path, "smoke", 5, 0)
    assert (tmp_path / "smoke.json").read_text() == "earlier results"
    assert not tmp.exists()


def test_an_interrupted_run_keeps_its_cells_beside_complete_results(tmp_path):
    tmp = tmp_path / ".fast.json.tmp"
    tmp.write_text(json.dumps({"benchmarks": [{}]}))
    result = sweep._keep_results(tmp, tmp_path, "fast", pytest.ExitCode.INTERRUPTED, 0)
    assert result.interrupted and result.json_path.name == "fast.partial.json"
    assert result.n_benchmarks == 1
