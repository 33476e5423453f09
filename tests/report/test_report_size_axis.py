"""The model-size axis (``n_params``) in the report: read from ``extra_info``, one series per
method and depth, its exponent fitted beside theory, its figure; the memory table and the
peak-memory exponent rows."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from synthetic_runs import size_run, write_run

from bnncompare.report import load_runs
from bnncompare.report.complexity import exponent_table
from bnncompare.report.figures import fit_vs_n_params, predict_vs_n_params
from bnncompare.report.memory import memory_exponent_table, memory_table
from bnncompare.report.tables import exponents_table


@pytest.fixture(scope="module")
def size_frame(tmp_path_factory):
    path = write_run(tmp_path_factory.mktemp("size") / "size.json", size_run(noise=0.01))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # no calibration in a synthetic run
        return load_runs([path])


@pytest.fixture(scope="module")
def size_exps(size_frame):
    return exponent_table(size_frame, n_boot=50)


def test_n_params_is_read_from_extra_info(size_frame):
    rows = size_frame[size_frame["axis"] == "n_params"]
    assert sorted(rows["n_params"].dropna().unique()) == [171, 1443, 18051]


def test_one_series_per_method_and_depth(size_exps):
    rows = size_exps[size_exps["axis"] == "n_params"]
    assert len(rows) == 4  # nn, nuts x fit, predict
    assert set(rows["hidden"]) == {"wxw"}
    assert set(rows.loc[rows["phase"] == "fit", "fixed"]) == {"n_train=300"}
    assert set(rows.loc[rows["phase"] == "predict", "fixed"]) == {"n_test=500 num_samples=100"}
    # the other series do not repeat P (it is fixed by their hidden, in the key)
    assert not size_exps.loc[size_exps["axis"] != "n_params", "fixed"].str.contains(
        "n_params").any()


def test_exponent_in_p_recovers_linear_work(size_exps):
    """Times a + b * units with units linear in P: the fitted exponent in P is 1 within
    the interval, and agrees with the stated theory (no flag)."""
    rows = size_exps[size_exps["axis"] == "n_params"]
    assert np.allclose(rows["b"], 1.0, atol=0.1), rows[["method", "phase", "b"]]
    assert (rows["theory_exponent"] == 1.0).all()
    assert (rows["flag"] == "").all()


def test_figures_time_vs_n_params(size_frame, size_exps, tmp_path):
    assert fit_vs_n_params(size_frame, size_exps, tmp_path / "f.png").exists()
    assert predict_vs_n_params(size_frame, size_exps, tmp_path / "p.png").exists()


def test_memory_table_has_every_cell_with_its_peak(size_frame):
    table = memory_table(size_frame)
    assert len(table) == len(size_frame)
    assert (table["peak_mb"] > 0).all()
    predict = table[table["phase"] == "predict"]
    # S * n_test * widest layer float32: 100 draws x 500 rows x 128 wide = 24.4 MiB
    row = predict[(predict["hidden"] == "128x128")].iloc[0]
    assert row["unchunked_mb"] == pytest.approx(100 * 500 * 128 * 4 / 2**20)
    assert table.loc[table["phase"] == "fit", "unchunked_mb"].isna().all()


def test_memory_exponents_rows_and_exponents_table(size_frame, size_exps):
    mem = memory_exponent_table(size_frame, n_boot=50)
    assert set(mem["quantity"]) == {"peak_mb"}
    assert set(mem["axis"]) == {"n_train", "n_params", "num_samples"}
    table = exponents_table(size_exps, mem)
    assert set(table["quantity"]) == {"time", "peak_mb"}
    assert len(table) == len(size_exps) + len(mem)
