#!/usr/bin/env bash
# bootstrap.sh — install what building and testing need, once: Debian packages and the Python venv.
# Safe to re-run; skips what is already there. Uses sudo when not root.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
packages=(libopenblas-dev cmake pkg-config valgrind)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "installing ${missing[*]}" >&2
    $sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >&2
fi
command -v swift >/dev/null || { echo "swift (6.1 or newer) is required: see https://swift.org/install" >&2; exit 1; }
"$root/scripts/setup_venv.sh"
