"""Instruction counts of a fixed set of kernels, and the gate that compares two commits'.

- :mod:`~bnncompare.instructions.kernels`: what is counted (workload code only);
- :mod:`~bnncompare.instructions.worker`: runs inside callgrind, counts each kernel;
- :mod:`~bnncompare.instructions.client`: callgrind's client requests (start/stop counting);
- :mod:`~bnncompare.instructions.count`: runs the worker under valgrind for one source tree;
- :mod:`~bnncompare.instructions.verdict`: per-kernel limits and the pass/fail verdict.

``.ci/instructions`` drives it for the previous main and HEAD (docs/gate.md).
"""

from bnncompare.instructions.count import CountError, count_tree, read_counts, write_counts
from bnncompare.instructions.kernels import KERNELS, Kernel
from bnncompare.instructions.verdict import DEFAULT_LIMIT, LIMITS, compare_counts, render

__all__ = ["DEFAULT_LIMIT", "KERNELS", "LIMITS", "CountError", "Kernel", "compare_counts",
           "count_tree", "read_counts", "render", "write_counts"]
