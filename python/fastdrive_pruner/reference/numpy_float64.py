# numpy_float64.py — ReconPruner from scratch in NumPy float64, reading the weight file byte by byte.
"""The independent oracle: the layer's math transcribed in float64, nothing borrowed.

It shares no code with transformers, torch or the safetensors package (see the package doc for
why it exists beside the transformers one). The math, for X = [query; tokens]:

    h = X + o_proj(Attn(RoPE(q_proj(rms1(X))), RoPE(k_proj(rms1(X))), v_proj(rms1(X))))
    H = h + down_proj(silu(gate_proj(rms2(h))) * up_proj(rms2(h)))
    S = (H[1:] ⊙ H[0]) · scorer.weight + scorer.bias

with grouped-query attention (query head j reads KV head j // (heads / kv_heads)), rotate-half
RoPE, softmax over all rows (bidirectional) or rows ≤ i (causal).
"""
from __future__ import annotations

import json
import math
import struct
from pathlib import Path
from typing import Any, Callable, Dict, Mapping, Optional, Tuple, Union

import numpy as np

from .. import schema

__all__ = ["read_weight_file", "positions", "rope_cos_sin", "layer", "scores", "scores_from_file"]

_DTYPES = {"F32": "<f4", "F16": "<f2"}  # BF16 is read as the top half of an f32


def read_weight_file(path: Union[str, Path]) -> Tuple[Dict[str, Any], Dict[str, np.ndarray]]:
    """(normalized config, {name: float64 array}) parsed by hand from a weight file."""
    raw = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    config = schema.config_from_metadata(header.pop("__metadata__", {}) or {})
    base = 8 + n
    tensors: Dict[str, np.ndarray] = {}
    for name, info in header.items():
        start, end = info["data_offsets"]
        buf = raw[base + start : base + end]
        if info["dtype"] == "BF16":
            array = (np.frombuffer(buf, "<u2").astype(np.uint32) << 16).view("<f4")
        elif info["dtype"] in _DTYPES:
            array = np.frombuffer(buf, _DTYPES[info["dtype"]])
        else:
            raise ValueError(f"tensor {name}: unsupported dtype {info['dtype']}")
        tensors[name] = array.astype(np.float64).reshape(info["shape"])
    return config, tensors


def positions(rope: str, n_tokens: int, grid_h: int = 0, grid_w: int = 0) -> np.ndarray:
    """Position ids int64 [3, n_tokens + 1] (rows t, h, w; column 0 is the query).

    none: unused (zeros); 1d: query 0, token i at i + 1 on all rows; mrope: query (0, 0, 0),
    token i of a grid_h × grid_w frame at (1, 1 + i // grid_w, 1 + i % grid_w).
    """
    s = n_tokens + 1
    if rope == "none":
        return np.zeros((3, s), dtype=np.int64)
    if rope == "1d":
        return np.tile(np.arange(s, dtype=np.int64), (3, 1))
    if rope == "mrope":
        if grid_h <= 0 or grid_w <= 0 or grid_h * grid_w != n_tokens:
            raise ValueError(f"rope=mrope needs grid_h*grid_w == n_tokens ({grid_h}x{grid_w} vs {n_tokens})")
        i = np.arange(n_tokens, dtype=np.int64)
        pos = np.zeros((3, s), dtype=np.int64)
        pos[0, 1:] = 1
        pos[1, 1:] = 1 + i // grid_w
        pos[2, 1:] = 1 + i % grid_w
        return pos
    raise ValueError(f"unknown rope {rope!r}")


