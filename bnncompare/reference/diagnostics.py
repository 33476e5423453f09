"""Function-space convergence of a reference's chains: predictive R-hat, half-split TV.

Convergence is judged in function space: split-R-hat across chains of the predictive
probabilities (``bnncompare.methods.convergence``, as for the NUTS estimator's own check;
target <= 1.01 on test rows) and the total variation between the predictive
means of the two halves of the chains (target <= 0.01). Weight-space R-hat is reported but
meaningless here: permutation and sign symmetries put every chain in a different, equivalent
mode.
"""

from __future__ import annotations

import numpy as np
import torch

from bnncompare import metrics
from bnncompare.methods.convergence import (
    REFERENCE_R_HAT_LIMIT,
    finite_max,
    predictive_r_hat,
    split_r_hat,
)

__all__ = ["TARGETS", "diagnose", "half_split_tv", "meets_targets", "predictive_r_hat"]

#: the convergence targets of a committed reference: its largest predictive R-hat and mean
#: half-split TV on the test rows (the TV target holds for the OOD inputs too)
TARGETS = {"predictive_r_hat_test": REFERENCE_R_HAT_LIMIT, "tv_halves_test": 0.01}
_WEIGHT_R_HAT_NOTE = ("weight-space split-R-hat across chains: meaningless for a BNN, whose "
                      "permutation and sign symmetries put every chain in a different, "
                      "equivalent mode; judge convergence by the predictive R-hat")


def half_split_tv(chain_means: np.ndarray) -> np.ndarray:
    """Per-input TV between the predictive means of the first and second half of the chains.

    Parameters
    ----------
    chain_means : array of shape (chains, n, C)
        Each chain's predictive mean; ``chains >= 2`` (an odd last chain joins the second half).

    Returns
    -------
    ndarray of shape (n,)
    """
    m = np.asarray(chain_means, dtype=np.float64)
    if m.ndim != 3 or m.shape[0] < 2:
        raise ValueError(f"chain_means must be (chains >= 2, n, C), got shape {m.shape}")
    half = m.shape[0] // 2
    return metrics.total_variation(m[:half].mean(0), m[half:].mean(0))


def diagnose(proba: dict, draws: np.ndarray, y_test: np.ndarray) -> dict:
    """Function-space diagnostics of every draw of every chain (see the module docstring).

    Parameters
    ----------
    proba : dict
        Input-set name -> per-draw predictive of every chain, ``(chains, draws, n, C)``.
    draws : array of shape (chains, draws, P)
        The weight draws (for the weight-space R-hat, reported with a note on why it fails).
    y_test : array of int
        Labels of the ``test`` set (accuracy and NLL of the pooled predictive).

    Returns
    -------
    dict
        JSON-ready: the largest predictive R-hat and the mean and largest half-split TV of
        every input set, the weight-space R-hat, test accuracy and NLL.
    """
    r_hat = {name: float(np.max(predictive_r_hat(p))) for name, p in proba.items()
             if name != "grid"}
    tv = {name: half_split_tv(p.mean(1)) for name, p in proba.items()}
    weights = split_r_hat(torch.as_tensor(draws, dtype=torch.float64))
    mean_test = proba["test"].mean((0, 1), dtype=np.float64)
    mean_test /= mean_test.sum(1, keepdims=True)
    return {
        "predictive_r_hat_max": r_hat,
        "tv_halves_mean": {k: float(v.mean()) for k, v in tv.items()},
        "tv_halves_max": {k: float(v.max()) for k, v in tv.items()},
        "weight_r_hat_max": finite_max(weights),
        "weight_r_hat_note": _WEIGHT_R_HAT_NOTE,
        "test_accuracy": metrics.accuracy(y_test, mean_test),
        "test_nll": metrics.nll(y_test, mean_test),
    }


def meets_targets(diagnostics: dict) -> dict:
    """Which of :data:`TARGETS` the output of :func:`diagnose` meets (OOD TV included)."""
    return {
        "predictive_r_hat_test": diagnostics["predictive_r_hat_max"]["test"]
        <= TARGETS["predictive_r_hat_test"],
        "tv_halves_test": diagnostics["tv_halves_mean"]["test"] <= TARGETS["tv_halves_test"],
        "tv_halves_ood": diagnostics["tv_halves_mean"]["ood"] <= TARGETS["tv_halves_test"],
    }
