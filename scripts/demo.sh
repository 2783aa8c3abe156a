#!/usr/bin/env bash
# demo.sh — build the runtime, make a full-size random ReconPruner (Qwen2.5-VL-3B layer, 77 M
# parameters), and prune one 3249-token camera frame to 50 % with the C example.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/bootstrap.sh
swift build -c release
model=.build/models/reconpruner-full-random.safetensors
mkdir -p .build/models
[ -f "$model" ] || .build/release/fastdrive-pruner init --config full --out "$model"
cc -std=c99 -O2 -Wall -Wextra -Werror -pedantic -Iinclude examples/c/prune_tokens.c \
    -L.build/release -lfastdrive_pruner -Wl,-rpath,"$root/.build/release" -lm -o .build/prune_tokens
.build/prune_tokens "$model" 3249 0.5
