"""``bnncompare run``: the pytest-benchmark sweep, run in-process, with a line per cell.

Results are written to a temporary file first and moved into place only when at least one
benchmark finished, so an empty or failed run never clobbers earlier results. An interrupted
or partly failed run keeps its finished cells in ``raw/<profile>.partial.json``.

Every run of the benchmarks (this sweep, each Dask shard and its collection, ``.ci/gate``)
gets its pytest command line from :func:`benchmark_args`; ``python -m bnncompare.sweep
--print-command ...`` prints it for scripts.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from bnncompare import benchjson
from bnncompare.profiles import Profile

__all__ = ["SweepResult", "benchmark_args", "benchmark_command", "benchmarks_dir",
           "count_benchmarks", "main", "run_sweep"]


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


# (named benchmark_*, not pytest_*: bnncompare.shards, a pytest plugin, imports it, and pytest
# takes a plugin's pytest_* names for hooks)
def benchmark_args(profile: str | None, methods: Sequence[str] | None, json_path=None, *,
                   targets: Sequence[str] = ("benchmarks",), rootdir=None,
                   device: str | None = None, keyword: str | None = None,
                   seeds: int | None = None, datasets: Sequence[str] | None = None,
                   hidden: str | None = None, label_column: str | None = None,
                   extra: Sequence[str] = ()) -> list[str]:
    """The arguments of ``pytest`` that run the benchmarks (what follows ``pytest``).

    Parameters
    ----------
    profile : str or None
        ``--profile``; None leaves it out (a tree whose conftest predates the option reads
        ``$BNNCOMPARE_PROFILE`` instead).
    methods : sequence of str or None
        ``--methods``, joined by commas; None or empty: every registered method.
    json_path : str or os.PathLike, optional
        ``--benchmark-json``; None for a run that writes none (collection).
    targets : sequence of str, default ``("benchmarks",)``
        What pytest runs: the benchmarks folder, or node ids.
    rootdir : str or os.PathLike, optional
        ``--rootdir``: node ids relative to this checkout, whatever the working directory.
    device : str, optional
        ``--device``; None leaves it out (the conftest's default, ``cpu``).
    keyword : str, optional
        ``-k``.
    seeds : int, optional
        ``--seeds``: method seeds per quality cell; None leaves it out (the profile's own).
    datasets : sequence of str, optional
        ``--dataset`` once each: the quality datasets, names or file paths (give absolute
        paths: the process may run elsewhere); None leaves them out (the profile's own).
    hidden : str, optional
        ``--hidden``: the quality cells' net (``"50x50"``); None: the profile's.
    label_column : str, optional
        ``--label-column``: the label column of the CSV datasets; None: their last.
    extra : sequence of str
        Further arguments, last (``-q``, ``--collect-only``, plugins).

    Returns
    -------
    list of str
    """
    # no .pytest_cache in the checkout, and none of the test suite's addopts (its -n 2 would
    # start xdist, under which pytest-benchmark disables itself)
    args = [*map(str, targets), "-p", "no:cacheprovider", "-o", "addopts="]
    args += [f"--rootdir={rootdir}"] if rootdir is not None else []
    args += ["--profile", profile] if profile else []
    args += ["--methods", ",".join(methods)] if methods else []
    args += ["--device", device] if device else []
    args += ["--seeds", str(seeds)] if seeds is not None else []
    for dataset in datasets or ():
        args += ["--dataset", str(dataset)]
    args += ["--hidden", hidden] if hidden else []
    args += ["--label-column", label_column] if label_column is not None else []
    # two arguments, not --benchmark-json=PATH: .ci/gate's tests read the path that follows
    args += ["--benchmark-json", str(json_path)] if json_path is not None else []
    args += ["-k", keyword] if keyword else []
    return [*args, *extra]


def benchmark_command(*args, **kwargs) -> list[str]:
    """``[python, "-m", "pytest", *benchmark_args(...)]``: the benchmarks run in a subprocess
    of this interpreter. Takes :func:`benchmark_args`'s parameters."""
    return [sys.executable, "-m", "pytest", *benchmark_args(*args, **kwargs)]


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
    args = benchmark_args(profile.name, profile.method_names, tmp, targets=[str(bench)],
                          rootdir=bench.parent, device=device, keyword=keyword,
                          seeds=profile.n_seeds, **dict(profile.quality_args),
                          extra=["-p", "no:terminal"])
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


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bnncompare.sweep --print-command [options] [-- EXTRA...]``: print
    :func:`benchmark_args`, one argument a line.

    For scripts that run the benchmarks themselves: ``.ci/gate`` runs another commit's tree
    with this commit's command line (``mapfile -t args`` reads it back).
    """
    parser = argparse.ArgumentParser(
        prog="python -m bnncompare.sweep",
        description="Print the pytest arguments of a benchmark run, one a line.")
    parser.add_argument("--print-command", action="store_true", required=True,
                        help="print the arguments (the only thing this entry does)")
    parser.add_argument("--profile")
    parser.add_argument("--methods", help="comma-separated method names")
    parser.add_argument("--json", help="the --benchmark-json path")
    parser.add_argument("--device")
    parser.add_argument("-k", dest="keyword")
    parser.add_argument("extra", nargs="*", help="further pytest arguments, after --")
    opts = parser.parse_args(argv)
    args = benchmark_args(opts.profile, opts.methods.split(",") if opts.methods else None,
                          opts.json, device=opts.device, keyword=opts.keyword,
                          extra=opts.extra)
    if any("\n" in arg for arg in args):  # one a line: a newline would split an argument
        parser.error("an argument contains a newline")
    print("\n".join(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
