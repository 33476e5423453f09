"""The command line: exit codes, one-line errors, and one real end-to-end sweep."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bnncompare.cli import main

ROOT = Path(__file__).resolve().parents[1]
GROUPS = {"fit", "predict", "peers", "calibration"}


def _one_line_error(capsys, needle: str) -> None:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert needle in err and "Traceback" not in err


@pytest.mark.parametrize(("argv", "needle"), [
    (["run", "--profile", "nope"], "unknown profile 'nope'"),
    (["demo", "--dataset", "nope"], "unknown dataset"),
])
def test_bad_names_exit_2_with_one_line(capsys, argv, needle):
    assert main(argv) == 2
    _one_line_error(capsys, needle)


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="this machine has CUDA")
def test_device_cuda_without_cuda_exits_2_with_one_line(tmp_path, capsys):
    assert main(["run", "--profile", "smoke", "--device", "cuda", "--out", str(tmp_path)]) == 2
    _one_line_error(capsys, "--device cuda: torch sees no CUDA device")
    assert not (tmp_path / "raw").exists()


@pytest.mark.skipif(not __import__("torch").cuda.is_available(),
                    reason="no CUDA device (CI has no GPU): benchmarks/gpu_sweep.sh runs the "
                           "CUDA sweep on a GPU machine")
def test_device_cuda_sweep_records_the_gpu(tmp_path):
    import torch

    proc = subprocess.run([sys.executable, "-m", "bnncompare.cli", "run", "--profile", "smoke",
                           "--methods", "nn", "--device", "cuda", "--no-report", "--out",
                           str(tmp_path), "-k", "calibration or (n_train and n100-)"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    run = json.loads((tmp_path / "raw" / "smoke.json").read_text())
    info = run["machine_info"]
    assert info["device"] == "cuda" and info["cuda_version"] == torch.version.cuda
    assert info["cuda_device_name"] == torch.cuda.get_device_name(0)
    fit = [b for b in run["benchmarks"] if b["group"] == "fit"]
    # the device is the run's (machine_info), not the cell's identity (workload)
    assert len(fit) == 1 and "device" not in fit[0]["extra_info"]["workload"]["estimator"]


def test_workers_without_dask_exits_2_naming_the_extra(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    assert main(["run", "--profile", "smoke", "--workers", "2", "--out", str(tmp_path)]) == 2
    _one_line_error(capsys, "pip install -e '.[distributed]'")
    assert not (tmp_path / "raw").exists()


def test_report_on_empty_json_exits_2_and_writes_nothing(tmp_path, capsys):
    empty = tmp_path / "empty.json"
    empty.write_text("")
    out = tmp_path / "out"
    assert main(["report", str(empty), "--out", str(out)]) == 2
    _one_line_error(capsys, "empty.json")
    assert not out.exists()


def test_compare_on_missing_file_exits_2(tmp_path, capsys):
    assert main(["compare", str(tmp_path / "a.json"), str(tmp_path / "b.json")]) == 2
    _one_line_error(capsys, "a.json")


def _check_entry(entry: dict) -> None:
    """One benchmark entry against docs/benchmark-json.md."""
    assert entry["group"] in GROUPS
    params, extra = entry["params"], entry["extra_info"]
    assert all(isinstance(v, str | int) for v in params.values()), params
    assert extra["profile"] == "smoke"
    assert entry["stats"]["rounds"] == len(entry["stats"]["data"]) >= 1
    if entry["group"] in ("fit", "predict"):
        # only the axes that change the cell's own work (docs/benchmark-json.md)
        expected = {"fit": {"n_train": {"n_train"}, "num_samples": {"n_train", "num_samples"},
                            "none": set()},
                    "predict": {"num_samples": {"n_test", "num_samples"},
                                "n_test": {"n_test", "num_samples"}}}
        assert set(params) == {"method", "dataset", "hidden"} | expected[entry["group"]][
            extra["axis"]], params
        assert extra["workload"]["estimator"]["random_state"] == 0
        for key in ("accuracy", "nll", "brier", "ece", "ood_auroc", "n_grad_evals", "n_params"):
            assert key in extra, key
        assert 0 <= extra["accuracy"] <= 1 and 0 <= extra["ood_auroc"] <= 1
    if entry["group"] == "fit" and params["method"] == "nuts":  # a method with diagnostics_
        for key in ("r_hat_max", "ess_min", "divergences", "predictive_ess_per_s"):
            assert key in extra, key
    if entry["group"] == "peers":
        assert {"method", "dataset", "task"} <= set(params)
        assert extra["s_per_unit"] > 0 and "ratio_vs_bnncompare" in extra


def test_smoke_sweep_end_to_end(tmp_path):
    """A real ``bnncompare run`` subprocess on a slice of the smoke profile: the JSON follows
    the contract and the report renders from it."""
    keyword = ("calibration or (n_train and n300) or (num_samples and S10-) "
               "or (peers and svi_step and not tutorial)")
    env = {**os.environ, "BNNCOMPARE_PROFILE": "smoke"}
    proc = subprocess.run([sys.executable, "-m", "bnncompare.cli", "run", "--profile", "smoke",
                           "--out", str(tmp_path), "-k", keyword], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-2000:]
    run = json.loads((tmp_path / "raw" / "smoke.json").read_text())
    assert {"torch", "pyro", "torch_threads", "device", "profile"} <= set(run["machine_info"])
    assert run["machine_info"]["torch_threads"] == 1
    groups = {e["group"] for e in run["benchmarks"]}
    assert groups == GROUPS
    for entry in run["benchmarks"]:
        _check_entry(entry)
    assert (tmp_path / "README.md").is_file()
    assert any((tmp_path / "figures").glob("*.png"))


def test_one_pytest_command_line_for_every_benchmark_run(capsys):
    """The sweep, the shards and .ci/gate (through ``python -m bnncompare.sweep
    --print-command``) all run the benchmarks with ``sweep.benchmark_args``."""
    from bnncompare import sweep

    args = sweep.benchmark_args("smoke", ["nn", "svi"], "out.json", rootdir="/repo",
                                device="cpu", keyword="n_train", extra=["-q"])
    assert args == ["benchmarks", "-p", "no:cacheprovider", "-o", "addopts=", "--rootdir=/repo",
                    "--profile", "smoke", "--methods", "nn,svi", "--device", "cpu",
                    "--benchmark-json", "out.json", "-k", "n_train", "-q"]
    # what a tree predating --profile and --device gets: neither option, no JSON
    assert sweep.benchmark_args(None, None, targets=["a::b"]) == [
        "a::b", "-p", "no:cacheprovider", "-o", "addopts="]
    assert sweep.benchmark_command(None, None)[:3] == [sys.executable, "-m", "pytest"]
    # the gate's call: one argument a line, a keyword with spaces kept whole
    assert sweep.main(["--print-command", "--profile", "smoke", "--json", "out.json",
                       "-k", "not pyro and not floor", "--", "-q", "--benchmark-quiet"]) == 0
    assert capsys.readouterr().out.splitlines() == sweep.benchmark_args(
        "smoke", None, "out.json", keyword="not pyro and not floor",
        extra=["-q", "--benchmark-quiet"])
