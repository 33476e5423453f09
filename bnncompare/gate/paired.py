"""The paired verdict rule: BASE and NEW measured in interleaved pairs on one machine.

``base[i]`` and ``new[i]`` ran side by side (``.ci/gate``'s pairs), so the unit of evidence is
the pair, not the round. A benchmark's rounds run within a second of each other and share the
machine's speed of that moment, which on a shared VM swings by up to 2x from one moment to the
next (measured: one NUTS fit cell read 100, 215, 110, 170 ms in four identical runs, each
run's rounds within 2 %), so a rank test over pooled rounds is overconfident.

A benchmark is ``slower`` only when *every* pair's ratio of raw medians exceeds ``threshold``
(and the median moved by at least ``min_effect_s``); ``faster`` when every pair's is below
``1 / threshold``; the suite fails only when *every* pair's geometric mean exceeds
``geomean_threshold``. ``alpha`` is not used. Times are compared raw: the calibration is timed
seconds away from a benchmark, in another of those moments, so dividing by it added noise
(measured, consecutive quiet A/A runs: pair geometric means 0.80-1.30 normalised, 0.94-1.07
raw). A row's ``ratio`` is the geometric mean of its pair ratios.
"""

from __future__ import annotations

from bnncompare.gate.model import FASTER, SAME, SLOWER, GateInputError, geomean

__all__ = ["check_pairs", "judge", "suite_failed"]


def check_pairs(base_runs: list, new_runs: list) -> None:
    """GateInputError unless every BASE run has its NEW partner."""
    if len(base_runs) != len(new_runs):
        raise GateInputError(f"paired needs as many BASE runs as NEW runs, got "
                             f"{len(base_runs)} and {len(new_runs)}")


def judge(row: dict, b, n, opts: dict) -> None:
    """Fill ``row``'s ``pair_ratios``, ``ratio`` and ``verdict`` from each pair's raw medians.

    ``b`` and ``n`` are the two sides' pooled benchmarks; ``.run_medians`` maps a run's
    position on its side to its raw median (a pair lacks the benchmark when either run does).
    """
    row["pair_ratios"] = [n.run_medians[i] / b.run_medians[i]
                          if i in b.run_medians and i in n.run_medians else None
                          for i in range(opts["n_pairs"])]
    found = [r for r in row["pair_ratios"] if r is not None]
    row["ratio"] = geomean(found) if found else None
    row["verdict"] = _verdict(row, abs(n.median - b.median), opts)


def suite_failed(rows: list, geomean_all: float, opts: dict) -> tuple[bool, list]:
    """Whether every pair's geometric mean exceeds ``geomean_threshold``, and those means.

    ``geomean_all`` (over every pair's ratios at once) is reported but does not decide.
    """
    pair_geomeans = _pair_geomeans(rows, opts["n_pairs"])
    failed = bool(pair_geomeans) and min(pair_geomeans) > opts["geomean_threshold"]
    return failed, pair_geomeans


def _verdict(row: dict, effect_s: float, opts: dict) -> str:
    """Slower (faster) only when every pair agrees beyond the threshold."""
    ratios = [r for r in row["pair_ratios"] if r is not None]
    thr = opts["threshold"]
    if effect_s < opts["min_effect_s"] or not ratios:
        return SAME
    if min(ratios) > thr:
        return SLOWER
    if max(ratios) < 1 / thr:
        return FASTER
    return SAME


def _pair_geomeans(rows: list, n_pairs: int) -> list:
    """Geometric mean of each pair's ratios over the benchmarks in the geometric mean."""
    out = []
    for i in range(n_pairs):
        ratios = [r["pair_ratios"][i] for r in rows
                  if r["in_geomean"] and r["pair_ratios"][i] is not None]
        if ratios:
            out.append(geomean(ratios))
    return out
