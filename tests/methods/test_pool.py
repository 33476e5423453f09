"""The process pool both NUTS chain runners share: results by call, progress from workers."""

from __future__ import annotations

import os

import pytest
import torch

from bnncompare.methods._pool import run_in_processes


def _square(k: int) -> tuple[int, int, int]:
    return k * k, os.getpid(), torch.get_num_threads()


def _count_up(k: int, progress) -> int:
    for _ in range(k):
        progress(1)
    return k


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_every_call_once_with_its_index(n_jobs):
    out = dict(run_in_processes(_square, [(k,) for k in range(5)], n_jobs))
    assert {i: r[0] for i, r in out.items()} == {k: k * k for k in range(5)}
    pids = {r[1] for r in out.values()}
    if n_jobs == 1:  # here, in order
        assert pids == {os.getpid()}
    else:  # in workers of one torch thread each
        assert os.getpid() not in pids and {r[2] for r in out.values()} == {1}


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_progress_reaches_the_parent(n_jobs):
    seen: list[int] = []
    results = [r for _, r in run_in_processes(_count_up, [(3,), (4,)], n_jobs,
                                              progress=seen.append)]
    assert sorted(results) == [3, 4] and seen == [1] * 7


def test_an_error_in_a_call_is_raised_here():
    with pytest.raises(TypeError):
        list(run_in_processes(_square, [(1,), ("x",)], 2))
