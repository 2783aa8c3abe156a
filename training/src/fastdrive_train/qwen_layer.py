"""Glue to transformers' Qwen2.5-VL decoder layer: config, position ids, RoPE tables, masks."""

from __future__ import annotations

import torch
from transformers.models.qwen2_5_vl.configuration_qwen2_5_vl import Qwen2_5_VLTextConfig
from transformers.models.qwen2_5_vl.modeling_qwen2_5_vl import (
    Qwen2_5_VLDecoderLayer,
    Qwen2_5_VLRotaryEmbedding,
)

from .config import PrunerConfig


def text_config(cfg: PrunerConfig, num_layers: int = 1) -> Qwen2_5_VLTextConfig:
    """A transformers text config describing `num_layers` layers shaped like `cfg` (eager attention).

    Eager attention is pinned because docs/model.md is written against it and because it is the only
    backend that takes our explicit (or absent) additive mask without reinterpreting it.
    """
    tc = Qwen2_5_VLTextConfig(
        hidden_size=cfg.hidden_size,
        intermediate_size=cfg.intermediate_size,
        num_hidden_layers=num_layers,
        num_attention_heads=cfg.num_attention_heads,
        num_key_value_heads=cfg.num_key_value_heads,
        rms_norm_eps=cfg.rms_norm_eps,
        max_window_layers=num_layers,
        vocab_size=1,
        bos_token_id=None,
        eos_token_id=None,
        rope_parameters={
            "rope_type": "default",
            "rope_theta": cfg.rope_theta,
            "mrope_section": list(cfg.mrope_section),
        },
    )
    tc._attn_implementation = "eager"
    return tc


def make_layers(cfg: PrunerConfig, num_layers: int) -> torch.nn.ModuleList:
    """`num_layers` freshly initialised Qwen2_5_VLDecoderLayer modules."""
    tc = text_config(cfg, num_layers)
    return torch.nn.ModuleList(Qwen2_5_VLDecoderLayer(tc, layer_idx=i) for i in range(num_layers))


def position_ids(
    rope: str, n_tokens: int, grid: tuple[int, int] | None, with_query: bool
) -> torch.Tensor | None:
    """The positions of docs/model.md as a (3, L) long tensor (temporal, height, width), or None for rope=none.

    With the query, it sits at (0,0,0) and visual token i follows; without it (the
    reconstruction decoder) the visual tokens keep the same positions they have in the pruner.
    """
    if rope == "none":
        return None
    idx = torch.arange(n_tokens)
    if rope == "1d":
        pos = (idx + 1).expand(3, n_tokens)
    elif rope == "mrope":
        if grid is None or grid[0] * grid[1] != n_tokens:
            raise ValueError(f"rope=mrope needs a grid with grid_h*grid_w == {n_tokens}, got {grid}")
        gw = grid[1]
        pos = torch.stack([torch.ones_like(idx), 1 + idx // gw, 1 + idx % gw])
    else:
        raise ValueError(f"unknown rope mode {rope!r}")
    if with_query:
        pos = torch.cat([torch.zeros(3, 1, dtype=torch.long), pos], dim=1)
    return pos.long()


class RotaryTables(torch.nn.Module):
    """cos/sin tables for the decoder layers; identity rotation (cos=1, sin=0) for rope=none."""

    def __init__(self, cfg: PrunerConfig) -> None:
        super().__init__()
        self.rope = cfg.rope
        self.head_dim = cfg.head_dim
        self.emb = Qwen2_5_VLRotaryEmbedding(text_config(cfg))

    def forward(
        self, x: torch.Tensor, n_tokens: int, grid: tuple[int, int] | None, with_query: bool
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Tables of shape (B, L, head_dim) for a batch `x` of shape (B, L, D)."""
        b, length = x.shape[0], x.shape[1]
        pos = position_ids(self.rope, n_tokens, grid, with_query)
        if pos is None:
            ones = x.new_ones(b, length, self.head_dim)
            return ones, torch.zeros_like(ones)
        pos = pos.to(x.device)[:, None, :].expand(3, b, length)
        return self.emb(x, pos)


def additive_mask(attention: str, length: int, like: torch.Tensor) -> torch.Tensor | None:
    """None (bidirectional: every token sees every token) or a (1,1,L,L) causal additive mask."""
    if attention == "bidirectional":
        return None
    neg = torch.finfo(like.dtype).min
    mask = torch.full((length, length), neg, dtype=like.dtype, device=like.device).triu(1)
    return mask[None, None]
