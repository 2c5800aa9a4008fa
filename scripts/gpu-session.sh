#!/usr/bin/env bash
# The one prepared run for a session lent the GPU machine (#8): everything it should measure,
# in order of value, each step time-boxed so one slow step cannot eat the session's minutes.
# Results land in $OUT (they come back). Prepare here first:
#   ../shared/device/prepare.sh                        # once: Vulkan loader into .gl/
#   cargo build --release --examples && ../shared/device/stage.sh target/release/examples/device_limits
# then, through the device tool, carrying [".gl", ".device"]:
#   bash .device/on-gpu.sh bash scripts/gpu-session.sh
# About 9 minutes in all: tests (~1), bench with autotuning (~4), bench again tuned (~2), the
# matmul variants without wgpu's runtime checks (~1), the device's FMA and load rates.
# Written 2026-11-26/27 without a GPU session: not yet run on the device. Expected failures there:
# tests/checkpoint.rs and tests/errors.rs start the demo from this machine's target/ path, and
# tests/fuzz_regressions.rs reads fuzz/seeds from this machine's checkout path.
set -uo pipefail
out=${OUT:-/tmp/out}
mkdir -p "$out"
export WGPU_BACKPROP_CACHE_DIR="$out/cache" # the tune file and pipeline cache come back too
bin=.device/wgpu-backprop
step() { # step NAME SECONDS COMMAND...: runs it, keeps its output, never stops the script
  local name=$1 secs=$2
  shift 2
  echo "== $name"
  timeout "$secs" "$@" >"$out/$name.txt" 2>&1
  echo "exit $? ($name)" | tee -a "$out/$name.txt"
  tail -n 5 "$out/$name.txt"
}
step info 30 "$bin" info --all
for t in .device/tests/*; do
  step "test-$(basename "$t")" 120 "$t" --test-threads 4
done
# First bench: every shape class is new, so the autotuner times the candidates (kept in
# $out/cache/autotune-*.txt); the second reads the choices back and measures them alone.
step bench-first 300 "$bin" bench --large --json
step bench-tuned 200 "$bin" bench --large --json
step train 60 "$bin" train --epochs 5
# What wgpu's runtime checks (bounds clamping, loop bounding) cost the blocked kernels.
step bench-unchecked 120 env WGPU_BACKPROP_UNCHECKED=1 "$bin" bench --large --json --only matmul_
step device-limits 60 .device/device_limits
ls -la "$out" "$out/cache" 2>/dev/null
