"""Reference posteriors: storage, function-space diagnostics, scores against a reference, CLI."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from bnncompare import data, net
from bnncompare import reference as ref
from bnncompare.cli import main
from bnncompare.evaluate import evaluate
from bnncompare.methods import METHODS, convergence

# float16 storage rounds each probability by at most 2**-12 (spacing 2**-11 on [0.5, 1));
# after renormalising a row, a TV (half the L1 distance over C classes) moves by < C * 2**-12.
F16_TV_TOL = 2 * 2.0**-12


def _dirichlet(rng, shape, n_classes):
    return rng.dirichlet(np.ones(n_classes), size=shape)


# --------------------------------------------------------------------------- diagnostics


def test_predictive_r_hat_near_one_for_chains_of_one_distribution():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((4, 500, 6, 3))  # iid draws: every chain samples one target
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    r_hat = ref.predictive_r_hat(p)
    assert r_hat.shape == (6, 3)
    # 18 quantities, 8 half-chains of 250 iid draws: R-hat - 1 is O(1/250); 1.02 is 5x that
    assert np.all(r_hat < 1.02) and np.all(r_hat > 0.99)


def test_predictive_r_hat_far_above_one_for_chains_in_different_modes():
    rng = np.random.default_rng(1)
    logits = 0.3 * rng.standard_normal((4, 500, 6, 3))
    logits[2:, :, :, 0] += 3.0  # chains 2 and 3 sit in a mode that prefers class 0
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    assert ref.predictive_r_hat(p).max() > 2.0


def test_predictive_r_hat_is_computed_per_quantity_across_chunks(monkeypatch):
    rng = np.random.default_rng(3)
    p = rng.dirichlet(np.ones(3), size=(3, 12, 5))  # (chains, draws, n, C)
    whole = ref.predictive_r_hat(p)
    monkeypatch.setattr(convergence, "_R_HAT_CHUNK", 4)  # 15 quantities in chunks of 4, 4, 4, 3
    np.testing.assert_array_equal(ref.predictive_r_hat(p), whole)


def test_predictive_r_hat_counts_a_constant_probability_as_converged():
    p = np.zeros((2, 8, 1, 2))
    p[..., 0] = 1.0
    np.testing.assert_array_equal(ref.predictive_r_hat(p), np.ones((1, 2)))


def test_half_split_tv_known_answer():
    a, b = np.array([0.7, 0.2, 0.1]), np.array([0.1, 0.2, 0.7])
    means = np.stack([a, a, b, b])[:, None, :].repeat(5, axis=1)  # (4 chains, 5 inputs, 3)
    np.testing.assert_allclose(ref.half_split_tv(means), np.full(5, 0.6))  # 0.5*(.6+0+.6)
    same = np.stack([a] * 4)[:, None, :]
    np.testing.assert_allclose(ref.half_split_tv(same), [0.0])


@pytest.mark.parametrize("bad", [np.ones((10, 2, 2)) / 2, np.ones((3, 3, 2, 2)) / 2])
def test_predictive_r_hat_rejects_other_shapes_or_too_few_draws(bad):
    with pytest.raises(ValueError, match=r"\(chains, draws >= 4, n, C\)"):
        ref.predictive_r_hat(bad)


def test_predictive_r_hat_splits_one_chain_in_halves():
    p = np.full((1, 8, 1, 2), 0.5)
    p[0, 4:, 0] = [0.9, 0.1]  # its halves disagree
    assert np.isinf(ref.predictive_r_hat(p)).all()


# --------------------------------------------------------------------------- storage


def test_save_load_round_trip(tmp_path):
    rng = np.random.default_rng(2)
    proba = {"test": _dirichlet(rng, (3, 10, 7), 3), "ood": _dirichlet(rng, (3, 10, 4), 3),
             "grid": _dirichlet(rng, (3, 10, 9), 3)}
    meta = {"dataset": "toy", "model": {}, "data": {}}
    axes = (np.linspace(0, 1, 3), np.linspace(-1, 1, 3))
    ref.save_reference(tmp_path / "toy", proba, meta, blocks=3, grid_axes=axes)
    loaded = ref.load_reference("toy", tmp_path)
    assert loaded.meta == meta
    assert loaded.blocks["test"].shape == (3, 3, 7, 3)  # (chains, blocks, n, C)
    assert loaded.blocks["grid"].shape == (3, 1, 9, 3)  # the grid keeps each chain's mean
    np.testing.assert_array_equal(loaded.block_sizes, [4, 3, 3])  # 10 draws in 3 blocks
    for name in proba:  # block means weighted by their sizes give back each chain's mean
        np.testing.assert_allclose(loaded.chain_means(name), proba[name].mean(1), atol=1e-3)
    np.testing.assert_allclose(loaded.test, proba["test"].mean((0, 1)), atol=1e-3)
    np.testing.assert_allclose(loaded.ood.sum(1), 1.0, atol=1e-12)  # renormalised rows
    np.testing.assert_array_equal(loaded.grid_axes[1], np.float32(axes[1]))


def test_load_reference_missing_says_how_to_make_one(tmp_path):
    with pytest.raises(FileNotFoundError, match="bnncompare reference moons"):
        ref.load_reference("moons", tmp_path)
    assert ref.find_reference("moons", tmp_path) is None


# --------------------------------------------------------------------------- scores


@pytest.fixture(scope="module")
def moons():
    return data.load_dataset("moons", seed=0)


def _fake_estimator(ds, hidden=(16, 16), activation="relu", prior_scale=1.0):
    """An 'estimator' whose predictive is a fixed smooth function of x."""
    def predict_proba(x):
        z = 2.0 * np.asarray(x, np.float64) @ np.array([1.0, -1.5])
        p1 = 1.0 / (1.0 + np.exp(-z))
        return np.stack([1.0 - p1, p1], axis=1)

    spec = net.MLPSpec(ds.n_features, ds.n_classes, hidden, activation)
    return SimpleNamespace(spec_=spec, prior_scale=prior_scale, classes_=np.arange(2),
                           predict_proba=predict_proba)


def _store_reference(root, ds, predictive, spec=None, prior_scale=1.0):
    """A reference whose every chain and draw equals ``predictive(x)``."""
    sets, info = ref.reference_inputs(ds)
    spec = spec or net.MLPSpec(ds.n_features, ds.n_classes, (16, 16), "relu")
    proba = {k: np.broadcast_to(predictive(x), (2, 4, *predictive(x).shape))
             for k, x in sets.items() if k != "grid"}
    meta = {"dataset": ds.name, "model": ref.model_meta(spec, prior_scale, np.arange(2)),
            "data": info}
    ref.save_reference(root / ds.name, proba, meta)
    return sets


def test_reference_equal_to_own_predictive_scores_tv_0_agreement_1(tmp_path, moons):
    est = _fake_estimator(moons)
    sets = _store_reference(tmp_path, moons, est.predict_proba)
    scores = ref.reference_scores(est, moons, root=tmp_path)
    assert set(scores) == {"tv_test", "tv_ood", "agreement_test", "agreement_ood"}
    assert scores["tv_test"] < F16_TV_TOL and scores["tv_ood"] < F16_TV_TOL
    for name in ("test", "ood"):
        p = est.predict_proba(sets[name])
        # float16 can flip the top class only where the two classes are within 2**-11
        near_tie = np.mean(np.abs(p[:, 0] - p[:, 1]) < 2.0**-11)
        assert scores[f"agreement_{name}"] >= 1.0 - near_tie
        assert near_tie < 0.01


def test_reference_of_the_flipped_predictive_known_answer(tmp_path, moons):
    est = _fake_estimator(moons)
    sets = _store_reference(tmp_path, moons, lambda x: est.predict_proba(x)[:, ::-1])
    scores = ref.reference_scores(est, moons, root=tmp_path)
    for name in ("test", "ood"):
        p = est.predict_proba(sets[name])
        # TV between (a, b) and (b, a) is |a - b|; the top class always differs (no exact ties)
        expected = np.mean(np.abs(p[:, 0] - p[:, 1]))
        assert scores[f"tv_{name}"] == pytest.approx(expected, abs=F16_TV_TOL)
        assert scores[f"agreement_{name}"] <= np.mean(np.abs(p[:, 0] - p[:, 1]) < 2.0**-11)


@pytest.mark.parametrize("change", [{"hidden": (8,)}, {"activation": "tanh"},
                                    {"prior_scale": 2.0}])
def test_mismatched_architecture_gives_none(tmp_path, moons, change):
    _store_reference(tmp_path, moons, _fake_estimator(moons).predict_proba)
    assert ref.reference_scores(_fake_estimator(moons, **change), moons, root=tmp_path) is None


def test_other_split_or_no_reference_gives_none(tmp_path, moons):
    est = _fake_estimator(moons)
    assert ref.reference_scores(est, moons, root=tmp_path) is None  # nothing stored
    _store_reference(tmp_path, moons, est.predict_proba)
    other = data.load_dataset("moons", seed=1)  # same name, different rows
    assert ref.reference_scores(est, other, root=tmp_path) is None


def _as_fitted(est):
    """The fake estimator plus what ``evaluate`` reads from a fitted one (no torch fit: the
    first torch.optim optimizer imports torch._dynamo, seconds of a test's time)."""
    est.predict_proba_samples = lambda x: est.predict_proba(x)[None]
    est.n_grad_evals_, est.n_params_, est.fit_time_s_ = 0, est.spec_.n_params, 1.0
    return est


def test_evaluate_adds_reference_keys_only_when_the_net_matches(tmp_path, moons, monkeypatch):
    monkeypatch.setenv("BNNCOMPARE_REFERENCE_DIR", str(tmp_path))
    est = _as_fitted(_fake_estimator(moons))
    _store_reference(tmp_path, moons, est.predict_proba)
    out = evaluate(est, moons, seed=0)
    assert out["tv_test"] < F16_TV_TOL and out["tv_ood"] < F16_TV_TOL
    assert out["agreement_test"] > 0.99 and 0 <= out["ood_auroc"] <= 1
    other = _as_fitted(_fake_estimator(moons, hidden=(4,)))
    assert not {"tv_test", "agreement_ood"} & set(evaluate(other, moons, seed=0))


# --------------------------------------------------------------------------- running


def test_the_reference_names_no_method():
    """It gets its sampler from the registry (``methods.reference_sampler``), never a method's
    module or class by name."""
    method_modules = {cls.__module__ for cls in METHODS.values()}
    for path in Path(ref.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                names = {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
                assert not names & method_modules, (path.name, node.module)
                assert not any(a.name.endswith("Classifier") for a in node.names), path.name
            elif isinstance(node, ast.Import):
                assert not {a.name for a in node.names} & method_modules, path.name


def test_architecture_is_the_quality_benchmarks_net():
    assert ref.architecture("iris") == ((20, 50, 20), "relu", 1.0)
    assert ref.architecture("digits") == ((50,), "relu", 1.0)
    assert ref.architecture("moons") == ((16, 16), "relu", 1.0)


def test_cli_end_to_end_and_parallel_equals_sequential(tmp_path, capsys):
    tiny = ["--chains", "2", "--warmup", "10", "--draws", "10", "--depth", "3", "--no-progress"]
    assert main(["reference", "moons", *tiny, "--workers", "2", "--out", str(tmp_path / "p")]) == 0
    assert "reference moons written to" in capsys.readouterr().out
    meta = json.loads((tmp_path / "p" / "moons" / "reference.json").read_text())
    assert meta["model"]["hidden_sizes"] == [16, 16] and meta["settings"]["chains"] == 2
    assert meta["settings"]["chain_seeds"] == ref.chain_seeds(0, 2)
    assert [c["chain"] for c in meta["chains"]] == [0, 1]
    assert all(c["n_grad_evals"] > 0 and c["wall_s"] > 0 for c in meta["chains"])
    assert meta["provenance"]["versions"]["torch"] and meta["provenance"]["machine"]["cpu"]
    assert meta["provenance"]["command"].startswith("bnncompare reference moons")
    assert set(meta["diagnostics"]["predictive_r_hat_max"]) == {"test", "ood", "train"}
    loaded = ref.load_reference("moons", tmp_path / "p")
    assert loaded.blocks["test"].shape == (2, 2, 500, 2)
    assert loaded.blocks["train"].shape == (2, 2, 200, 2)
    assert loaded.grid.shape == (ref.GRID_POINTS**2, 2)

    assert main(["reference", "moons", *tiny, "--workers", "1", "--out", str(tmp_path / "s")]) == 0
    sequential = ref.load_reference("moons", tmp_path / "s")
    for name, blocks in loaded.blocks.items():
        np.testing.assert_array_equal(blocks, sequential.blocks[name])
    assert sequential.meta["diagnostics"] == meta["diagnostics"]


@pytest.mark.parametrize(("argv", "message"), [
    (["reference", "nope"], "unknown dataset 'nope'"),
    (["reference", "moons", "--chains", "1"], "chains must be >= 2"),
    (["reference", "moons", "--workers", "0"], "workers must be a positive integer"),
])
def test_cli_bad_input_exits_2_with_one_line(argv, message, capsys, tmp_path):
    assert main([*argv, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and err.startswith("bnncompare reference:")
