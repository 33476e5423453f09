"""A fitted sampler as ArviZ ``InferenceData`` (optional ``arviz`` extra).

Groups:

- ``posterior``: the kept weight draws, ``theta`` of dims (chain, draw, weight); the coordinate
  ``param`` names each weight (``W1[i,j]``, ``b1[j]``, layers counted from 1);
- ``sample_stats``: the sampler's per-iteration statistics when the estimator records them in
  ``sample_stats_`` (a dict of (chain, draw) arrays under ArviZ's own names: ``diverging``,
  ``tree_depth``, ``n_steps``, ``step_size``, ``energy``);
- given ``X``: ``posterior_predictive`` with ``proba`` (chain, draw, row, class), the class
  probabilities under every draw, and ``constant_data`` with the ``X`` they were computed on.

Judge a BNN's chains on ``posterior_predictive``: weight-space diagnostics cannot pass on a
BNN (permutation and sign symmetries put every chain in a different, equivalent mode), the
predictive can::

    idata = NUTSClassifier(num_chains=2, chain_method="vectorized").fit(X, y).to_arviz(X)
    az.rhat(idata.posterior_predictive, method="split")
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from bnncompare import net

__all__ = ["draws_by_chain", "param_names", "to_inference_data"]

_INSTALL = "to_arviz needs ArviZ: pip install 'bnncompare[arviz]'"


def param_names(spec: net.MLPSpec) -> list[str]:
    """Names of the flat weights in ``net``'s layout: per layer ``W{l}[i,j]`` (row-major,
    input ``i`` to unit ``j``) then ``b{l}[j]``, layers counted from 1."""
    names = []
    for layer, (fan_in, fan_out) in enumerate(spec.layer_shapes, start=1):
        names += [f"W{layer}[{i},{j}]" for i in range(fan_in) for j in range(fan_out)]
        names += [f"b{layer}[{j}]" for j in range(fan_out)]
    return names


def draws_by_chain(estimator) -> np.ndarray:
    """``samples_`` reshaped to (chain, draw, P).

    The draws are stored chain after chain; the chain count is the estimator's
    ``num_chains`` (1 when it has none, e.g. SGHMC's one trajectory).

    Raises
    ------
    ValueError
        When the stored draws do not split into ``num_chains`` equal chains.
    """
    check_is_fitted(estimator, "samples_")
    samples = np.asarray(estimator.samples_)
    chains = int(getattr(estimator, "num_chains", 1) or 1)
    if samples.shape[0] % chains:
        raise ValueError(f"{samples.shape[0]} stored draws do not split into {chains} chains")
    return samples.reshape(chains, -1, samples.shape[1])


def _sample_stats(estimator, shape: tuple[int, int]) -> dict[str, np.ndarray] | None:
    stats = getattr(estimator, "sample_stats_", None)
    if not stats:
        return None
    out = {}
    for name, values in stats.items():
        arr = np.asarray(values)
        if arr.shape[:2] != shape:
            raise ValueError(f"sample_stats_[{name!r}] has shape {arr.shape}, "
                             f"expected (chain, draw) = {shape}")
        out[name] = arr
    return out


@torch.no_grad()
def _predictive(estimator, X, shape: tuple[int, int]) -> np.ndarray:
    """Class probabilities under every stored draw, (chain, draw, row, class), float64.

    Every draw, whatever ``num_predictive_samples`` says: the chain structure is the point.
    """
    x = estimator._predict_input(X)
    proba = net.proba_samples(estimator.spec_, estimator._stored_samples(), x)
    return proba.double().cpu().numpy().reshape(*shape, *proba.shape[1:])


def to_inference_data(estimator, X=None):
    """ArviZ ``InferenceData`` of a fitted estimator with stored draws (``samples_``).

    Parameters
    ----------
    estimator : fitted estimator with ``samples_`` (NUTS, SGHMC, any ``StoredDrawsMixin``)
    X : array-like of shape (n, d), optional
        Inputs of the posterior predictive (``posterior_predictive.proba``); None: no
        predictive group.

    Returns
    -------
    arviz.InferenceData

    Raises
    ------
    ImportError
        When ArviZ is not installed.
    sklearn.exceptions.NotFittedError
        When the estimator is not fitted.
    """
    try:
        with warnings.catch_warnings():  # ArviZ 0.23 announces its 1.0 refactor at import
            warnings.simplefilter("ignore", FutureWarning)
            import arviz as az
    except ImportError as err:
        raise ImportError(_INSTALL) from err
    draws = draws_by_chain(estimator)
    shape = draws.shape[:2]
    coords = {"weight": np.arange(draws.shape[2])}
    dims = {"theta": ["weight"]}
    groups = {"sample_stats": _sample_stats(estimator, shape)}
    if X is not None:
        proba = _predictive(estimator, X, shape)
        groups["posterior_predictive"] = {"proba": proba}
        x = np.asarray(X, dtype=np.float32)
        groups["constant_data"] = {"X": x}
        coords.update(row=np.arange(x.shape[0]), feature=np.arange(x.shape[1]),
                      **{"class": estimator.classes_})
        dims.update(proba=["row", "class"], X=["row", "feature"])
    idata = az.from_dict(posterior={"theta": draws}, coords=coords, dims=dims,
                         **{k: v for k, v in groups.items() if v is not None})
    # non-index names beside the integer index: selectable, and cheap to carry
    idata.posterior = idata.posterior.assign_coords(
        param=("weight", param_names(estimator.spec_)))
    return idata
