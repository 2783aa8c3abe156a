# weights.py — write, read and draw random ReconPruner weight files for tests, examples and benchmarks.
"""Weight files through the safetensors package (the standard writer and reader).

The NumPy oracle reads files with its own parser instead, so a writer mistake shows up as a
disagreement rather than being read back the same wrong way.
"""
from __future__ import annotations

import json
import math
import struct
from pathlib import Path
from typing import Any, Dict, Mapping, Tuple, Union

import numpy as np

from .. import schema

__all__ = ["DTYPES", "write_pruner", "read_pruner", "random_pruner", "random_tokens"]

#: Stored dtypes by the short names the tools use.
DTYPES = ("f32", "f16", "bf16")


def _torch_dtype(name: str):
    import torch

    return {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}[name]


def _as_torch(a: Any):
    import torch

    if isinstance(a, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(a))
    return a.detach().cpu()


def write_pruner(path: Union[str, Path], config: Mapping[str, Any], tensors: Mapping[str, Any],
                 dtype: Union[str, Mapping[str, str]] = "f32") -> None:
    """Write a weight file (numpy arrays or torch tensors in, shapes checked against the config).

    ``dtype`` is "f32" | "f16" | "bf16" for every tensor, or a dict name -> dtype (others f32).
    The bytes depend only on the inputs, so re-runs are byte-identical.
    """
    import torch
    from safetensors.torch import save

    shapes = schema.tensor_shapes(config)
    missing = [n for n in schema.TENSOR_NAMES if n not in tensors]
    extra = [n for n in tensors if n not in shapes]
    if missing or extra:
        raise ValueError(f"tensor set mismatch: missing {missing}, unexpected {extra}")
    out = {}
    for name in schema.TENSOR_NAMES:
        t = _as_torch(tensors[name])
        if tuple(t.shape) != shapes[name]:
            raise ValueError(f"{name}: shape {tuple(t.shape)} != expected {shapes[name]}")
        dt = dtype if isinstance(dtype, str) else dtype.get(name, "f32")
        if dt not in DTYPES:
            raise ValueError(f"{name}: unsupported dtype {dt!r}")
        # f32 first so that f64 inputs are rounded once, exactly as a float32 checkpoint would be
        out[name] = t.to(torch.float32).to(_torch_dtype(dt)).contiguous()
    meta = schema.config_metadata(config)
    Path(path).write_bytes(_canonical_safetensors(save(out, metadata=meta), list(meta)))


def _canonical_safetensors(blob: bytes, meta_order: list) -> bytes:
    """Re-emit a safetensors blob with ``__metadata__`` keys in a fixed order.

    safetensors keeps the metadata in a Rust HashMap, so its key order (and thus the file bytes)
    changes from run to run. Tensor entries and the data section are already deterministic and are
    kept; the header is re-padded with spaces to a multiple of 8 bytes as safetensors does.
    """
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + n])
    data = blob[8 + n :]
    meta = header.pop("__metadata__")
    ordered = {"__metadata__": {k: meta[k] for k in meta_order}}
    ordered.update(header)
    text = json.dumps(ordered, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def read_pruner(path: Union[str, Path]) -> Tuple[Dict[str, Any], Dict[str, np.ndarray]]:
    """(normalized config, {name: float32 array of the *stored* values}) of a weight file."""
    import torch
    from safetensors.torch import load_file

    config = schema.config_from_metadata(schema.read_header(path).get("__metadata__", {}) or {})
    tensors = {k: v.to(torch.float32).numpy() for k, v in load_file(str(path)).items()}
    return config, tensors


# Gains on top of PyTorch's nn.Linear default init (U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and
# bias). With plain defaults the attention logits have std ~0.3 (nearly uniform attention: the RoPE
# and mask would barely matter) and the scores are ~1e-2; the gains below make attention peaked
# (logit std ~2) and put |scores| in the O(1)-O(10) range.
_QK_GAIN = 2.5
_SCORER_GAIN = 12.0
_QUERY_STD = 0.5
_NORM_NOISE = 0.1


def random_pruner(config: Mapping[str, Any], seed: int) -> Dict[str, np.ndarray]:
    """PyTorch-style random weights for ``config``, float32, deterministic in ``seed``.

    Uses NumPy's PCG64 (stable across platforms and NumPy versions), not torch's RNG.
    """
    c = schema.normalize_config(config)
    rng = np.random.default_rng(seed)
    shapes = schema.tensor_shapes(c)

    def linear(shape, fan_in, gain=1.0):
        bound = gain / math.sqrt(fan_in)
        return rng.uniform(-bound, bound, size=shape).astype(np.float32)

    d, i = c["hidden_size"], c["intermediate_size"]
    t = {}
    t["query"] = (rng.standard_normal(shapes["query"]) * _QUERY_STD).astype(np.float32)
    t["input_layernorm.weight"] = (1.0 + _NORM_NOISE * rng.standard_normal(d)).astype(np.float32)
    for p, gain in (("q", _QK_GAIN), ("k", _QK_GAIN), ("v", 1.0)):
        t[f"self_attn.{p}_proj.weight"] = linear(shapes[f"self_attn.{p}_proj.weight"], d, gain)
        t[f"self_attn.{p}_proj.bias"] = linear(shapes[f"self_attn.{p}_proj.bias"], d, gain)
    t["self_attn.o_proj.weight"] = linear(shapes["self_attn.o_proj.weight"], c["num_attention_heads"] * c["head_dim"])
    t["post_attention_layernorm.weight"] = (1.0 + _NORM_NOISE * rng.standard_normal(d)).astype(np.float32)
    t["mlp.gate_proj.weight"] = linear((i, d), d)
    t["mlp.up_proj.weight"] = linear((i, d), d)
    t["mlp.down_proj.weight"] = linear((d, i), i)
    t["scorer.weight"] = linear((1, d), d, _SCORER_GAIN)
    t["scorer.bias"] = linear((1,), d, _SCORER_GAIN)
    return {n: t[n] for n in schema.TENSOR_NAMES}


def random_tokens(n: int, dim: int, seed: int) -> np.ndarray:
    """Visual tokens [n, dim] float32: N(0,1) rows with per-token scales in [0.5, 2] (so norms vary)."""
    rng = np.random.default_rng(seed)
    scale = rng.uniform(0.5, 2.0, size=(n, 1))
    return (rng.standard_normal((n, dim)) * scale).astype(np.float32)
