"""Count the kernels' instructions: one callgrind process per tree, its dumps read back.

:func:`count_tree` runs :mod:`~bnncompare.instructions.worker` of one source tree under
valgrind's callgrind and returns each kernel's instruction count (callgrind's ``Ir``). The
process is made as repeatable as this machine allows (:func:`counting_env`): one thread,
a fixed ``PYTHONHASHSEED`` (set and dict orders reach the code's loops), ATen's CPU kernels
pinned to AVX2 (valgrind emulates at most AVX2, and an unpinned torch would pick its kernels
by the host's CPU), and address-space randomisation off where ``setarch -R`` works.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bnncompare.instructions.client import build_helper

__all__ = ["CAPABILITY", "CountError", "count_tree", "counting_env", "part_total",
           "read_counts", "valgrind_command", "valgrind_problem", "write_counts"]

#: ATen's CPU kernel family for every count (valgrind runs AVX2 code, not AVX-512)
CAPABILITY = "avx2"
_TOTALS = re.compile(r"^(?:totals|summary):\s+(\d+)", re.MULTILINE)


class CountError(RuntimeError):
    """The kernels could not be counted (valgrind failed, a dump is missing)."""


def valgrind_problem() -> str | None:
    """Why valgrind cannot count here, or None when it can."""
    exe = shutil.which("valgrind")
    if exe is None:
        return "valgrind is not installed"
    done = subprocess.run([exe, "--tool=none", "-q", "true"], capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        return f"valgrind does not run here: {(done.stderr or done.stdout).strip()[:200]}"
    return None


def counting_env(tree: Path, helper: Path | None) -> dict[str, str]:
    """The worker's environment: ``tree`` first on the path, every source of variation fixed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMP_", "MKL_"))}
    env.update(PYTHONPATH=str(tree), PYTHONHASHSEED="0", OMP_NUM_THREADS="1",
               MKL_NUM_THREADS="1", ATEN_CPU_CAPABILITY=CAPABILITY,
               CUDA_VISIBLE_DEVICES="", PYTHONWARNINGS="ignore")
    env.pop("BNNCOMPARE_COUNT_HELPER", None)
    if helper is not None:
        env["BNNCOMPARE_COUNT_HELPER"] = str(helper)
    return env


def _no_aslr() -> list[str]:
    """``setarch -R`` (no address-space randomisation) where it works, else nothing."""
    exe = shutil.which("setarch")
    if exe is None:
        return []
    ok = subprocess.run([exe, "-R", "true"], capture_output=True, check=False).returncode == 0
    return [exe, "-R"] if ok else []


def valgrind_command(python: str, manifest: Path, out_file: Path, *, helper: bool,
                     names: list[str] | None = None) -> list[str]:
    """The command line that counts ``names`` (all when None) under callgrind."""
    cmd = [*_no_aslr(), "valgrind", "--tool=callgrind", "--collect-atstart=no",
           f"--callgrind-out-file={out_file}", "--trace-children=no"]
    if helper:
        cmd.append("--instr-atstart=no")
    return [*cmd, python, "-m", "bnncompare.instructions.worker", str(manifest), *(names or [])]


def part_total(path: Path) -> int:
    """The instruction total of one callgrind dump file."""
    found = _TOTALS.findall(path.read_text(errors="replace"))
    if not found:
        raise CountError(f"{path}: no totals line (not a callgrind dump?)")
    return int(found[-1])


def _collect(manifest: Path, out_file: Path) -> dict[str, dict]:
    entries = json.loads(manifest.read_text())["kernels"]
    counts = {}
    for i, entry in enumerate(entries, start=1):
        part = out_file.with_name(f"{out_file.name}.{i}")
        if not part.exists():
            raise CountError(f"callgrind wrote no dump {part.name} for {entry['name']}")
        counts[entry["name"]] = {"workload": entry["workload"], "instructions": part_total(part)}
    return counts


def count_tree(tree: Path, python: str = sys.executable, names: list[str] | None = None,
               log=None) -> dict[str, dict]:
    """Each kernel's instruction count for the code in ``tree``, from one callgrind process.

    Returns ``{name: {"workload": ..., "instructions": int}}`` in counting order.
    """
    problem = valgrind_problem()
    if problem:
        raise CountError(problem)
    with tempfile.TemporaryDirectory(prefix="bnncompare-count-") as tmp:
        work = Path(tmp)
        helper = build_helper(work)
        manifest, out_file = work / "manifest.json", work / "callgrind.out"
        cmd = valgrind_command(python, manifest, out_file, helper=helper is not None,
                               names=names)
        done = subprocess.run(cmd, cwd=tree, env=counting_env(tree, helper), text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
        if log is not None:
            log.write(done.stdout)
        if done.returncode != 0 or not manifest.exists():
            tail = "\n".join(done.stdout.splitlines()[-15:])
            raise CountError(f"the counting process failed (exit {done.returncode}):\n{tail}")
        return _collect(manifest, out_file)


def write_counts(path: Path, counts: dict[str, dict]) -> None:
    """Write a count file: the kernels' counts and how they were taken."""
    doc = {"schema": 1, "capability": CAPABILITY, "kernels": counts}
    Path(path).write_text(json.dumps(doc, indent=1) + "\n")


def read_counts(path: Path) -> dict[str, dict]:
    """The kernels of a count file (:func:`write_counts`); CountError if it is not one."""
    try:
        doc = json.loads(Path(path).read_text())
        kernels = doc["kernels"]
        for name, entry in kernels.items():
            if not isinstance(entry["instructions"], int) or entry["instructions"] <= 0:
                raise ValueError(f"{name}: instructions must be a positive integer")
            str(entry["workload"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise CountError(f"{path}: not an instruction count file ({err})") from err
    return kernels
