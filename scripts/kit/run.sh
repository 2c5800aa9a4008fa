#!/usr/bin/env bash
# The GPU report kit's runner (copied into the kit by scripts/gpu-report.sh pack). On the GPU
# host, with no Rust and no network:
#   run.sh OUT [--budget SECONDS] [--allow-cpu]
# runs, in this order and each time-boxed inside one budget (480 s by default): info --all,
# the calibration (a vec4 copy and an FMA loop: this device's peaks), selftest (quick rows
# first), bench --large with its own empty tune file and pipeline cache and the driver's
# shader disk cache off (cold: what the autotuner chooses, its timings and every pipeline's
# compile time), the same bench again
# (tuned, with the GPU time of each dispatch inside the composite ops), train --epochs 5, the
# matmul kernels without wgpu's runtime checks. Where nvidia-smi exists, clocks, power and
# temperature are sampled every 500 ms throughout. Every step's output is kept even when a
# later one is cut short. Writes two files into OUT: report.tar.gz (everything) and summary.md
# (readable alone). Stops at once on a CPU device (lavapipe is no GPU report) unless
# --allow-cpu.
set -uo pipefail
kit=$(cd "$(dirname "$0")" && pwd)
out=${1:-}
if [ -z "$out" ] || [ "${out#-}" != "$out" ]; then
  echo "usage: run.sh OUT [--budget SECONDS] [--allow-cpu]" >&2
  exit 2
fi
shift
budget=480
allow_cpu=0
while [ $# -gt 0 ]; do
  case $1 in
    --budget) budget=${2:?--budget needs seconds}; shift 2 ;;
    --allow-cpu) allow_cpu=1; shift ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
start=$(date +%s)
bin="$kit/wgpu-backprop"
work=$(mktemp -d)
mkdir -p "$out" "$work/cache" "$work/cache-selftest"
# The benches' tune file and pipeline cache start empty (the first bench is cold); the
# calibration and the self-check keep theirs apart, so they warm nothing the bench reads.
export WGPU_BACKPROP_CACHE_DIR="$work/cache"
apart=(env "WGPU_BACKPROP_CACHE_DIR=$work/cache-selftest")
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$work}
# Kept for packing what ran: the last seconds of the budget.
reserve=$((budget / 10 < 15 ? budget / 10 : 15))

# A host with the NVIDIA driver but no Vulkan loader: the kit's packages (../shared/device).
if ls "$kit"/debs/*.deb >/dev/null 2>&1 && ! ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1'; then
  if [ "$(id -u)" = 0 ]; then
    for f in "$kit"/debs/*.deb; do dpkg -x "$f" /; done
    ldconfig
  else
    for f in "$kit"/debs/*.deb; do dpkg -x "$f" "$work/root"; done
    export LD_LIBRARY_PATH="$work/root/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  fi
  for d in /usr/local/nvidia/share/vulkan/icd.d /usr/share/vulkan/icd.d /etc/vulkan/icd.d; do
    if [ -f "$d/nvidia_icd.json" ]; then export VK_DRIVER_FILES="$d/nvidia_icd.json"; break; fi
  done
  egl=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
  [ -f "$egl" ] && export __EGL_VENDOR_LIBRARY_FILENAMES=$egl
  export WGPU_BACKEND=${WGPU_BACKEND:-vulkan}
fi

left() { echo $((budget - ($(date +%s) - start) - reserve)); }

# step NAME SHARE COMMAND...: runs it with its share (percent of what is left, among the steps
# still to come) of the time left, output in $work/NAME.out; never stops the script.
shares_left=100
step() {
  local name=$1 share=$2
  shift 2
  local avail limit t0 rc
  avail=$(left)
  limit=$((avail * share / shares_left))
  shares_left=$((shares_left - share))
  [ "$shares_left" -le 0 ] && shares_left=1
  if [ "$limit" -lt 2 ]; then
    printf '%s\tskipped\t0\t%s\n' "$name" "$limit" >>"$work/steps.tsv"
    return
  fi
  t0=$(date +%s)
  echo "== $name (up to ${limit} s)"
  timeout --kill-after=5 "$limit" "$@" >"$work/$name.out" 2>&1
  rc=$?
  printf '%s\t%s\t%s\t%s\n' "$name" "$rc" "$(($(date +%s) - t0))" "$limit" >>"$work/steps.tsv"
  tail -n 3 "$work/$name.out"
}

# Clocks, power and temperature while the steps run, where the NVIDIA driver's tool exists.
sampler=
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=clocks.sm,clocks.mem,power.draw,temperature.gpu,utilization.gpu \
    --format=csv,noheader,nounits -lms 500 >"$work/nvidia-smi.csv" 2>/dev/null &
  sampler=$!
fi

finish() {
  [ -n "$sampler" ] && kill "$sampler" 2>/dev/null
  {
    echo "kit $(cat "$kit/VERSION" 2>/dev/null || echo unknown), budget ${budget} s, wall $(($(date +%s) - start)) s"
    nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader 2>/dev/null
    env | grep -E '^(VK_|WGPU_|LD_LIBRARY_PATH)' | sort
  } >"$work/host.out"
  "$bin" report-summary "$work" >"$out/summary.md" 2>>"$work/host.out"
  cat "$work/host.out" >>"$out/summary.md"
  tar czf "$out/report.tar.gz" -C "$work" .
  echo "wrote $out/summary.md and $out/report.tar.gz"
}

step info 3 "$bin" info --all
"$bin" info >>"$work/info.out" 2>&1
if grep -q '^device type: *Cpu' "$work/info.out" && [ "$allow_cpu" = 0 ]; then
  echo "The adapter is a CPU device (see below): no GPU report is made (--allow-cpu to run anyway)." |
    tee "$work/stopped.out"
  grep -E '^(adapter|device type):' "$work/info.out"
  finish
  exit 3
fi
step calibrate 5 "${apart[@]}" "$bin" bench --json --calibrate --runs 3
step selftest 22 "${apart[@]}" "$bin" selftest --json
# Cold for the driver too: its own shader disk cache off (NVIDIA's, Mesa's), so the compile
# times are compiles and not what the self-check left there.
step bench-cold 32 env __GL_SHADER_DISK_CACHE=0 MESA_SHADER_CACHE_DISABLE=true \
  "$bin" bench --large --json
step bench-tuned 22 "$bin" bench --large --json --dispatches
step train 8 "$bin" train --epochs 5
step bench-unchecked 10 env WGPU_BACKPROP_UNCHECKED=1 "$bin" bench --large --json --only matmul_
finish
