"""The gate refuses to compare a CPU run with a GPU run (``machine_info["device"]``)."""

from __future__ import annotations

import json

import pytest

from bnncompare.cli import main

CELLS = {"n100": 0.5, "n300": 1.2, "n1000": 3.0}


def _run(path, device: str | None, factor: float = 1.0):
    """A one-process run; ``device`` None writes no device key (a run from before --device)."""
    def entry(name, group, median, params):
        return {"group": group, "name": name, "fullname": f"benchmarks/test_fit.py::{name}",
                "params": params, "extra_info": {"profile": "smoke"},
                "stats": {"median": median, "data": [median * r for r in (0.98, 1.0, 1.03)]}}

    benches = [entry("test_calibration[start]", "calibration", 0.1, {"kind": "dispatch"})]
    benches += [entry(f"test_fit_vs_n_train[synthetic-nn-{k}]", "fit", t * factor,
                      {"method": "nn", "dataset": "synthetic", "n_train": int(k[1:])})
                for k, t in CELLS.items()]
    info = {"node": "box", "profile": "smoke"}
    if device is not None:
        info["device"] = device
    if device == "cuda":
        info["cuda_device_name"] = "NVIDIA H200"
    path.write_text(json.dumps({"machine_info": info, "benchmarks": benches}))
    return path


@pytest.mark.parametrize(("base", "new"), [("cpu", "cuda"), ("cuda", "cpu"), (None, "cuda"),
                                           ("cuda", None)])
def test_cpu_against_gpu_exits_2_with_one_line(tmp_path, capsys, base, new):
    a, b = _run(tmp_path / "a.json", base), _run(tmp_path / "b.json", new, factor=0.1)
    assert main(["compare", str(a), str(b)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("bnncompare compare: error: runs on different devices")
    # a missing device key reads as cpu
    assert f"BASE {a} ran on {base or 'cpu'}" in err and f"NEW {b} ran on {new or 'cpu'}" in err


@pytest.mark.parametrize(("base", "new"), [("cpu", "cpu"), ("cuda", "cuda"), (None, "cpu")])
def test_runs_of_one_device_are_judged(tmp_path, capsys, base, new):
    a, b = _run(tmp_path / "a.json", base), _run(tmp_path / "b.json", new, factor=3.0)
    # 3x slower on every cell of the same device: judged, and a regression (exit 1)
    assert main(["compare", str(a), str(b)]) == 1
    assert "slower" in capsys.readouterr().out


def test_a_gpu_run_among_pooled_cpu_runs_is_refused(tmp_path, capsys):
    a, b = _run(tmp_path / "a.json", "cpu"), _run(tmp_path / "b.json", "cpu")
    c = _run(tmp_path / "c.json", "cuda")
    assert main(["compare", str(a), str(b), "--also-new", str(c)]) == 2
    assert f"NEW {c} ran on cuda" in capsys.readouterr().err
