"""The instruction gate's logic on fake count files, its kernels run natively, and one small
real callgrind run of a non-torch snippet (skipped without valgrind or a C compiler)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bnncompare import instructions
from bnncompare.instructions import __main__ as cli
from bnncompare.instructions import client, count, verdict, worker
from bnncompare.instructions.kernels import KERNELS


def _counts(path: Path, **kernels) -> Path:
    """A count file: name=instructions (workload "w") or name=(instructions, workload)."""
    doc = {}
    for name, value in kernels.items():
        n, w = value if isinstance(value, tuple) else (value, "w")
        doc[name.replace("__", "/")] = {"workload": w, "instructions": n}
    count.write_counts(path, doc)
    return path


def _status(rows):
    return {r.name: r.status for r in rows}


# --------------------------------------------------------------------------- verdict


def test_a_kernel_past_its_limit_fails_and_is_named(tmp_path, capsys):
    base = _counts(tmp_path / "b.json", fit__nuts=1_000_000, predict__nn=50_000)
    head = _counts(tmp_path / "h.json", fit__nuts=1_031_000, predict__nn=50_000)
    assert cli.main(["compare", str(base), str(head)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert all(line.startswith("instructions:") for line in out)
    assert "fit/nuts" in out[-1] and "FAIL" in out[-1] and "+3.1 %" in out[-1]
    assert "ratio 1.0310" in next(line for line in out if "fit/nuts " in line)


def test_growth_within_the_limit_and_any_shrinking_pass(tmp_path, capsys):
    base = _counts(tmp_path / "b.json", fit__nuts=1_000_000, predict__nn=50_000)
    head = _counts(tmp_path / "h.json", fit__nuts=1_029_000, predict__nn=10_000)
    assert cli.main(["compare", str(base), str(head)]) == 0
    assert "PASS (2 kernels" in capsys.readouterr().out


def test_the_limit_is_an_option_and_measured_limits_win(tmp_path, monkeypatch):
    base = {"a": {"workload": "w", "instructions": 100}, "b": {"workload": "w",
                                                               "instructions": 100}}
    head = {"a": {"workload": "w", "instructions": 106}, "b": {"workload": "w",
                                                               "instructions": 106}}
    assert set(_status(verdict.compare_counts(base, head)).values()) == {"SLOWER"}
    assert set(_status(verdict.compare_counts(base, head, 0.1)).values()) == {"ok"}
    monkeypatch.setitem(verdict.LIMITS, "b", 0.08)
    assert _status(verdict.compare_counts(base, head)) == {"a": "SLOWER", "b": "ok"}


def test_measured_limits_name_real_kernels_and_only_widen():
    assert set(verdict.LIMITS) <= set(KERNELS)  # a renamed kernel must take its limit along
    assert all(limit > verdict.DEFAULT_LIMIT for limit in verdict.LIMITS.values())


def test_changed_new_and_gone_kernels_are_reported_not_judged(tmp_path, capsys):
    base = _counts(tmp_path / "b.json", a=100, b=(100, "old"), gone=100)
    head = _counts(tmp_path / "h.json", a=100, b=(900, "new"), fresh=900)
    rows = verdict.compare_counts(count.read_counts(base), count.read_counts(head))
    assert _status(rows) == {"a": "ok", "b": "workload changed", "fresh": "new",
                             "gone": "gone"}
    assert cli.main(["compare", str(base), str(head)]) == 0


def test_nothing_comparable_or_a_broken_file_is_unusable(tmp_path, capsys):
    base = _counts(tmp_path / "b.json", a=(100, "old"))
    head = _counts(tmp_path / "h.json", a=(100, "new"))
    assert cli.main(["compare", str(base), str(head)]) == 2
    assert "unusable" in capsys.readouterr().out
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"kernels": {"a": {"workload": "w", "instructions": -1}}}))
    assert cli.main(["compare", str(base), str(bad)]) == 2
    assert "not an instruction count file" in capsys.readouterr().out
    assert cli.main(["compare", str(base), str(tmp_path / "missing.json")]) == 2


# --------------------------------------------------------------------------- counting plumbing


def test_part_totals_are_read_from_callgrind_dumps(tmp_path):
    dump = tmp_path / "callgrind.out.1"
    dump.write_text("version: 1\nevents: Ir\nfn=(1) f\n3 7\nsummary: 12345\ntotals: 12345\n")
    assert count.part_total(dump) == 12345
    dump.write_text("events: Ir\n")
    with pytest.raises(count.CountError, match="no totals"):
        count.part_total(dump)


def test_the_counting_process_is_pinned(tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "8")
    env = count.counting_env(tmp_path, tmp_path / "h.so")
    assert env["OMP_NUM_THREADS"] == "1" and env["PYTHONHASHSEED"] == "0"
    assert env["ATEN_CPU_CAPABILITY"] == count.CAPABILITY == "avx2"
    assert env["PYTHONPATH"] == str(tmp_path)
    assert env["BNNCOMPARE_COUNT_HELPER"] == str(tmp_path / "h.so")
    assert "BNNCOMPARE_COUNT_HELPER" not in count.counting_env(tmp_path, None)
    cmd = count.valgrind_command("py", tmp_path / "m.json", tmp_path / "o", helper=True)
    assert "--collect-atstart=no" in cmd and "--instr-atstart=no" in cmd
    assert "--instr-atstart=no" not in count.valgrind_command("py", tmp_path, tmp_path,
                                                              helper=False)


def test_without_valgrind_counting_says_why(monkeypatch, tmp_path):
    monkeypatch.setattr(count.shutil, "which", lambda name: None)
    assert count.valgrind_problem() == "valgrind is not installed"
    with pytest.raises(count.CountError, match="not installed"):
        count.count_tree(tmp_path)
    assert cli.main(["count", "--out", str(tmp_path / "c.json")]) == 2


def test_every_kernel_runs_natively_and_the_worker_writes_its_manifest(tmp_path):
    # Outside valgrind the client requests do nothing: this checks that no kernel has
    # rotted (an API it calls changed), which would leave CI's gate unusable.
    manifest = tmp_path / "manifest.json"
    assert worker.main([str(manifest)]) == 0
    entries = json.loads(manifest.read_text())["kernels"]
    assert [e["name"] for e in entries] == list(KERNELS)
    assert {e["name"].split("/")[0] for e in entries} == {"fit", "predict", "grad", "step",
                                                           "report"}
    assert list(instructions.KERNELS) == list(KERNELS)


def test_unknown_kernels_are_refused(tmp_path, capsys):
    assert cli.main(["count", "--out", str(tmp_path / "c.json"), "fit/nope"]) == 2
    assert "unknown kernel" in capsys.readouterr().out


@pytest.mark.skipif(count.valgrind_problem() is not None or shutil.which("cc") is None,
                    reason="needs a runnable valgrind and a C compiler")
def test_a_real_callgrind_run_counts_each_switched_section_apart(tmp_path):
    # A non-torch snippet (seconds under valgrind): two counted sections, the second doing
    # twice the first's loop; each lands in its own dump, uncounted work in none.
    helper = client.build_helper(tmp_path)
    assert helper is not None
    # the helper loaded as the worker's Switch loads it, without importing bnncompare (whose
    # imports would cost a minute under valgrind)
    snippet = (f"import ctypes\nlib = ctypes.CDLL({str(helper)!r})\n"
               "sum(range(300000))\n"
               "for n in (20000, 40000):\n"
               "    lib.bnncompare_count_start(); sum(range(n)); lib.bnncompare_count_stop()\n")
    out = tmp_path / "callgrind.out"
    cmd = ["valgrind", "--tool=callgrind", "--collect-atstart=no", "--instr-atstart=no",
           f"--callgrind-out-file={out}", sys.executable, "-c", snippet]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120,
                   env={"PYTHONHASHSEED": "0", "PATH": "/usr/bin"})
    first, second = (count.part_total(out.with_name(f"callgrind.out.{i}")) for i in (1, 2))
    assert 1.8 < second / first < 2.2
    assert count.part_total(out) < first / 10  # everything outside the sections: not counted


# --------------------------------------------------------------------------- .ci/instructions


def _script_repo(tmp_path):
    """A repository holding only the CI scripts: its commits predate the kernels."""
    ci = Path(__file__).parents[1] / ".ci"
    repo = tmp_path / "repo"
    (repo / ".ci").mkdir(parents=True)
    for name in ("instructions", "base.sh"):
        shutil.copy(ci / name, repo / ".ci" / name)
    fake = tmp_path / "python"  # the real interpreter on this checkout's bnncompare
    fake.write_text(f"#!/usr/bin/env bash\nPYTHONPATH={ci.parent} exec {sys.executable} \"$@\"\n")
    fake.chmod(0o755)
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "scripts"], check=True)
    return repo, fake


@pytest.mark.parametrize("base", ["HEAD", None])
def test_ci_instructions_skips_with_one_line_when_there_is_nothing_to_count(tmp_path, base):
    import os

    repo, fake = _script_repo(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "GATE_BASE"}
    env["GATE_PYTHON"] = str(fake)
    if base:
        env["GATE_BASE"] = base
    proc = subprocess.run(["bash", str(repo / ".ci" / "instructions")], env=env, text=True,
                          capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("instructions: gate skipped: ")
    if count.valgrind_problem() is None:
        assert ("predates the instruction kernels" if base else "no BASE commit") in lines[0]


def test_fit_kernels_come_from_the_registry():
    """One fit and one predict kernel per method variant a class declares in its
    settings["instructions"]; a class that declares none gets no kernel."""
    from bnncompare.methods import METHODS, BaseMLPClassifier

    expected = [f"{name}-{variant}" if variant else name for name, cls in METHODS.items()
                for variant in cls.instruction_settings()]
    assert [k.split("/", 1)[1] for k in KERNELS if k.startswith("fit/")] == expected
    assert [k.split("/", 1)[1] for k in KERNELS if k.startswith("predict/")] == expected
    assert BaseMLPClassifier.instruction_settings() == {}
