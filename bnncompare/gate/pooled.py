"""The pooled verdict rule: every round of a side is one observation.

Each run's round times are divided by that run's calibration (so a uniformly slower machine
is no regression), a side's runs are pooled, and a benchmark is ``slower`` only when three
independent things agree:

1. its normalised median got slower by more than ``threshold``;
2. the rounds' distributions differ (one-sided Mann-Whitney U on normalised round times,
   ``p < alpha``; with too few rounds for that test, the *minimum* must also have moved by
   more than ``threshold``);
3. the raw median moved by at least ``min_effect_s``, so microsecond jitter on tiny
   benchmarks cannot fail CI.

``faster`` is the mirror image with ``1 / threshold``. The suite fails when the geometric
mean of the normalised ratios exceeds ``geomean_threshold``: a small slowdown spread over
every benchmark, which no single benchmark shows on its own.

A run's rounds share one moment of the machine's speed, so pooled rounds overstate the
evidence two runs give: this rule is for comparing two files by hand, and ``.ci/gate``'s
fallback against the committed baseline prints its verdict as advice, never failing CI (it
failed 5 of 16 A/A comparisons at ``threshold`` 1.5). CI's verdict is the paired rule's.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from bnncompare.gate.model import FASTER, SAME, SLOWER

__all__ = ["MIN_ROUNDS_FOR_TEST", "judge", "suite_failed"]

# Below this many rounds on either side a rank test says nothing useful (2 vs 2 can never
# reach p < 0.05), so the minimum round time must confirm the median instead.
MIN_ROUNDS_FOR_TEST = 3


def judge(row: dict, b, n, opts: dict) -> None:
    """Fill ``row``'s ``p_value`` and ``verdict`` from the pooled rounds ``b`` and ``n``.

    ``row["ratio"]`` and ``row["min_ratio"]`` (normalised NEW/BASE median and minimum) are
    already set; ``b`` and ``n`` are the two sides' pooled benchmarks (``.norm``, ``.median``).
    """
    row["p_value"] = _p_value(b.norm, n.norm, row["ratio"], opts["alpha"])
    row["verdict"] = _verdict(row, abs(n.median - b.median), opts)


def suite_failed(rows: list, geomean: float, opts: dict) -> tuple[bool, list]:
    """Whether the suite-wide rule fails, and the per-pair geometric means (none here).

    ``geomean`` is NaN when no benchmark entered it; the rule cannot fail then.
    """
    return (not math.isnan(geomean) and geomean > opts["geomean_threshold"]), []


def _p_value(nb: np.ndarray, nn: np.ndarray, ratio: float, alpha: float) -> float | None:
    """One-sided Mann-Whitney U p-value in the direction of ``ratio``; None if powerless.

    The exact test's smallest possible p-value is ``1 / C(n1 + n2, n1)``; when that is not
    below ``alpha`` (fewer than 3 rounds on a side, or 3 vs 3 at alpha = 0.05) the test can
    never reject, so the caller falls back to the min-ratio rule instead.
    """
    if min(nb.size, nn.size) < MIN_ROUNDS_FOR_TEST or _min_exact_p(nb.size, nn.size) >= alpha:
        return None
    side = "greater" if ratio >= 1 else "less"
    return float(stats.mannwhitneyu(nn, nb, alternative=side).pvalue)


def _min_exact_p(n1: int, n2: int) -> float:
    # Fast micro-benchmarks can have 10^5 rounds; C(n1 + n2, n1) is then astronomically
    # large (and slow to compute) while the bound is irrelevant, so only small sizes count.
    return 1 / math.comb(n1 + n2, n1) if n1 + n2 <= 40 else 0.0


def _verdict(row: dict, effect_s: float, opts: dict) -> str:
    thr, alpha = opts["threshold"], opts["alpha"]
    if effect_s < opts["min_effect_s"]:
        return SAME
    p, ratio, min_ratio = row["p_value"], row["ratio"], row["min_ratio"]
    if ratio > thr and (p < alpha if p is not None else min_ratio > thr):
        return SLOWER
    if ratio < 1 / thr and (p < alpha if p is not None else min_ratio < 1 / thr):
        return FASTER
    return SAME
