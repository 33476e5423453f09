"""ArviZ export of the samplers' draws (``to_arviz``), checked against the project's own
convergence numbers on the same draws (skipped without the ``arviz`` extra)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError

from bnncompare import net
from bnncompare.export import draws_by_chain, param_names
from bnncompare.methods import NUTSClassifier, SGHMCClassifier, convergence

with warnings.catch_warnings():  # ArviZ 0.23 announces its 1.0 refactor at import
    warnings.simplefilter("ignore", FutureWarning)
    az = pytest.importorskip("arviz", reason="needs the arviz extra: pip install '.[arviz]'")

CHAINS, DRAWS = 2, 100
STAT_NAMES = ("diverging", "tree_depth", "n_steps", "step_size", "energy")


@pytest.fixture(scope="module")
def iris():
    from bnncompare.data import load_dataset
    return load_dataset("iris", seed=0)


@pytest.fixture(scope="module")
def nuts(iris):
    """Two vectorised chains of a small net: cheap, and enough draws for both diagnostics."""
    est = NUTSClassifier(hidden_sizes=(5,), num_warmup=DRAWS, num_samples=DRAWS,
                         num_chains=CHAINS, chain_method="vectorized", n_jobs=1,
                         max_tree_depth=4, random_state=0)
    with warnings.catch_warnings():  # a short fit may warn that it has not converged
        warnings.simplefilter("ignore", RuntimeWarning)
        return est.fit(iris.x_train, iris.y_train)


@pytest.fixture(scope="module")
def sghmc(iris):
    est = SGHMCClassifier(random_state=0, **SGHMCClassifier.settings_for("test"))
    return est.fit(iris.x_train, iris.y_train)


def _moving(proba: np.ndarray) -> np.ndarray:
    # entries that no draw moves have no ESS or R-hat to compare (ArviZ: NaN or the size)
    return proba.std(axis=(0, 1)) > 1e-6


def test_posterior_shapes_and_coords(nuts, iris):
    idata = nuts.to_arviz(iris.x_test)
    post = idata.posterior
    assert post["theta"].dims == ("chain", "draw", "weight")
    assert post["theta"].shape == (CHAINS, DRAWS, nuts.n_params_)
    assert list(post["param"].values) == param_names(nuts.spec_)
    # chain after chain: chain 1's first draw is the stored draw right after chain 0's last
    np.testing.assert_array_equal(post["theta"].values[1, 0], nuts.samples_[DRAWS])
    proba = idata.posterior_predictive["proba"]
    assert proba.dims == ("chain", "draw", "row", "class")
    assert proba.shape == (CHAINS, DRAWS, len(iris.x_test), len(nuts.classes_))
    np.testing.assert_array_equal(proba["class"].values, nuts.classes_)
    np.testing.assert_allclose(proba.values.sum(-1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(idata.constant_data["X"].values, iris.x_test)


def test_predictive_is_every_draw_of_the_fit(nuts, iris):
    """The exported predictive is the forward pass under each stored draw, whatever
    ``num_predictive_samples`` thins prediction to."""
    est = nuts.set_params(num_predictive_samples=3)
    try:
        proba = est.to_arviz(iris.x_test).posterior_predictive["proba"].values
    finally:
        est.set_params(num_predictive_samples=None)
    theta = torch.as_tensor(nuts.samples_)
    expected = net.proba_samples(nuts.spec_, theta, torch.as_tensor(iris.x_test)).numpy()
    np.testing.assert_allclose(proba.reshape(expected.shape), expected, rtol=1e-5, atol=1e-7)


def test_arviz_rhat_equals_ours(nuts, iris):
    """ArviZ's classic split R-hat is the formula of ``convergence.predictive_r_hat``."""
    pp = nuts.to_arviz(iris.x_test).posterior_predictive
    proba = pp["proba"].values
    moving = _moving(proba)
    assert moving.sum() > 10
    theirs = az.rhat(pp, method="split")["proba"].values
    ours = convergence.predictive_r_hat(proba)
    np.testing.assert_allclose(theirs[moving], ours[moving], rtol=1e-8)
    # the rank-normalised default runs too; it is a different statistic (ranks, and the worse
    # of bulk and folded), which on chains this short can sit a tenth or more from the classic
    ranked = az.rhat(pp)["proba"].values[moving]
    assert np.all(np.isfinite(ranked)) and ranked.min() > 0.9


