#!/usr/bin/env bash
# build_dist.sh — the self-contained libfastdrive_pruner.so for embedding: Swift runtime linked
# statically, only the fastdrive_* symbols exported, loadable with no Swift toolchain around.
#
# usage: scripts/build_dist.sh [SCRATCH_DIR]   (default .build-dist; the .so lands in SCRATCH_DIR/release)
# -static-stdlib is passed to swiftc here rather than set in Package.swift, where it would break
# `swift test`; --static-swift-stdlib is ignored for dynamic library products.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
scratch="${1:-$root/.build-dist}"
cd "$root"
swift build -c release --product fastdrive_pruner --scratch-path "$scratch" \
    -Xswiftc -static-stdlib \
    -Xlinker --version-script="$root/cmake/exports.map" \
    -Xlinker -soname=libfastdrive_pruner.so.1 >&2
# The soname is what dependants record and look for at run time.
ln -sf libfastdrive_pruner.so "$scratch/release/libfastdrive_pruner.so.1"
echo "$scratch/release/libfastdrive_pruner.so"
