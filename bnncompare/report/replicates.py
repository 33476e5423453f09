"""Quality over method seeds: means with intervals, paired comparisons, detectable differences.

A quality cell is fitted once per method seed (``random_state``), with the same seeds for
every method, so two methods' numbers on one dataset are *paired* by seed: the seed fixes the
initialisation and the minibatch order of each, not a shared draw, but pairing still removes
whatever the seeds have in common (the split, the reference, the OOD inputs are the same).

- :func:`seed_summary` averages each metric over the seeds of a cell and gives the 95 %
  Student-t interval of that mean (``m_lo``, ``m_hi``; NaN with one seed). The t-interval is
  the textbook interval for a mean of a few roughly normal values; over 3 seeds it is the mean
  ± 2.48 standard deviations (t(0.975, 2) / sqrt(3)), over 5 ± 1.24.
- :func:`rank_methods` orders methods by a metric and decides, by a paired t-test over the
  common seeds of the leader and each other method (two-sided, 5 %), which methods cannot be
  told from the leader: the *tied* group. A "best" claim is made only when that group is the
  leader alone.
- :func:`min_detectable_difference` is the difference between two methods that a paired test
  at this number of seeds detects with 80 % power at 5 %: ``(t(0.975, R-1) + t(0.8, R-1)) *
  s_d / sqrt(R)``, with ``s_d`` the median over method pairs of the paired differences' sd.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["HIGHER_IS_BETTER", "LEVEL", "SEED_COLUMN", "Ranking", "min_detectable_difference",
           "rank_methods", "seed_summary", "t_interval", "with_seeds"]

LEVEL = 0.95
#: the column naming a row's method seed (``extra_info["method_seed"]``; the data split's
#: seed, ``seed``, is the same for every row of a run)
SEED_COLUMN = "method_seed"
#: metrics where larger is better; every other quality metric is a loss or a cost
HIGHER_IS_BETTER = frozenset({"accuracy", "agreement_test", "agreement_ood", "ood_auroc",
                              "ood_auroc_mi", "ood_auroc_far", "ood_auroc_mi_far",
                              "sel_acc_80"})


def t_interval(values, level: float = LEVEL) -> tuple[float, float, float]:
    """Mean of ``values`` and the Student-t interval of that mean: ``(mean, lo, hi)``.

    NaN values are dropped; with fewer than two values the interval is ``(nan, nan)``.
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return np.nan, np.nan, np.nan
    mean = float(v.mean())
    if v.size < 2:
        return mean, np.nan, np.nan
    half = float(stats.t.ppf(0.5 + level / 2, v.size - 1) * v.std(ddof=1) / np.sqrt(v.size))
    return mean, mean - half, mean + half


def seed_summary(rows: pd.DataFrame, keys: list[str], metrics: list[str],
                 constants: tuple[str, ...] = ()) -> pd.DataFrame:
    """One row per ``keys`` group: each metric's mean over seeds, ``_lo``/``_hi``, ``n_seeds``,
    then the ``constants`` (columns equal across a cell's seeds: its first value).

    Parameters
    ----------
    rows : DataFrame
        One row per fitted seed, with a :data:`SEED_COLUMN` column and the metric columns.
    keys : list of str
        Columns that identify a cell (machine, dataset, method, ...).
    metrics : list of str
        Numeric columns to summarise; a metric missing from ``rows`` is skipped.
    constants : tuple of str
        Columns carried as they are (e.g. ``n_params``); one missing from ``rows`` is skipped.
    """
    metrics = [m for m in metrics if m in rows]
    constants = [c for c in constants if c in rows]
    rows = with_seeds(rows)
    records = []
    for key, group in rows.groupby(keys, sort=False, dropna=False):
        record = dict(zip(keys, key if isinstance(key, tuple) else (key,), strict=True))
        for metric in metrics:
            values = pd.to_numeric(group[metric], errors="coerce")
            record[metric], record[f"{metric}_lo"], record[f"{metric}_hi"] = t_interval(values)
        record["n_seeds"] = int(group[SEED_COLUMN].nunique())
        record.update({c: group[c].iloc[0] for c in constants})
        records.append(record)
    columns = [*keys, *(c for m in metrics for c in (m, f"{m}_lo", f"{m}_hi")), "n_seeds",
               *constants]
    return pd.DataFrame.from_records(records, columns=columns)


