"""Quality and uncertainty metrics for probabilistic classifiers.

Everything here is pure NumPy: arrays in, floats or arrays out, float64 inside. Two input
kinds appear throughout:

- ``proba``: shape ``(n, C)``, one row per example, each row on the probability simplex
  (entries in ``[0, 1]``, summing to 1 within :data:`SIMPLEX_TOL`). This is what
  ``predict_proba`` returns.
- ``samples``: shape ``(S, n, C)``, one row-stochastic ``(n, C)`` slice per posterior draw.
  This is what ``predict_proba_samples`` returns. A 2-D ``(n, C)`` array is read as ``S = 1``.

Labels ``y`` are integer *column indices* into ``proba`` (``0 .. C-1``), not the estimator's
original labels; encode those first, e.g. ``np.searchsorted(est.classes_, y)``.

Uncertainty scores follow one direction everywhere: **higher = more uncertain**. Entropies
and mutual information use the natural log (nats).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.stats import rankdata

from bnncompare.checks import check_positive_int

__all__ = [
    "EPS",
    "SIMPLEX_TOL",
    "accuracy",
    "agreement",
    "brier",
    "expected_calibration_error",
    "expected_entropy",
    "mutual_information",
    "nll",
    "ood_auroc",
    "predictive_entropy",
    "refusal_rate",
    "selective_accuracy",
    "total_variation",
    "uncertainty_summary",
]

#: Probabilities are clipped to at least this before any log, so a confidently wrong
#: prediction costs a large but finite NLL (-log 1e-12 ≈ 27.6 nats) instead of inf.
EPS = 1e-12

#: Absolute tolerance for "on the simplex". Estimators compute softmax in float32, whose row
#: sums drift by ~C·6e-8; 1e-4 accepts that while still catching logits or unnormalised scores.
SIMPLEX_TOL = 1e-4

DEFAULT_COVERAGES = (0.5, 0.8, 0.9, 1.0)
_N_ENTROPY_BINS = 20


# --------------------------------------------------------------------------- validation


def _check_proba(proba, name: str = "proba") -> np.ndarray:
    """Return ``proba`` as a float64 ``(n, C)`` array, raising ``ValueError`` if invalid."""
    p = np.asarray(proba, dtype=np.float64)
    if p.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (n, C) array, got shape {p.shape}")
    if p.shape[0] == 0 or p.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {p.shape}); need n >= 1 and C >= 1")
    _check_simplex(p, name)
    return p


def _check_simplex(p: np.ndarray, name: str) -> None:
    """Raise ``ValueError`` unless every row of ``p`` (..., C) lies on the simplex."""
    if not np.all(np.isfinite(p)):
        raise ValueError(f"{name} contains NaN or inf")
    if p.min() < -SIMPLEX_TOL or p.max() > 1.0 + SIMPLEX_TOL:
        raise ValueError(
            f"{name} is not on the probability simplex: entries span "
            f"[{p.min():.6g}, {p.max():.6g}], outside [0, 1] beyond tol={SIMPLEX_TOL}"
        )
    sums = p.sum(axis=-1)
    worst = np.abs(sums - 1.0).max()
    if worst > SIMPLEX_TOL:
        raise ValueError(
            f"{name} is not on the probability simplex: a row sums to "
            f"{sums.flat[np.abs(sums - 1.0).argmax()]:.6g} (|sum - 1| = {worst:.3g} "
            f"> tol={SIMPLEX_TOL}); pass probabilities, not logits"
        )


def _check_samples(samples, name: str = "samples") -> np.ndarray:
    """Return ``samples`` as float64 ``(S, n, C)``; a 2-D ``(n, C)`` input becomes ``S = 1``."""
    s = np.asarray(samples, dtype=np.float64)
    if s.ndim == 2:
        s = s[np.newaxis]
    if s.ndim != 3:
        raise ValueError(f"{name} must be an (S, n, C) or (n, C) array, got shape {s.shape}")
    if 0 in s.shape:
        raise ValueError(f"{name} is empty (shape {s.shape}); need S, n, C >= 1")
    _check_simplex(s, name)
    return s


def _check_labels(y, n: int, n_classes: int) -> np.ndarray:
    """Return ``y`` as int64 ``(n,)`` column indices in ``[0, n_classes)``."""
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be a 1-D array of class indices, got shape {y.shape}")
    if y.shape[0] != n:
        raise ValueError(f"shape mismatch: y has {y.shape[0]} labels but proba has {n} rows")
    if y.dtype.kind == "f" and np.all(np.isfinite(y)) and np.all(y == np.round(y)):
        y = y.astype(np.int64)  # integral floats (e.g. from a CSV) are unambiguous
    if y.dtype.kind not in "iu":
        raise ValueError(f"y must hold integer class indices, got dtype {y.dtype}")
    if y.min() < 0 or y.max() >= n_classes:
        raise ValueError(
            f"y must hold class indices in [0, {n_classes}), got range [{y.min()}, {y.max()}]"
        )
    return y.astype(np.int64, copy=False)


def _check_labelled(y, proba) -> tuple[np.ndarray, np.ndarray]:
    """Validate a ``(y, proba)`` pair together."""
    p = _check_proba(proba)
    return _check_labels(y, p.shape[0], p.shape[1]), p


def _check_scores(score, name: str) -> np.ndarray:
    """Return a finite, non-empty float64 1-D score array."""
    s = np.asarray(score, dtype=np.float64)
    if s.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got shape {s.shape}")
    if s.shape[0] == 0:
        raise ValueError(f"{name} is empty")
    if not np.all(np.isfinite(s)):
        raise ValueError(f"{name} contains NaN or inf")
    return s


def _check_coverages(coverages) -> np.ndarray:
    """Return coverages as a non-empty float64 1-D array with every value in (0, 1]."""
    c = np.atleast_1d(np.asarray(coverages, dtype=np.float64))
    if c.ndim != 1 or c.shape[0] == 0:
        raise ValueError(f"coverages must be a non-empty 1-D sequence, got shape {c.shape}")
    if not np.all(np.isfinite(c)) or np.any(c <= 0.0) or np.any(c > 1.0):
        raise ValueError(f"coverages must lie in (0, 1], got {c.tolist()}")
    return c


# --------------------------------------------------------------------------- point metrics


def accuracy(y, proba) -> float:
    """Fraction of examples whose arg-max class equals the label.

    Parameters
    ----------
    y : array-like of int, shape (n,)
        Class indices into the columns of ``proba``.
    proba : array-like of float, shape (n, C)
        Predicted class probabilities, rows on the simplex.

    Returns
    -------
    float
        Accuracy in [0, 1]. Ties in ``proba`` go to the lowest class index (``np.argmax``).
    """
    y, p = _check_labelled(y, proba)
    return float(np.mean(p.argmax(axis=1) == y))


def nll(y, proba) -> float:
    """Mean negative log-likelihood of the labels (natural log, nats per example).

    Parameters
    ----------
    y : array-like of int, shape (n,)
        Class indices into the columns of ``proba``.
    proba : array-like of float, shape (n, C)
        Predicted class probabilities, rows on the simplex.

    Returns
    -------
    float
        ``-mean_i log p_i[y_i]``, with each probability clipped to at least :data:`EPS`
        so the result is finite. Equals ``sklearn.metrics.log_loss`` away from the clip.
    """
    y, p = _check_labelled(y, proba)
    p_true = p[np.arange(p.shape[0]), y]
    return float(-np.mean(np.log(np.clip(p_true, EPS, 1.0))))


def brier(y, proba) -> float:
    """Multiclass Brier score: mean over rows of ``sum_c (p_c - onehot_c)^2``.

    Parameters
    ----------
    y : array-like of int, shape (n,)
        Class indices into the columns of ``proba``.
    proba : array-like of float, shape (n, C)
        Predicted class probabilities, rows on the simplex.

    Returns
    -------
    float
        Score in [0, 2]; 0 is perfect. For C = 2 this is twice sklearn's binary
        ``brier_score_loss`` (which scores only the positive-class column).
    """
    y, p = _check_labelled(y, proba)
    onehot = np.zeros_like(p)
    onehot[np.arange(p.shape[0]), y] = 1.0
    return float(np.mean(np.sum((p - onehot) ** 2, axis=1)))


def _confidence_bins(conf: np.ndarray, n_bins: int) -> np.ndarray:
    """Bin index in ``[0, n_bins)`` of each confidence, bins ``(lo, hi]`` of equal width.

    ``searchsorted(..., side="left")`` returns ``i`` with ``edges[i-1] < c <= edges[i]``,
    which is exactly the right-closed convention and uses the same float edges a reader
    would compute. ``c = 0`` (index -1) joins the first bin and ``c`` a hair above 1 (within
    the simplex tolerance) joins the last, so every example is counted once.
    """
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    idx = np.searchsorted(edges, conf, side="left") - 1
    return np.clip(idx, 0, n_bins - 1)


def expected_calibration_error(y, proba, n_bins: int = 15) -> float:
    """Top-label expected calibration error with equal-width confidence bins.

    Each example's confidence is its largest probability and it counts as correct when
    that class is the label. The unit interval is cut into ``n_bins`` equal-width bins
    that are closed on the right, ``(0, 1/B], (1/B, 2/B], ..., ((B-1)/B, 1]``; a
    confidence of exactly 0 (impossible on the simplex, but kept for safety) falls in the
    first bin. Then ``ECE = sum_b (n_b / n) * |acc_b - conf_b|`` over non-empty bins,
    where ``acc_b`` and ``conf_b`` are the bin's mean correctness and mean confidence.

    Parameters
    ----------
    y : array-like of int, shape (n,)
        Class indices into the columns of ``proba``.
    proba : array-like of float, shape (n, C)
        Predicted class probabilities, rows on the simplex.
    n_bins : int, default 15
        Number of equal-width bins, at least 1.

    Returns
    -------
    float
        ECE in [0, 1]; 0 means perfectly calibrated at this binning.
    """
    check_positive_int("n_bins", n_bins)
    y, p = _check_labelled(y, proba)
    conf = p.max(axis=1)
    correct = (p.argmax(axis=1) == y).astype(np.float64)
    idx = _confidence_bins(conf, int(n_bins))
    counts = np.bincount(idx, minlength=n_bins)
    # Sum of |acc_b - conf_b| * n_b equals |sum_b correct - sum_b conf|, no per-bin division.
    gap = np.bincount(idx, weights=correct - conf, minlength=n_bins)
    return float(np.sum(np.abs(gap[counts > 0])) / p.shape[0])


# --------------------------------------------------------------------------- uncertainty


def _entropy(p: np.ndarray) -> np.ndarray:
    """Shannon entropy (nats) over the last axis, with ``0 log 0 = 0``.

    Clipping inside the log only (not the factor) keeps ``0 * log(EPS) = 0`` exact;
    clipping ``p`` to ``[0, 1]`` first drops round-off negatives that would flip signs.
    """
    p = np.clip(p, 0.0, 1.0)
    return -np.sum(p * np.log(np.clip(p, EPS, 1.0)), axis=-1)


def predictive_entropy(samples) -> np.ndarray:
    """Total uncertainty: entropy of the posterior-predictive mean.

    Parameters
    ----------
    samples : array-like of float, shape (S, n, C) or (n, C)
        Per-draw class probabilities; a 2-D array is one draw (S = 1).

    Returns
    -------
    ndarray of float64, shape (n,)
        ``H[mean_s p_s]`` in nats, between 0 and ``log C``.
    """
    s = _check_samples(samples)
    return _entropy(s.mean(axis=0))


def expected_entropy(samples) -> np.ndarray:
    """Aleatoric uncertainty: mean over draws of each draw's predictive entropy.

    Parameters
    ----------
    samples : array-like of float, shape (S, n, C) or (n, C)
        Per-draw class probabilities; a 2-D array is one draw (S = 1).

    Returns
    -------
    ndarray of float64, shape (n,)
        ``mean_s H[p_s]`` in nats.
    """
    s = _check_samples(samples)
    return _entropy(s).mean(axis=0)


def mutual_information(samples) -> np.ndarray:
    """Epistemic uncertainty: mutual information between label and weights.

    Computed as total minus aleatoric, ``H[mean_s p_s] - mean_s H[p_s]``. By Jensen this
    is non-negative; tiny negative round-off is clipped to 0. It is exactly 0 when all
    draws agree (including S = 1, e.g. the point-estimate NN).

    Parameters
    ----------
    samples : array-like of float, shape (S, n, C) or (n, C)
        Per-draw class probabilities; a 2-D array is one draw (S = 1).

    Returns
    -------
    ndarray of float64, shape (n,)
        Mutual information in nats, between 0 and ``log min(S, C)``.
    """
    s = _check_samples(samples)
    total = _entropy(s.mean(axis=0))
    aleatoric = _entropy(s).mean(axis=0)
    return np.maximum(total - aleatoric, 0.0)


# --------------------------------------------------------------------------- "I don't know"


def ood_auroc(score_in, score_out) -> float:
    """AUROC for telling out-of-distribution from in-distribution inputs by a score.

    Out-of-distribution examples are the positives and a **higher score means more
    uncertain**, so 1.0 is perfect separation, 0.5 is chance. Computed as the
    Mann-Whitney U statistic from average ranks, so tied scores count one half; this equals
    ``sklearn.metrics.roc_auc_score`` with labels 0 for ``score_in`` and 1 for ``score_out``.

    Parameters
    ----------
    score_in : array-like of float, shape (n_in,)
        Uncertainty scores on in-distribution inputs.
    score_out : array-like of float, shape (n_out,)
        Uncertainty scores on out-of-distribution inputs.

    Returns
    -------
    float
        AUROC in [0, 1].
    """
    s_in = _check_scores(score_in, "score_in")
    s_out = _check_scores(score_out, "score_out")
    n_in, n_out = s_in.shape[0], s_out.shape[0]
    ranks = rankdata(np.concatenate([s_in, s_out]))  # average ranks: ties count half
    u_out = ranks[n_in:].sum() - n_out * (n_out + 1) / 2.0
    return float(u_out / (n_in * n_out))


def _n_kept(coverage: float, n: int) -> int:
    """``ceil(coverage * n)``, at least 1, immune to float products like 0.7 * 10 = 7.000...1."""
    return max(1, math.ceil(round(coverage * n, 9)))


def selective_accuracy(y, proba, score, coverages: Sequence[float] = DEFAULT_COVERAGES):
    """Accuracy on the most-confident fraction of examples, for several coverages.

    For each coverage ``c`` the ``ceil(c * n)`` examples with the **lowest** uncertainty
    score are kept and scored; the rest are treated as refused. Sorting is stable, so
    tied scores keep their input order and results are deterministic.

    Parameters
    ----------
    y : array-like of int, shape (n,)
        Class indices into the columns of ``proba``.
    proba : array-like of float, shape (n, C)
        Predicted class probabilities, rows on the simplex.
    score : array-like of float, shape (n,)
        Uncertainty score per example, higher = more uncertain (e.g. predictive entropy).
    coverages : sequence of float, default (0.5, 0.8, 0.9, 1.0)
        Fractions of examples to keep, each in (0, 1].

    Returns
    -------
    ndarray of float64, shape (len(coverages),)
        Accuracy at each coverage; at coverage 1 this is :func:`accuracy`.
    """
    y, p = _check_labelled(y, proba)
    s = _check_scores(score, "score")
    if s.shape[0] != p.shape[0]:
        raise ValueError(f"shape mismatch: score has {s.shape[0]} entries, proba {p.shape[0]}")
    cov = _check_coverages(coverages)
    correct = (p.argmax(axis=1) == y)[np.argsort(s, kind="stable")]
    hits = np.cumsum(correct)
    k = np.array([_n_kept(c, p.shape[0]) for c in cov])
    return hits[k - 1] / k


def refusal_rate(score, threshold: float) -> float:
    """Fraction of examples whose uncertainty score is strictly above ``threshold``.

    This is how often a model that abstains above the threshold says "I don't know".

    Parameters
    ----------
    score : array-like of float, shape (n,)
        Uncertainty score per example, higher = more uncertain.
    threshold : float
        Refuse when ``score > threshold``; a score equal to it is answered.

    Returns
    -------
    float
        Refusal rate in [0, 1].
    """
    s = _check_scores(score, "score")
    t = float(threshold)
    if not math.isfinite(t):
        raise ValueError(f"threshold must be finite, got {threshold!r}")
    return float(np.mean(s > t))


# --------------------------------------------------------------------------- against a reference


def _check_pair(p, q) -> tuple[np.ndarray, np.ndarray]:
    """Validate two predictives for the same inputs: both ``(n, C)`` on the simplex, same shape."""
    p, q = _check_proba(p, "p"), _check_proba(q, "q")
    if p.shape != q.shape:
        raise ValueError(f"shape mismatch: p has shape {p.shape} but q has {q.shape}; both "
                         "must be (n, C) predictives for the same inputs and classes")
    return p, q


def total_variation(p, q) -> np.ndarray:
    """Total variation distance between two predictives, input by input.

    Used to score a method's posterior predictive against a reference posterior's (Izmailov
    et al. 2021, "What are Bayesian neural network posteriors really like?").

    Parameters
    ----------
    p, q : array-like of float, shape (n, C)
        Class probabilities for the same n inputs, rows on the simplex (e.g. a method's
        ``predict_proba`` and the reference's).

    Returns
    -------
    ndarray of float64, shape (n,)
        ``0.5 * sum_c |p_ic - q_ic|``: 0 for identical rows, 1 for rows with disjoint
        support. Average it for a single number.
    """
    p, q = _check_pair(p, q)
    return 0.5 * np.abs(p - q).sum(axis=1)


def agreement(p, q) -> float:
    """Fraction of inputs on which two predictives pick the same top class.

    Parameters
    ----------
    p, q : array-like of float, shape (n, C)
        Class probabilities for the same n inputs, rows on the simplex.

    Returns
    -------
    float
        In [0, 1]. Ties within a row go to the lowest class index (``np.argmax``).
    """
    p, q = _check_pair(p, q)
    return float(np.mean(p.argmax(axis=1) == q.argmax(axis=1)))


# --------------------------------------------------------------------------- summary


def _entropy_hist(entropy: np.ndarray, edges: np.ndarray) -> list[float]:
    """Fractions of ``entropy`` in each bin; round-off past ``log C`` is clipped in."""
    counts, _ = np.histogram(np.clip(entropy, edges[0], edges[-1]), bins=edges)
    return (counts / entropy.shape[0]).tolist()


def uncertainty_summary(samples, y, samples_ood, coverages: Sequence[float] = DEFAULT_COVERAGES):
    """All quality and uncertainty numbers the benchmarks record, as plain Python values.

    The prediction is the posterior-predictive mean ``samples.mean(0)``. The uncertainty
    score is predictive entropy unless a key says ``_mi`` (mutual information).

    Parameters
    ----------
    samples : array-like of float, shape (S, n, C) or (n, C)
        Per-draw probabilities on in-distribution test inputs.
    y : array-like of int, shape (n,)
        Test labels as class indices.
    samples_ood : array-like of float, shape (S', n_ood, C) or (n_ood, C)
        Per-draw probabilities on out-of-distribution inputs; same C, any S' and n_ood.
    coverages : sequence of float, default (0.5, 0.8, 0.9, 1.0)
        Coverages for ``selective_accuracy``, each in (0, 1].

    Returns
    -------
    dict
        JSON-serialisable: floats ``accuracy``, ``nll``, ``brier``, ``ece`` (15 bins),
        ``ood_auroc`` (entropy score), ``ood_auroc_mi`` (MI score; 0.5 when S = 1, since MI
        is then 0 everywhere), ``mean_entropy_test``, ``mean_entropy_ood``, ``sel_acc_80``
        (selective accuracy at coverage 0.8); lists ``coverages``, ``selective_accuracy``,
        ``entropy_bins`` (21 edges from 0 to log C), ``entropy_hist_test`` and
        ``entropy_hist_ood`` (20 fractions each, summing to 1).
    """
    s_in = _check_samples(samples, "samples")
    s_out = _check_samples(samples_ood, "samples_ood")
    n_classes = s_in.shape[2]
    if s_out.shape[2] != n_classes:
        raise ValueError(
            f"shape mismatch: samples has C={n_classes} classes, samples_ood C={s_out.shape[2]}"
        )
    if n_classes < 2:
        raise ValueError(f"uncertainty_summary needs C >= 2 classes, got C={n_classes}")
    cov = _check_coverages(coverages)
    proba = s_in.mean(axis=0)
    y = _check_labels(y, proba.shape[0], n_classes)
    ent_in, ent_out = _entropy(proba), _entropy(s_out.mean(axis=0))
    edges = np.linspace(0.0, math.log(n_classes), _N_ENTROPY_BINS + 1)
    return {
        "accuracy": accuracy(y, proba),
        "nll": nll(y, proba),
        "brier": brier(y, proba),
        "ece": expected_calibration_error(y, proba),
        "ood_auroc": ood_auroc(ent_in, ent_out),
        "ood_auroc_mi": ood_auroc(mutual_information(s_in), mutual_information(s_out)),
        "mean_entropy_test": float(ent_in.mean()),
        "mean_entropy_ood": float(ent_out.mean()),
        "sel_acc_80": float(selective_accuracy(y, proba, ent_in, (0.8,))[0]),
        "coverages": cov.tolist(),
        "selective_accuracy": selective_accuracy(y, proba, ent_in, cov).tolist(),
        "entropy_bins": edges.tolist(),
        "entropy_hist_test": _entropy_hist(ent_in, edges),
        "entropy_hist_ood": _entropy_hist(ent_out, edges),
    }