def test_arviz_ess_close_to_ours(nuts, iris):
    """Same draws, the same Geyer estimator up to details: ArviZ splits each chain in halves
    and truncates the autocorrelation sum differently. The typical entry agrees within a few
    per cent; the minimum does not have to (it is the entry whose chain halves disagree most,
    which the split counts against it: 0.6x to 1.6x ours over three seeds of this fit)."""
    pp = nuts.to_arviz(iris.x_test).posterior_predictive
    proba = pp["proba"].values
    moving = _moving(proba)
    theirs = az.ess(pp, method="mean")["proba"].values[moving]
    flat = torch.as_tensor(proba.reshape(CHAINS, DRAWS, -1))
    ours = convergence.ess_and_r_hat(flat)[0].numpy().reshape(moving.shape)[moving]
    assert np.median(np.abs(theirs / ours - 1)) < 0.15
    assert 0.85 < np.median(theirs) / np.median(ours) < 1.15
    assert np.all(az.ess(pp)["proba"].values[moving] > 0)  # the bulk-ESS default runs


def test_sample_stats_exported(nuts, iris, monkeypatch):
    """``sample_stats_`` (chain, draw) arrays become ArviZ's ``sample_stats`` group."""
    if getattr(nuts, "sample_stats_", None) is None:  # an estimator that records none yet
        stats = {"diverging": np.zeros((CHAINS, DRAWS), bool),
                 "tree_depth": np.full((CHAINS, DRAWS), 4),
                 "n_steps": np.full((CHAINS, DRAWS), 15),
                 "step_size": np.full((CHAINS, DRAWS), 0.1),
                 "energy": np.random.default_rng(0).normal(size=(CHAINS, DRAWS))}
        monkeypatch.setattr(nuts, "sample_stats_", stats, raising=False)
    idata = nuts.to_arviz()
    assert "posterior_predictive" not in idata.groups()
    ss = idata.sample_stats
    for name in set(STAT_NAMES) & set(nuts.sample_stats_):
        assert ss[name].shape == (CHAINS, DRAWS)
        np.testing.assert_array_equal(ss[name].values, np.asarray(nuts.sample_stats_[name]))
    if "diverging" in ss:
        assert ss["diverging"].dtype == bool
        assert int(ss["diverging"].sum()) == nuts.diagnostics_["divergences"]
    if "energy" in ss:
        assert np.isfinite(az.bfmi(idata)).all()  # ArviZ reads the energy where it expects it


def test_sample_stats_shape_is_checked(sghmc, monkeypatch):
    monkeypatch.setattr(sghmc, "sample_stats_", {"step_size": np.ones(3)}, raising=False)
    with pytest.raises(ValueError, match="sample_stats_"):
        sghmc.to_arviz()


def test_sghmc_is_one_chain(sghmc, iris):
    idata = sghmc.to_arviz(iris.x_test)
    n_draws = sghmc.samples_.shape[0]
    assert idata.posterior["theta"].shape == (1, n_draws, sghmc.n_params_)
    assert "sample_stats" not in idata.groups()
    ess = az.ess(idata.posterior_predictive, method="mean")["proba"].values
    assert np.nanmin(ess) > 0


def test_unfitted_and_bad_chains(sghmc):
    with pytest.raises(NotFittedError):
        SGHMCClassifier().to_arviz()
    est = NUTSClassifier(num_chains=3)
    est.samples_ = np.zeros((10, 4), np.float32)
    with pytest.raises(ValueError, match="3 chains"):
        draws_by_chain(est)
