"""ReconModel: the trainable pair (pruner + reconstruction decoder) with the objective as its forward."""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from .config import PrunerConfig
from .data.manifest import token_labels
from .decoder import ReconDecoder
from .objective import ObjectiveConfig, objective
from .pruner import ReconPruner


class ReconModel(nn.Module):
    """Everything with gradients, in one module so DDP can wrap (and all-reduce) it as a unit."""

    def __init__(self, pruner: ReconPruner, decoder_layers: int, patch: int, obj: ObjectiveConfig,
                 decoder_input: str = "affine", decoder_head: str = "sigmoid") -> None:
        super().__init__()
        self.pruner = pruner
        # The decoder reuses the pruner's layer shape and RoPE mode; it is always bidirectional
        # because every pixel patch may depend on any surviving token.
        dec_cfg: PrunerConfig = dataclasses.replace(pruner.cfg, attention="bidirectional")
        self.decoder = ReconDecoder(dec_cfg, num_layers=decoder_layers, patch=patch, input=decoder_input,
                                    head=decoder_head)
        self.obj = obj
        self.patch = patch

    def forward(
        self,
        tokens: torch.Tensor,
        grid: tuple[int, int],
        image: torch.Tensor,
        mask: torch.Tensor,
        split: torch.Tensor | None = None,
        anchor: bool = True,
    ) -> tuple[torch.Tensor, dict[str, float], dict[str, torch.Tensor]]:
        """Loss, logging stats and the weighted loss terms for a batch of frozen-encoder tokens
        and their image/mask.

        `split` (B, N) in {0, 1} (see `decoder_warmup_split`) trains the decoder alone on that
        token split (no labels, no pruner gradient); `anchor=False` leaves the polarity anchor out.
        """
        scores = self.pruner(tokens, grid)
        fg_tokens = token_labels(mask, self.patch)
        loss, stats, terms = objective(scores, tokens, image, mask, fg_tokens, self.decoder, grid, self.obj, split,
                                       anchor)
        if split is not None:
            # Keep every parameter in the graph (DDP expects gradients for all of them).
            loss = loss + 0.0 * scores.sum()
        return loss, stats, terms
