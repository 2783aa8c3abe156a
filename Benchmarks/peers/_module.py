# _module.py — the PyTorch peer module: transformers' Qwen2_5_VLDecoderLayer + Hadamard fusion + scorer.
"""Built exactly the way scripts/reference.py builds its ground truth (``_build_layer``: eager attention,
transformers' own rotary embedding with mrope position ids, attention_mask None = bidirectional).
Used by the PyTorch eager peer and by the ONNX export. Nothing here is API."""
from __future__ import annotations

import torch
from torch import nn

import _common  # also puts scripts/ on sys.path
import reference


class PrunerForward(nn.Module):
    """tokens [N, D], cos/sin [1, N+1, head_dim] -> scores [N]; the timed computation of every peer."""

    def __init__(self, layer: nn.Module, query: torch.Tensor, scorer_w: torch.Tensor, scorer_b: torch.Tensor):
        super().__init__()
        self.layer = layer
        self.register_buffer("query", query.reshape(1, -1).clone())
        self.register_buffer("scorer_w", scorer_w.reshape(-1).clone())
        self.register_buffer("scorer_b", scorer_b.reshape(()).clone())

    def forward(self, tokens: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        x = torch.cat([self.query, tokens], dim=0)[None]  # [1, N+1, D], query at row 0
        h = self.layer(x, attention_mask=None, position_embeddings=(cos, sin))  # None = bidirectional (eager)
        if isinstance(h, tuple):  # older transformers returned a tuple
            h = h[0]
        h = h[0]
        return (h[1:] * h[0]) @ self.scorer_w + self.scorer_b


def load(weights: str, dtype: torch.dtype = torch.float32) -> tuple:
    """(config, PrunerForward in `dtype`, rotary embedding). Frees the numpy copies of the weights."""
    config, tensors = reference.read_pruner(weights)
    if config["attention"] != "bidirectional":
        raise SystemExit(f"{weights}: the benchmark expects attention=bidirectional, got {config['attention']}")
    layer, rotary = reference._build_layer(config, tensors)  # asserts transformers' eager attention
    module = PrunerForward(
        layer,
        torch.from_numpy(tensors["query"]),
        torch.from_numpy(tensors["scorer.weight"]),
        torch.from_numpy(tensors["scorer.bias"]),
    )
    del tensors, layer
    module = module.to(dtype).eval()
    _common.release_freed_memory()
    return config, module, rotary


def cos_sin(config: dict, rotary: nn.Module, n: int, grid: tuple, dtype: torch.dtype) -> tuple:
    """transformers' rotary embedding for the positions of docs/model.md ([1, N+1, head_dim] each), cast to `dtype`."""
    s = n + 1
    if config["rope"] == "none":
        return torch.ones(1, s, config["head_dim"], dtype=dtype), torch.zeros(1, s, config["head_dim"], dtype=dtype)
    pos = torch.from_numpy(reference.position_ids(config["rope"], n, *grid))[:, None, :]  # [3, 1, S]
    probe = torch.zeros(1, s, 1, dtype=torch.float32)  # the rotary embedding only reads dtype/device from x
    with torch.no_grad():
        cos, sin = rotary(probe, pos)
    return cos.to(dtype).contiguous(), sin.to(dtype).contiguous()

