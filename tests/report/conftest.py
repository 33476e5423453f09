"""Shared fixtures for the report tests: the committed benchmark JSON, one report built from
it the way the README says (``bnncompare report results/raw/fast.json --out results``), and
a factory of broken input files."""

from __future__ import annotations

import copy
import json
import os
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest

FIXTURE = Path(__file__).parent / "fixtures" / "fast.json"


@pytest.fixture(scope="session")
def fixture_json() -> Path:
    return FIXTURE


@pytest.fixture(scope="session")
def fixture_doc() -> dict:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def frame():
    from bnncompare.report import load_runs

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return load_runs([FIXTURE])


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """``(result, project_dir)``: the fixture copied to ``project_dir/results/raw/fast.json``
    and reported into ``project_dir/results`` with relative paths, from ``project_dir``."""
    from bnncompare.report import build_report

    project = tmp_path_factory.mktemp("project")
    (project / "results" / "raw").mkdir(parents=True)
    shutil.copy(FIXTURE, project / "results" / "raw" / "fast.json")
    cwd = os.getcwd()
    os.chdir(project)
    try:
        result = build_report(["results/raw/fast.json"], "results")
    finally:
        os.chdir(cwd)
    return result, project


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (relative path -> bytes)."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


@pytest.fixture(scope="session")
def take_snapshot() -> Callable[[Path], dict[str, bytes]]:
    return snapshot


@pytest.fixture(scope="session")
def write_input() -> Callable[[Path, object], Path]:
    """Write ``content`` to ``path``: bytes as they are, anything else as JSON."""

    def write(path: Path, content: object) -> Path:
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(json.dumps(content), encoding="utf-8")
        return path

    return write


BAD_MESSAGES = {
    "empty": "empty (0 bytes)", "not_json": "not valid JSON",
    "json_list": "not pytest-benchmark output", "no_benchmarks_key": "no 'benchmarks'",
    "no_machine_info": "no 'machine_info'", "zero_benchmarks": "contains no benchmarks",
    "no_median": "no numeric stats.median", "unknown_group": "has group None",
}


@pytest.fixture(scope="session")
def bad_inputs(fixture_doc) -> dict[str, tuple[object, str]]:
    """name -> (file content, expected fragment of the error message)."""
    no_median = copy.deepcopy(fixture_doc)
    del no_median["benchmarks"][3]["stats"]["median"]
    bad_group = copy.deepcopy(fixture_doc)
    bad_group["benchmarks"][5]["group"] = None
    content = {
        "empty": b"",
        "not_json": b"{ this is not json",
        "json_list": [1, 2, 3],
        "no_benchmarks_key": {"machine_info": fixture_doc["machine_info"]},
        "no_machine_info": {"benchmarks": fixture_doc["benchmarks"]},
        "zero_benchmarks": {**fixture_doc, "benchmarks": []},
        "no_median": no_median,
        "unknown_group": bad_group,
    }
    return {name: (content[name], BAD_MESSAGES[name]) for name in BAD_MESSAGES}


def scale_times(bench: dict, factor: float) -> dict:
    """``bench`` with every round (and every statistic) ``factor`` times slower, in place."""
    stats = bench["stats"]
    stats["data"] = [t * factor for t in stats["data"]]
    for key in ("min", "max", "mean", "median", "q1", "q3", "iqr"):
        stats[key] *= factor
    return bench


@pytest.fixture(scope="session")
def second_machine(fixture_doc) -> dict:
    """The fixture run on another machine, uniformly 2x slower (calibration included)."""
    other = copy.deepcopy(fixture_doc)
    other["machine_info"]["node"] = "laptop"
    other["machine_info"]["cpu"]["brand_raw"] = "Apple M2"
    for bench in other["benchmarks"]:
        scale_times(bench, 2.0)
    return other


#: how much slower the machine ran from the middle of the fit-vs-draws sweep on (the tests
#: repeat it: a conftest is not importable)
SLOWDOWN = 1.6


@pytest.fixture(scope="session")
def disturbed_doc(fixture_doc) -> dict:
    """The fixture with calibrations at the start, after the fit-vs-n sweep, after the
    fit-vs-draws sweep and at the end, where the machine slowed down 1.6x in the middle of
    the fit-vs-draws sweep (its two largest S) and stayed slow: that sweep is the one
    disturbed series (its bracketing calibrations differ 1.6x; every other series sits
    between two equal calibrations)."""
    doc = copy.deepcopy(fixture_doc)
    benches = doc["benchmarks"]
    calib = benches[0]
    axis_of = [b["extra_info"].get("axis") for b in benches]
    first_draws = next(i for i, b in enumerate(benches)
                       if b["group"] == "fit" and axis_of[i] == "num_samples")
    last_draws = max(i for i, b in enumerate(benches)
                     if b["group"] == "fit" and axis_of[i] == "num_samples")
    for bench in benches[first_draws:last_draws + 1]:
        if bench["params"]["num_samples"] >= 400:
            scale_times(bench, SLOWDOWN)
    for bench in benches[last_draws + 1:]:
        scale_times(bench, SLOWDOWN)

    def calibration(position: str, factor: float) -> dict:
        c = scale_times(copy.deepcopy(calib), factor)
        c["name"] = f"test_calibration[{position}]"
        c["params"] = {**c["params"], "position": position}
        return c

    doc["benchmarks"] = [
        calibration("start", 1.0), *benches[1:first_draws], calibration("middle", 1.0),
        *benches[first_draws:last_draws + 1], calibration("late", SLOWDOWN),
        *benches[last_draws + 1:], calibration("end", SLOWDOWN)]
    return doc


#: a method that is not installed: the report must fall back to its name and a palette colour
PLUGIN = "zz_plugin"


@pytest.fixture(scope="session")
def contract_doc(fixture_doc) -> dict:
    """The fixture as the redesigned benchmarks write it (``params`` carry only what changes
    a cell's own work: fit-vs-n cells no num_samples/n_test, fit-vs-draws cells no n_test,
    quality cells no sizes, predict cells no n_train), with the second registered method
    renamed to :data:`PLUGIN`, a method this installation does not know."""
    from bnncompare import METHODS

    renamed = list(METHODS)[1]
    keep = {("fit", "n_train"): {"n_train"}, ("fit", "num_samples"): {"n_train", "num_samples"},
            ("fit", "none"): set(), ("predict", "num_samples"): {"n_test", "num_samples"},
            ("predict", "n_test"): {"n_test", "num_samples"},
            ("predict", "none"): {"n_test", "num_samples"}}
    doc = copy.deepcopy(fixture_doc)
    for bench in doc["benchmarks"]:
        params, key = bench["params"], (bench["group"], bench["extra_info"].get("axis"))
        if key in keep:
            for axis in ("n_train", "n_test", "num_samples"):
                if axis not in keep[key]:
                    params.pop(axis, None)
            if params.get("method") == renamed:
                params["method"] = PLUGIN
    return doc