@dataclass(frozen=True)
class Ranking:
    """Methods ordered by a metric (best first), with the group the leader is tied with."""

    metric: str
    order: tuple[str, ...]
    means: tuple[float, ...]
    #: the leader and every method a paired test over the seeds cannot tell from it
    tied: tuple[str, ...]
    n_seeds: int

    @property
    def leader(self) -> str:
        return self.order[0]

    @property
    def separated(self) -> bool:
        """True when the leader is apart from every other method (a "best" claim holds)."""
        return len(self.tied) == 1


def with_seeds(rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` with :data:`SEED_COLUMN` filled: a run made before method seeds were
    recorded fitted every cell with seed 0."""
    seeds = rows[SEED_COLUMN].fillna(0) if SEED_COLUMN in rows else 0
    return rows.assign(**{SEED_COLUMN: seeds})


def _by_seed(rows: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Seeds down, methods across (mean over duplicates of a seed, e.g. several rounds)."""
    values = with_seeds(rows).assign(_v=pd.to_numeric(rows[metric], errors="coerce"))
    return values.pivot_table(index=SEED_COLUMN, columns="method", values="_v", aggfunc="mean")


def paired_p_value(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sided p-value of the paired t-test of ``a - b`` over finite pairs (1.0 when fewer
    than two pairs; 0.0 when every pair differs by the same non-zero amount)."""
    d = (np.asarray(a, float) - np.asarray(b, float))
    d = d[np.isfinite(d)]
    if d.size < 2:
        return 1.0
    if np.all(d == d[0]):
        return 0.0 if d[0] != 0 else 1.0
    return float(stats.ttest_1samp(d, 0.0).pvalue)


def rank_methods(rows: pd.DataFrame, metric: str, alpha: float = 1 - LEVEL) -> Ranking | None:
    """Order the methods in ``rows`` (one dataset) by ``metric`` and find the tied group.

    Returns None when no method recorded the metric.
    """
    table = _by_seed(rows, metric).dropna(axis=1, how="all")
    if table.empty:
        return None
    means = table.mean(axis=0)
    order = means.sort_values(ascending=metric not in HIGHER_IS_BETTER, kind="stable")
    leader = order.index[0]
    tied = [leader] + [m for m in order.index[1:]
                       if paired_p_value(table[leader], table[m]) >= alpha]
    return Ranking(metric=metric, order=tuple(order.index), means=tuple(order.to_numpy(float)),
                   tied=tuple(tied), n_seeds=int(table.notna().sum(axis=0).min()))


def min_detectable_difference(rows: pd.DataFrame, metric: str, power: float = 0.8,
                              alpha: float = 1 - LEVEL) -> float:
    """Smallest difference of ``metric`` between two methods that a paired t-test over the
    seeds in ``rows`` (one dataset) detects with ``power``; NaN with fewer than 2 seeds."""
    table = _by_seed(rows, metric).dropna(axis=1, how="all")
    n = len(table.dropna(how="any"))
    if n < 2 or table.shape[1] < 2:
        return np.nan
    sds = [float((table[a] - table[b]).dropna().std(ddof=1))
           for i, a in enumerate(table.columns) for b in table.columns[i + 1:]]
    s_d = float(np.nanmedian(sds))
    factor = stats.t.ppf(1 - alpha / 2, n - 1) + stats.t.ppf(power, n - 1)
    return float(factor * s_d / np.sqrt(n))
