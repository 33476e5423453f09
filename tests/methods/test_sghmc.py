"""Cyclical SGHMC: draws against the importance-sampling reference posterior, the step count
counted independently, and the divergence guard."""

from __future__ import annotations

import numpy as np
import pytest
import torch

# the 20-row softmax regression and its importance-sampling reference are shared, not copied
from test_known_answers import X_TEST, reference, tiny  # noqa: F401 (pytest fixtures)

import bnncompare as bc
from bnncompare.methods import sghmc
from bnncompare.methods.sghmc import cycle_plan


@pytest.mark.parametrize(("num_samples", "num_cycles", "expected"), [
    (10, 4, [3, 3, 2, 2]), (8, 4, [2, 2, 2, 2]), (3, 4, [1, 1, 1]), (7, 1, [7])])
def test_cycle_plan_spreads_draws_over_cycles(num_samples, num_cycles, expected):
    assert cycle_plan(num_samples, num_cycles, thin=3) == expected


@pytest.mark.parametrize(("batch_size", "per_step"), [(None, [20]), (7, [7, 7, 6]), (20, [20])])
def test_grad_evals_counted_independently(data, monkeypatch, batch_size, per_step):
    """Every gradient step evaluates the net once on one minibatch: count the calls."""
    rows = []
    logits = sghmc.net.logits

    def counting(spec, theta, x):
        if theta.requires_grad:  # fit-time calls (prediction runs under no_grad)
            rows.append(x.shape[0])
        return logits(spec, theta, x)

    monkeypatch.setattr(sghmc.net, "logits", counting)
    est = bc.SGHMCClassifier(hidden_sizes=(), num_samples=10, thin=3, num_cycles=4,
                             batch_size=batch_size, random_state=0).fit(*data)
    steps = 2 * 10 * 3  # each kept draw costs `thin` sampling and `thin` exploring steps
    assert est.n_grad_evals_ == len(rows) == steps == len(est.losses_)
    # minibatches run through shuffled epochs: sizes cycle through one epoch's split
    assert rows == (per_step * steps)[:steps]
    assert est.samples_.shape == (10, 9)


def test_draws_thinned_for_prediction(data):
    est = bc.SGHMCClassifier(hidden_sizes=(), num_samples=12, thin=2, random_state=0).fit(*data)
    x = data[0]
    assert est.predict_proba_samples(x).shape == (12, 20, 3)
    est.set_params(num_predictive_samples=4)
    samples = est.predict_proba_samples(x)  # draws 0, 4, 7, 11 (evenly spaced, rounded)
    kept = torch.as_tensor(est.samples_[[0, 4, 7, 11]])
    expected = torch.softmax(bc.net.logits(est.spec_, kept, torch.as_tensor(x)), -1)
    np.testing.assert_allclose(samples, expected.double().numpy(), atol=1e-6)
    est.set_params(num_predictive_samples=13)
    with pytest.raises(ValueError, match="num_predictive_samples=13 exceeds the 12 posterior"):
        est.predict_proba(x)


def test_divergence_raises_instead_of_nan_probabilities(data):
    # lr = 1e4 on the per-row loss: the first exploration steps overshoot, logits overflow
    est = bc.SGHMCClassifier(hidden_sizes=(), num_samples=10, thin=3, lr=1e4, random_state=0)
    with pytest.raises(FloatingPointError, match=r"SGHMC diverged: non-finite weights by step "
                                                 r"\d+ of 60 \(lr=10000.0"):
        est.fit(*data)
    # the same run at a sane step size is finite: the guard is not firing on every fit
    sane = bc.SGHMCClassifier(hidden_sizes=(), num_samples=10, thin=3, random_state=0)
    assert np.isfinite(sane.fit(*data).predict_proba(data[0])).all()


@pytest.mark.parametrize(("param", "value", "match"), [
    ("friction", 0.0, r"friction must be a number in \(0, 1\], got 0.0"),
    ("friction", 1.5, "friction"), ("friction", "high", "friction"),
    ("friction", True, "friction"), ("friction", float("nan"), "friction"),
    ("thin", 0, "thin must be a positive integer"),
    ("num_cycles", 0, "num_cycles must be a positive integer")])
def test_bad_hyper_parameters_raise(data, param, value, match):
    with pytest.raises(ValueError, match=match):
        bc.SGHMCClassifier(**{param: value}).fit(*data)


@pytest.mark.slow
def test_sghmc_close_to_importance_sampling(tiny, reference):  # noqa: F811 (fixtures)
    # minibatches of 5 of the 20 rows; 4 cycles of 1,500 steps, 250 draws kept from each
    est = bc.SGHMCClassifier(hidden_sizes=(), num_samples=1000, thin=3, num_cycles=4, lr=0.2,
                             batch_size=5, random_state=0).fit(*tiny)
    # SGHMC has no accept/reject step and the draws of a cycle are autocorrelated (ESS of a
    # few hundred at best), so tolerances are wider than NUTS's (0.03 / 0.2 sd / 15 %).
    # Measured (seeds 0, 1): predictive max |diff| 0.037, 0.025; mean 0.21, 0.30 posterior sd;
    # sd ratio 0.79-1.23. With lr = 0.02 the chain mixes too slowly in the prior-only
    # direction (softmax's shift invariance) and fails: 0.13 predictive, 0.98 sd in the mean.
    proba = est.predict_proba(X_TEST.astype(np.float32))
    assert np.abs(proba - reference["pred"]).max() <= 0.06
    draws = est.samples_.astype(np.float64)
    assert draws.shape == (1000, 9)
    assert (np.abs(draws.mean(0) - reference["mean"]) / reference["sd"]).max() <= 0.4
    ratio = draws.std(0) / reference["sd"]
    assert ratio.min() >= 0.7 and ratio.max() <= 1.35


@pytest.mark.slow
def test_iris_accuracy_at_quality_settings(iris):
    """The seed's 4-20-50-20-3 relu net at the documented ``quality`` settings."""
    settings = bc.SGHMCClassifier.settings_for("quality", "fast")
    est = bc.SGHMCClassifier(hidden_sizes=(20, 50, 20), activation="relu", random_state=0,
                             **settings).fit(iris.x_train, iris.y_train)
    assert est.n_grad_evals_ == 2 * settings["num_samples"] * est.thin
    accuracy = np.mean(est.predict(iris.x_test) == iris.y_test)
    assert accuracy >= 0.9, f"iris test accuracy {accuracy:.3f} < 0.9"
