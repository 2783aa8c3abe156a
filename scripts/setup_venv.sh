#!/usr/bin/env bash
# setup_venv.sh — create (once) the git-ignored Python environment the reference, tests and benchmarks share.
# Re-running is cheap: a stamp file records what was installed, so only a changed requirement list reinstalls.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${FASTDRIVE_VENV:-$root/.venv}"
req="$root/scripts/requirements.txt"
stamp="$venv/.fastdrive-stamp"
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip >&2
# The CPU-only torch wheel is ~190 MB; the default wheel pulls several GB of CUDA libraries.
if ! "$venv/bin/python" -c 'import torch' 2>/dev/null; then
  "$venv/bin/python" -m pip install -q 'torch==2.13.0+cpu' >&2 \
    || "$venv/bin/python" -m pip install -q --index-url https://download.pytorch.org/whl/cpu torch >&2 \
    || "$venv/bin/python" -m pip install -q torch >&2
fi
"$venv/bin/python" -m pip install -q -r "$req" >&2
echo "$want" > "$stamp"
