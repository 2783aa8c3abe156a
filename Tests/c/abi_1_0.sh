#!/usr/bin/env bash
# abi_1_0.sh — a host binary built against the 1.0 header runs against this library and gives
# the same results as the same source rebuilt against the current header.
# usage: abi_1_0.sh LIBRARY_DIR SCRATCH_DIR MODEL.safetensors
set -uo pipefail
lib="$1" work="$2" model="$3"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cc -std=c11 -Wall -Wextra -Werror -I"$here/abi-1.0" "$here/abi_1_0_host.c" -L"$lib" -lfastdrive_pruner \
    -Wl,-rpath,"$lib" -o "$work/host-1.0" || exit 1
cc -std=c11 -Wall -Wextra -Werror -I"$here/../../include" "$here/abi_1_0_host.c" -L"$lib" -lfastdrive_pruner \
    -Wl,-rpath,"$lib" -o "$work/host-current" || exit 1
old=$("$work/host-1.0" "$model") || { echo "FAIL: the 1.0 host binary failed against this library"; exit 1; }
new=$("$work/host-current" "$model") || { echo "FAIL: the rebuilt host failed"; exit 1; }
# Everything but the struct sizes (which differ by design) must match.
if [ "$(grep -v '^struct sizes' <<<"$old")" != "$(grep -v '^struct sizes' <<<"$new")" ]; then
    echo "FAIL: the 1.0 binary's results differ from the rebuilt host's"
    exit 1
fi
echo "1.0 host binary ($(grep '^struct sizes' <<<"$old")) = rebuilt host ($(grep '^struct sizes' <<<"$new")): 1 passed, 0 failed"