def rope_cos_sin(config: Mapping[str, Any], pos: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """cos, sin float64 [S, head_dim] for positions [3, S]: frequency pair f rotates by the
    position row of its mrope section (under 1d all rows are equal, so this is plain RoPE)."""
    hd = config["head_dim"]
    inv_freq = 1.0 / (config["rope_theta"] ** (np.arange(0, hd, 2, dtype=np.float64) / hd))  # [hd/2]
    section_of_pair = np.repeat(np.arange(3), config["mrope_section"])  # [hd/2]: 0=t, 1=h, 2=w
    angle = pos[section_of_pair, :].T.astype(np.float64) * inv_freq  # [S, hd/2]
    angle = np.concatenate([angle, angle], axis=-1)  # rotate_half layout: pair f = dims f and f + hd/2
    return np.cos(angle), np.sin(angle)


def _rms(x: np.ndarray, w: np.ndarray, eps: float) -> np.ndarray:
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def _rotate_half(x: np.ndarray) -> np.ndarray:
    h = x.shape[-1] // 2
    return np.concatenate([-x[..., h:], x[..., :h]], axis=-1)


def layer(
    tensors: Mapping[str, np.ndarray],
    config: Mapping[str, Any],
    x: np.ndarray,
    pos: np.ndarray,
    kv_head_of: Optional[Callable[[int], int]] = None,
) -> np.ndarray:
    """The decoder layer in float64: x [S, D], positions [3, S] -> H [S, D].

    ``kv_head_of`` (query head -> KV head) exists only so tests can build deliberately wrong
    variants; the default is the real j // (heads / kv_heads).
    """
    c = schema.normalize_config(config)
    t = {k: np.asarray(v, dtype=np.float64) for k, v in tensors.items()}
    s = x.shape[0]
    nh, nkv, hd = c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"]

    a = _rms(x, t["input_layernorm.weight"], c["rms_norm_eps"])
    q = (a @ t["self_attn.q_proj.weight"].T + t["self_attn.q_proj.bias"]).reshape(s, nh, hd)
    k = (a @ t["self_attn.k_proj.weight"].T + t["self_attn.k_proj.bias"]).reshape(s, nkv, hd)
    v = (a @ t["self_attn.v_proj.weight"].T + t["self_attn.v_proj.bias"]).reshape(s, nkv, hd)
    if c["rope"] != "none":
        cos, sin = rope_cos_sin(c, pos)
        q = q * cos[:, None] + _rotate_half(q) * sin[:, None]
        k = k * cos[:, None] + _rotate_half(k) * sin[:, None]

    rep = nh // nkv
    out = np.empty((s, nh, hd))
    for j in range(nh):
        g = j // rep if kv_head_of is None else kv_head_of(j)
        logits = q[:, j] @ k[:, g].T / math.sqrt(hd)
        if c["attention"] == "causal":
            logits = np.where(np.tri(s, dtype=bool), logits, -np.inf)
        logits -= logits.max(axis=-1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=-1, keepdims=True)
        out[:, j] = p @ v[:, g]
    h = x + out.reshape(s, nh * hd) @ t["self_attn.o_proj.weight"].T

    b = _rms(h, t["post_attention_layernorm.weight"], c["rms_norm_eps"])
    gate = b @ t["mlp.gate_proj.weight"].T
    up = b @ t["mlp.up_proj.weight"].T
    silu = gate / (1.0 + np.exp(-gate))
    return h + (silu * up) @ t["mlp.down_proj.weight"].T


def scores(
    tensors: Mapping[str, np.ndarray],
    config: Mapping[str, Any],
    tokens: np.ndarray,
    grid_h: int = 0,
    grid_w: int = 0,
    position_ids: Optional[np.ndarray] = None,
    kv_head_of: Optional[Callable[[int], int]] = None,
) -> np.ndarray:
    """Scores float64 [N] of tokens [N, D] (grid needed for rope = mrope).

    ``position_ids`` ([3, N + 1], replacing the real ones) and ``kv_head_of`` build deliberately
    wrong variants in tests; leave them None for the reference.
    """
    c = schema.normalize_config(config)
    toks = np.asarray(tokens).astype(np.float64)
    n, d = toks.shape
    if d != c["hidden_size"]:
        raise ValueError(f"token dim {d} != hidden_size {c['hidden_size']}")
    query = np.asarray(tensors["query"], dtype=np.float64).reshape(1, d)
    x = np.concatenate([query, toks], axis=0)
    if position_ids is None:
        position_ids = positions(c["rope"], n, grid_h, grid_w)
    h = layer(tensors, c, x, position_ids, kv_head_of)
    w = np.asarray(tensors["scorer.weight"], dtype=np.float64).reshape(d)
    b = float(np.asarray(tensors["scorer.bias"]).reshape(()))
    return (h[1:] * h[0]) @ w + b


def scores_from_file(path: Union[str, Path], tokens: np.ndarray, grid: Optional[Tuple[int, int]] = None) -> np.ndarray:
    """Scores float64 [N] of tokens [N, D] with the weights in ``path``; ``grid`` = (h, w) for mrope."""
    config, tensors = read_weight_file(path)
    gh, gw = grid if grid else (0, 0)
    return scores(tensors, config, tokens, gh, gw)
