"""Run inside valgrind's callgrind: build, warm up and count each kernel in turn.

``python -m bnncompare.instructions.worker MANIFEST [NAME ...]`` runs under
``valgrind --tool=callgrind --collect-atstart=no`` (and ``--instr-atstart=no`` when the
environment names a compiled client-request helper, ``BNNCOMPARE_COUNT_HELPER``:
:mod:`~bnncompare.instructions.client`). For each kernel it builds the set-up and calls it
once uncounted (the warm-up), then switches counting on, calls it again and switches counting
off while dumping the counts: callgrind writes one numbered part file per dump, holding only
that call's instructions, so the i-th dump is the i-th kernel's. MANIFEST (JSON) records the
kernels in dump order and their workloads. Outside valgrind the client requests do nothing,
so the worker runs natively too (the tests do).
"""

from __future__ import annotations

import json
import os
import sys
import warnings

from bnncompare.instructions.client import Switch

__all__ = ["count_kernels", "main"]


def count_kernels(names: list[str], switch: Switch | None = None) -> list[dict]:
    """Warm up and count each kernel of ``names``; their manifest entries in dump order."""
    import torch

    from bnncompare.instructions.kernels import KERNELS

    switch = switch or Switch(os.environ.get("BNNCOMPARE_COUNT_HELPER") or None)
    torch.set_num_threads(1)  # one thread: a pool's scheduling would make counts vary
    entries = []
    for name in names:
        kernel = KERNELS[name]
        with warnings.catch_warnings():  # tiny fits warn (no convergence); counts only
            warnings.simplefilter("ignore")
            run = kernel.build()
            run()
            switch.start()
            run()
            switch.stop()
        entries.append({"name": name, "workload": kernel.workload})
    return entries


def main(argv: list[str] | None = None) -> int:
    """Count the named kernels (all without names) and write the manifest."""
    from bnncompare.instructions.kernels import kernel_names

    args = sys.argv[1:] if argv is None else argv
    if not args:
        print("usage: python -m bnncompare.instructions.worker MANIFEST [NAME ...]",
              file=sys.stderr)
        return 2
    names = args[1:] or kernel_names()
    entries = count_kernels(names)
    with open(args[0], "w") as fh:
        json.dump({"kernels": entries}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
