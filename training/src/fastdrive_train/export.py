"""Export a trained ReconPruner to the runtime's weight file (docs/weight-file.md) and read such files back."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from .config import PrunerConfig
from .pruner import ReconPruner

DTYPES = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}


def export_pruner(pruner: ReconPruner, out: str | Path, dtype: str = "f32") -> Path:
    """Write the weight file atomically (a temp file renamed into place, never a half file)."""
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {sorted(DTYPES)}, got {dtype!r}")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.to(DTYPES[dtype]).contiguous().cpu() for k, v in pruner.spec_state_dict().items()}
    tmp = out.with_name(out.name + ".tmp")
    save_file(tensors, str(tmp), metadata=pruner.cfg.to_metadata())
    # safetensors creates the file 0600; a weight file is shared like any other (umask rules).
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    os.replace(tmp, out)
    return out


def load_exported(path: str | Path) -> ReconPruner:
    """A float32 ReconPruner from a weight file (docs/weight-file.md) (the trainer-side reader, for round trips/demos)."""
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
        tensors = {k: f.get_tensor(k).float() for k in f.keys()}
    pruner = ReconPruner(PrunerConfig.from_metadata(meta))
    pruner.load_spec_state_dict(tensors)
    return pruner.eval()
