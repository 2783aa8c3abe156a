"""ReconModel: the trainable pair (pruner + reconstruction decoder) with the objective as its forward."""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from .config import PrunerConfig
from .data.manifest import token_labels
from .decoder import ReconDecoder
from .objective import ObjectiveConfig, decoder_warmup_split, objective
from .pruner import ReconPruner


class ReconModel(nn.Module):
    """Everything with gradients, in one module so DDP can wrap (and all-reduce) it as a unit."""

    def __init__(self, pruner: ReconPruner, decoder_layers: int, patch: int, obj: ObjectiveConfig) -> None:
        super().__init__()
        self.pruner = pruner
        # The decoder reuses the pruner's layer shape and RoPE mode; it is always bidirectional
        # because every pixel patch may depend on any surviving token.
        dec_cfg: PrunerConfig = dataclasses.replace(pruner.cfg, attention="bidirectional")
        self.decoder = ReconDecoder(dec_cfg, num_layers=decoder_layers, patch=patch)
        self.obj = obj
        self.patch = patch

    def forward(
        self,
        tokens: torch.Tensor,
        grid: tuple[int, int],
        image: torch.Tensor,
        mask: torch.Tensor,
        warmup: bool = False,
        anchor: bool = True,
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """Loss and logging stats for a batch of frozen-encoder tokens and their image/mask.

        `warmup` trains the decoder alone on random token splits (no labels, no pruner gradient);
        `anchor=False` leaves the polarity anchor out (reconstruction only).
        """
        scores = self.pruner(tokens, grid)
        fg_tokens = token_labels(mask, self.patch)
        split = decoder_warmup_split(scores.shape, scores.device) if warmup else None
        loss, stats = objective(scores, tokens, image, mask, fg_tokens, self.decoder, grid, self.obj, split, anchor)
        if warmup:
            # Keep every parameter in the graph (DDP expects gradients for all of them).
            loss = loss + 0.0 * scores.sum()
        return loss, stats
