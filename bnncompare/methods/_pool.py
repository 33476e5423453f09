"""One function called on many argument tuples, on a pool of one-thread worker processes.

The NUTS estimator's chains (``_chains``) and the reference posterior's chains
(``bnncompare.reference.chains``) both run here. A chain is a pure function of its arguments
and a worker runs one torch thread, so a call returns the same floats in a worker as in this
process: the pool changes the wall time, never the result.

Processes are forked where the platform can (Linux): a forked worker starts in milliseconds
with torch and Pyro already imported, where a spawned one pays ~3 s of imports. Callers that
must not fork (JAX cannot be forked once started) ask for ``start_method="spawn"``.
"""

from __future__ import annotations

import multiprocessing
import queue
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any

import torch

__all__ = ["run_in_processes"]

_QUEUE = None  # a worker's progress queue, set by _init_worker (None: no progress asked)
_POLL_S = 0.5  # how often the parent passes on the workers' progress while it waits


def _init_worker(progress_queue) -> None:
    global _QUEUE
    _QUEUE = progress_queue
    torch.set_num_threads(1)  # one core per worker: K workers share K cores without contention


def _call(fn: Callable, args: tuple, with_progress: bool):
    return fn(*args, progress=_QUEUE.put) if with_progress else fn(*args)


def run_in_processes(fn: Callable, calls: Sequence[tuple], n_jobs: int, *,
                     start_method: str | None = None,
                     progress: Callable[[int], None] | None = None
                     ) -> Iterator[tuple[int, Any]]:
    """``(i, fn(*calls[i]))`` for every call, yielded as each one finishes.

    Parameters
    ----------
    fn : callable
        A module-level function (a worker process must find it by name).
    calls : sequence of tuple
        Positional arguments of each call, submitted in this order.
    n_jobs : int
        Worker processes, one torch thread each (at most one per call). ``n_jobs <= 1`` or a
        single call: every call runs in this process, in order.
    start_method : {'fork', 'spawn'}, optional
        How workers start; default ``'fork'`` where the platform has it, else ``'spawn'``.
    progress : callable, optional
        When given, ``fn`` is called with a ``progress=`` keyword: a function it calls with
        each count of finished units of work, which reaches ``progress`` in this process (at
        once here, within :data:`_POLL_S` seconds from a worker).

    Yields
    ------
    (int, object)
        The index of a call in ``calls`` and its result. A call that raises raises here.
    """
    kwargs = {} if progress is None else {"progress": progress}
    if n_jobs <= 1 or len(calls) <= 1:
        for i, args in enumerate(calls):
            yield i, fn(*args, **kwargs)
        return
    if start_method is None:
        start_method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(start_method)
    progress_queue = None if progress is None else context.Queue()
    with ProcessPoolExecutor(max_workers=min(n_jobs, len(calls)), mp_context=context,
                             initializer=_init_worker, initargs=(progress_queue,)) as pool:
        index = {pool.submit(_call, fn, args, progress is not None): i
                 for i, args in enumerate(calls)}
        pending = set(index)
        while pending:
            done, pending = wait(pending, timeout=_POLL_S, return_when=FIRST_COMPLETED)
            _drain(progress_queue, progress)
            for future in done:
                yield index[future], future.result()
    _drain(progress_queue, progress)


def _drain(progress_queue, progress: Callable[[int], None] | None) -> None:
    """Pass every count waiting in ``progress_queue`` on to ``progress``."""
    while progress_queue is not None:
        try:
            progress(progress_queue.get_nowait())
        except queue.Empty:
            return
