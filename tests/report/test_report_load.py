"""load_runs: one tidy row per benchmark, calibration normalisation, merging, bad input."""

from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd
import pytest

from bnncompare.report import ReportInputError, load_runs
from bnncompare.report.load import CORE_COLUMNS, EXTRA_COLUMNS

MACHINE = "ci-runner-2c (Intel(R) Xeon(R) Platinum 8272CL CPU @ 2.60GHz)"


def test_one_row_per_benchmark_with_all_columns(frame, fixture_doc):
    assert len(frame) == len(fixture_doc["benchmarks"])
    assert list(frame.columns[: len(CORE_COLUMNS)]) == CORE_COLUMNS
    assert set(EXTRA_COLUMNS) <= set(frame.columns)
    assert set(frame["phase"]) == {"fit", "predict", "peers", "calibration"}
    assert set(frame["run"]) == {"fast"}
    assert set(frame["machine"]) == {MACHINE}
    assert set(frame["profile"]) == {"fast"}


def test_row_values_follow_the_json(frame, fixture_doc):
    bench = next(b for b in fixture_doc["benchmarks"]
                 if b["name"] == "test_fit_vs_n_train[synthetic-nuts-n1000]")
    row = frame[frame["name"] == bench["name"]].iloc[0]
    assert (row["phase"], row["method"], row["dataset"], row["axis"]) == (
        "fit", "nuts", "synthetic", "n_train")
    assert (row["n_train"], row["n_test"], row["num_samples"], row["hidden"]) == (
        1000, 1000, 100, "16x16")
    assert row["median_s"] == bench["stats"]["median"]
    assert row["iqr_s"] == bench["stats"]["iqr"]
    assert row["rounds"] == 5
    assert row["times"] == bench["stats"]["data"]
    assert row["n_grad_evals"] == 51000
    assert row["theory_exponent"] == 1.0
    assert row["torch"] == "2.13.0" and row["commit"].startswith("3f9c2ab")


def test_median_norm_divides_by_the_run_calibration(frame):
    calib = frame.loc[frame["phase"] == "calibration", "median_s"].iloc[0]
    assert np.allclose(frame["calib_median_s"], calib)
    assert np.allclose(frame["median_norm"], frame["median_s"] / calib)


def test_peer_rows_carry_task_and_ratio(frame):
    peers = frame[frame["phase"] == "peers"].set_index("method")
    assert set(peers["task"]) == {"predict", "svi_step", "nuts_leapfrog"}
    assert peers["n_train"].isna().all()
    row = peers[peers["task"] == "predict"].loc["pyro-predictive"]
    assert row["ratio_vs_bnncompare"] == pytest.approx(62.3, abs=0.05)


def test_missing_calibration_warns_and_gives_nan(tmp_path, fixture_doc, write_input):
    doc = copy.deepcopy(fixture_doc)
    doc["benchmarks"] = [b for b in doc["benchmarks"] if b["group"] != "calibration"]
    path = write_input(tmp_path / "nocal.json", doc)
    with pytest.warns(UserWarning, match="nocal.json: no calibration"):
        df = load_runs([path])
    assert df["median_norm"].isna().all()
    assert df["median_s"].notna().all()


def test_two_runs_merge_keyed_by_machine(tmp_path, fixture_json, fixture_doc, second_machine,
                                         write_input):
    other = write_input(tmp_path / "laptop.json", second_machine)
    df = load_runs([fixture_json, other])
    assert len(df) == 2 * len(fixture_doc["benchmarks"])
    assert sorted(df["machine"].unique()) == [MACHINE, "laptop (Apple M2)"]
    assert sorted(df["run"].unique()) == ["fast", "laptop"]
    # Normalised times agree across machines although raw times differ by 2x.
    a = df[df["run"] == "fast"].reset_index()
    b = df[df["run"] == "laptop"].reset_index()
    assert np.allclose(b["median_s"], 2 * a["median_s"])
    assert np.allclose(b["median_norm"], a["median_norm"])


def test_same_stem_in_two_folders_gets_distinct_runs(tmp_path, fixture_doc, write_input):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    paths = [write_input(tmp_path / d / "fast.json", fixture_doc) for d in ("a", "b")]
    assert sorted(load_runs(paths)["run"].unique()) == ["a/fast", "b/fast"]


