# schema.py — the weight file's schema in one place: format name, config keys and defaults, tensor names and shapes.
"""The ReconPruner weight file's schema, for every Python tool of the project.

A weight file is one safetensors file: fifteen tensors named as in transformers'
``Qwen2_5_VLDecoderLayer`` plus ``query`` and ``scorer.*``, and the config as strings in the
header's ``__metadata__``. A key the file omits takes the full-size Qwen2.5-VL-3B value
(:data:`DEFAULTS`). The runtime (Swift) reads the same schema; this module is its Python twin,
used by the binding's tools, the reference implementations, the fixture generator, the benchmarks
and the trainer's exporter, so a name, shape or default is written down once on this side.

Pure standard library: importing it loads neither NumPy nor the native library.
"""
from __future__ import annotations

import json
import math
import struct
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "DEFAULTS",
    "ROPE_MODES",
    "ATTENTION_MODES",
    "STORED_DTYPES",
    "TENSOR_NAMES",
    "LAYER_TENSOR_NAMES",
    "PRODUCER_KEYS",
    "normalize_config",
    "config_metadata",
    "config_from_metadata",
    "tensor_shapes",
    "parameter_count",
    "scaled_mrope_section",
    "read_header",
]

FORMAT_NAME = "fastdrive-reconpruner"
FORMAT_VERSION = 1

#: The full-size Qwen2.5-VL-3B decoder layer: the value of every config key a file omits.
DEFAULTS: Dict[str, Any] = {
    "hidden_size": 2048,
    "intermediate_size": 11008,
    "num_attention_heads": 16,
    "num_key_value_heads": 2,
    "head_dim": 128,
    "rms_norm_eps": 1e-6,
    "rope_theta": 1e6,
    "rope": "mrope",
    "mrope_section": [16, 24, 24],
    "attention": "bidirectional",
}

ROPE_MODES = ("none", "1d", "mrope")
ATTENTION_MODES = ("bidirectional", "causal")
#: safetensors dtype names a weight tensor may be stored in (mixed within one file is allowed).
STORED_DTYPES = ("F32", "F16", "BF16")

#: Every tensor of a weight file, in the order the runtime documents them.
TENSOR_NAMES = (
    "query",
    "input_layernorm.weight",
    "self_attn.q_proj.weight",
    "self_attn.q_proj.bias",
    "self_attn.k_proj.weight",
    "self_attn.k_proj.bias",
    "self_attn.v_proj.weight",
    "self_attn.v_proj.bias",
    "self_attn.o_proj.weight",
    "post_attention_layernorm.weight",
    "mlp.gate_proj.weight",
    "mlp.up_proj.weight",
    "mlp.down_proj.weight",
    "scorer.weight",
    "scorer.bias",
)
#: The tensors that are transformers' decoder layer's own state_dict (same names).
LAYER_TENSOR_NAMES = tuple(n for n in TENSOR_NAMES if n not in ("query", "scorer.weight", "scorer.bias"))

#: Optional provenance keys a writer may add (ONNX's producer_name/producer_version idea); the
#: runtime ignores them. Values: the writing tool's name and the project version it belongs to.
PRODUCER_KEYS = ("producer", "producer_version")

_INT_KEYS = ("hidden_size", "intermediate_size", "num_attention_heads", "num_key_value_heads", "head_dim")
_FLOAT_KEYS = ("rms_norm_eps", "rope_theta")


def normalize_config(config: Mapping[str, Any]) -> Dict[str, Any]:
    """A complete, typed, checked config: missing (or None) keys take :data:`DEFAULTS`.

    ``mrope_section`` may be a list or a ``"16,24,24"`` string. Raises ValueError for an
    unknown rope/attention mode, heads not divisible by KV heads, an odd head_dim, or sections
    that do not cover head_dim/2 frequency pairs.
    """
    c = dict(DEFAULTS)
    c.update({k: v for k, v in config.items() if k in DEFAULTS and v is not None})
    for k in _INT_KEYS:
        c[k] = int(c[k])
    for k in _FLOAT_KEYS:
        c[k] = float(c[k])
    sections = c["mrope_section"]
    if isinstance(sections, str):
        sections = sections.split(",")
    c["mrope_section"] = [int(s) for s in sections]
    if c["rope"] not in ROPE_MODES:
        raise ValueError(f"rope must be one of {ROPE_MODES}, got {c['rope']!r}")
    if c["attention"] not in ATTENTION_MODES:
        raise ValueError(f"attention must be one of {ATTENTION_MODES}, got {c['attention']!r}")
    if min(c[k] for k in _INT_KEYS) <= 0:
        raise ValueError(f"sizes must be positive: {[(k, c[k]) for k in _INT_KEYS]}")
    if c["num_attention_heads"] % c["num_key_value_heads"]:
        raise ValueError("num_attention_heads must be a multiple of num_key_value_heads")
    if c["head_dim"] % 2:
        raise ValueError("head_dim must be even")
    if len(c["mrope_section"]) != 3 or sum(c["mrope_section"]) != c["head_dim"] // 2:
        raise ValueError(f"mrope_section {c['mrope_section']} must have 3 entries summing to head_dim/2")
    return c


