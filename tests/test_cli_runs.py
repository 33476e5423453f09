"""Where a run lands: a folder of its own under runs/, never the committed results/."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bnncompare.cli import new_run_dir

ROOT = Path(__file__).resolve().parents[1]


def _tracked_changes() -> str:
    return subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                          capture_output=True, text=True, check=True).stdout


def test_new_run_dir_is_unique_and_under_runs(tmp_path):
    first = new_run_dir("fast", tmp_path / "runs")
    assert first.parent == tmp_path / "runs" and first.name.startswith("fast-")
    first.mkdir(parents=True)
    second = new_run_dir("fast", tmp_path / "runs")
    assert second != first and not second.exists()


def test_run_writes_its_own_folder_and_leaves_the_checkout_alone(tmp_path):
    """The README's main command, on a slice of the smoke profile with 2 method seeds: the
    run goes to ./runs/smoke-<stamp>/, is printed, and no tracked file changes."""
    before = _tracked_changes()
    proc = subprocess.run(
        [sys.executable, "-m", "bnncompare.cli", "run", "--profile", "smoke", "--methods", "nn",
         "--seeds", "2", "-k", "test_quality and not curve", "--no-report"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    (folder,) = (tmp_path / "runs").iterdir()
    assert folder.name.startswith("smoke-")
    written = folder / "raw" / "smoke.json"
    assert str(written.relative_to(tmp_path)) in proc.stdout
    quality = json.loads(written.read_text())["benchmarks"]
    assert sorted(b["params"]["seed"] for b in quality) == [0, 1]
    assert sorted(b["extra_info"]["method_seed"] for b in quality) == [0, 1]
    assert {b["extra_info"]["workload"]["estimator"]["random_state"] for b in quality} == {0, 1}
    assert _tracked_changes() == before
