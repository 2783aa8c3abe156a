"""PNG overlays of kept tokens: ReconPruner beside DivPrune and the ground-truth foreground."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw


def kept_overlay(image: np.ndarray, kept: np.ndarray, grid: tuple[int, int], patch: int) -> Image.Image:
    """Pruned tokens darkened to 25 %, kept tokens at full brightness with a thin outline."""
    gh, gw = grid
    keep = np.zeros(gh * gw, dtype=bool)
    keep[kept] = True
    pixel_keep = np.kron(keep.reshape(gh, gw), np.ones((patch, patch), dtype=bool))
    out = image.astype(np.float32)
    out[~pixel_keep] *= 0.25
    im = Image.fromarray(out.clip(0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(im)
    for i in np.flatnonzero(keep):
        y, x = divmod(int(i), gw)
        draw.rectangle((x * patch, y * patch, (x + 1) * patch - 1, (y + 1) * patch - 1), outline=(255, 210, 0))
    return im


def side_by_side(panels: list[tuple[str, Image.Image]], path: str | Path) -> None:
    """Panels in a row with a caption strip above each, saved as one PNG."""
    w, h = panels[0][1].size
    caption = 14
    sheet = Image.new("RGB", (w * len(panels), h + caption), (0, 0, 0))
    draw = ImageDraw.Draw(sheet)
    for i, (title, im) in enumerate(panels):
        sheet.paste(im, (i * w, caption))
        draw.text((i * w + 3, 1), title, fill=(255, 255, 255))
    sheet.save(path)


def mask_panel(image: np.ndarray, fg_pixels: np.ndarray) -> Image.Image:
    """The image with the background darkened: what the oracle keeps."""
    out = image.astype(np.float32)
    out[fg_pixels < 0.5] *= 0.25
    return Image.fromarray(out.clip(0, 255).astype(np.uint8), "RGB")
