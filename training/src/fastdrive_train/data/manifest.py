"""Reader for the nuScenes-FG layout: image + foreground-mask pairs listed in a JSONL or CSV manifest.

Manifest format (paths relative to the manifest's directory, or absolute):

    manifest.jsonl   one JSON object per line: {"image": "images/0001.png", "mask": "masks/0001.png"}
    manifest.csv     a header line `image,mask`, then one pair per line

The image must be RGB (8-bit, any format PIL reads); the mask must have the image's size, one
channel (mode L or 1), and mark foreground with values > 127. Blank lines and JSONL lines
starting with `#` are ignored.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset


class ManifestError(ValueError):
    """A manifest entry (or the manifest itself) is unusable; the message names the file."""


@dataclass
class Entry:
    image: Path
    mask: Path
    line: int


@dataclass
class SkipReport:
    """Entries dropped under `skip_bad=True`, with the reason for each."""

    skipped: list[tuple[int, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.skipped)


def read_manifest(path: str | Path) -> list[Entry]:
    """Parse a JSONL or CSV manifest into entries with resolved paths (no file checks yet)."""
    path = Path(path)
    if not path.is_file():
        raise ManifestError(f"{path}: manifest not found")
    root = path.parent
    entries: list[Entry] = []
    if path.suffix == ".csv":
        with path.open(newline="") as f:
            reader = csv.DictReader(f)
            if reader.fieldnames is None or not {"image", "mask"} <= set(reader.fieldnames):
                raise ManifestError(f"{path}: CSV header must contain 'image' and 'mask'")
            for i, row in enumerate(reader, start=2):
                entries.append(Entry(root / row["image"], root / row["mask"], i))
    else:
        for i, line in enumerate(path.read_text().splitlines(), start=1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            try:
                obj = json.loads(line)
                entries.append(Entry(root / obj["image"], root / obj["mask"], i))
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise ManifestError(f"{path}:{i}: expected {{\"image\": ..., \"mask\": ...}} ({exc})") from exc
    return entries


def check_entry(entry: Entry) -> None:
    """Raise ManifestError naming the offending file if the pair is unusable (reads headers only)."""
    for p, what in ((entry.image, "image"), (entry.mask, "mask")):
        if not p.is_file():
            raise ManifestError(f"{p}: {what} file not found (manifest line {entry.line})")
    try:
        _check_images(entry)
    except OSError as exc:  # PIL's "cannot identify image file" and read errors
        raise ManifestError(f"{exc} (manifest line {entry.line})") from exc


def _check_images(entry: Entry) -> None:
    with Image.open(entry.image) as im:
        if im.mode != "RGB":
            raise ManifestError(f"{entry.image}: image is {im.mode}, expected RGB (manifest line {entry.line})")
        size = im.size
    with Image.open(entry.mask) as m:
        if m.mode not in ("L", "1"):
            raise ManifestError(f"{entry.mask}: mask is {m.mode}, expected one channel L or 1 (manifest line {entry.line})")
        if m.size != size:
            raise ManifestError(
                f"{entry.mask}: mask size {m.size[0]}x{m.size[1]} != image size {size[0]}x{size[1]} "
                f"of {entry.image} (manifest line {entry.line})"
            )


class ManifestDataset(Dataset):
    """Items are dicts: `image` float (3, H, W) in [0, 1], `mask` float (1, H, W) in {0, 1}.

    With `skip_bad=False` (default) the first bad entry raises ManifestError; with `skip_bad=True`
    bad entries are dropped up front and listed in `self.skipped`. `size` (square side) resizes
    both (bilinear image, nearest mask). `cache` keeps decoded uint8 arrays in memory.
    """

    def __init__(self, manifest: str | Path, size: int | None = None, skip_bad: bool = False, cache: bool = False) -> None:
        self.size = size
        self.skipped = SkipReport()
        self.entries: list[Entry] = []
        for e in read_manifest(manifest):
            try:
                check_entry(e)
            except ManifestError as exc:
                if not skip_bad:
                    raise
                self.skipped.skipped.append((e.line, str(exc)))
                continue
            self.entries.append(e)
        if not self.entries:
            raise ManifestError(f"{manifest}: no usable entries ({len(self.skipped)} skipped)")
        self._cache: dict[int, tuple[np.ndarray, np.ndarray]] | None = {} if cache else None

    def __len__(self) -> int:
        return len(self.entries)

    def _load(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        if self._cache is not None and i in self._cache:
            return self._cache[i]
        e = self.entries[i]
        image, mask = Image.open(e.image), Image.open(e.mask).convert("L")
        if self.size is not None:
            image = image.resize((self.size, self.size), Image.BILINEAR)
            mask = mask.resize((self.size, self.size), Image.NEAREST)
        arrays = (np.asarray(image, dtype=np.uint8), np.asarray(mask, dtype=np.uint8))
        if self._cache is not None:
            self._cache[i] = arrays
        return arrays

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        image, mask = self._load(i)
        return {
            "image": torch.from_numpy(image.copy()).permute(2, 0, 1).float() / 255.0,
            "mask": torch.from_numpy((mask > 127).astype(np.float32))[None],
        }


def token_labels(mask: torch.Tensor, patch: int) -> torch.Tensor:
    """(B, 1, H, W) pixel mask → (B, N) token labels: foreground if > half of its patch is."""
    pooled = torch.nn.functional.avg_pool2d(mask, patch)
    return (pooled.flatten(1) > 0.5).float()
