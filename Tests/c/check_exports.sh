#!/usr/bin/env bash
# check_exports.sh — the library exports exactly the functions the header declares, and needs
# no Swift runtime library at load time.
# usage: check_exports.sh LIBRARY.so include/fastdrive_pruner.h
set -euo pipefail
lib="$1" header="$2"
exported=$(nm -D -g --defined-only "$lib" | awk '{print $3}' | sort)
# A function bound to a new symbol by an asm label (FASTDRIVE_SYMBOL_) is exported under both
# names: the old one serves binaries built against the older header.
declared=$( (grep -oE '^FASTDRIVE_API [^(]*\(' "$header" | grep -oE 'fastdrive_[a-z0-9_]+\($' | tr -d '(';
             grep -oE '^ *FASTDRIVE_SYMBOL_\("fastdrive_[a-z0-9_]+"\)' "$header" | grep -oE 'fastdrive_[a-z0-9_]+') | sort)
if [ "$exported" != "$declared" ]; then
    echo "exported and declared symbols differ (< exported, > declared):"
    diff <(echo "$exported") <(echo "$declared") || true
    exit 1
fi
if ldd "$lib" | grep -i swift; then
    echo "the library still needs a Swift runtime library"
    exit 1
fi
echo "exports: $(echo "$declared" | wc -l) functions, exactly the header's; no Swift runtime dependency"
