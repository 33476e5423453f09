#!/usr/bin/env bash
# The reference posteriors of iris, digits and moons in ONE command, on a many-core machine.
#
#   bash benchmarks/reference_device.sh [OUT_DIR [EXTRA FLAGS...]]
#
# OUT_DIR defaults to $OUT/reference, else results/reference; extra flags go to the command
# (e.g. `--chains 2 --warmup 10 --draws 10 --depth 2` for a dry run).
#
# Runs `bnncompare reference iris digits moons --backend numpyro --workers $(nproc)`: every chain
# of the three datasets in one process pool, one chain per core with one XLA/torch thread, the
# costliest first. Per-dataset settings are bnncompare.reference.RECOMMENDED:
#   iris   relu 4-20-50-20-3: 8 chains x (1000 warm-up + 1000 draws), max tree depth 9
#   digits relu 64-50-10:     8 chains x (800 + 800), depth 7
#   moons  relu 2-16-16-2:    6 chains x (500 + 1000), depth 7
# On 16 cores the 16 iris and digits chains run side by side (~85 s and ~125 s per chain plus a
# compile each), the moons chains in the cores iris frees: ~3 minutes, under 6. Each dataset's
# folder is written as soon as its chains finish, so a timeout keeps the finished ones.
#
# Needs Python >= 3.10 with numpy, scikit-learn, torch, jax and numpyro. pyro-ppl (for
# bnncompare's imports and pyro.ops.stats) is installed from wheels in $WHEELS (pyro-ppl,
# pyro-api, opt_einsum; default ./wheels) into a scratch folder when it is not importable.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-${OUT:+$OUT/reference}}"
shift || true
out="${out:-results/reference}"
python="${PYTHON:-python3}"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
if ! "$python" -c "import pyro" 2>/dev/null; then
    site="$(mktemp -d)/site"
    "$python" -m pip install --quiet --no-deps --no-index --target "$site" "${WHEELS:-wheels}"/*.whl
    export PYTHONPATH="$PYTHONPATH:$site"
fi
export JAX_PLATFORMS=cpu OMP_NUM_THREADS=1  # one CPU core per chain, never the GPU
workers="${WORKERS:-$(nproc)}"
"$python" -m bnncompare.cli reference iris digits moons --backend numpyro --workers "$workers" \
    --out "$out" --where "${WHERE:-$(nproc)-core machine, $(uname -n)}" "$@"
