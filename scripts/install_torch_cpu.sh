#!/usr/bin/env bash
# install_torch_cpu.sh — install the CPU-only PyTorch build (~190 MB) into a Python environment, once.
# A plain `pip install torch` on Linux pulls several GB of CUDA wheels that a CPU machine never uses.
# usage: scripts/install_torch_cpu.sh PYTHON   (the environment's interpreter, e.g. .venv/bin/python)
set -euo pipefail
py="$1"
"$py" -c 'import torch' 2>/dev/null && exit 0
# A local mirror or wheel folder may carry the pinned +cpu build; PyTorch's CPU index otherwise.
"$py" -m pip install -q 'torch==2.13.0+cpu' >&2 \
  || "$py" -m pip install -q --index-url https://download.pytorch.org/whl/cpu torch >&2 \
  || "$py" -m pip install -q torch >&2
