"""Callgrind's client requests, as the worker calls them around each counted kernel.

Callgrind runs a program ~50x slower than natively when it instruments every instruction,
and ~5x slower with instrumentation off (``--instr-atstart=no``): the imports, set-ups and
warm-ups need none. Switching instrumentation on and off takes callgrind's
``CALLGRIND_START_INSTRUMENTATION`` / ``STOP_INSTRUMENTATION`` requests, which are macros of
``<valgrind/callgrind.h>`` (shipped with Debian's ``valgrind`` package) that no Python
package exposes: :func:`build_helper` compiles them into a two-function shared library with
the system C compiler. Without a compiler or the header the worker falls back to torch's
``_valgrind_toggle`` (collection only, with instrumentation on throughout: the same counts,
slower).
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path

__all__ = ["HELPER_SOURCE", "Switch", "build_helper"]

HELPER_SOURCE = r"""
#include <valgrind/callgrind.h>
/* instrumentation on, then collection on: only the kernel's own instructions are counted */
void bnncompare_count_start(void) { CALLGRIND_START_INSTRUMENTATION; CALLGRIND_TOGGLE_COLLECT; }
/* collection off, this kernel's counts dumped to their own part file, instrumentation off */
void bnncompare_count_stop(void) {
    CALLGRIND_TOGGLE_COLLECT; CALLGRIND_DUMP_STATS; CALLGRIND_STOP_INSTRUMENTATION;
}
"""


def build_helper(folder: Path) -> Path | None:
    """Compile :data:`HELPER_SOURCE` into ``folder``; its path, or None when it cannot be."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        return None
    src, lib = folder / "count_helper.c", folder / "count_helper.so"
    src.write_text(HELPER_SOURCE)
    done = subprocess.run([cc, "-O1", "-shared", "-fPIC", "-o", str(lib), str(src)],
                          capture_output=True, text=True, check=False)
    return lib if done.returncode == 0 and lib.exists() else None


class Switch:
    """Start and stop counting one kernel: the compiled helper if given, else torch's toggle.

    Parameters
    ----------
    helper : str or None
        Path of the library :func:`build_helper` made. None: callgrind was started with
        instrumentation on, and only collection is switched (``torch._C._valgrind_toggle``).
    """

    def __init__(self, helper: str | None = None):
        self._lib = ctypes.CDLL(helper) if helper else None

    def start(self) -> None:
        """Count from here (nothing outside valgrind)."""
        if self._lib is not None:
            self._lib.bnncompare_count_start()
        else:
            import torch

            torch._C._valgrind_toggle()

    def stop(self) -> None:
        """Stop counting and dump this kernel's counts to their own part file."""
        if self._lib is not None:
            self._lib.bnncompare_count_stop()
        else:
            import torch

            torch._C._valgrind_toggle_and_dump_stats()
