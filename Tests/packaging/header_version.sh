#!/usr/bin/env bash
# header_version.sh — print MAJOR.MINOR.PATCH from include/fastdrive_pruner.h, the one place the
# project's version is written; the packaging tests compare every other copy with it.
set -euo pipefail
header="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/include/fastdrive_pruner.h"
part() { sed -n "s/^#define FASTDRIVE_VERSION_$1 \([0-9][0-9]*\)$/\1/p" "$header"; }
major="$(part MAJOR)" minor="$(part MINOR)" patch="$(part PATCH)"
[ -n "$major" ] && [ -n "$minor" ] && [ -n "$patch" ] || { echo "no FASTDRIVE_VERSION_* in $header" >&2; exit 1; }
echo "$major.$minor.$patch"