def _decimal(x: Union[int, float]) -> str:
    """A decimal without exponent that parses back exactly (1e-6 -> '0.000001', 1e6 -> '1000000')."""
    if isinstance(x, int):
        return str(x)
    import numpy as np  # only here, so importing the schema stays free of NumPy

    return np.format_float_positional(float(x), trim="-")


def config_metadata(config: Mapping[str, Any], producer: Optional[Tuple[str, str]] = None) -> Dict[str, str]:
    """The ``__metadata__`` of a file with this config: every key present, values decimal strings.

    ``producer`` = (tool name, version) adds the optional :data:`PRODUCER_KEYS`.
    The key order is fixed, so writers that keep it produce byte-identical headers.
    """
    c = normalize_config(config)
    meta = {"format": FORMAT_NAME, "format_version": str(FORMAT_VERSION)}
    meta.update({k: _decimal(c[k]) for k in (*_INT_KEYS, *_FLOAT_KEYS)})
    meta["rope"] = c["rope"]
    meta["mrope_section"] = ",".join(str(s) for s in c["mrope_section"])
    meta["attention"] = c["attention"]
    if producer is not None:
        meta.update(zip(PRODUCER_KEYS, producer))
    return meta


def config_from_metadata(meta: Mapping[str, str]) -> Dict[str, Any]:
    """The normalized config of a file's ``__metadata__`` (missing keys take the defaults).

    Raises ValueError naming the key for a wrong format name or version, or a value that does
    not parse. The runtime is the strict judge of a file (it also requires the two format keys);
    this is for tools reading files, and lets either key be absent.
    """
    if meta.get("format", FORMAT_NAME) != FORMAT_NAME:
        raise ValueError(f"metadata 'format' is {meta.get('format')!r}, expected {FORMAT_NAME!r}")
    if meta.get("format_version", str(FORMAT_VERSION)) != str(FORMAT_VERSION):
        raise ValueError(f"unsupported format_version {meta.get('format_version')!r} (this reads {FORMAT_VERSION})")
    config: Dict[str, Any] = {}
    for key in DEFAULTS:
        if key not in meta:
            continue
        raw = meta[key]
        try:
            config[key] = int(raw) if key in _INT_KEYS else float(raw) if key in _FLOAT_KEYS else raw
        except ValueError:
            raise ValueError(f"metadata key {key!r} has bad value {raw!r}") from None
    try:
        return normalize_config(config)
    except ValueError as e:
        raise ValueError(f"metadata: {e}") from None


def tensor_shapes(config: Mapping[str, Any]) -> Dict[str, Tuple[int, ...]]:
    """The shape of every tensor for a config (linear weights are [out, in], as in PyTorch)."""
    c = normalize_config(config)
    d, i, hd = c["hidden_size"], c["intermediate_size"], c["head_dim"]
    qd, kvd = c["num_attention_heads"] * hd, c["num_key_value_heads"] * hd
    return {
        "query": (1, d),
        "input_layernorm.weight": (d,),
        "self_attn.q_proj.weight": (qd, d),
        "self_attn.q_proj.bias": (qd,),
        "self_attn.k_proj.weight": (kvd, d),
        "self_attn.k_proj.bias": (kvd,),
        "self_attn.v_proj.weight": (kvd, d),
        "self_attn.v_proj.bias": (kvd,),
        "self_attn.o_proj.weight": (d, qd),
        "post_attention_layernorm.weight": (d,),
        "mlp.gate_proj.weight": (i, d),
        "mlp.up_proj.weight": (i, d),
        "mlp.down_proj.weight": (d, i),
        "scorer.weight": (1, d),
        "scorer.bias": (1,),
    }


def parameter_count(config: Mapping[str, Any]) -> int:
    """Elements over all tensors (77.1 M at full size)."""
    return sum(math.prod(shape) for shape in tensor_shapes(config).values())


def scaled_mrope_section(head_dim: int, full: Tuple[int, int, int] = (16, 24, 24)) -> List[int]:
    """Qwen2.5-VL's 16,24,24 (of 64 frequency pairs) scaled to head_dim/2 pairs, the sum kept exact."""
    pairs = head_dim // 2
    sections = [full[0] * pairs // 64, full[1] * pairs // 64]
    return sections + [pairs - sum(sections)]


def read_header(path: Union[str, Path]) -> Dict[str, Any]:
    """A safetensors file's JSON header (tensor entries and ``__metadata__``), no tensor data read.

    Checks only what reading needs (the 8-byte length fits the file, the header is a JSON object);
    raises ValueError otherwise. Use the runtime to validate a file.
    """
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) != 8:
            raise ValueError(f"{path}: shorter than the 8-byte safetensors header length")
        (n,) = struct.unpack("<Q", head)
        f.seek(0, 2)
        if n > f.tell() - 8:
            raise ValueError(f"{path}: header length {n} exceeds the file")
        f.seek(8)
        header = json.loads(f.read(n))
    if not isinstance(header, dict):
        raise ValueError(f"{path}: the safetensors header is not a JSON object")
    return header
