"""Reconstruction decoder: Qwen2.5-VL decoder layers + a per-token pixel-patch head, folded to an image."""

from __future__ import annotations

import torch
from torch import nn

from .config import PrunerConfig
from .qwen_layer import RotaryTables, make_layers


def fold_patches(patches: torch.Tensor, grid: tuple[int, int], patch: int) -> torch.Tensor:
    """(B, N, 3·p·p) row-major token patches → (B, 3, gh·p, gw·p) image."""
    b = patches.shape[0]
    gh, gw = grid
    x = patches.view(b, gh, gw, 3, patch, patch)
    return x.permute(0, 3, 1, 4, 2, 5).reshape(b, 3, gh * patch, gw * patch)


def unfold_image(image: torch.Tensor, patch: int) -> torch.Tensor:
    """(B, C, H, W) → (B, N, C·p·p) row-major patches; the inverse of `fold_patches`."""
    b, c, h, w = image.shape
    gh, gw = h // patch, w // patch
    x = image.view(b, c, gh, patch, gw, patch).permute(0, 2, 4, 1, 3, 5)
    return x.reshape(b, gh * gw, c * patch * patch)


DECODER_INPUTS = ("affine", "zero")
DECODER_HEADS = ("sigmoid", "linear")


class ReconDecoder(nn.Module):
    """Dec(V): an input map, N decoder layers over the (partly zeroed) tokens, then an FFN
    emitting each token's pixel patch.

    The layers are the same Qwen2.5-VL block as the pruner (bidirectional, the pruner's RoPE
    mode), so zeroed tokens still carry their position through the rotation.

    `input`: "zero" is the paper as written, the zeroed tokens M~·V straight into the first
    layer; "affine" (the recipe) puts `in_proj(M~·V) = M~·W·V + b` in front. Why: a Qwen layer
    starts with RMSNorm, which is scale-invariant. Fed M~·V directly, a token at M~ = 0.01 looks
    exactly like one at M~ = 1, so the STE gradient dL/dM~ is ~0 for kept tokens and
    ~1/sqrt(eps) for dropped ones. The affine map is linear in M~, and its bias doubles as a
    learned "absent token" embedding, like MAE's mask token.

    `head`: "linear" is the paper's feed-forward head as written; "sigmoid" (the recipe) squashes
    its output into SSIM's [0, 1] data range.
    """

    def __init__(self, cfg: PrunerConfig, num_layers: int = 6, patch: int = 16, input: str = "affine",
                 head: str = "sigmoid") -> None:
        super().__init__()
        if input not in DECODER_INPUTS:
            raise ValueError(f"decoder input must be one of {DECODER_INPUTS}, got {input!r}")
        if head not in DECODER_HEADS:
            raise ValueError(f"decoder head must be one of {DECODER_HEADS}, got {head!r}")
        self.cfg = cfg
        self.patch = patch
        self.input_mode, self.head_mode = input, head
        self.in_proj: nn.Linear | None = None
        if input == "affine":
            self.in_proj = nn.Linear(cfg.hidden_size, cfg.hidden_size)
            nn.init.normal_(self.in_proj.bias, std=1.0)  # an absent token must not be ~0 under RMSNorm
        self.layers = make_layers(cfg, num_layers)
        self.rotary = RotaryTables(cfg)
        hidden = 2 * cfg.hidden_size
        self.head = nn.Sequential(
            nn.Linear(cfg.hidden_size, hidden),
            nn.GELU(),
            nn.Linear(hidden, 3 * patch * patch),
        )

    def forward(self, tokens: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
        """Image (B, 3, gh·p, gw·p) from tokens (B, N, D); in [0, 1] with the sigmoid head."""
        n = tokens.shape[1]
        cos_sin = self.rotary(tokens, n, grid, with_query=False)
        h = self.in_proj(tokens) if self.in_proj is not None else tokens
        for layer in self.layers:
            h = layer(h, attention_mask=None, position_embeddings=cos_sin)
        out = self.head(h)
        if self.head_mode == "sigmoid":
            out = torch.sigmoid(out)
        return fold_patches(out, grid, self.patch)
