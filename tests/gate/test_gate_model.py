"""Loading runs (bnncompare.gate.model): every unusable file is refused with one line."""

from __future__ import annotations

import json

import pytest
from gate_runs import (
    NAMES,
    make_run,
)

from bnncompare import benchjson, gate

# --------------------------------------------------------------------------- bad input


def _bad_files(tmp_path):
    good = make_run(tmp_path / "good.json")
    doc = json.loads(good.read_text())
    no_calib = {**doc, "benchmarks": [e for e in doc["benchmarks"] if e["group"] != "calibration"]}
    bad_time = json.loads(json.dumps(doc))
    bad_time["benchmarks"][1]["stats"]["data"] = [0.1, -1.0]
    files = {
        "empty.json": ("", "file is empty"),
        "garbage.json": ("{not json", "not valid JSON"),
        "list.json": ("[1, 2]", "not pytest-benchmark output"),
        "other.json": (json.dumps({"results": []}), "not pytest-benchmark output"),
        "nobench.json": (json.dumps({**doc, "benchmarks": []}), "no benchmarks"),
        "nocalib.json": (json.dumps(no_calib), "no 'calibration' group entry"),
        "dupe.json": (
            json.dumps({**doc, "benchmarks": doc["benchmarks"] * 2}),
            "duplicate benchmark",
        ),
        "badtime.json": (json.dumps(bad_time), "positive round times"),
    }
    for name, (text, _) in files.items():
        (tmp_path / name).write_text(text)
    cases = {name: (tmp_path / name, problem) for name, (_, problem) in files.items()}
    cases["missing.json"] = (tmp_path / "missing.json", "no such file")
    return good, cases


BAD = [
    "empty.json",
    "garbage.json",
    "list.json",
    "other.json",
    "nobench.json",
    "nocalib.json",
    "dupe.json",
    "badtime.json",
    "missing.json",
]


@pytest.mark.parametrize("name", BAD)
def test_load_run_rejects_bad_input(tmp_path, name):
    _, cases = _bad_files(tmp_path)
    path, problem = cases[name]
    with pytest.raises(gate.GateInputError) as info:
        gate.load_run(path)
    assert isinstance(info.value, ValueError)
    assert str(info.value).startswith(f"{path}: ")
    assert problem in str(info.value)


@pytest.mark.parametrize("name", BAD)
@pytest.mark.parametrize("position", ["base", "new"])
def test_main_bad_input_exits_2_with_one_line(tmp_path, capsys, name, position):
    good, cases = _bad_files(tmp_path)
    bad, problem = cases[name]
    argv = [str(bad), str(good)] if position == "base" else [str(good), str(bad)]
    assert gate.main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith(f"bnncompare compare: error: {bad}: ")
    assert problem in captured.err
    assert "Traceback" not in captured.err


def test_zero_byte_file_message(tmp_path, capsys):
    good = make_run(tmp_path / "good.json")
    empty = tmp_path / "out.json"
    empty.write_bytes(b"")
    assert gate.main([str(good), str(empty)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"bnncompare compare: error: {empty}: file is empty (0 bytes)")
    assert err.count("\n") == 1


def test_missing_round_data_falls_back_to_median(tmp_path):
    path = make_run(tmp_path / "base.json")
    doc = json.loads(path.read_text())
    for entry in doc["benchmarks"]:
        del entry["stats"]["data"]
    path.write_text(json.dumps(doc))
    run = gate.load_run(path)
    # the gate keys benchmarks by identity (group:function{params}), not by node id
    medians = {benchjson.identity(e)[0]: [e["stats"]["median"]] for e in doc["benchmarks"]
               if e["group"] != "calibration"}
    assert {name: b.rounds.tolist() for name, b in run.benchmarks.items()} == medians
    assert gate.compare(run, run).passed
    # the same run against itself cannot fail: a tripled median must be judged slower
    doc["benchmarks"][1]["stats"]["median"] *= 3  # [0] is the calibration entry
    path.write_text(json.dumps(doc))
    assert gate.compare(run, gate.load_run(path)).flagged == [NAMES[0]]


def test_invalid_options_are_rejected(base):
    with pytest.raises(ValueError, match="threshold"):
        gate.compare_runs(base, base, threshold=0.9)
    with pytest.raises(ValueError, match="alpha"):
        gate.compare_runs(base, base, alpha=1.5)
