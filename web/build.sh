#!/usr/bin/env bash
# Builds the web page: the `web` crate for wasm32-unknown-unknown with wgpu's WebGPU backend,
# then wasm-bindgen's JavaScript glue, into web/pkg/ (served with web/index.html).
#
#   web/build.sh            # release build (what CI tests and what to serve)
#   web/build.sh --debug    # faster to build, larger and slower
#
# From Debian packages and crates.io only (README's "In the browser" says more):
# rustup's toolchains carry no wasm32 std, so Debian's rustc-web builds std from its source
# (-Zbuild-std); wasm-ld is lld-19's. wasm-bindgen-cli must be the lock file's wasm-bindgen to
# the patch; it is built once per version into ~/.cache/wgpu-backprop-tools/ (or
# $WGPU_BACKPROP_TOOLS) and reused after.
set -euo pipefail
cd "$(dirname "$0")/.."

profile=release
[ "${1:-}" = "--debug" ] && profile=dev

packages=(rustc-web cargo-web rust-web-src rust-web-llvm lld-19)
if ! dpkg -s "${packages[@]}" >/dev/null 2>&1; then
  echo "installing ${packages[*]} (Debian's rustc-web with its std source, and wasm-ld)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi

# wasm-bindgen-cli at the lock file's version, cached by version.
version=$(awk -F'"' '/^name = "wasm-bindgen"$/ { getline; print $2; exit }' Cargo.lock)
cache="${WGPU_BACKPROP_TOOLS:-$HOME/.cache/wgpu-backprop-tools}/wasm-bindgen-cli-$version"
if [ ! -x "$cache/bin/wasm-bindgen" ]; then
  echo "building wasm-bindgen-cli $version into $cache (once per version)"
  # Not --locked: its own lock pins a webpki-roots the registry no longer serves.
  cargo install --quiet wasm-bindgen-cli --version "=$version" --root "$cache"
fi

# Debian's toolchain, not rustup's (whose std is x86_64 only), in a target folder of its own.
export PATH="/usr/bin:$PATH" RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=/usr/lib/llvm-19/bin/wasm-ld
export CARGO_TARGET_DIR="${WASM_TARGET_DIR:-$PWD/target/wasm}"
/usr/bin/cargo build --locked --profile "$profile" -p wgpu-backprop-web \
  --target wasm32-unknown-unknown -Zbuild-std=std,panic_abort
dir=$([ "$profile" = dev ] && echo debug || echo release)
wasm="$CARGO_TARGET_DIR/wasm32-unknown-unknown/$dir/wgpu_backprop_web.wasm"
rm -rf web/pkg
"$cache/bin/wasm-bindgen" --target web --no-typescript --out-dir web/pkg "$wasm"
raw=$(stat -c %s web/pkg/wgpu_backprop_web_bg.wasm)
gz=$(gzip -9 -c web/pkg/wgpu_backprop_web_bg.wasm | wc -c)
echo "web/pkg: wasm ${raw} bytes (${gz} gzipped); serve with: python3 -m http.server -d web 8000"
