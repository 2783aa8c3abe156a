#!/usr/bin/env bash
# setup_venv.sh — create (once) the git-ignored Python environment the reference, tests and benchmarks share.
# Re-running is cheap: a stamp file records what was installed, so only a changed requirement list reinstalls.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${FASTDRIVE_VENV:-$root/.venv}"
req="$root/scripts/requirements.txt"
stamp="$venv/.fastdrive-stamp"
want="$(cat "$req" "$root/pyproject.toml" "$root/setup.py" | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip >&2
"$root/scripts/install_torch_cpu.sh" "$venv/bin/python"
"$venv/bin/python" -m pip install -q -r "$req" >&2
# The package itself, editable: scripts, tests and benchmarks import fastdrive_pruner (its schema
# and reference implementations) from here; it loads the checkout's own library builds.
"$venv/bin/python" -m pip install -q -e "$root" >&2
echo "$want" > "$stamp"
