#!/usr/bin/env bash
# The paper's six training runs through the workflow on one GPU, all at once, timed; then the same
# six one after another, and benchmarks/bench_gpu.py (eager steps against the CUDA graph).
#   bash benchmarks/gpu_pipeline.sh PHOTOS [OUTDIR]
# Needs snakemake, papermill, ipykernel and the colorlib requirements in the current Python (on a bare
# GPU machine with torch but no network: `pip install --no-index --target DIR WHEELS`, then DIR on
# PYTHONPATH and DIR/bin on PATH). Leaves the variants in
# $BUILD (default build-gpu) and the logs in OUTDIR.
set -euo pipefail
DATA=${1:?photos folder}
OUT=${2:-gpu-logs}
BUILD=${BUILD:-build-gpu}
PROFILE=${PROFILE:-paper}
mkdir -p "$OUT"
SNAKE=(snakemake -s workflow/Snakefile --scheduler greedy --rerun-incomplete --show-failed-logs)
now() { date +%s.%N; }
(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || echo "no nvidia-smi") | tee "$OUT/gpu.txt"
t0=$(now)
"${SNAKE[@]}" --cores 16 --until prepare --config build="$BUILD" data="$DATA" profile="$PROFILE" > "$OUT/prepare.log" 2>&1
t1=$(now)
"${SNAKE[@]}" --cores 16 --until train --config build="$BUILD" data="$DATA" profile="$PROFILE" > "$OUT/parallel.log" 2>&1
t2=$(now)
if [ "${SEQUENTIAL:-1}" = 1 ]; then
"${SNAKE[@]}" --cores 16 --until prepare --config build="$BUILD-seq" data="$DATA" profile="$PROFILE" > "$OUT/sequential-prepare.log" 2>&1
t3=$(now)
"${SNAKE[@]}" --cores 1 --until train --config build="$BUILD-seq" data="$DATA" profile="$PROFILE" > "$OUT/sequential.log" 2>&1
else t3=$t2; fi
t4=$(now)
python3 - "$t0" "$t1" "$t2" "$t3" "$t4" <<'PY' | tee "$OUT/summary.txt"
import sys
t0, t1, t2, t3, t4 = map(float, sys.argv[1:])
print(f"prepare (manifest of the photos): {t1 - t0:6.1f} s")
print(f"six training runs, all at once (--cores 16, one thread each): {t2 - t1:6.1f} s wall")
print(f"six training runs, one after another (--cores 1): {t4 - t3:6.1f} s wall")
PY
grep -ho '[a-z]*: [0-9]* photos, [0-9]* batches of [0-9]*, [0-9]* s of training' "$BUILD"/$PROFILE-*/pages/train-*.ipynb | tee -a "$OUT/summary.txt"
