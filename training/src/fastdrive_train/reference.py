"""An independent NumPy (float64) implementation of docs/model.md reading the weight file (docs/weight-file.md) byte by byte.

It shares no code with the PyTorch module or with safetensors, so agreement between the two
checks both the exported file and the math. It is a test oracle, not fast.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np

_DEFAULTS = {
    "hidden_size": "2048", "intermediate_size": "11008", "num_attention_heads": "16",
    "num_key_value_heads": "2", "head_dim": "128", "rms_norm_eps": "1e-6", "rope_theta": "1000000",
    "rope": "mrope", "mrope_section": "16,24,24", "attention": "bidirectional",
}


def read_weight_file(path: str | Path) -> tuple[dict[str, str], dict[str, np.ndarray]]:
    """Parse a safetensors file by hand: (metadata with defaults filled, float64 tensors)."""
    raw = Path(path).read_bytes()
    (hlen,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + hlen])
    meta = dict(_DEFAULTS)
    meta.update(header.pop("__metadata__", {}))
    base = 8 + hlen
    tensors: dict[str, np.ndarray] = {}
    for name, info in header.items():
        start, end = info["data_offsets"]
        buf = raw[base + start : base + end]
        if info["dtype"] == "F32":
            arr = np.frombuffer(buf, "<f4")
        elif info["dtype"] == "F16":
            arr = np.frombuffer(buf, "<f2")
        elif info["dtype"] == "BF16":  # bf16 is the top half of an f32
            arr = (np.frombuffer(buf, "<u2").astype(np.uint32) << 16).view("<f4")
        else:
            raise ValueError(f"tensor {name}: unsupported dtype {info['dtype']}")
        tensors[name] = arr.astype(np.float64).reshape(info["shape"])
    return meta, tensors


def _rms(x: np.ndarray, w: np.ndarray, eps: float) -> np.ndarray:
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def _positions(meta: dict[str, str], n: int, grid: tuple[int, int] | None) -> np.ndarray | None:
    """(L, 3) positions of [query; tokens] as docs/model.md gives them."""
    if meta["rope"] == "none":
        return None
    i = np.arange(n)
    if meta["rope"] == "1d":
        tok = np.stack([i + 1] * 3, axis=1)
    else:
        assert grid is not None and grid[0] * grid[1] == n
        tok = np.stack([np.ones(n, dtype=np.int64), 1 + i // grid[1], 1 + i % grid[1]], axis=1)
    return np.concatenate([np.zeros((1, 3), dtype=np.int64), tok])


def _rope(x: np.ndarray, pos: np.ndarray, meta: dict[str, str]) -> np.ndarray:
    """Rotate (heads, L, hd) by mRoPE: frequency pair f uses the t/h/w axis of its section."""
    hd = x.shape[-1]
    theta = float(meta["rope_theta"])
    inv = theta ** (-np.arange(0, hd, 2, dtype=np.float64) / hd)  # hd/2 frequencies
    sections = [int(s) for s in meta["mrope_section"].split(",")]
    axis = np.concatenate([np.full(s, k % 3) for k, s in enumerate(sections)])
    ang = pos[:, axis] * inv  # L, hd/2 (1d: all axes equal, so this is plain RoPE)
    cos, sin = np.cos(np.concatenate([ang, ang], -1)), np.sin(np.concatenate([ang, ang], -1))
    half = hd // 2
    rot = np.concatenate([-x[..., half:], x[..., :half]], -1)
    return x * cos + rot * sin


def reference_scores(path: str | Path, tokens: np.ndarray, grid: tuple[int, int] | None = None) -> np.ndarray:
    """S (N,) for tokens (N, D) with the weights in `path`."""
    meta, t = read_weight_file(path)
    eps = float(meta["rms_norm_eps"])
    heads, kv, hd = int(meta["num_attention_heads"]), int(meta["num_key_value_heads"]), int(meta["head_dim"])
    x = np.concatenate([t["query"], tokens.astype(np.float64)])
    length = len(x)
    a = _rms(x, t["input_layernorm.weight"], eps)
    q = (a @ t["self_attn.q_proj.weight"].T + t["self_attn.q_proj.bias"]).reshape(length, heads, hd).transpose(1, 0, 2)
    k = (a @ t["self_attn.k_proj.weight"].T + t["self_attn.k_proj.bias"]).reshape(length, kv, hd).transpose(1, 0, 2)
    v = (a @ t["self_attn.v_proj.weight"].T + t["self_attn.v_proj.bias"]).reshape(length, kv, hd).transpose(1, 0, 2)
    pos = _positions(meta, len(tokens), grid)
    if pos is not None:
        q, k = _rope(q, pos, meta), _rope(k, pos, meta)
    group = heads // kv
    k, v = np.repeat(k, group, axis=0), np.repeat(v, group, axis=0)
    logits = q @ k.transpose(0, 2, 1) / np.sqrt(hd)
    if meta["attention"] == "causal":
        logits = logits + np.triu(np.full((length, length), -np.inf), 1)
    logits -= logits.max(-1, keepdims=True)
    p = np.exp(logits)
    p /= p.sum(-1, keepdims=True)
    attn = (p @ v).transpose(1, 0, 2).reshape(length, heads * hd)
    h = x + attn @ t["self_attn.o_proj.weight"].T
    b = _rms(h, t["post_attention_layernorm.weight"], eps)
    gate = b @ t["mlp.gate_proj.weight"].T
    mlp = (gate / (1 + np.exp(-gate)) * (b @ t["mlp.up_proj.weight"].T)) @ t["mlp.down_proj.weight"].T
    out = h + mlp
    return (out[1:] * out[0]) @ t["scorer.weight"][0] + t["scorer.bias"][0]
