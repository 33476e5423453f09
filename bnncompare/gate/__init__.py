"""Performance-regression gate: compare two pytest-benchmark JSON runs.

The gate has to hold on a noisy 2-core CI machine, where the same code times 3-35 % apart
from one run to the next. A single percentage threshold, as in pytest-benchmark's own
``--benchmark-compare-fail``, fails on that noise yet misses a small slowdown spread over
every benchmark, so a benchmark is called ``slower`` only when several independent signs
agree, and a suite-wide rule on the geometric mean of the ratios catches the spread-out
slowdown no single benchmark shows. Two verdict rules exist:

* pooled (:mod:`bnncompare.gate.pooled`, the default): every run normalised by its own
  ``calibration`` benchmark, a side's runs pooled round by round, a one-sided Mann-Whitney U
  test on the normalised rounds;
* paired (:mod:`bnncompare.gate.paired`, ``--paired``, what ``.ci/gate`` uses): BASE and NEW
  measured in interleaved pairs on one machine, judged pair by pair on raw times, every pair
  having to agree.

Benchmarks are matched by identity (group, test function, ``params`` and
``extra_info["workload"]``, see :mod:`bnncompare.benchjson`), never by node id: runs of
different profiles, runs of which only one records workloads, a benchmark whose workload
differs, or a CPU run against a GPU run, are refused (exit 2, :mod:`bnncompare.gate.checks`),
because equal names over different work (or different hardware) would make any ratio
meaningless. In a run merged from Dask shards each shard is normalised by its own calibration.

Work counters (``extra_info.n_grad_evals``) are deterministic for a given seed and library
versions, so a change in them is an algorithmic change and is reported on its own column.

The input schema is ``docs/benchmark-json.md``; the command line is
:mod:`bnncompare.gate.cli` (``bnncompare compare``). The modules:

* :mod:`~bnncompare.gate.model`: constants, :class:`Run`, :class:`Bench`, :class:`GateResult`,
  :func:`load_run`;
* :mod:`~bnncompare.gate.checks`: whether two sides are comparable at all;
* :mod:`~bnncompare.gate.compare`: matching and pooling, dispatching to one verdict rule;
* :mod:`~bnncompare.gate.pooled`, :mod:`~bnncompare.gate.paired`: the two verdict rules;
* :mod:`~bnncompare.gate.render`: the text table and the flagged-benchmarks file.
"""

from __future__ import annotations

from bnncompare.gate.checks import same_cpu
from bnncompare.gate.cli import main
from bnncompare.gate.compare import compare, compare_runs
from bnncompare.gate.model import (
    ALPHA,
    CALIBRATION_GROUP,
    GEOMEAN_THRESHOLD,
    MIN_EFFECT_S,
    THRESHOLD,
    Bench,
    GateInputError,
    GateResult,
    Run,
    load_run,
)
from bnncompare.gate.render import format_result, write_flagged

__all__ = [
    "ALPHA",
    "CALIBRATION_GROUP",
    "GEOMEAN_THRESHOLD",
    "MIN_EFFECT_S",
    "THRESHOLD",
    "Bench",
    "GateInputError",
    "GateResult",
    "Run",
    "compare",
    "compare_runs",
    "format_result",
    "load_run",
    "main",
    "same_cpu",
    "write_flagged",
]
