"""The training objective (docs/model.md, training objective): STE mask, fg/bg token sets, SSIM+MSE reconstruction, polarity anchor."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from pytorch_msssim import ssim

from .decoder import ReconDecoder


SCORE_NORMS = ("none", "standardize")


@dataclass(frozen=True)
class ObjectiveConfig:
    """Knobs of the objective; the defaults are this project's recipe (see training/README.md).

    - `score_norm`: "none" is the paper taken literally (threshold the raw S at 0);
      "standardize" thresholds (S - mean)/std per image, which leaves the ranking (so the
      exported model's top-K) unchanged but bounds the STE's surrogate.
    - `alpha`: weight of the foreground branch; 1.0 is the paper's fg-only ablation.
    - `anchor_weight`: weight of the polarity anchor (0 = off), see `polarity_anchor`.
    - `recon_weight`: weight of the reconstruction terms; 0 leaves the anchor alone (an ablation
      that measures how much of the result the anchor explains by itself).
    """

    lam: float = 0.2
    alpha: float = 0.5
    score_norm: str = "standardize"
    anchor_weight: float = 1.0
    anchor_margin: float = 2.0
    recon_weight: float = 1.0
    ssim_win: int = 11


def normalise_scores(scores: torch.Tensor, mode: str, eps: float = 1e-5) -> torch.Tensor:
    """Per-image score normalisation applied before the threshold (ranking-preserving)."""
    if mode == "none":
        return scores
    if mode == "standardize":
        mean = scores.mean(dim=1, keepdim=True)
        std = scores.std(dim=1, keepdim=True)
        return (scores - mean) / (std + eps)
    raise ValueError(f"unknown score_norm {mode!r}")


def ste_mask(scores: torch.Tensor) -> torch.Tensor:
    """M~ = S + stopgrad([S > 0] − S): the binary mask forward, the identity gradient backward."""
    hard = (scores > 0).to(scores.dtype)
    return scores + (hard - scores).detach()


def recon_loss(pred: torch.Tensor, target: torch.Tensor, lam: float, win: int = 11) -> torch.Tensor:
    """L = λ(1 − SSIM) + (1 − λ)·MSE on [0, 1] images (B, 3, H, W), averaged over the batch."""
    s = ssim(pred, target, data_range=1.0, size_average=True, win_size=win)
    return lam * (1.0 - s) + (1.0 - lam) * F.mse_loss(pred, target)


def polarity_anchor(norm_scores: torch.Tensor, fg_tokens: torch.Tensor, margin: float) -> torch.Tensor:
    """Hinge on the gap between the mean normalised score of fg and of bg tokens, per image.

    A small margin (0.5) only says *which side* of the split is foreground and leaves which
    tokens land where to the reconstruction gradient. The default margin 2 is close to the
    1/sqrt(p(1-p)) ≈ 2.2 gap of a perfectly clean split at p = 30 % foreground, so it pushes
    nearly every fg token above nearly every bg token: mask supervision, per image and without
    a threshold (training/README.md measures both). Images with no fg or no bg tokens
    contribute nothing.
    """
    fg = fg_tokens.to(norm_scores.dtype)
    bg = 1.0 - fg
    n_fg, n_bg = fg.sum(1), bg.sum(1)
    valid = (n_fg > 0) & (n_bg > 0)
    mean_fg = (norm_scores * fg).sum(1) / n_fg.clamp(min=1)
    mean_bg = (norm_scores * bg).sum(1) / n_bg.clamp(min=1)
    hinge = F.relu(margin - (mean_fg - mean_bg))
    return (hinge * valid).sum() / valid.sum().clamp(min=1)


def objective(
    scores: torch.Tensor,
    tokens: torch.Tensor,
    image: torch.Tensor,
    fg_pixels: torch.Tensor,
    fg_tokens: torch.Tensor,
    decoder: ReconDecoder,
    grid: tuple[int, int],
    cfg: ObjectiveConfig,
    split: torch.Tensor | None = None,
    anchor: bool = True,
) -> tuple[torch.Tensor, dict[str, float], dict[str, torch.Tensor]]:
    """Total loss, its parts as floats, and its weighted terms ("recon", "anchor") as tensors.

    scores (B, N) raw pruner scores; tokens (B, N, D) frozen encoder output; image (B, 3, H, W)
    in [0, 1]; fg_pixels (B, 1, H, W) and fg_tokens (B, N) binary foreground masks.

    `split` (B, N) in {0, 1} replaces both the pruner's mask and the fg/bg masks: the decoder
    then learns to reconstruct whichever tokens are present, a label-free warm-up (see
    `decoder_warmup_split`). The pruner gets no gradient from it. `anchor=False` drops the
    polarity anchor for this batch (the `anchor_until` schedule).

    Under autocast only the decoder runs in low precision: the threshold, the normalisation and
    every loss are computed in float32 (bf16's 8-bit mantissa puts 1 − SSIM near a perfect
    reconstruction off by tens of per cent).
    """
    with _fp32(scores):
        norm = normalise_scores(scores.float(), cfg.score_norm)
        if split is None:
            m = ste_mask(norm).unsqueeze(-1)
            region = fg_pixels.float()
        else:
            m = split.float().unsqueeze(-1)
            patch = image.shape[-1] // grid[1]
            region = F.interpolate(m.view(-1, 1, *grid), scale_factor=patch, mode="nearest")
        tokens = tokens.float()
        v_fore = m * tokens
        v_back = (1.0 - m) * tokens
        target_fore = image.float() * region
        target_back = image.float() * (1.0 - region)
    parts: dict[str, torch.Tensor] = {}
    terms: dict[str, torch.Tensor] = {}
    if cfg.recon_weight > 0 and cfg.alpha > 0:
        pred = decoder(v_fore, grid)  # under the caller's autocast
        with _fp32(scores):
            parts["fore"] = recon_loss(pred.float(), target_fore, cfg.lam, cfg.ssim_win)
        terms["recon"] = cfg.recon_weight * cfg.alpha * parts["fore"]
    if cfg.recon_weight > 0 and cfg.alpha < 1:
        pred = decoder(v_back, grid)
        with _fp32(scores):
            parts["back"] = recon_loss(pred.float(), target_back, cfg.lam, cfg.ssim_win)
        back = cfg.recon_weight * (1.0 - cfg.alpha) * parts["back"]
        terms["recon"] = terms["recon"] + back if "recon" in terms else back
    if cfg.anchor_weight > 0 and split is None and anchor:
        with _fp32(scores):
            parts["anchor"] = polarity_anchor(norm, fg_tokens.float(), cfg.anchor_margin)
        terms["anchor"] = cfg.anchor_weight * parts["anchor"]
    total = sum(terms.values(), norm.new_zeros(()))
    stats = {k: float(v.detach()) for k, v in parts.items()}
    stats["mask_rate"] = float((norm > 0).float().mean())
    stats["score_absmax"] = float(scores.detach().abs().max())
    return total, stats, terms


def _fp32(like: torch.Tensor):
    """A region where autocast is off (the losses' precision must not depend on --amp)."""
    return torch.autocast(device_type=like.device.type, enabled=False)


def decoder_warmup_split(shape: tuple[int, int], seed: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """A random half/half token split per image for the decoder warm-up.

    Before the pruner is trained the STE gradient is only as good as the decoder's answer to
    "what changes if token i is present": a decoder that has already learnt to paint present
    tokens and leave absent ones dark gives each token's score a meaningful sign from step one.

    The split comes from its own generator seeded with `seed` (the trainer derives it from the
    run seed, the rank and the step), not from the global RNG: every rank draws different splits
    and a resumed run draws exactly the splits the uninterrupted run would have drawn.
    """
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(shape, generator=g) < 0.5).float().to(device)
