"""Judging one side's runs against the other's: matching, pooling, and the row of each name.

:func:`compare` checks that the sides are comparable (:mod:`.checks`), pools each side's runs
per benchmark, and hands every matched benchmark and the suite to one verdict rule: pooled
rounds (:mod:`.pooled`) or interleaved pairs (:mod:`.paired`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from bnncompare import benchjson
from bnncompare.gate import checks
from bnncompare.gate import paired as paired_rule
from bnncompare.gate import pooled as pooled_rule
from bnncompare.gate.model import (
    ALPHA,
    GEOMEAN_THRESHOLD,
    MIN_EFFECT_S,
    MISSING,
    NEW,
    SAME,
    SLOWER,
    THRESHOLD,
    WORK_CHANGED,
    WORKLOAD_CHANGED,
    Bench,
    GateInputError,
    GateResult,
    as_list,
    geomean,
    load_all,
)

__all__ = ["compare", "compare_runs"]


def compare_runs(base_path, new_path, **options) -> GateResult:
    """Load benchmark JSONs and compare them; see :func:`compare` for ``options``.

    ``base_path`` and ``new_path`` may each be one path or a list of paths (runs of one
    commit on one machine, e.g. interleaved base/head runs): their rounds are pooled.

    Raises
    ------
    GateInputError
        When a file is unusable (the message names it), or the runs are not comparable.
    """
    return compare(load_all(base_path), load_all(new_path), **options)


def compare(
    base,
    new,
    *,
    threshold: float = THRESHOLD,
    alpha: float = ALPHA,
    geomean_threshold: float = GEOMEAN_THRESHOLD,
    min_effect_s: float = MIN_EFFECT_S,
    fail_on_work_change: bool = False,
    skip_changed_workloads: bool = False,
    require_shared_workload: bool = False,
    paired: bool = False,
) -> GateResult:
    """Judge every benchmark of ``new`` against ``base`` and the suite as a whole.

    Benchmarks are matched by identity (group, test function, params and workload), never
    by node id. Each run's times are divided by that run's calibration of the benchmark's
    kind before runs of one side are pooled.

    Parameters
    ----------
    base, new : Run or sequence of Run
        The reference run(s) and the candidate run(s); several runs of one side are pooled.
    threshold : float
        Per-benchmark ratio (> 1) of normalised medians beyond which a change may count;
        ``faster`` uses ``1 / threshold``.
    alpha : float
        Significance level of the one-sided Mann-Whitney U test, in (0, 1).
    geomean_threshold : float
        Suite-wide limit (> 1) on the geometric mean of normalised ratios.
    min_effect_s : float
        Smallest raw change of the median, in seconds, that may count (>= 0). Benchmarks
        whose BASE median is below it are also left out of the geometric mean: their ratios
        are timer jitter.
    fail_on_work_change : bool
        Whether a changed ``n_grad_evals`` (same seed and library versions) fails the gate.
    skip_changed_workloads : bool
        Report a benchmark whose name matches but whose workload differs as
        ``workload changed`` and leave it out, instead of refusing the comparison.
    require_shared_workload : bool
        Refuse the comparison unless at least one benchmark has the same name and workload
        on both sides: a base with a different benchmark layout is no base. (Runs of which
        only one side records workloads are always refused: only params could match them.)
    paired : bool
        ``base[i]`` and ``new[i]`` ran side by side (``.ci/gate``'s interleaved pairs): judge
        pair by pair on raw times (:mod:`bnncompare.gate.paired`) instead of pooling rounds
        (:mod:`bnncompare.gate.pooled`). ``ratio`` is then the geometric mean of the pair
        ratios, and ``alpha`` is not used.

    Returns
    -------
    GateResult

    Raises
    ------
    GateInputError
        Runs of different profiles, workloads recorded on one side only, (unless
        ``skip_changed_workloads``) a benchmark whose workload differs between the sides, or
        (with ``require_shared_workload``) no shared workload.
    """
    opts = checks.check_options(threshold, alpha, geomean_threshold, min_effect_s)
    base_runs, new_runs = as_list(base), as_list(new)
    rule = paired_rule if paired else pooled_rule
    if paired:
        paired_rule.check_pairs(base_runs, new_runs)
    opts["paired"], opts["n_pairs"] = paired, len(base_runs) if paired else 0
    checks.check_profiles(base_runs, new_runs)
    kinds = set.intersection(*(r.kinds for r in (*base_runs, *new_runs)))
    b_side, n_side = _side(base_runs, kinds), _side(new_runs, kinds)
    changed = checks.changed_workloads(b_side, n_side, skip_changed_workloads)
    checks.check_layouts(b_side, n_side, base_runs[0].path, new_runs[0].path)
    if require_shared_workload and not b_side.keys() & n_side.keys() - changed:
        raise GateInputError(f"{base_runs[0].path} and {new_runs[0].path} share no "
                             "benchmark workload")
    infos = (base_runs[0].machine_info, new_runs[0].machine_info)
    rows = [_judge(name, b_side, n_side, opts, changed, infos, rule)
            for name in _ordered_names(b_side, n_side)]
    in_geomean = [r["ratio"] for r in rows if r["in_geomean"]]
    suite_geomean = geomean(in_geomean) if in_geomean else math.nan
    geomean_failed, pair_geomeans = rule.suite_failed(rows, suite_geomean, opts)
    flagged = [r["fullname"] for r in rows if _fails(r, fail_on_work_change)]
    opts["fail_on_work_change"] = fail_on_work_change
    notes = (checks.version_notes(base_runs[0], new_runs[0])
             + checks.identity_notes(b_side, n_side))
    return GateResult(
        rows=rows,
        geomean=suite_geomean,
        geomean_n=len(in_geomean),
        geomean_failed=geomean_failed,
        passed=not (flagged or geomean_failed),
        flagged=flagged,
        calibration=list(dict.fromkeys(b.fullname for b in new_runs[0].calibration)),
        notes=notes,
        options=opts,
        pair_geomeans=pair_geomeans,
    )


@dataclass(frozen=True)
class _Pooled:
    """One benchmark on one side: raw and normalised rounds pooled over that side's runs,
    and each run's raw median by the run's position on its side (for pairing)."""

    first: Bench
    raw: np.ndarray
    norm: np.ndarray
    run_medians: dict = field(default_factory=dict)

    @property
    def median(self) -> float:
        return float(np.median(self.raw))


def _side(runs: list, kinds: set) -> dict:
    """name -> _Pooled; every run normalised by its own calibration before pooling."""
    pooled: dict = {}
    for i, run in enumerate(runs):
        for name, b in run.benchmarks.items():
            norm = b.rounds / run.scale(b.kind, kinds, b.extra_info.get(benchjson.SHARD_KEY))
            if name in pooled:
                p = pooled[name]
                pooled[name] = _Pooled(p.first, np.concatenate([p.raw, b.rounds]),
                                       np.concatenate([p.norm, norm]),
                                       {**p.run_medians, i: b.median})
            else:
                pooled[name] = _Pooled(b, b.rounds, norm, {i: b.median})
    return pooled


def _ordered_names(base: dict, new: dict) -> list:
    # BASE order first, then benchmarks only NEW has, so the table reads like the suite.
    return list(base) + [n for n in new if n not in base]


def _judge(name: str, base: dict, new: dict, opts: dict, changed: set, infos: tuple,
           rule) -> dict:
    """The row of one benchmark name; ``rule`` (:mod:`.pooled` or :mod:`.paired`) gives the
    verdict of a benchmark both sides ran with one workload."""
    b, n = base.get(name), new.get(name)
    row = _empty_row(name, b, n)
    if b is None or n is None:
        row["verdict"] = NEW if b is None else MISSING
        return row
    if name in changed:
        row["verdict"] = WORKLOAD_CHANGED
        return row
    nb, nn = b.norm, n.norm
    row["ratio"] = float(np.median(nn) / np.median(nb))
    row["min_ratio"] = float(nn.min() / nb.min())
    rule.judge(row, b, n, opts)
    row["in_geomean"] = b.median >= opts["min_effect_s"]
    row["work"], row["work_note"] = checks.work(b.first, n.first, *infos)
    return row


def _empty_row(name: str, b, n) -> dict:
    return {
        "fullname": (n or b).first.fullname,
        "name": name,
        "group": (b or n).first.group,
        "verdict": SAME,
        "ratio": None,
        "min_ratio": None,
        "p_value": None,
        "base_median_s": b.median if b else None,
        "new_median_s": n.median if n else None,
        "in_geomean": False,
        "work": "",
        "work_note": "",
        "pair_ratios": [],
    }


def _fails(row: dict, fail_on_work_change: bool) -> bool:
    return row["verdict"] == SLOWER or (fail_on_work_change and row["work"] == WORK_CHANGED)
