# Sourced by .ci/gate and .ci/instructions: how both gates choose the BASE commit (first that
# applies):
#   1. $GATE_BASE, when the CI system knows the previous main (e.g. the push event's "before");
#      GATE_BASE=HEAD asks for an A/A run on purpose;
#   2. the commit the committed baseline was recorded at (commit_info.id of $BASELINE), when it
#      is a strict ancestor of HEAD: the last main whose performance was accepted and recorded.
# HEAD~1 is never used: a submission can hold many commits, and its own first commits are no
# "previous main". Needs $PY (the project's python) and $BASELINE (a benchmark JSON path).

pick_base() {  # prints the BASE commit, or nothing
    local head candidate
    head=$(git rev-parse HEAD)
    candidate=${GATE_BASE:-}
    # the commit the baseline records, read by bnncompare.benchjson (a broken file says why)
    [ -z "$candidate" ] && [ -f "$BASELINE" ] && candidate=$(PYTHONPATH=$PWD "$PY" -c '
import sys
from bnncompare import benchjson
try:
    info = benchjson.read_doc(sys.argv[1]).get("commit_info")
    print((info.get("id") or "") if isinstance(info, dict) else "")
except benchjson.BenchJSONError as err:
    sys.exit(f"gate: {err}")' "$BASELINE")
    [ -n "$candidate" ] || return 0
    candidate=$(git rev-parse --verify -q "$candidate^{commit}") || return 0
    # BASE = HEAD only when asked for explicitly (GATE_BASE=HEAD measures A/A noise)
    { [ "$candidate" != "$head" ] || [ -n "${GATE_BASE:-}" ]; } \
        && git merge-base --is-ancestor "$candidate" "$head" && echo "$candidate"
}
