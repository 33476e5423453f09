"""EnsembleClassifier: M MAP networks trained as one batched tensor, each exactly as alone."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import bnncompare as bc
from bnncompare import metrics
from bnncompare.methods.ensemble import EnsembleClassifier, member_seed

# Trained weights are O(1); two runs that differ only in float32 kernel round-off (batched
# baddbmm / folded GEMM vs NN's plain matmul, ~1 ulp = 1.2e-7 per op) drift apart by a few
# ulps per Adam step (measured <= 2.4e-7 after 40 steps). 1e-5 allows ~80 ulps; weights of
# differently seeded runs differ by > 0.1.
ROUND_OFF = 1e-5
SMALL_NET = dict(hidden_sizes=(5,), activation="tanh", num_epochs=40, lr=0.05)


@pytest.mark.parametrize("batch_size", [None, 7])
def test_one_member_is_the_nn(data, batch_size):
    # same seed, same settings: member 0 uses NN's init seed and its shuffle stream
    x, y = data
    ens = EnsembleClassifier(num_members=1, batch_size=batch_size, random_state=3, **SMALL_NET)
    nn = bc.NNClassifier(batch_size=batch_size, random_state=3, **SMALL_NET)
    ens.fit(x, y)
    nn.fit(x, y)
    assert ens.thetas_.shape == (1, nn.theta_.shape[0])
    np.testing.assert_allclose(ens.thetas_[0], nn.theta_, atol=ROUND_OFF)
    np.testing.assert_allclose(ens.losses_[:, 0], nn.losses_, rtol=ROUND_OFF)
    np.testing.assert_allclose(ens.predict_proba(x), nn.predict_proba(x), atol=ROUND_OFF)
    other = bc.NNClassifier(batch_size=batch_size, random_state=4, **SMALL_NET).fit(x, y)
    assert np.abs(other.theta_ - nn.theta_).max() > 0.1  # the tolerance tells seeds apart


def test_each_member_trains_as_if_alone(data, monkeypatch):
    # Member m of a batched ensemble == a one-member ensemble whose seed is member m's seed.
    # Full-batch: the shared minibatch shuffle is seeded by the ensemble's seed, not member m's.
    x, y = data
    batched = EnsembleClassifier(num_members=4, random_state=0, **SMALL_NET).fit(x, y)
    for m in range(4):
        target = member_seed(batched.seed_, m)
        monkeypatch.setattr(EnsembleClassifier, "_resolve_seed", lambda self, s=target: s)
        alone = EnsembleClassifier(num_members=1, **SMALL_NET).fit(x, y)
        assert alone.seed_ == target
        np.testing.assert_allclose(batched.thetas_[m], alone.thetas_[0], atol=ROUND_OFF)
        np.testing.assert_allclose(batched.losses_[:, m], alone.losses_[:, 0], rtol=ROUND_OFF)
    # and the members really are different networks
    members = torch.as_tensor(batched.thetas_)
    assert torch.cdist(members, members).fill_diagonal_(1.0).min() > 0.1


def test_member_seeds_avoid_the_shuffle_stream():
    seeds = [member_seed(100, m) for m in range(50)]
    assert seeds[0] == 100 and len(set(seeds)) == 50 and 101 not in seeds


def _count_member_grads(monkeypatch) -> list[int]:
    """Patch Adam.step to add up the member rows of the tensor it updates, per call."""
    counted: list[int] = []
    step = torch.optim.Adam.step

    def counting_step(self, *args, **kwargs):
        (param,) = [p for group in self.param_groups for p in group["params"]]
        counted.append(param.shape[0])  # one gradient of one member's loss per row
        return step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.Adam, "step", counting_step)
    return counted


@pytest.mark.parametrize(("num_members", "batch_size"), [(1, None), (3, None), (3, 7), (2, 9)])
def test_grad_evals_counted(data, monkeypatch, num_members, batch_size):
    counted = _count_member_grads(monkeypatch)
    est = EnsembleClassifier(hidden_sizes=(), num_members=num_members, num_epochs=6,
                             batch_size=batch_size, random_state=0).fit(*data)
    assert len(counted) == 6 * math.ceil(20 / (batch_size or 20))
    assert est.n_grad_evals_ == sum(counted) > 0


def test_predict_is_the_member_average(data):
    x, y = data
    est = EnsembleClassifier(hidden_sizes=(), num_members=3, num_epochs=20,
                             num_predictive_samples=50, random_state=0).fit(x, y)
    xd = torch.as_tensor(x, dtype=torch.float64)
    # softmax regression: W (2, 3) then b (3,)
    thetas = torch.as_tensor(est.thetas_, dtype=torch.float64)
    members = torch.softmax(xd @ thetas[:, :6].reshape(3, 2, 3) + thetas[:, None, 6:], -1)
    # num_predictive_samples is ignored: the draws are the 3 members
    samples = est.predict_proba_samples(x)
    assert samples.shape == (3, 20, 3)
    np.testing.assert_allclose(samples, members.numpy(), atol=1e-6)  # float32 probabilities
    np.testing.assert_allclose(est.predict_proba(x), members.mean(0).numpy(), atol=1e-6)


def test_budget_is_the_ensemble_size():
    assert EnsembleClassifier.budget_param == "num_members"
    assert EnsembleClassifier.scale_budget({"num_epochs": 30}, 2.0) == {
        "num_epochs": 30, "num_members": 10}
    assert EnsembleClassifier.scale_budget({"num_members": 4}, 0.1)["num_members"] == 1


@pytest.mark.parametrize(("param", "value"), [("num_members", 0), ("num_members", 1.5)])
def test_bad_num_members(data, param, value):
    with pytest.raises(ValueError, match=f"{param} must be a positive integer"):
        EnsembleClassifier(**{param: value}).fit(*data)


@pytest.mark.slow
def test_iris_accuracy_at_quality_settings(iris):
    # the seed's net (4-20-50-20-3, relu) at the documented quality settings of the fast profile
    est = EnsembleClassifier(hidden_sizes=(20, 50, 20), activation="relu", random_state=0,
                             **EnsembleClassifier.settings_for("quality", "fast"))
    proba = est.fit(iris.x_train, iris.y_train).predict_proba(iris.x_test)
    assert metrics.accuracy(iris.y_test, proba) >= 0.9
