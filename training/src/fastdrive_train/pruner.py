"""ReconPruner: learnable query + one Qwen2.5-VL decoder layer + Hadamard-fused linear scorer."""

from __future__ import annotations

import torch
from torch import nn

from fastdrive_pruner import schema

from .config import PrunerConfig
from .qwen_layer import RotaryTables, additive_mask, make_layers

# Parameter names of the single decoder layer, as the weight file (docs/weight-file.md) spells them.
LAYER_TENSORS = schema.LAYER_TENSOR_NAMES


class ReconPruner(nn.Module):
    """S = Scorer(H[1:] ⊙ H[0]) with H = PrunerLayer([Q; V]) (docs/model.md).

    The layer is transformers' own `Qwen2_5_VLDecoderLayer`, so its math is the ground truth the
    runtime is checked against; this module only adds the query row, positions and the scorer.
    """

    def __init__(self, cfg: PrunerConfig) -> None:
        super().__init__()
        self.cfg = cfg
        # Query init at the scale of the layer's own weights (initializer_range 0.02) keeps
        # the query row from dominating the RMS norm of [Q; V] at the start.
        self.query = nn.Parameter(torch.randn(1, cfg.hidden_size) * 0.02)
        self.layer = make_layers(cfg, 1)[0]
        self.rotary = RotaryTables(cfg)
        self.scorer = nn.Linear(cfg.hidden_size, 1)
        nn.init.normal_(self.scorer.weight, std=0.02)
        nn.init.zeros_(self.scorer.bias)

    def forward(self, tokens: torch.Tensor, grid: tuple[int, int] | None = None) -> torch.Tensor:
        """Scores (B, N) for visual tokens (B, N, D); `grid` = (grid_h, grid_w) for rope=mrope."""
        if tokens.dim() != 3 or tokens.shape[-1] != self.cfg.hidden_size:
            raise ValueError(f"tokens must be (B, N, {self.cfg.hidden_size}), got {tuple(tokens.shape)}")
        b, n, _ = tokens.shape
        x = torch.cat([self.query.to(tokens.dtype).expand(b, 1, -1), tokens], dim=1)
        cos_sin = self.rotary(x, n, grid, with_query=True)
        mask = additive_mask(self.cfg.attention, n + 1, x)
        h = self.layer(x, attention_mask=mask, position_embeddings=cos_sin)
        fused = h[:, 1:, :] * h[:, :1, :]
        return self.scorer(fused).squeeze(-1)

    def spec_state_dict(self) -> dict[str, torch.Tensor]:
        """Tensors under their weight-file names (query [1, D], layer tensors, scorer)."""
        layer = self.layer.state_dict()
        out = {"query": self.query.detach()}
        out.update({name: layer[name].detach() for name in LAYER_TENSORS})
        out["scorer.weight"] = self.scorer.weight.detach()
        out["scorer.bias"] = self.scorer.bias.detach()
        return out

    def load_spec_state_dict(self, tensors: dict[str, torch.Tensor]) -> None:
        """Inverse of `spec_state_dict`; every weight-file tensor must be present with the right shape."""
        own = self.spec_state_dict()
        missing = [k for k in own if k not in tensors]
        if missing:
            raise KeyError(f"missing tensors: {', '.join(missing)}")
        for name, ref in own.items():
            if tuple(tensors[name].shape) != tuple(ref.shape):
                raise ValueError(f"tensor {name}: shape {tuple(tensors[name].shape)}, expected {tuple(ref.shape)}")
        with torch.no_grad():
            self.query.copy_(tensors["query"])
            self.scorer.weight.copy_(tensors["scorer.weight"])
            self.scorer.bias.copy_(tensors["scorer.bias"])
            self.layer.load_state_dict({k: tensors[k] for k in LAYER_TENSORS}, strict=True)
