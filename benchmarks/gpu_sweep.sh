#!/usr/bin/env bash
# The fast profile on the GPU, in one prepared run (GPU time is scarce: about 15 minutes, all
# tries included). Run from the repository root of a checkout on a machine with CUDA:
#
#   OUT=/some/folder WHEELS=/folder/of/wheels benchmarks/gpu_sweep.sh
#
# Writes $OUT/raw/fast.json (or fast.partial.json if the time guard stopped it: every finished
# cell is kept), $OUT/nvidia-smi.txt and $OUT/sweep.log. Peers are left out: they compare
# CPU implementations. The run is cut at GPU_SWEEP_LIMIT seconds (default 420) with SIGINT, so
# the whole script fits in 8 minutes; the report is rendered afterwards if its packages import.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-results/gpu}"
LIMIT="${GPU_SWEEP_LIMIT:-420}"
mkdir -p "$OUT"

# python3 there has torch but not pyro-ppl (and maybe not the rest): install from local wheels
if ! python3 -c "import pyro, pytest_benchmark, sklearn, pandas, scipy" 2>/dev/null; then
    if [ -z "${WHEELS:-}" ]; then
        echo "gpu_sweep: pyro-ppl/pytest-benchmark missing; set WHEELS=<folder of wheels>" >&2
        exit 2
    fi
    python3 -m pip install --quiet --no-index --find-links "$WHEELS" \
        pyro-ppl pytest-benchmark scikit-learn pandas scipy matplotlib || exit 2
fi
python3 -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" || {
    echo "gpu_sweep: torch sees no CUDA device" >&2; exit 2; }

nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1 || true
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
start=$(date +%s)
timeout -s INT -k 30 "$LIMIT" python3 -m bnncompare.cli run --profile fast --device cuda \
    -k "not peers" --out "$OUT" --no-report 2>&1 | tee "$OUT/sweep.log"
status=${PIPESTATUS[0]}
echo "gpu_sweep: sweep exit $status after $(( $(date +%s) - start )) s" | tee -a "$OUT/sweep.log"

json="$OUT/raw/fast.json"
[ -f "$json" ] || json="$OUT/raw/fast.partial.json"
if [ -f "$json" ]; then
    timeout 60 python3 -m bnncompare.cli report "$json" --out "$OUT" >> "$OUT/sweep.log" 2>&1 \
        || echo "gpu_sweep: report not rendered here (see sweep.log); render it elsewhere"
fi
exit "$status"
