#!/usr/bin/env bash
# build_dist.sh — the distributable build, shared by CMake, the Python wheel and the README:
# libfastdrive_pruner.so (Swift runtime linked statically, only the fastdrive_* symbols exported,
# loadable with no Swift toolchain around) and the `fastdrive-pruner` tool, self-contained the same way.
#
# usage: scripts/build_dist.sh [SCRATCH_DIR]   (default .build-dist; both land in SCRATCH_DIR/release)
# Prints the library's path on stdout (the build log goes to stderr).
# -static-stdlib is passed to swiftc here rather than set in Package.swift, where it would break
# `swift test`; --static-swift-stdlib is ignored for dynamic library products.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
scratch="${1:-$root/.build-dist}"
cd "$root"
command -v swift >/dev/null || {
    echo "build_dist.sh: 'swift' is not on PATH. Building libfastdrive_pruner needs Swift 6.1 or newer" \
         "(https://swift.org/install) and OpenBLAS (Debian/Ubuntu: apt-get install libopenblas-dev)." >&2
    exit 1
}
# The soname carries the major version of the header, the project's one version number.
major="$(sed -n 's/^#define FASTDRIVE_VERSION_MAJOR \([0-9][0-9]*\)$/\1/p' include/fastdrive_pruner.h)"
[ -n "$major" ] || { echo "build_dist.sh: no FASTDRIVE_VERSION_MAJOR in include/fastdrive_pruner.h" >&2; exit 1; }
swift build -c release --product fastdrive_pruner --scratch-path "$scratch" \
    -Xswiftc -static-stdlib \
    -Xlinker --version-script="$root/cmake/exports.map" \
    -Xlinker -soname="libfastdrive_pruner.so.$major" >&2
# The soname is what dependants record and look for at run time.
ln -sf libfastdrive_pruner.so "$scratch/release/libfastdrive_pruner.so.$major"
# The tool links the runtime's objects statically (not the .so), so it gets no export map.
swift build -c release --product fastdrive-pruner --scratch-path "$scratch" -Xswiftc -static-stdlib >&2
echo "$scratch/release/libfastdrive_pruner.so"
