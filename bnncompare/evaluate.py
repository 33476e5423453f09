"""What a fitted estimator buys: quality, uncertainty and cost as plain JSON-ready numbers.

One function serves the benchmarks (``extra_info``), the demo and the tests, so every number
in the report is computed the same way.
"""

from __future__ import annotations

import time

import numpy as np

from bnncompare import data, metrics
from bnncompare.methods.base import BaseMLPClassifier
from bnncompare.reference import reference_scores

__all__ = ["GRID_POINTS", "cost_summary", "evaluate", "grid_entropy", "label_index",
           "predict_ms_per_example"]

#: points per axis of the entropy map of a 2-D dataset (40 x 40 = 1600 values in the JSON)
GRID_POINTS = 40


def label_index(est: BaseMLPClassifier, y) -> np.ndarray:
    """Labels as column indices of ``predict_proba`` (``classes_`` order)."""
    idx = np.searchsorted(est.classes_, y)
    if np.any(idx >= len(est.classes_)) or np.any(est.classes_[np.minimum(
            idx, len(est.classes_) - 1)] != y):
        raise ValueError("y contains labels the estimator was not fitted on")
    return idx


def evaluate(est: BaseMLPClassifier, ds: data.Dataset, *, ood_kind: str | None = None,
             seed: int = 0) -> dict:
    """Quality and "I don't know" metrics of ``est`` on ``ds``'s test set.

    Parameters
    ----------
    est : fitted estimator
    ds : Dataset
        Its ``x_test``/``y_test`` are the in-distribution inputs.
    ood_kind : str, optional
        Out-of-distribution inputs (``data.make_ood`` kinds); default
        ``data.default_ood_kind(ds)`` (noise images for image data, else uniform box noise).
        As many OOD rows as test rows are drawn.
    seed : int, default=0
        Seed of the OOD draw.

    Returns
    -------
    dict
        ``metrics.uncertainty_summary`` keys plus ``ood_kind`` (the "in-box" OOD inputs:
        uniform in the training data's bounding box, or noise images for image data), the
        same separation on *far* inputs (``data.far_shell``: ``ood_auroc_far``,
        ``ood_auroc_mi_far``, ``mean_entropy_far``), and :func:`cost_summary`; plus
        ``tv_test``, ``tv_ood``, ``agreement_test``, ``agreement_ood`` against the stored
        reference posterior when one exists for this dataset and net
        (``bnncompare.reference.reference_scores``), with ``tv_test_ref_noise`` and
        ``tv_ood_ref_noise``, the reference's own half-split TV on those inputs.
    """
    kind = ood_kind or data.default_ood_kind(ds)
    x_ood = data.make_ood(ds, kind, len(ds.x_test), seed=seed)
    samples_test = est.predict_proba_samples(ds.x_test)
    labels = label_index(est, ds.y_test)
    summary = metrics.uncertainty_summary(samples_test, labels, est.predict_proba_samples(x_ood))
    far = _far_separation(samples_test,
                          est.predict_proba_samples(data.far_shell(ds, len(ds.x_test), seed=seed)))
    return {**summary, "ood_kind": kind, **far, **cost_summary(est),
            **(reference_scores(est, ds) or {})}


def _far_separation(samples_test: np.ndarray, samples_far: np.ndarray) -> dict:
    """Test rows vs far inputs: the two AUROCs and the far entropy, computed as
    ``metrics.uncertainty_summary`` computes their in-box counterparts (its test-side
    quality numbers are already in the summary, not recomputed)."""
    entropy_test = metrics.predictive_entropy(samples_test)
    entropy_far = metrics.predictive_entropy(samples_far)
    return {"ood_auroc_far": metrics.ood_auroc(entropy_test, entropy_far),
            "ood_auroc_mi_far": metrics.ood_auroc(metrics.mutual_information(samples_test),
                                                  metrics.mutual_information(samples_far)),
            "mean_entropy_far": float(entropy_far.mean())}


def cost_summary(est: BaseMLPClassifier, fit_time_s: float | None = None) -> dict:
    """Hardware-free cost and, for NUTS, sampler diagnostics with predictive ESS per second.

    ``fit_time_s`` overrides ``est.fit_time_s_`` (benchmarks pass the median round).
    """
    seconds = est.fit_time_s_ if fit_time_s is None else fit_time_s
    out = {"n_grad_evals": int(est.n_grad_evals_), "n_params": int(est.n_params_),
           "fit_time_s": float(seconds)}
    diagnostics = getattr(est, "diagnostics_", None)
    if diagnostics is not None:
        out.update(diagnostics)
        # function-space ESS per second: weight-space ESS means nothing for a BNN (every
        # chain sits in another of its symmetric modes), the predictive's does
        if diagnostics.get("predictive_ess_min") is not None:
            out["predictive_ess_per_s"] = diagnostics["predictive_ess_min"] / seconds
    return out


def predict_ms_per_example(est: BaseMLPClassifier, x: np.ndarray, repeats: int = 5) -> float:
    """Median wall time of ``predict_proba(x)`` per row, in ms (after one warm-up call)."""
    est.predict_proba(x)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        est.predict_proba(x)
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times)) / len(x)


def grid_entropy(est: BaseMLPClassifier, ds: data.Dataset, n: int = GRID_POINTS) -> dict:
    """Predictive entropy of ``est`` over the input plane of a 2-D dataset, JSON-ready.

    Parameters
    ----------
    est : fitted estimator
    ds : Dataset
        With two features (``data.input_grid``).
    n : int, default=GRID_POINTS
        Points per axis.

    Returns
    -------
    dict
        ``grid_entropy``: (n, n) nested lists, second feature down the rows (as
        ``pcolormesh(grid_x, grid_y, values)`` expects), entropy of ``predict_proba`` in nats
        rounded to 3 decimals (a map, not a measurement: 1e-3 nats is below what a colour
        scale shows); ``grid_x``, ``grid_y``: the axes, rounded to 4 decimals.
    """
    points, axes = data.input_grid(ds, n)
    entropy = metrics.predictive_entropy(est.predict_proba(points)).reshape(n, n)
    return {"grid_entropy": np.round(entropy, 3).tolist(),
            "grid_x": np.round(axes[0].astype(float), 4).tolist(),
            "grid_y": np.round(axes[1].astype(float), 4).tolist()}
