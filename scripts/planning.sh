#!/usr/bin/env bash
# planning.sh — the planning benchmark end to end (training/README.md, "Planning benchmark"):
# draw and encode planning scenes, train the planner on unpruned tokens (3 seeds), check the gate,
# then plan from the tokens each policy keeps at 0/25/50/75/90 % pruning, through the runtime's
# select. Writes Benchmarks/planning/results/{latest.json,table.md,relative.png}; encoded scenes and
# planners are cached in .build/planning. Extra flags go to `fastdrive_train plan-bench`
# (e.g. --pruner anchor-only=FILE for another ReconPruner row, --seeds 1 for a quick look).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/bootstrap.sh
swift build -c release --product fastdrive_pruner >&2
py="$root/.venv/bin/python"
"$py" -m pip install -q -e . -e training
"$py" -c "import matplotlib" 2>/dev/null || "$py" -m pip install -q matplotlib  # the figure only
export OMP_NUM_THREADS=2
FASTDRIVE_PRUNER_LIB="$root/.build/release/libfastdrive_pruner.so" \
    nice -n 10 "$py" -m fastdrive_train plan-bench "$@"
