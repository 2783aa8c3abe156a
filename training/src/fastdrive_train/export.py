"""Export a trained ReconPruner to the runtime's weight file (docs/weight-file.md) and read such files back."""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save

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
    meta = pruner.cfg.to_metadata()
    tmp.write_bytes(_canonical(save(tensors, metadata=meta), list(meta)))
    # safetensors creates the file 0600; a weight file is shared like any other (umask rules).
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    os.replace(tmp, out)
    return out


def _canonical(blob: bytes, meta_order: list[str]) -> bytes:
    """The safetensors bytes with `__metadata__` keys in a fixed order.

    safetensors holds the metadata in a Rust HashMap, so its key order (and so the file's bytes)
    changes from process to process; the same checkpoint must export to the same bytes.
    Tensor entries and data are already deterministic; the header is re-padded with spaces to a
    multiple of 8 bytes, as safetensors itself pads it.
    """
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + n])
    meta = header.pop("__metadata__")
    ordered = {"__metadata__": {k: meta[k] for k in meta_order}, **header}
    text = json.dumps(ordered, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + blob[8 + n :]


def load_exported(path: str | Path) -> ReconPruner:
    """A float32 ReconPruner from a weight file (docs/weight-file.md) (the trainer-side reader, for round trips/demos)."""
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            tensors = {k: f.get_tensor(k).float() for k in f.keys()}
        pruner = ReconPruner(PrunerConfig.from_metadata(meta))
        pruner.load_spec_state_dict(tensors)
    except Exception as exc:  # safetensors' own error types are not part of its API
        raise ValueError(f"{path}: not a usable weight file ({' '.join(str(exc).split())})") from exc
    return pruner.eval()
