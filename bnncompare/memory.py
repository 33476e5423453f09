"""Peak memory of one call, measured: the kernel's resident-set high-water mark, reset before
the call; torch's allocator statistics on CUDA.

How (CPU, Linux): :meth:`PeakMemory.mark`, called just before a call and outside the timed
region, runs the garbage collector and ``malloc_trim(0)`` (glibc keeps freed heap pages
resident, so without it a cell that follows a bigger one would reuse pages it never has to
fault in and read ~0; see :meth:`~PeakMemory.mark` for what that costs a timed call), then
writes ``5`` to ``/proc/self/clear_refs``, which resets the
kernel's peak resident set (``VmHWM``) to the current one, and takes that as the baseline.
:meth:`harvest`, just after the call, reads ``VmHWM`` from ``/proc/self/status``: the peak
above the baseline is the most memory the process held at any moment of the call, counted by
the kernel at every page fault and unmapping, however short the peak lasted.

Why not sampling: a thread that samples the resident set every millisecond needs the GIL at
every wake-up, and on the dispatch-bound cells (a small net's fit is Python-overhead bound) it
made fits 1.2-1.3x slower (paired rounds, NN and SVI fits at n = 300, 16x16, on a busy 2-core
machine); a helper process that samples ``/proc/<pid>/statm`` shares no lock but still
preempted the benchmark on a machine without an idle core (1.25-1.3x at 1 ms, 1.05-1.1x at
5 ms). The high-water mark costs nothing during the call. ``resource.getrusage``'s
``ru_maxrss`` is not used: it is a process-lifetime maximum, so it cannot measure a cell that
comes after a bigger one. Where ``clear_refs`` cannot be written (not Linux, a locked-down
``/proc``), no peak is recorded.

What it counts: everything the process holds, including pages the allocator faulted in and
kept (rounded to pages); so a peak is what the operating system had to give the call.

CUDA: :meth:`mark` resets torch's peak statistics and records ``memory_allocated``;
``harvest`` reads ``max_memory_allocated`` above it (tensors only, not the caching
allocator's reserve or the CUDA context).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc

__all__ = ["PeakMemory", "can_reset_peak", "status_kib"]

_STATUS = "/proc/self/status"
_CLEAR_REFS = "/proc/self/clear_refs"


def _libc_trim():
    """``malloc_trim`` of glibc, or None where there is none (macOS, musl)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim
    except (OSError, AttributeError):
        return None


_TRIM = _libc_trim()


def status_kib(field: str) -> int | None:
    """A ``/proc/self/status`` field in KiB (``"VmRSS"``, ``"VmHWM"``); None where absent."""
    try:
        with open(_STATUS, encoding="ascii") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    try:
        with open(_CLEAR_REFS, "w", encoding="ascii") as f:
            f.write("5")
        return True
    except OSError:
        return False


def can_reset_peak() -> bool:
    """Whether this process can reset its peak resident set (Linux ``clear_refs``)."""
    return _reset_peak() and status_kib("VmHWM") is not None


class PeakMemory:
    """Peak memory above a baseline, per call: ``mark()`` before, ``harvest()`` after.

    Parameters
    ----------
    device : {'cpu', 'cuda'}, default='cpu'
        'cuda' reads torch's allocator statistics instead of the resident set.
    enabled : bool, default=True
        False: nothing is done, every peak is NaN (to time the calls without it).

    ``peaks_mb`` holds each harvested call's peak in MiB; :meth:`take` returns their maximum
    and clears them. A context manager for symmetry with other resources (nothing to start).
    """

    def __init__(self, device: str = "cpu", enabled: bool = True):
        self.device = device
        self.enabled = enabled and (device == "cuda" or can_reset_peak())
        self.peaks_mb: list[float] = []
        self._base = 0

    def __enter__(self) -> PeakMemory:
        return self

    def __exit__(self, *exc) -> None:
        return None

    @property
    def kind(self) -> str:
        """What a peak measures: ``"rss_high_water"`` or ``"cuda_max_allocated"``."""
        return "cuda_max_allocated" if self.device == "cuda" else "rss_high_water"

    def mark(self, trim: bool = True) -> None:
        """Start a call: collect garbage, return freed heap pages (``trim``), reset the peak.

        Returning the pages makes the call fault them in again, which it pays for in time
        (a 9 MiB predict 1.5x slower, a fit 1.03x): a timed benchmark marks with ``trim``
        only a call whose time it does not keep, or only its first round; without ``trim``
        a call that reuses pages already resident reads lower than its true peak.
        """
        if not self.enabled:
            return
        if self.device == "cuda":
            import torch

            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self._base = torch.cuda.memory_allocated()
            return
        if trim:
            gc.collect()
            if _TRIM is not None:
                _TRIM(0)
        _reset_peak()
        self._base = (status_kib("VmHWM") or 0) * 1024

    def harvest(self) -> None:
        """End a call: record its peak above the baseline (MiB) in ``peaks_mb``."""
        if not self.enabled:
            return
        if self.device == "cuda":
            import torch

            torch.cuda.synchronize()
            peak = torch.cuda.max_memory_allocated() - self._base
        else:
            peak = (status_kib("VmHWM") or 0) * 1024 - self._base
        self.peaks_mb.append(max(peak, 0) / 2**20)

    def take(self) -> float:
        """The largest harvested peak (MiB) since the last ``take``; NaN if none."""
        peaks, self.peaks_mb = self.peaks_mb, []
        return max(peaks) if peaks else float("nan")

    def measure(self, fn, *args, **kwargs):
        """``fn(*args, **kwargs)`` between ``mark`` and ``harvest``; returns its result."""
        self.mark()
        try:
            return fn(*args, **kwargs)
        finally:
            self.harvest()
