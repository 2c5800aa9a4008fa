#!/usr/bin/env bash
# A second native Vulkan driver: Mesa 25.0.7's lavapipe from bookworm-backports, unpacked into a
# folder (never installed over the system's Mesa) and cached there by version. Prints the
# environment that selects it, for `eval`:
#
#   eval "$(scripts/mesa25.sh)"    # then any command sees Mesa 25's lavapipe only
#
# The backports suite is added to apt's sources from the machine's own Debian mirror (the
# archive its bookworm suite comes from), at apt's default backports priority: nothing on the
# system is upgraded from it.
set -euo pipefail
version=25.0.7
root="${WGPU_BACKPROP_TOOLS:-$HOME/.cache/wgpu-backprop-tools}/mesa-$version"
icd="$root/lvp_icd.json"
if [ ! -f "$icd" ]; then
  {
    list=/etc/apt/sources.list.d/wgpu-backprop-backports.sources
    if ! apt-cache policy 2>/dev/null | grep -q bookworm-backports; then
      uri=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null ||
        true)
      [ -n "$uri" ] || uri=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' \
        /etc/apt/sources.list)
      printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: %s\n' \
        "$uri" /usr/share/keyrings/debian-archive-keyring.gpg >"$list"
      apt-get update -qq
    fi
    work=$(mktemp -d) && chmod 777 "$work" # apt downloads as _apt
    (cd "$work" && apt-get download -qq mesa-vulkan-drivers/bookworm-backports \
      libdrm2/bookworm-backports libdrm-amdgpu1/bookworm-backports)
    rm -rf "$root.tmp" && mkdir -p "$root.tmp"
    for deb in "$work"/*.deb; do dpkg -x "$deb" "$root.tmp"; done
    lib="$root/usr/lib/x86_64-linux-gnu"
    sed "s|\"library_path\": *\"[^\"]*\"|\"library_path\": \"$lib/libvulkan_lvp.so\"|" \
      "$root.tmp/usr/share/vulkan/icd.d/lvp_icd.json" >"$root.tmp/lvp_icd.json"
    rm -rf "$root" && mv "$root.tmp" "$root" && rm -rf "$work"
  } >&2
fi
lib="$root/usr/lib/x86_64-linux-gnu"
echo "export VK_DRIVER_FILES='$icd' VK_ICD_FILENAMES='$icd'" \
  "LD_LIBRARY_PATH='$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}'"
