"""``.ci/gate`` end to end on a scratch repository whose "benchmarks" copy a committed run.

Every "run" of a commit is then that commit's file, so each pair repeats the same comparison:
these test the script's plumbing, with BASE and HEAD files measured in one moment (see
gate_runs) so that the verdict is the change the test made."""

from __future__ import annotations

import json
from pathlib import Path

from gate_runs import (
    BASE_MOMENT,
    layout,
    make_run,
    write_layout,
)

# --------------------------------------------------------------------------- .ci/gate

GATE_SCRIPT = Path(__file__).parents[2] / ".ci" / "gate"
FAKE_PYTHON = """#!/usr/bin/env bash
# Stands in for the CI venv's python: "-m pytest" copies the tree's run.json to the
# --benchmark-json path (so BASE and HEAD "measure" what each commit holds); anything else
# runs the real interpreter on this checkout's bnncompare.
if [ "$1 $2" = "-m pytest" ]; then
    [ -n "${GATE_ORDER_LOG:-}" ] && echo "${PWD##*/}" >> "$GATE_ORDER_LOG"
    args=("$@")
    for ((i = 0; i < ${#args[@]}; i++)); do
        [ "${args[i]}" = --benchmark-json ] && out=${args[i + 1]}
    done
    cp run.json "$out"
    exit
fi
PYTHONPATH=%(root)s exec %(python)s "$@"
"""


def _git(repo, *args):
    import subprocess

    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t",
                           *args], check=True, capture_output=True, text=True).stdout.strip()


def _gate_repo(tmp_path, base_run, head_run, baseline_cpu="AMD EPYC"):
    """A repository whose previous commit (BASE) and HEAD hold the given runs; the committed
    baseline records BASE's commit, as a re-recorded baseline does."""
    import shutil
    import sys

    repo = tmp_path / "repo"
    (repo / ".ci").mkdir(parents=True)
    (repo / "benchmarks").mkdir()
    (repo / "results" / "baseline").mkdir(parents=True)
    shutil.copy(GATE_SCRIPT, repo / ".ci" / "gate")
    shutil.copy(GATE_SCRIPT.with_name("base.sh"), repo / ".ci" / "base.sh")  # BASE's rule
    (repo / "benchmarks" / "conftest.py").write_text("")
    shutil.copy(base_run, repo / "run.json")
    _git(tmp_path, "init", "-q", str(repo))
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "base")
    base_sha = _git(repo, "rev-parse", "HEAD")
    doc = json.loads(Path(base_run).read_text())
    doc["commit_info"] = {"id": base_sha}
    doc["machine_info"]["cpu"]["brand_raw"] = baseline_cpu
    (repo / "results" / "baseline" / "smoke.json").write_text(json.dumps(doc))
    shutil.copy(head_run, repo / "run.json")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "head")
    fake = tmp_path / "python"
    fake.write_text(FAKE_PYTHON % {"root": Path(__file__).parents[2], "python": sys.executable})
    fake.chmod(0o755)
    return repo, fake, base_sha


def _run_gate(repo, fake, order_log=None):
    import os
    import subprocess

    env = {**os.environ, "GATE_PYTHON": str(fake)}
    if order_log:
        env["GATE_ORDER_LOG"] = str(order_log)
    env.pop("GATE_BASE", None)
    proc = subprocess.run(["bash", str(repo / ".ci" / "gate")], env=env, capture_output=True,
                          text=True, timeout=600)
    return proc.returncode, proc.stdout + proc.stderr


def test_ci_gate_measures_the_recorded_base_against_head(tmp_path):
    cells = layout()
    base = write_layout(tmp_path / "b.json", cells, seed=BASE_MOMENT)
    slow = write_layout(tmp_path / "s.json", cells, seed=2, moment=BASE_MOMENT,
                        factor={c["fullname"]: 2.0 for c in cells})
    repo, fake, base_sha = _gate_repo(tmp_path, base, slow)
    order = tmp_path / "order.txt"
    rc, out = _run_gate(repo, fake, order)
    assert f"gate: BASE {base_sha[:7]}" in out  # the baseline's recorded commit, not HEAD~0
    assert rc == 1, out
    assert "confirming with one more pair" in out
    # pairs alternate their order (BASE runs in the worktree "base", HEAD in "repo"), so a
    # run that is systematically slower for running second cannot favour one side
    assert order.read_text().split() == ["base", "repo", "repo", "base", "base", "repo"]
    assert "FAIL" in out.splitlines()[-2]
    assert _git(repo, "worktree", "list").count("\n") == 0  # the BASE worktree is removed


def test_ci_gate_passes_unchanged_code(tmp_path):
    cells = layout()
    base = write_layout(tmp_path / "b.json", cells, seed=BASE_MOMENT)
    same = write_layout(tmp_path / "h.json", cells, seed=2, moment=BASE_MOMENT)
    repo, fake, _ = _gate_repo(tmp_path, base, same)
    rc, out = _run_gate(repo, fake)
    assert rc == 0, out
    assert "PASS" in out and "falling back" not in out


def test_ci_gate_new_layout_falls_back_and_another_cpu_is_not_gated(tmp_path):
    # BASE predates workloads (the transition of this round) and the baseline came from
    # another CPU model: no comparison is possible, and the gate must say so and pass.
    old = make_run(tmp_path / "old.json", seed=1)
    doc = json.loads(old.read_text())
    doc["machine_info"]["cpu"] = {"brand_raw": "AMD EPYC"}
    old.write_text(json.dumps(doc))
    head = write_layout(tmp_path / "h.json", layout(), seed=2,
                        factor={c["fullname"]: 3.0 for c in layout()})
    repo, fake, _ = _gate_repo(tmp_path, old, head, baseline_cpu="Intel(R) Xeon(R) Processor")
    rc, out = _run_gate(repo, fake)
    assert rc == 0, out
    assert "BASE and HEAD are not comparable; falling back" in out
    assert "no comparable baseline: BASE was recorded on Intel(R) Xeon(R) Processor" in out


def test_ci_gate_fallback_is_advisory_and_the_instruction_gate_decides(tmp_path):
    # BASE's benchmarks fail, so HEAD (3x slower) is compared with the committed baseline:
    # that unpaired verdict is printed but passes. The instruction half's exit 1 still fails.
    cells = layout()
    base = write_layout(tmp_path / "b.json", cells, seed=BASE_MOMENT)
    slow = write_layout(tmp_path / "s.json", cells, seed=2, moment=BASE_MOMENT,
                        factor={c["fullname"]: 3.0 for c in cells})
    repo, fake, _ = _gate_repo(tmp_path, base, slow)
    text = fake.read_text().replace('if [ "$1 $2" = "-m pytest" ]; then',
                                    'if [ "$1 $2" = "-m pytest" ]; then\n'
                                    '    [ "${PWD##*/}" = base ] && exit 1')
    fake.write_text(text)
    stub = repo / ".ci" / "instructions"
    stub.write_text('#!/usr/bin/env bash\necho "instructions: FAIL: stub"\nexit 1\n')
    stub.chmod(0o755)
    rc, out = _run_gate(repo, fake)
    assert "BASE's benchmarks failed" in out and "advisory" in out
    assert "the unpaired comparison flags a slowdown" in out
    assert rc == 1 and out.splitlines()[-1] == "instructions: FAIL: stub", out
