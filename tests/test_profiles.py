"""Profiles: the quality-vs-compute curve cells are built from the registry, along each
method's own budget axis, and leave every existing cell as it was."""

from __future__ import annotations

from typing import ClassVar

import pytest

from bnncompare import profiles
from bnncompare.methods import METHODS, NNClassifier
from bnncompare.profiles import (
    PROFILES,
    Cell,
    budget_factor,
    budget_label,
    get_profile,
    parse_hidden,
)


class NoBudgetClassifier(NNClassifier):
    """A method without a budget axis: its curve is its one quality point."""

    budget_param = None


class TwoKnobClassifier(NNClassifier):
    """A budget spread over two keywords, scaled by its own ``scale_budget``."""

    budget_param = "num_epochs"
    settings: ClassVar[dict] = {"quality": {"fast": {"num_epochs": 40, "batch_size": 8}}}
    seen: ClassVar[list] = []

    @classmethod
    def scale_budget(cls, params, factor):
        cls.seen.append(factor)
        out = dict(params)
        out["num_epochs"] = round(params["num_epochs"] * factor)
        out["batch_size"] = round(params["batch_size"] * factor)
        return out


@pytest.fixture
def registry(monkeypatch):
    """The registry with the two test methods added (removed again after the test)."""
    monkeypatch.setitem(METHODS, "zz_nobudget", NoBudgetClassifier)
    monkeypatch.setitem(METHODS, "zz_twoknob", TwoKnobClassifier)
    TwoKnobClassifier.seen.clear()
    return METHODS


def test_budget_labels_round_trip_and_reject_bad_text():
    for factor in (0.125, 0.25, 0.5, 1.0, 2.0, 4.0):
        assert budget_factor(budget_label(factor)) == factor
    assert budget_label(0.5) == "x0.5" and budget_label(2.0) == "x2"
    for bad in ("0.5", "x", "x-1", "xabc", "x0"):
        with pytest.raises(ValueError, match="budget label"):
            budget_factor(bad)


def test_curve_cells_follow_each_methods_budget_axis(registry):
    fast = get_profile("fast", "nn,zz_nobudget,zz_twoknob", seeds=1)
    cells = fast.curve_cells()
    # a method without a budget axis adds no cell: its one point is the quality cell
    assert not [c for c in cells if c.method == "zz_nobudget"]
    own = [c for c in cells if c.method == "zz_twoknob"]
    # factor 1 is the quality cell itself, measured once
    expected = [f for f in fast.budget_factors if f != 1.0]
    assert [(c.dataset, c.budget) for c in own] == [
        (d, budget_label(f)) for d in fast.curve_datasets for f in expected]
    # scale_budget of the class is what sets the keywords (both of them here)
    for cell in own:
        f = budget_factor(cell.budget)
        params = fast.fit_params(cell)
        assert (params["num_epochs"], params["batch_size"]) == (round(40 * f), round(8 * f))
    assert set(TwoKnobClassifier.seen) >= set(expected)


def test_curve_cell_params_carry_only_what_changes_the_work(registry):
    fast = get_profile("fast", "nn")
    cell = fast.curve_cells()[1]
    assert cell.params() == {"method": "nn", "dataset": "iris", "budget": "x0.25",
                             "seed": profiles.SEED + 1, "hidden": "20x50x20"}
    assert cell.id == "iris-nn-x0.25-s1-20x50x20"
    quality = NNClassifier.settings_for("quality", "fast")["num_epochs"]
    assert fast.fit_params(cell) == {
        "hidden_sizes": parse_hidden("20x50x20"), "random_state": profiles.SEED + 1,
        "activation": "relu", "num_epochs": round(quality * 0.25)}


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_quality_cells_are_paired_over_the_same_seeds(name):
    profile = get_profile(name)
    cells = profile.quality_cells() + profile.curve_cells()
    seeds = {}
    for cell in cells:
        seeds.setdefault((cell.method, cell.dataset, cell.budget), []).append(cell.seed)
        assert profile.fit_params(cell)["random_state"] == cell.seed
    assert {tuple(s) for s in seeds.values()} == {profile.seeds}
    assert profile.seeds == tuple(range(profiles.SEED, profiles.SEED + profile.n_seeds))
    assert get_profile(name, seeds=2).seeds == (profiles.SEED, profiles.SEED + 1)


@pytest.mark.parametrize("bad", [0, -1, True, 1.5])
def test_seeds_must_be_a_positive_integer(bad):
    with pytest.raises(ValueError, match="seeds must be a positive integer"):
        get_profile("smoke", seeds=bad)


def test_curve_cells_skip_a_factor_that_rounds_to_an_earlier_point(monkeypatch):
    class FewMembers(NNClassifier):
        budget_param = "num_epochs"
        settings: ClassVar[dict] = {"quality": {"full": {"num_epochs": 5}}}

    monkeypatch.setitem(METHODS, "zz_few", FewMembers)
    full = get_profile("full", "zz_few", seeds=1)
    epochs = [full.fit_params(c)["num_epochs"] for c in full.curve_cells()]
    # 5 x (0.125, 0.25, 0.5, 2, 4) rounds to 1, 1, 2 (banker's rounding of 2.5), 10, 20:
    # the second 1 would repeat the first point's work
    assert epochs == [1, 2, 10, 20] * len(full.curve_datasets)


def test_every_registered_method_with_a_budget_gets_a_curve():
    fast = get_profile("fast")
    with_budget = [m for m in fast.method_names if METHODS[m].budget_param]
    assert sorted({c.method for c in fast.curve_cells()}) == sorted(with_budget)


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_existing_cells_keep_their_settings(name):
    """Adding curves (and moons) changes no existing quality cell's estimator keywords."""
    profile = get_profile(name)
    for cell in profile.quality_cells():
        assert cell.budget is None
        expected = METHODS[cell.method].settings_for("quality", name)
        params = profile.fit_params(cell)
        assert {k: params[k] for k in expected} == expected


def test_curve_datasets_must_be_quality_datasets():
    import dataclasses

    bad = dataclasses.replace(PROFILES["smoke"], curve_datasets=("digits",))
    with pytest.raises(ValueError, match="not a quality dataset"):
        bad.curve_cells()


def test_moons_is_a_quality_dataset_outside_smoke():
    assert "moons" not in {q.dataset for q in PROFILES["smoke"].quality}
    for name in ("fast", "full"):
        moons = [q for q in PROFILES[name].quality if q.dataset == "moons"]
        assert [(q.hidden, q.activation) for q in moons] == [("16x16", "relu")]
        assert Cell("nn", "moons", "16x16", seed=profiles.SEED) in PROFILES[name].quality_cells()


def test_synthetic_sweeps_fit_the_profiles_activation_not_the_estimator_default():
    """The estimators' default activation is relu; the synthetic sweeps keep their tanh net
    (a change of default must not change a benchmark's workload)."""
    for name in sorted(PROFILES):
        profile = get_profile(name)
        for cell in profile.fit_cells() + profile.predict_samples_cells():
            assert profile.fit_params(cell)["activation"] == profile.activation == "tanh"
