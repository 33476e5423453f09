"""Run-level noise of a benchmark run, and the exponent interval that carries it.

Why a run-level interval: the cells of one series are timed minutes apart, and a cell's rounds
share one moment of the machine. Measured on the 2-core VMs the committed results come from,
a cell's median moves by a factor e^0.29 (sd of its log) between identical consecutive runs,
while its rounds sit within a few per cent of each other. Resampling the rounds of each size
(the stratified bootstrap) therefore measures only the within-cell noise: on synthetic series
with one shared factor of sd(log) 0.3 per size, its 95 % interval covers the true exponent in
well under half of the cases (``tests/report/test_report_intervals.py``).

What is done instead: each size's median is one observation, ``log m_i = log f(x_i) + e_i``,
with ``e_i`` of one variance ``sigma^2`` for the whole run (one machine, one moment-to-moment
noise). ``sigma^2`` is pooled over the run (:func:`estimate_run_noise`): the squared log
residuals of every series with more sizes than the curve has parameters (3), about its own
fitted curve, and the spread of the run's own calibration medians (the same fixed workload
timed at the start, middle and end: the machine's drift, measured directly), each with its
degrees of freedom. The interval of b is then the profile-likelihood (F) interval of a
nonlinear regression: every b whose best curve's sum of squared log residuals exceeds the
minimum by at most ``t^2(0.975, df) * sigma^2`` (:func:`profile_interval`). Its coverage is
checked on synthetic runs with that noise (the tests): 0.93-0.97 at 5 sizes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = ["N_CURVE_PARAMS", "RunNoise", "estimate_run_noise", "profile_interval",
           "series_log_sse"]

#: c0, c1, b: a series needs more sizes than this to say anything about the noise
N_CURVE_PARAMS = 3


@dataclass(frozen=True)
class RunNoise:
    """Pooled run-level noise: ``sd`` of a size's log median about its curve, with ``df``."""

    sd: float
    df: int

    @property
    def known(self) -> bool:
        """True when there is at least one degree of freedom to estimate it from."""
        return self.df > 0 and np.isfinite(self.sd)

    def quantile(self, level: float = 0.95) -> float:
        """``t^2`` at ``(1 + level) / 2`` with ``df`` degrees of freedom (= F(1, df))."""
        return float(stats.t.ppf(0.5 + level / 2, self.df) ** 2)


def series_log_sse(x: np.ndarray, medians: np.ndarray, predict) -> tuple[float, int]:
    """Sum of squared log residuals of per-size ``medians`` about ``predict(x)`` and its df.

    ``df`` is the number of sizes minus :data:`N_CURVE_PARAMS` (0 when there are too few).
    """
    model = np.maximum(np.asarray(predict(x), float), 1e-300)
    resid = np.log(np.asarray(medians, float)) - np.log(model)
    df = max(len(x) - N_CURVE_PARAMS, 0)
    return (float(resid @ resid) if df else 0.0), df


def estimate_run_noise(parts: list[tuple[float, int]]) -> RunNoise:
    """Pool ``(sum of squared log residuals, df)`` parts into one :class:`RunNoise`.

    Parameters
    ----------
    parts : list of (float, int)
        From :func:`series_log_sse` for each series of a run, and from the run's calibration
        medians (squared deviations of their logs from their mean, ``n - 1`` df per kind).

    Returns
    -------
    RunNoise
        ``sd = sqrt(sum sse / sum df)``; ``sd`` is NaN and ``df`` 0 when no part has a degree
        of freedom.
    """
    sse = sum(s for s, d in parts if d > 0)
    df = sum(d for _, d in parts if d > 0)
    return RunNoise(sd=float(np.sqrt(sse / df)) if df else np.nan, df=int(df))


def profile_interval(b_grid: np.ndarray, sse: np.ndarray, noise: RunNoise,
                     level: float = 0.95) -> tuple[float, float]:
    """Profile-likelihood interval of b: every grid b whose SSE is within the F bound.

    Parameters
    ----------
    b_grid : (G,) array
        Exponents at which the best curve was fitted.
    sse : (G,) array
        Sum of squared log residuals of the best curve at each grid b.
    noise : RunNoise
        The run's pooled noise.
    level : float, default=0.95

    Returns
    -------
    (float, float)
        The smallest and largest accepted b (their hull); ``(nan, nan)`` when the noise is not
        known. An interval that reaches a grid bound means the data do not bound b there.
    """
    if not noise.known:
        return np.nan, np.nan
    inside = sse <= np.min(sse) + noise.quantile(level) * noise.sd**2
    accepted = b_grid[inside]
    return float(accepted.min()), float(accepted.max())
