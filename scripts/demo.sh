#!/usr/bin/env bash
# demo.sh — the main job, end to end with no download: build the runtime, load the shipped trained
# ReconPruner (models/reconpruner-small.safetensors), prune synthetic camera frames at 25/50/75 %,
# print foreground recall against the baseline policies, and write PNGs of the kept tokens
# (.build/demo/). Then prune one full-size 3249-token frame (random Qwen2.5-VL-3B-sized pruner)
# with the C example, for the latency of the real shape.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
[ -x .venv/bin/python ] || echo "first run: building the library and creating the Python venv (CPU-only PyTorch) takes 1-2 min, more on a busy machine" >&2
scripts/bootstrap.sh
swift build -c release
py="$root/.venv/bin/python"
"$py" -m pip install -q -e . -e training
FASTDRIVE_PRUNER_LIB="$root/.build/release/libfastdrive_pruner.so" "$py" examples/python/prune_camera_frames.py

echo
model=.build/models/reconpruner-full-random.safetensors
mkdir -p .build/models
[ -f "$model" ] || .build/release/fastdrive-pruner init --config full --out "$model"
cc -std=c99 -O2 -Wall -Wextra -Werror -pedantic -Iinclude examples/c/prune_tokens.c \
    -L.build/release -lfastdrive_pruner -Wl,-rpath,"$root/.build/release" -lm -o .build/prune_tokens
.build/prune_tokens "$model" 3249 0.5
