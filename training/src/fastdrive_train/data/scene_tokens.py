"""A synthetic scene as the pruner sees it: the frozen encoder's tokens for one frame and which of
them are foreground. One definition for every tool that scores held-out scenes (the demo, the
trainer's `demo` command, the int8 quality check), so their recall figures mean the same thing."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from ..encoders import PatchEncoder
from .synthetic import make_scene


@dataclass
class SceneTokens:
    image: Image.Image  # the RGB frame
    pixels: np.ndarray  # (H, W, 3) uint8, the frame's pixels
    fg_pixels: np.ndarray  # (H, W) float32, 1 where the mask marks foreground
    tokens: np.ndarray  # (N, D) float32, the encoder's tokens in row-major grid order
    grid: tuple[int, int]  # (rows, columns) of the token grid
    fg: np.ndarray  # (N,) bool, per token: `token_foreground`


def token_foreground(fg_pixels: np.ndarray, grid: tuple[int, int], patch: int) -> np.ndarray:
    """Per token, whether more than half of its patch's pixels are foreground: (N,) bool."""
    gh, gw = grid
    return np.asarray(fg_pixels, dtype=np.float32).reshape(gh, patch, gw, patch).mean(axis=(1, 3)).reshape(-1) > 0.5


def encode_scene(seed: int, encoder: PatchEncoder, size: int = 224) -> SceneTokens:
    """Draw scene `seed` (`make_scene`), encode it and label its tokens."""
    image, mask = make_scene(seed, size)
    pixels = np.asarray(image)
    with torch.no_grad():
        tokens, grid = encoder(torch.from_numpy(pixels.copy()).permute(2, 0, 1)[None].float() / 255.0)
    fg_pixels = (np.asarray(mask) > 127).astype(np.float32)
    return SceneTokens(image, pixels, fg_pixels, tokens[0].numpy(), grid, token_foreground(fg_pixels, grid, encoder.patch))
