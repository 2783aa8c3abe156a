"""Frozen vision encoders behind one interface: images → (visual tokens, token grid)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import torch
from torch import nn

from .qwen_checkpoint import VISION_PREFIXES, CheckpointIndex


class VisionEncoder(Protocol):
    """What the trainer needs from a vision encoder. Encoders are frozen: no gradients flow."""

    dim: int  # token width D
    patch: int  # pixels per token side (the decoder emits patch×patch×3 per token)

    def __call__(self, images: torch.Tensor) -> tuple[torch.Tensor, tuple[int, int]]:
        """images (B, 3, H, W) in [0, 1] → tokens (B, N, D), grid (grid_h, grid_w), N = grid_h·grid_w."""
        ...


class PatchEncoder(nn.Module):
    """A small deterministic stand-in for a ViT: a fixed random two-layer patch MLP plus a 3×3
    neighbourhood mix, so tokens carry local context like real encoder tokens do.

    Weights come from `seed` alone, so train, eval and export-time demos see identical tokens.
    """

    def __init__(self, dim: int = 128, patch: int = 16, hidden: int = 256, seed: int = 1234) -> None:
        super().__init__()
        self.dim, self.patch = dim, patch
        g = torch.Generator().manual_seed(seed)
        fan_in = 3 * patch * patch
        self.register_buffer("w1", torch.randn(hidden, fan_in, generator=g) / fan_in**0.5)
        self.register_buffer("w2", torch.randn(dim, 2 * hidden, generator=g) / (2 * hidden) ** 0.5)
        self.requires_grad_(False)

    @torch.no_grad()
    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, tuple[int, int]]:
        b, _, h, w = images.shape
        p = self.patch
        gh, gw = h // p, w // p
        x = (images - 0.5) / 0.25  # roughly zero-mean, unit-variance pixels
        patches = x.unfold(2, p, p).unfold(3, p, p)  # B, 3, gh, gw, p, p
        patches = patches.permute(0, 2, 3, 1, 4, 5).reshape(b, gh, gw, -1)
        local = torch.nn.functional.gelu(patches @ self.w1.T)  # B, gh, gw, hidden
        # Context: mean of the 3×3 neighbourhood (zero-padded), like a receptive field > 1 patch.
        ctx = torch.nn.functional.avg_pool2d(local.permute(0, 3, 1, 2), 3, stride=1, padding=1)
        feats = torch.cat([local, ctx.permute(0, 2, 3, 1)], dim=-1)
        tokens = torch.tanh(feats @ self.w2.T)
        return tokens.reshape(b, gh * gw, self.dim), (gh, gw)


def save_patch_encoder(enc: PatchEncoder, path: str | Path) -> None:
    """Write the encoder's two matrices (safetensors, f32) so non-PyTorch hosts can make the
    same tokens: x = (img − 0.5)/0.25 per 16×16 patch flattened (c, y, x), l = gelu(W1·x),
    c = 3×3 zero-padded mean of l over the grid, token = tanh(W2·[l; c]) (gelu = exact erf form)."""
    from safetensors.torch import save_file

    meta = {"format": "fastdrive-patch-encoder", "dim": str(enc.dim), "patch": str(enc.patch)}
    save_file({"w1": enc.w1.contiguous(), "w2": enc.w2.contiguous()}, str(path), metadata=meta)


# CLIP normalisation used by Qwen2.5-VL's image processor.
_MEAN = (0.48145466, 0.4578275, 0.40821073)
_STD = (0.26862954, 0.26130258, 0.27577711)


class QwenVisionEncoder(nn.Module):
    """Qwen2.5-VL's vision tower (ViT + 2×2 merger) from local weights; one token per 28×28 pixels.

    Images must have sides divisible by patch_size·spatial_merge_size (28 for the real model).
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model.eval().requires_grad_(False)
        cfg = model.config
        self.temporal = cfg.temporal_patch_size
        self.merge = cfg.spatial_merge_size
        self.vit_patch = cfg.patch_size
        self.patch = cfg.patch_size * cfg.spatial_merge_size
        self.dim = cfg.out_hidden_size
        self.register_buffer("mean", torch.tensor(_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(_STD).view(1, 3, 1, 1), persistent=False)

    @classmethod
    def from_pretrained(cls, path: str | Path) -> "QwenVisionEncoder":
        """Load from a checkpoint dir (full Qwen2.5-VL or vision-only config.json + safetensors)."""
        from transformers.models.qwen2_5_vl.configuration_qwen2_5_vl import Qwen2_5_VLVisionConfig
        from transformers.models.qwen2_5_vl.modeling_qwen2_5_vl import Qwen2_5_VisionTransformerPretrainedModel

        ckpt = CheckpointIndex(path)
        raw = ckpt.config()
        vcfg = Qwen2_5_VLVisionConfig(**{k: v for k, v in raw.get("vision_config", raw).items() if k != "model_type"})
        vcfg._attn_implementation = "eager"
        model = Qwen2_5_VisionTransformerPretrainedModel(vcfg)
        prefix = ckpt.find_prefix(VISION_PREFIXES, "the vision tower")
        tensors = ckpt.load(ckpt.names_with_prefix(prefix))
        state = {k[len(prefix):]: v.float() for k, v in tensors.items()}
        model.load_state_dict(state, strict=True)
        return cls(model)

    def pixel_values(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Qwen2-VL image-processor patch layout for a batch: (B·T'·gh·gw, C·T·p·p) and grid_thw."""
        b, c, h, w = images.shape
        p, m, t = self.vit_patch, self.merge, self.temporal
        if h % (p * m) or w % (p * m):
            raise ValueError(f"image {h}x{w}: sides must be multiples of {p * m}")
        x = ((images - self.mean) / self.std).unsqueeze(1).expand(b, t, c, h, w)  # still image: repeat frame
        gh, gw = h // p, w // p
        x = x.reshape(b, 1, t, c, gh // m, m, p, gw // m, m, p)
        x = x.permute(0, 1, 4, 7, 5, 8, 3, 2, 6, 9)
        flat = x.reshape(b * gh * gw, c * t * p * p)
        grid = torch.tensor([[1, gh, gw]] * b, dtype=torch.long, device=images.device)
        return flat, grid

    @torch.no_grad()
    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, tuple[int, int]]:
        b, _, h, w = images.shape
        flat, grid_thw = self.pixel_values(images)
        out = self.model(flat.to(next(self.model.parameters()).dtype), grid_thw=grid_thw)
        merged = out.pooler_output if hasattr(out, "pooler_output") else out
        gh, gw = h // self.patch, w // self.patch
        return merged.reshape(b, gh * gw, self.dim).float(), (gh, gw)