BAD_NAMES = ["empty", "not_json", "json_list", "no_benchmarks_key", "no_machine_info",
             "zero_benchmarks", "no_median", "unknown_group"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_input_raises_naming_the_file(tmp_path, fixture_json, bad_inputs, write_input,
                                          name):
    content, message = bad_inputs[name]
    path = write_input(tmp_path / f"{name}.json", content)
    with pytest.raises(ReportInputError) as info:
        load_runs([fixture_json, path])
    assert str(path) in str(info.value)
    assert message in str(info.value)
    assert isinstance(info.value, ValueError)


def test_missing_file_and_no_files(tmp_path):
    with pytest.raises(ReportInputError, match=r"nope\.json: no such file"):
        load_runs([tmp_path / "nope.json"])
    with pytest.raises(ReportInputError, match="no benchmark JSON files"):
        load_runs([])


def test_single_path_is_accepted(fixture_json):
    assert not math.isnan(load_runs(fixture_json)["median_s"].iloc[0])


def test_dev_null_is_an_empty_file_not_a_missing_one():
    # /dev/null exists (a character device, not a regular file) and reads as 0 bytes.
    with pytest.raises(ReportInputError, match=r"^/dev/null: file is empty \(0 bytes\)"):
        load_runs(["/dev/null"])


def test_report_command_on_dev_null_says_empty(capsys):
    from bnncompare.cli import main

    assert main(["report", "/dev/null"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "/dev/null: file is empty" in err
    assert "no such file" not in err


def _with_gemm_calibration(doc, gemm_s):
    """The fixture plus three gemm-kind calibration entries of median ``gemm_s``."""
    doc = copy.deepcopy(doc)
    for position in ("start", "middle", "end"):
        doc["benchmarks"].append({
            "group": "calibration", "name": f"test_calibration[calibration-none-gemm-{position}]",
            "params": {"method": "calibration", "dataset": "none", "kind": "gemm",
                       "position": position},
            "stats": {"median": gemm_s, "min": gemm_s, "max": gemm_s, "mean": gemm_s,
                      "iqr": 0.0, "rounds": 1, "data": [gemm_s]},
            "extra_info": {"workload": {"calibration": "gemm"}}})
    return doc


def test_each_row_is_normalised_by_the_calibration_of_its_kind(tmp_path, fixture_doc,
                                                                write_input):
    doc = _with_gemm_calibration(fixture_doc, 0.5)
    for bench in doc["benchmarks"]:  # predict cells opt into the gemm kind
        if bench["group"] == "predict":
            bench["extra_info"]["calibration_kind"] = "gemm"
    df = load_runs([write_input(tmp_path / "kinds.json", doc)])
    dispatch = df.loc[(df["phase"] == "calibration") & (df["calib_kind"] == "dispatch"),
                      "median_s"].median()
    gemm_rows = df["phase"] == "predict"
    assert set(df.loc[gemm_rows, "calib_kind"]) == {"gemm"}
    assert set(df.loc[~gemm_rows & (df["phase"] != "calibration"), "calib_kind"]) == {"dispatch"}
    assert np.allclose(df.loc[gemm_rows, "calib_median_s"], 0.5)
    assert np.allclose(df.loc[~gemm_rows & (df["phase"] == "fit"), "calib_median_s"], dispatch)
    assert np.allclose(df["median_norm"], df["median_s"] / df["calib_median_s"])


def test_the_report_and_the_gate_normalise_alike(tmp_path, fixture_doc, write_input):
    # One reader, one rule: the report's calib_median_s is the gate's scale for every row.
    from bnncompare import gate

    doc = _with_gemm_calibration(fixture_doc, 0.5)
    for bench in doc["benchmarks"]:
        if bench["group"] == "predict":
            bench["extra_info"]["calibration_kind"] = "gemm"
    path = write_input(tmp_path / "kinds.json", doc)
    df = load_runs([path]).set_index("name")
    run = gate.load_run(path)
    kinds = run.kinds
    for bench in run.benchmarks.values():
        name = bench.fullname.split("::")[-1]
        assert df.loc[name, "calib_median_s"] == run.scale(bench.kind, kinds)


def test_missing_params_are_missing_and_workload_is_a_column(tmp_path, fixture_doc,
                                                             write_input):
    doc = copy.deepcopy(fixture_doc)
    fit = next(b for b in doc["benchmarks"] if b["group"] == "fit")
    del fit["params"]["num_samples"]  # the redesign: an NN fit cell has no num_samples
    fit["extra_info"]["workload"] = {"num_epochs": 200, "n_test": 1000}
    df = load_runs([write_input(tmp_path / "new.json", doc)])
    row = df[df["name"] == fit["name"]].iloc[0]
    assert pd.isna(row["num_samples"])
    assert row["workload"] == '{"n_test": 1000, "num_epochs": 200}'
    assert df.loc[df["name"] != fit["name"], "workload"].isna().all()  # older entries: none


def test_without_opting_in_every_benchmark_is_dispatch(tmp_path, fixture_doc, write_input):
    # A gemm calibration in the run changes nothing for benchmarks that do not name it.
    df = load_runs([write_input(tmp_path / "k.json", _with_gemm_calibration(fixture_doc, 0.5))])
    judged = df[df["phase"] != "calibration"]
    assert set(judged["calib_kind"]) == {"dispatch"}
    dispatch = df.loc[(df["phase"] == "calibration") & (df["calib_kind"] == "dispatch"),
                      "median_s"].median()
    assert np.allclose(judged["calib_median_s"], dispatch)
