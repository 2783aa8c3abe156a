# transformers_layer.py — the ground truth: transformers' own Qwen2_5_VLDecoderLayer + query row + fusion + scorer.
"""ReconPruner built from transformers' ``Qwen2_5_VLDecoderLayer`` (eager attention, float32).

The runtime is specified as exactly this layer, so these scores are the ground truth the test
fixtures hold. :class:`ReconPrunerModule` is also what the benchmark's PyTorch and ONNX Runtime
peers time, so they run the very computation the runtime is checked against.

Mask semantics, verified by reading transformers 5.24 (models/qwen2_5_vl/modeling_qwen2_5_vl.py,
integrations/sdpa_attention.py, masking_utils.py):

* ``Qwen2_5_VLDecoderLayer.forward`` only forwards ``attention_mask`` to ``Qwen2_5_VLAttention``; it
  builds no mask itself (causal masks are built one level up, in ``Qwen2_5_VLTextModel.forward``,
  which is not used here).
* With ``_attn_implementation="eager"`` the attention adds the mask to ``q @ k^T * scaling`` only
  when one is given, so ``attention_mask=None`` really is bidirectional.
* Trap: ``Qwen2_5_VLAttention.is_causal = True``, which the *sdpa* path applies whenever the mask is
  None: with sdpa, None silently means causal. Hence eager is mandatory, and :func:`build_layer`
  asserts that the resolved attention function is the eager one.
* transformers' own eager causal mask (``masking_utils.eager_mask``) is 0 where attended and
  ``finfo(dtype).min`` elsewhere; :func:`causal_mask` builds the same [1, 1, S, S] additive mask.

In 5.24 ``Qwen2_5_VLAttention`` sets ``head_dim = hidden_size // num_heads`` and ignores
``config.head_dim``, so this path only checks configs with heads · head_dim == hidden_size (true at
full size, 16 · 128 = 2048); the NumPy oracle handles the general case.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Optional, Tuple, Union

import numpy as np
import torch
from torch import nn

from .. import schema
from .numpy_float64 import positions as position_ids

__all__ = ["text_config", "build_layer", "ReconPrunerModule", "causal_mask", "cos_sin", "load_module",
           "reference_scores", "position_ids"]


def text_config(config: Mapping[str, Any]):
    """The ``Qwen2_5_VLTextConfig`` of one pruner layer (eager attention)."""
    from transformers.models.qwen2_5_vl.configuration_qwen2_5_vl import Qwen2_5_VLTextConfig

    c = schema.normalize_config(config)
    if c["num_attention_heads"] * c["head_dim"] != c["hidden_size"]:
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


def _as_torch(a: Any) -> torch.Tensor:
    if isinstance(a, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(a))
    return a.detach().cpu()


def build_layer(config: Mapping[str, Any], tensors: Mapping[str, Any]) -> Tuple[nn.Module, nn.Module]:
    """(transformers' decoder layer in float32 with the file's layer tensors, its rotary embedding)."""
    from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS
    from transformers.models.qwen2_5_vl import modeling_qwen2_5_vl as m

    c = schema.normalize_config(config)
    cfg = text_config(c)
    iface = ALL_ATTENTION_FUNCTIONS.get_interface(cfg._attn_implementation, m.eager_attention_forward)
    assert iface is m.eager_attention_forward, "expected transformers' eager attention (see module doc)"
    layer = m.Qwen2_5_VLDecoderLayer(cfg, layer_idx=0).to(torch.float32).eval()
    layer.load_state_dict({n: _as_torch(tensors[n]).to(torch.float32) for n in schema.LAYER_TENSOR_NAMES}, strict=True)
    rotary = m.Qwen2_5_VLRotaryEmbedding(cfg).eval()
    assert list(rotary.mrope_section) == list(c["mrope_section"])
    return layer, rotary


class ReconPrunerModule(nn.Module):
    """tokens [N, D], cos/sin [1, N+1, head_dim] (, additive mask) -> scores [N].

    S = (H[1:] ⊙ H[0]) · w_s + b_s with H = layer([query; tokens]).
    """

    def __init__(self, layer: nn.Module, query: torch.Tensor, scorer_w: torch.Tensor, scorer_b: torch.Tensor):
        super().__init__()
        self.layer = layer
        self.register_buffer("query", query.reshape(1, -1).clone())
        self.register_buffer("scorer_w", scorer_w.reshape(-1).clone())
        self.register_buffer("scorer_b", scorer_b.reshape(()).clone())

    def forward(self, tokens: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor,
                mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        x = torch.cat([self.query, tokens], dim=0)[None]  # [1, N+1, D], query at row 0
        h = self.layer(x, attention_mask=mask, position_embeddings=(cos, sin))  # mask None = bidirectional (eager)
        if isinstance(h, tuple):  # older transformers returned a tuple
            h = h[0]
        h = h[0]
        return (h[1:] * h[0]) @ self.scorer_w + self.scorer_b


def causal_mask(s: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """transformers' eager causal mask [1, 1, S, S]: 0 where attended, finfo.min elsewhere."""
    allowed = torch.ones(s, s, dtype=torch.bool).tril()
    return torch.where(allowed, 0.0, torch.finfo(dtype).min).to(dtype)[None, None]


