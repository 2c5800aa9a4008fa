#!/usr/bin/env bash
# Runs cargo-fuzz targets, each for SECONDS (default 600), from the committed seeds plus a
# working corpus in fuzz/corpus/<target> (not committed). Limits: 2 GiB of memory in all,
# 1 GiB in one allocation, 10 s per input (a hang is a failure). Crashes land in
# fuzz/artifacts/<target>/; copy them into tests/fuzz_regressions/<target>/ to keep them.
#   fuzz/run.sh [SECONDS] [TARGET...]     e.g.  fuzz/run.sh 600 gz idx csv safetensors
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(safetensors idx csv gz)
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    cargo +nightly fuzz run -O "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10 \
        -print_final_stats=1
done
