#!/usr/bin/env bash
# The GPU report kit: everything a short rented GPU slot should measure, packed here (where
# Rust and the network are) into one folder that runs there with neither.
#
#   scripts/gpu-report.sh pack DIR [--vulkan-loader]
#       builds the release binary, strips it, and writes DIR/wgpu-backprop and DIR/run.sh
#       (scripts/kit/run.sh); with --vulkan-loader also DIR/debs/: the Debian packages of the
#       Vulkan loader and the GL dispatch libraries, for an NVIDIA host that has the driver but
#       no loader (../shared/device/README.md: what worked on an H100). The kit must stay under
#       60 MiB (no test binaries: `selftest` replaces them); packing fails past it.
#   DIR/run.sh OUT [--budget SECONDS] [--allow-cpu]
#       on the GPU host: info, selftest, bench cold (empty tune file), bench tuned, train,
#       the matmuls unchecked, each time-boxed inside one budget (480 s by default); writes
#       OUT/report.tar.gz and OUT/summary.md. Stops at once on a CPU device unless --allow-cpu.
#
# Through this project's device tool, for example:
#   scripts/gpu-report.sh pack .kit --vulkan-loader
#   run: bash .kit/run.sh "$OUT" --budget 480      (carry [".kit"])
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
limit_mib=60

usage() {
  sed -n '2,20p' "$0" >&2
  exit 2
}

pack() {
  local dir=${1:-}
  [ -n "$dir" ] || usage
  shift
  local loader=0
  for arg in "$@"; do
    case $arg in
      --vulkan-loader) loader=1 ;;
      *) usage ;;
    esac
  done
  # The binary's path from cargo itself: CARGO_TARGET_DIR (or a config) may put it anywhere.
  local target
  target=$(cd "$root" && cargo metadata --locked --no-deps --format-version 1 |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
  [ -n "$target" ] || { echo "cargo metadata gave no target directory" >&2; exit 1; }
  (cd "$root" && cargo build --locked --release --quiet --bin wgpu-backprop)
  rm -rf "$dir"
  mkdir -p "$dir"
  cp "$target/release/wgpu-backprop" "$dir/wgpu-backprop"
  strip "$dir/wgpu-backprop"
  cp "$root/scripts/kit/run.sh" "$dir/run.sh"
  chmod +x "$dir/run.sh" "$dir/wgpu-backprop"
  git -C "$root" describe --always --dirty >"$dir/VERSION" 2>/dev/null || echo unknown >"$dir/VERSION"
  if [ "$loader" = 1 ]; then
    mkdir -p "$dir/debs"
    local lists
    lists=$(mktemp -d)
    mkdir -p "$lists/partial"
    local o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 "-oDir::State::Lists=$lists")
    apt-get "${o[@]}" update -qq 2>/dev/null
    (cd "$dir/debs" && apt-get "${o[@]}" download \
      libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 >/dev/null 2>&1)
  fi
  local kib
  kib=$(du -sk "$dir" | cut -f1)
  echo "kit: $dir, $((kib / 1024)) MiB ($(find "$dir" -type f | wc -l) files)"
  if [ "$kib" -gt $((limit_mib * 1024)) ]; then
    echo "the kit is over ${limit_mib} MiB" >&2
    exit 1
  fi
}

case ${1:-} in
  pack) shift; pack "$@" ;;
  *) usage ;;
esac
