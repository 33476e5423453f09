"""Peak memory (bnncompare.memory): known allocations read back, a cell after a bigger one still
measured, and predict at large S bounded by net.py's chunking."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bnncompare import data, net
from bnncompare.memory import PeakMemory, can_reset_peak
from bnncompare.methods import make_method

pytestmark = pytest.mark.skipif(not can_reset_peak(), reason="needs Linux /proc clear_refs")

MiB = 2**20


def _hold(n_bytes: int):
    def call():
        x = torch.ones(n_bytes // 4)
        return float(x[-1])
    return call


def test_known_allocation_read_back():
    with PeakMemory() as mem:
        mem.measure(_hold(64 * MiB))
        assert mem.peaks_mb[-1] == pytest.approx(64, abs=4)


def test_smaller_call_after_bigger_one_is_measured_alone():
    """The reason for resetting the high-water mark: ru_maxrss would still say 128 here."""
    with PeakMemory() as mem:
        mem.measure(_hold(128 * MiB))
        mem.measure(_hold(16 * MiB))
        big, small = mem.peaks_mb
    assert big == pytest.approx(128, abs=6)
    assert small == pytest.approx(16, abs=4)


def test_take_returns_max_and_clears():
    with PeakMemory() as mem:
        mem.measure(_hold(8 * MiB))
        mem.measure(_hold(32 * MiB))
        assert mem.take() == pytest.approx(32, abs=4)
        assert np.isnan(mem.take())


def test_disabled_records_nothing():
    mem = PeakMemory(enabled=False)
    mem.measure(_hold(8 * MiB))
    assert np.isnan(mem.take())


def test_predict_at_large_s_stays_bounded():
    """S = 4000 draws x 500 rows x width 32: an unchunked pass would hold 244 MiB for one
    layer's activations; chunked (at most 2**20 floats of the widest layer at once) the whole
    call measured 19-29 MiB from S = 100 to S = 8000 (SVI, 32x32, 500 rows)."""
    ds = data.load_dataset("synthetic", seed=0, n_train=200, n_test=500)
    est = make_method("svi", hidden_sizes=(32, 32), activation="tanh", num_steps=5,
                      random_state=0).fit(ds.x_train, ds.y_train)
    s = 4000
    unchunked = s * len(ds.x_test) * 32 * 4 / MiB
    est.set_params(num_predictive_samples=s)
    with PeakMemory() as mem:
        est.predict_proba(ds.x_test)  # warm-up, as the benchmarks measure
        mem.measure(est.predict_proba, ds.x_test)
    peak = mem.take()
    assert net.chunk_size_for(est.spec_, len(ds.x_test)) < s
    assert peak < 64, (peak, unchunked)
    assert peak < unchunked / 4