def cos_sin(config: Mapping[str, Any], rotary: nn.Module, n: int, grid: Tuple[int, int] = (0, 0),
            dtype: torch.dtype = torch.float32) -> Tuple[torch.Tensor, torch.Tensor]:
    """transformers' rotary tables [1, N+1, head_dim] for the pruner's positions (rope = none: identity)."""
    c = schema.normalize_config(config)
    s = n + 1
    if c["rope"] == "none":  # cos = 1, sin = 0 makes apply_rotary_pos_emb the identity
        return torch.ones(1, s, c["head_dim"], dtype=dtype), torch.zeros(1, s, c["head_dim"], dtype=dtype)
    pos = torch.from_numpy(position_ids(c["rope"], n, *grid))[:, None, :]  # [3, 1, S]
    probe = torch.zeros(1, s, 1, dtype=torch.float32)  # the rotary embedding reads only dtype/device from x
    with torch.no_grad():
        cos, sin = rotary(probe, pos)  # sections recomposed per mrope_section
    return cos.to(dtype).contiguous(), sin.to(dtype).contiguous()


def _module(config: Mapping[str, Any], tensors: Mapping[str, Any]) -> Tuple[ReconPrunerModule, nn.Module]:
    layer, rotary = build_layer(config, tensors)
    module = ReconPrunerModule(layer, _as_torch(tensors["query"]).to(torch.float32),
                               _as_torch(tensors["scorer.weight"]).to(torch.float32),
                               _as_torch(tensors["scorer.bias"]).to(torch.float32))
    return module.eval(), rotary


def load_module(path: Union[str, Path], dtype: torch.dtype = torch.float32) -> Tuple[dict, ReconPrunerModule, nn.Module]:
    """(config, the file's module in ``dtype``, rotary embedding), for timing; the NumPy copies are dropped."""
    from .weights import read_pruner

    config, tensors = read_pruner(path)
    module, rotary = _module(config, tensors)
    del tensors
    return config, module.to(dtype).eval(), rotary


def reference_scores(tensors: Mapping[str, Any], config: Mapping[str, Any], tokens: np.ndarray,
                     grid_h: int = 0, grid_w: int = 0) -> np.ndarray:
    """Ground-truth scores float32 [N] of tokens [N, D] (f32 or f16, upcast), computed in float32.

    ``tensors`` are the *stored* values (f16/bf16 upcast exactly to f32, as the runtime does);
    ``grid_h``/``grid_w`` are needed for rope = mrope.
    """
    c = schema.normalize_config(config)
    toks = torch.from_numpy(np.ascontiguousarray(tokens, dtype=np.float32))
    n, d = toks.shape
    if d != c["hidden_size"]:
        raise ValueError(f"token dim {d} != hidden_size {c['hidden_size']}")
    module, rotary = _module(c, tensors)
    cos, sin = cos_sin(c, rotary, n, (grid_h, grid_w))
    mask = causal_mask(n + 1) if c["attention"] == "causal" else None
    with torch.no_grad():
        return module(toks, cos, sin, mask).numpy().astype(np.float32)
