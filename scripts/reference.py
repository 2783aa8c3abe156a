# Independent Python reference for ReconPruner (math: docs/model.md, weight file: docs/weight-file.md): writer, reader, random weights, scores.
"""Reference implementation of ReconPruner scoring, independent of the Swift runtime.

Two scoring paths that must agree (the generator asserts it):

* ``reference_scores`` -- the ground truth named by docs/model.md: transformers' own
  ``Qwen2_5_VLDecoderLayer`` (eager attention) with its own ``Qwen2_5_VLRotaryEmbedding``,
  computed in float32, plus the Hadamard fusion and the scorer.
* ``numpy_scores`` -- a from-scratch NumPy transcription of docs/model.md (float64 throughout), so that
  a mistake in how we *drive* transformers (config, positions, mask) shows up as a disagreement.

Mask semantics, verified by reading transformers 5.24 source
(models/qwen2_5_vl/modeling_qwen2_5_vl.py, integrations/sdpa_attention.py, masking_utils.py):

* ``Qwen2_5_VLDecoderLayer.forward`` only forwards ``attention_mask`` to ``Qwen2_5_VLAttention``; it
  builds no mask itself. Causal masks are built one level up, in ``Qwen2_5_VLTextModel.forward``
  (``create_causal_mask``), which we do not use.
* ``Qwen2_5_VLAttention`` dispatches through ``ALL_ATTENTION_FUNCTIONS.get_interface(
  config._attn_implementation, eager_attention_forward)``; for ``"eager"`` that is the module's
  ``eager_attention_forward``, which does ``attn_weights = q @ k^T * scaling`` and then
  ``if attention_mask is not None: attn_weights = attn_weights + attention_mask`` -- an *additive*
  float mask broadcast to [batch, heads, q_len, kv_len]; softmax in float32. So with eager,
  ``attention_mask=None`` really means "every token sees every token" (bidirectional).
* Trap: ``Qwen2_5_VLAttention.is_causal = True``. The eager path ignores it, but the *sdpa* path
  computes ``is_causal = q_len > 1 and attention_mask is None and module.is_causal`` -- i.e. with
  sdpa, ``attention_mask=None`` silently means CAUSAL. Hence ``_attn_implementation="eager"`` is
  mandatory here, and ``_build_layer`` asserts the resolved interface is the eager function.
* transformers' own eager causal mask (``masking_utils.eager_mask``) is 0 where attended and
  ``torch.finfo(dtype).min`` elsewhere; we build the same [1, 1, S, S] additive mask.

Another finding: in 5.24 ``Qwen2_5_VLAttention`` sets ``head_dim = hidden_size // num_heads`` and
ignores ``config.head_dim`` (it raises unless heads * head_dim == hidden). The transformers path can
therefore only check configs with ``num_attention_heads * head_dim == hidden_size`` (true at full
size: 16 * 128 = 2048); ``numpy_scores`` handles the general case.
"""
from __future__ import annotations

import json
import math
import struct
from pathlib import Path
from typing import Mapping, Union

import numpy as np

try:  # torch is needed for bf16 and for the transformers path, not for numpy_scores
    import torch
except ImportError:  # pragma: no cover
    torch = None

ArrayLike = Union[np.ndarray, "torch.Tensor"]

FORMAT_NAME = "fastdrive-reconpruner"
FORMAT_VERSION = 1

