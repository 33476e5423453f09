"""``bnncompare run``: the pytest-benchmark sweep, run in-process, with a line per cell.

Results are written to a temporary file first and moved into place only when at least one
benchmark finished, so an empty or failed run never clobbers earlier results. An interrupted
or partly failed run keeps its finished cells in ``raw/<profile>.partial.json``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from bnncompare import benchjson
from bnncompare.profiles import Profile

__all__ = ["SweepResult", "benchmarks_dir", "count_benchmarks", "run_sweep"]


@dataclass(frozen=True)
class SweepResult:
    json_path: Path
    n_benchmarks: int
    interrupted: bool
    failed: int
    #: node ids of cells that never finished (sharded runs name them; in-process runs count)
    missing: tuple[str, ...] = ()


def benchmarks_dir() -> Path:
    """The ``benchmarks/`` folder of this checkout (the sweep is not installed as a package)."""
    for root in (Path(__file__).resolve().parents[1], Path.cwd()):
        if (root / "benchmarks" / "conftest.py").is_file():
            return root / "benchmarks"
    raise ValueError("benchmarks/ not found: run bnncompare run from a checkout of bnncompare")


def count_benchmarks(path: Path) -> int:
    """Benchmarks in a pytest-benchmark JSON; 0 for a missing or 0-byte file (what
    pytest-benchmark leaves when nothing ran).

    Raises
    ------
    bnncompare.benchjson.BenchJSONError
        The file is there but is not a benchmark JSON (unreadable, not JSON, no
        ``benchmarks`` list).
    """
    return benchjson.count_entries(benchjson.read_doc(path, allow_empty=True))


class _Progress:
    """One line per finished cell: ``[ 3/42] passed   1.2s  test_fit_vs_n_train[...]``."""

    def __init__(self):
        self.done = self.total = self.failed = 0
        self.start = time.perf_counter()

    def pytest_collection_finish(self, session):
        self.total = len(session.items)
        print(f"running {self.total} benchmark cells", flush=True)

    def pytest_runtest_logreport(self, report):
        if report.when != "call" and report.passed:
            return
        if report.when == "teardown" and report.skipped:
            return
        self.done += report.when == "call" or not report.passed
        self.failed += report.failed
        name = report.nodeid.split("::")[-1]
        why = f"  ({report.longreprtext.strip().splitlines()[-1]})" if report.failed else ""
        elapsed = time.perf_counter() - self.start
        print(f"[{self.done:>3}/{self.total}] {report.outcome:<7} {report.duration:7.2f}s  "
              f"{name}{why}  [{elapsed:.0f}s total]", flush=True)


def run_sweep(profile: Profile, out: Path, *, keyword: str | None = None,
              device: str = "cpu") -> SweepResult:
    """Run ``pytest benchmarks --profile NAME --methods ... --device D`` into
    ``out/raw/<profile>.json``."""
    bench = benchmarks_dir()
    raw = Path(out) / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    tmp = raw / f".{profile.name}.json.tmp"
    tmp.unlink(missing_ok=True)
    # the progress plugin replaces pytest's terminal output (and its -ra addopt)
    args = [str(bench), f"--benchmark-json={tmp}", "-p", "no:terminal", "-o", "addopts=",
            "-p", "no:cacheprovider", f"--rootdir={bench.parent}", "--profile", profile.name,
            "--methods", ",".join(profile.method_names), "--device", device]
    args += ["-k", keyword] if keyword else []
    progress = _Progress()
    code = pytest.main(args, plugins=[progress])
    return _keep_results(tmp, raw, profile.name, code, progress.failed)


def _keep_results(tmp: Path, raw: Path, profile: str, code, failed: int) -> SweepResult:
    n = count_benchmarks(tmp)
    if n == 0:
        tmp.unlink(missing_ok=True)
        raise ValueError(f"no benchmark ran (pytest exit code {int(code)}); nothing written")
    interrupted = code == pytest.ExitCode.INTERRUPTED
    complete = not interrupted and failed == 0
    final = raw / (f"{profile}.json" if complete else f"{profile}.partial.json")
    tmp.replace(final)
    return SweepResult(final, n, interrupted, failed)
