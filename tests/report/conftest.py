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


@pytest.fixture(scope="session")
def second_machine(fixture_doc) -> dict:
    """The fixture run on another machine, uniformly 2x slower (calibration included)."""
    other = copy.deepcopy(fixture_doc)
    other["machine_info"]["node"] = "laptop"
    other["machine_info"]["cpu"]["brand_raw"] = "Apple M2"
    for bench in other["benchmarks"]:
        stats = bench["stats"]
        stats["data"] = [t * 2.0 for t in stats["data"]]
        for key in ("min", "max", "mean", "median", "q1", "q3", "iqr"):
            stats[key] *= 2.0
    return other