# docs/weight-file.md: a missing optional metadata key takes the full-size Qwen2.5-VL-3B value.
FULL_SIZE_CONFIG: dict = {
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
DTYPES = ("f32", "f16", "bf16")

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

# Keys of the transformers decoder layer's state_dict (same names, minus ours).
_LAYER_TENSORS = tuple(n for n in TENSOR_NAMES if n not in ("query", "scorer.weight", "scorer.bias"))


# ----------------------------------------------------------------------------- config


def normalize_config(config: Mapping) -> dict:
    """Fill missing keys with the full-size values (docs/weight-file.md), coerce types and validate."""
    c = dict(FULL_SIZE_CONFIG)
    c.update({k: v for k, v in config.items() if v is not None})
    for k in ("hidden_size", "intermediate_size", "num_attention_heads", "num_key_value_heads", "head_dim"):
        c[k] = int(c[k])
    c["rms_norm_eps"] = float(c["rms_norm_eps"])
    c["rope_theta"] = float(c["rope_theta"])
    ms = c["mrope_section"]
    if isinstance(ms, str):
        ms = [int(s) for s in ms.split(",")]
    c["mrope_section"] = [int(s) for s in ms]
    if c["rope"] not in ROPE_MODES:
        raise ValueError(f"rope must be one of {ROPE_MODES}, got {c['rope']!r}")
    if c["attention"] not in ATTENTION_MODES:
        raise ValueError(f"attention must be one of {ATTENTION_MODES}, got {c['attention']!r}")
    if c["num_attention_heads"] % c["num_key_value_heads"]:
        raise ValueError("num_attention_heads must be a multiple of num_key_value_heads")
    if c["head_dim"] % 2:
        raise ValueError("head_dim must be even")
    if len(c["mrope_section"]) != 3 or sum(c["mrope_section"]) != c["head_dim"] // 2:
        raise ValueError(f"mrope_section {c['mrope_section']} must have 3 entries summing to head_dim/2")
    return c


def scaled_mrope_section(head_dim: int, full: tuple = (16, 24, 24)) -> list:
    """Scale Qwen2.5-VL's 16,24,24 (for 64 frequency pairs) to head_dim/2 pairs, keeping the sum exact."""
    pairs = head_dim // 2
    sec = [full[0] * pairs // 64, full[1] * pairs // 64]
    return sec + [pairs - sum(sec)]


def _fmt_number(x) -> str:
    """Decimal string without exponent (e.g. 1e-6 -> '0.000001', 1e6 -> '1000000'), exact round trip."""
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    return np.format_float_positional(float(x), trim="-")


def config_metadata(config: Mapping) -> dict:
    """The safetensors ``__metadata__`` for a config: every key present, all values decimal strings."""
    c = normalize_config(config)
    return {
        "format": FORMAT_NAME,
        "format_version": str(FORMAT_VERSION),
        "hidden_size": _fmt_number(c["hidden_size"]),
        "intermediate_size": _fmt_number(c["intermediate_size"]),
        "num_attention_heads": _fmt_number(c["num_attention_heads"]),
        "num_key_value_heads": _fmt_number(c["num_key_value_heads"]),
        "head_dim": _fmt_number(c["head_dim"]),
        "rms_norm_eps": _fmt_number(c["rms_norm_eps"]),
        "rope_theta": _fmt_number(c["rope_theta"]),
        "rope": c["rope"],
        "mrope_section": ",".join(str(s) for s in c["mrope_section"]),
        "attention": c["attention"],
    }


def tensor_shapes(config: Mapping) -> dict:
    """Expected shape of every tensor (the table of docs/weight-file.md)."""
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


# ----------------------------------------------------------------------------- weight file I/O


def _torch_dtype(name: str):
    return {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}[name]


def _as_torch(a: ArrayLike) -> "torch.Tensor":
    if isinstance(a, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(a))
    return a.detach().cpu()


def _as_f32_numpy(a: ArrayLike) -> np.ndarray:
    """Upcast (exactly) to a float32 numpy array; bf16 goes through torch since numpy lacks it."""
    if isinstance(a, np.ndarray):
        return a.astype(np.float32)
    return a.detach().cpu().to(torch.float32).numpy()


def round_to_dtype(a: ArrayLike, dtype: str) -> np.ndarray:
    """The float32 values a tensor has after being stored as ``dtype`` (round to nearest even)."""
    return _as_torch(a).to(torch.float32).to(_torch_dtype(dtype)).to(torch.float32).numpy()


def write_pruner(
    path: Union[str, Path],
    config: Mapping,
    tensors: Mapping[str, ArrayLike],
    dtype: Union[str, Mapping[str, str]] = "f32",
) -> None:
    """Write a weight file (docs/weight-file.md).

    ``dtype`` is "f32" | "f16" | "bf16" for every tensor, or a dict tensor-name -> dtype (names not
    in the dict are stored as f32). Shapes are checked against the config. The file bytes depend
    only on the inputs, so re-runs are byte-identical (see ``_canonical_safetensors``).
    """
    from safetensors.torch import save

    shapes = tensor_shapes(config)
    missing = [n for n in TENSOR_NAMES if n not in tensors]
    extra = [n for n in tensors if n not in shapes]
    if missing or extra:
        raise ValueError(f"tensor set mismatch: missing {missing}, unexpected {extra}")
    out = {}
    for name in TENSOR_NAMES:
        t = _as_torch(tensors[name])
        if tuple(t.shape) != shapes[name]:
            raise ValueError(f"{name}: shape {tuple(t.shape)} != expected {shapes[name]}")
        dt = dtype if isinstance(dtype, str) else dtype.get(name, "f32")
        if dt not in DTYPES:
            raise ValueError(f"{name}: unsupported dtype {dt!r}")
        # f32 first so that f64 inputs are rounded once, exactly as a float32 checkpoint would be
        out[name] = t.to(torch.float32).to(_torch_dtype(dt)).contiguous()
    meta = config_metadata(config)
    Path(path).write_bytes(_canonical_safetensors(save(out, metadata=meta), list(meta)))


def _canonical_safetensors(blob: bytes, meta_order: list) -> bytes:
    """Re-emit a safetensors blob with ``__metadata__`` keys in a fixed order.

    safetensors 0.8 keeps the metadata in a Rust HashMap, so its key order (and thus the file
    bytes) changes from run to run. Tensor entries and the data section are already deterministic
    (sorted by alignment, then name) and are kept as they are; the header is re-padded with spaces
    to a multiple of 8 bytes exactly like safetensors does.
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


def read_safetensors_header(path: Union[str, Path]) -> dict:
    """The raw JSON header (tensor entries + ``__metadata__``), parsed without the safetensors package."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        return json.loads(f.read(n))


def read_pruner(path: Union[str, Path]) -> tuple:
    """Read a weight file -> (normalized config, {name: float32 numpy array of the *stored* values})."""
    from safetensors.torch import load_file

    meta = read_safetensors_header(path).get("__metadata__", {}) or {}
    if meta.get("format", FORMAT_NAME) != FORMAT_NAME:
        raise ValueError(f"{path}: format {meta.get('format')!r} is not {FORMAT_NAME}")
    cfg = {k: meta[k] for k in FULL_SIZE_CONFIG if k in meta}
    config = normalize_config(cfg)
    tensors = {k: _as_f32_numpy(v) for k, v in load_file(str(path)).items()}
    return config, tensors


# ----------------------------------------------------------------------------- random weights / tokens

# Gains on top of PyTorch's nn.Linear default init (U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and
# bias). With plain defaults the attention logits have std ~0.3 (nearly uniform attention: the RoPE
# and mask would barely matter) and the scores are ~1e-2; the gains below make attention peaked
# (logit std ~2) and put |scores| in the O(1)-O(10) range.
_QK_GAIN = 2.5
_SCORER_GAIN = 12.0
_QUERY_STD = 0.5
_NORM_NOISE = 0.1


def random_pruner(config: Mapping, seed: int) -> dict:
    """PyTorch-style random weights for ``config`` as float32 numpy arrays (deterministic in ``seed``).

    Uses numpy's PCG64 (stable across platforms and numpy versions), not torch's RNG.
    """
    c = normalize_config(config)
    rng = np.random.default_rng(seed)
    shapes = tensor_shapes(c)

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
    return {n: t[n] for n in TENSOR_NAMES}


def random_tokens(n: int, dim: int, seed: int) -> np.ndarray:
    """Visual tokens [n, dim] float32: N(0,1) rows with per-token scales in [0.5, 2] (so norms vary)."""
    rng = np.random.default_rng(seed)
    scale = rng.uniform(0.5, 2.0, size=(n, 1))
    return (rng.standard_normal((n, dim)) * scale).astype(np.float32)


# ----------------------------------------------------------------------------- positions


def position_ids(rope: str, n_tokens: int, grid_h: int = 0, grid_w: int = 0) -> np.ndarray:
    """The positions of docs/model.md as int64 [3, n_tokens + 1] (rows = temporal, height, width; column 0 = query).

    rope=none -> all zero (unused); 1d -> query 0, token i at i+1 on all three rows;
    mrope -> query (0,0,0), token i at (1, 1 + i // grid_w, 1 + i % grid_w).
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


# ----------------------------------------------------------------------------- transformers path


def _text_config(c: dict):
    from transformers.models.qwen2_5_vl.configuration_qwen2_5_vl import Qwen2_5_VLTextConfig

    if c["num_attention_heads"] * c["head_dim"] != c["hidden_size"]:
        # transformers 5.24's Qwen2_5_VLAttention derives head_dim = hidden // heads (see module doc)
        raise ValueError("transformers' Qwen2_5_VLDecoderLayer needs num_attention_heads * head_dim == hidden_size")
    cfg = Qwen2_5_VLTextConfig(
        hidden_size=c["hidden_size"],
        intermediate_size=c["intermediate_size"],
        num_hidden_layers=1,
        num_attention_heads=c["num_attention_heads"],
        num_key_value_heads=c["num_key_value_heads"],
        hidden_act="silu",
        rms_norm_eps=c["rms_norm_eps"],
        attention_dropout=0.0,
        use_sliding_window=False,
        max_position_embeddings=32768,
        rope_parameters={"rope_type": "default", "rope_theta": c["rope_theta"], "mrope_section": list(c["mrope_section"])},
        bos_token_id=None,
        eos_token_id=None,
    )
    cfg.head_dim = c["head_dim"]  # read by Qwen2_5_VLRotaryEmbedding.compute_default_rope_parameters
    cfg._attn_implementation = "eager"
    return cfg


def _build_layer(c: dict, tensors: Mapping[str, ArrayLike]):
    from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS
    from transformers.models.qwen2_5_vl import modeling_qwen2_5_vl as m

    cfg = _text_config(c)
    iface = ALL_ATTENTION_FUNCTIONS.get_interface(cfg._attn_implementation, m.eager_attention_forward)
    assert iface is m.eager_attention_forward, "expected transformers' eager attention (see module doc)"
    layer = m.Qwen2_5_VLDecoderLayer(cfg, layer_idx=0).to(torch.float32).eval()
    state = {n: _as_torch(tensors[n]).to(torch.float32) for n in _LAYER_TENSORS}
    layer.load_state_dict(state, strict=True)
    rotary = m.Qwen2_5_VLRotaryEmbedding(cfg).eval()
    assert list(rotary.mrope_section) == list(c["mrope_section"])
    return layer, rotary


def reference_scores(
    tensors: Mapping[str, ArrayLike],
    config: Mapping,
    tokens: np.ndarray,
    grid_h: int = 0,
    grid_w: int = 0,
) -> np.ndarray:
    """Ground-truth scores float32 [N]: transformers' Qwen2_5_VLDecoderLayer (eager, f32) + fusion + scorer.

    ``tensors`` are the *stored* values (f16/bf16 tensors are upcast exactly to f32, as the runtime
    does); ``tokens`` is [N, D] in f32 or f16 (upcast). ``grid_h``/``grid_w`` are needed for mrope.
    """
    c = normalize_config(config)
    toks = torch.from_numpy(np.ascontiguousarray(tokens, dtype=np.float32))
    n, d = toks.shape
    if d != c["hidden_size"]:
        raise ValueError(f"token dim {d} != hidden_size {c['hidden_size']}")
    layer, rotary = _build_layer(c, tensors)
    query = _as_torch(tensors["query"]).to(torch.float32).reshape(1, d)
    x = torch.cat([query, toks], dim=0)[None]  # [1, S, D]
    s = n + 1

    if c["rope"] == "none":
        # No rotation: cos = 1, sin = 0 makes apply_rotary_pos_emb the identity.
        cos = torch.ones(1, s, c["head_dim"], dtype=torch.float32)
        sin = torch.zeros(1, s, c["head_dim"], dtype=torch.float32)
    else:
        pos = torch.from_numpy(position_ids(c["rope"], n, grid_h, grid_w))[:, None, :]  # [3, 1, S]
        cos, sin = rotary(x, pos)  # [1, S, head_dim], sections recomposed per mrope_section

    if c["attention"] == "causal":
        # Same form as transformers.masking_utils.eager_mask: 0 where attended, finfo.min elsewhere.
        allowed = torch.ones(s, s, dtype=torch.bool).tril()
        mask = torch.where(allowed, 0.0, torch.finfo(torch.float32).min).to(torch.float32)[None, None]
    else:
        mask = None  # eager: no mask at all = bidirectional (verified, see module doc)

    with torch.no_grad():
        h = layer(x, attention_mask=mask, position_embeddings=(cos, sin))
        if isinstance(h, tuple):  # older transformers returned a tuple
            h = h[0]
        h = h[0]  # [S, D]
        w = _as_torch(tensors["scorer.weight"]).to(torch.float32).reshape(d)
        b = _as_torch(tensors["scorer.bias"]).to(torch.float32).reshape(())
        scores = (h[1:] * h[0]) @ w + b
    return scores.numpy().astype(np.float32)


# ----------------------------------------------------------------------------- NumPy path (float64)


def _rms(x: np.ndarray, w: np.ndarray, eps: float) -> np.ndarray:
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def _rope_cos_sin(c: dict, pos: np.ndarray) -> tuple:
    """cos/sin [S, head_dim] for positions [3, S]: pair f uses the position row of its mrope section."""
    hd = c["head_dim"]
    inv_freq = 1.0 / (c["rope_theta"] ** (np.arange(0, hd, 2, dtype=np.float64) / hd))  # [hd/2]
    section_of_pair = np.repeat(np.arange(3), c["mrope_section"])  # [hd/2]: 0=t, 1=h, 2=w
    ang = pos[section_of_pair, :].T.astype(np.float64) * inv_freq  # [S, hd/2]
    ang = np.concatenate([ang, ang], axis=-1)  # rotate_half layout: pair f = dims f and f + hd/2
    return np.cos(ang), np.sin(ang)


def _rotate_half(x: np.ndarray) -> np.ndarray:
    h = x.shape[-1] // 2
    return np.concatenate([-x[..., h:], x[..., :h]], axis=-1)


def numpy_layer(
    tensors: Mapping[str, ArrayLike],
    config: Mapping,
    x: np.ndarray,
    pos: np.ndarray,
    kv_head_of=None,
) -> np.ndarray:
    """The PrunerLayer of docs/model.md in float64: x [S, D], positions [3, S] -> H [S, D].

    ``kv_head_of`` (query head -> KV head) exists only so tests can build deliberately wrong
    variants; the default is docs/model.md's j // (heads / kv_heads).
    """
    c = normalize_config(config)
    t = {k: _as_f32_numpy(v).astype(np.float64) for k, v in tensors.items()}
    s = x.shape[0]
    nh, nkv, hd = c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"]

    a = _rms(x, t["input_layernorm.weight"], c["rms_norm_eps"])
    q = (a @ t["self_attn.q_proj.weight"].T + t["self_attn.q_proj.bias"]).reshape(s, nh, hd)
    k = (a @ t["self_attn.k_proj.weight"].T + t["self_attn.k_proj.bias"]).reshape(s, nkv, hd)
    v = (a @ t["self_attn.v_proj.weight"].T + t["self_attn.v_proj.bias"]).reshape(s, nkv, hd)
    if c["rope"] != "none":
        cos, sin = _rope_cos_sin(c, pos)
        q = q * cos[:, None] + _rotate_half(q) * sin[:, None]
        k = k * cos[:, None] + _rotate_half(k) * sin[:, None]

    rep = nh // nkv
    out = np.empty((s, nh, hd))
    for j in range(nh):
        # grouped-query attention: query head j reads KV head j / (heads / kv_heads)
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


def numpy_scores(
    tensors: Mapping[str, ArrayLike],
    config: Mapping,
    tokens: np.ndarray,
    grid_h: int = 0,
    grid_w: int = 0,
    positions: np.ndarray = None,
    kv_head_of=None,
) -> np.ndarray:
    """Independent scores (docs/model.md) in float64 (returned as float64 [N]); same inputs as reference_scores.

    ``positions`` ([3, N+1], overriding the positions of docs/model.md) and ``kv_head_of`` are for building
    deliberately wrong variants in tests; leave them None for the reference.
    """
    c = normalize_config(config)
    toks = np.asarray(tokens).astype(np.float64)
    n, d = toks.shape
    if d != c["hidden_size"]:
        raise ValueError(f"token dim {d} != hidden_size {c['hidden_size']}")
    query = _as_f32_numpy(tensors["query"]).astype(np.float64).reshape(1, d)
    x = np.concatenate([query, toks], axis=0)
    if positions is None:
        positions = position_ids(c["rope"], n, grid_h, grid_w)
    h = numpy_layer(tensors, c, x, positions, kv_head_of)
    w = _as_f32_numpy(tensors["scorer.weight"]).astype(np.float64).reshape(d)
    b = float(_as_f32_numpy(tensors["scorer.bias"]).reshape(()))
    return (h[1:] * h[0]) @ w + b


def spec_tolerance(ref: np.ndarray) -> float:
    """The f32 tolerance of docs/model.md on max |S - S_ref|: 1e-3 * max(1, max |S_ref|)."""
    return 1e-3 * max(1.0, float(np.max(np.abs(ref))) if ref.size else 1.0)
