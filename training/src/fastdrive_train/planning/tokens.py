"""Encoded planning scenes, cached on disk: the frozen encoder's tokens, foreground token labels,
plan targets and obstacle footprints for a reproducible range of scene seeds."""

from __future__ import annotations

import os
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import torch

from ..encoders import PatchEncoder
from .scenes import footprints, make_planning_scene, stop_line

MAX_OBSTACLES = 12
CACHE_VERSION = 3


@dataclass
class TokenSet:
    tokens: np.ndarray  # (n, N, D) float16
    fg: np.ndarray  # (n, N) bool: more than half of the token's patch is foreground
    targets: np.ndarray  # (n, 4) float32: lat10, lat20, lat30, speed
    stop: np.ndarray  # (n,) bool
    boxes: np.ndarray  # (n, MAX_OBSTACLES, 4) float32, NaN-padded footprints
    stop_z: np.ndarray  # (n,) float32, +inf when no light says stop
    grid: tuple[int, int]

    def __len__(self) -> int:
        return len(self.targets)

    def subset(self, idx) -> "TokenSet":
        return TokenSet(self.tokens[idx], self.fg[idx], self.targets[idx], self.stop[idx], self.boxes[idx],
                        self.stop_z[idx], self.grid)


def _scene_record(args: tuple[int, int, int]) -> tuple:
    seed, size, patch = args
    sc = make_planning_scene(seed, size)
    g = size // patch
    fg = sc.mask.reshape(g, patch, g, patch).mean(axis=(1, 3)).reshape(-1) > 0.5
    boxes = np.full((MAX_OBSTACLES, 4), np.nan, np.float32)
    fp = footprints(sc.content)[:MAX_OBSTACLES]
    boxes[: len(fp)] = fp
    return sc.image, fg, sc.plan.vector(), sc.plan.stop, boxes, stop_line(sc.content)


def scene_seed(split_seed: int, i: int) -> int:
    return split_seed * 1_000_003 + i


def encode_scenes(count: int, split_seed: int, encoder: PatchEncoder, size: int = 224, workers: int = 1,
                  batch: int = 256) -> TokenSet:
    """Draw scenes `scene_seed(split_seed, 0..count-1)` and encode them (rendering in `workers` processes)."""
    jobs = [(scene_seed(split_seed, i), size, encoder.patch) for i in range(count)]
    parts: dict[str, list] = {k: [] for k in ("tokens", "fg", "targets", "stop", "boxes", "stop_z")}
    grid = (size // encoder.patch, size // encoder.patch)

    def consume(records):
        images = np.stack([r[0] for r in records])
        x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255.0
        with torch.no_grad():
            tok, _ = encoder(x)
        parts["tokens"].append(tok.numpy().astype(np.float16))
        for key, j in (("fg", 1), ("targets", 2), ("stop", 3), ("boxes", 4), ("stop_z", 5)):
            parts[key].append(np.stack([np.asarray(r[j]) for r in records]))

    if workers > 1:
        with get_context("fork").Pool(workers) as pool:
            for start in range(0, count, batch):
                consume(pool.map(_scene_record, jobs[start:start + batch], chunksize=16))
    else:
        for start in range(0, count, batch):
            consume([_scene_record(j) for j in jobs[start:start + batch]])
    cat = {k: np.concatenate(v) for k, v in parts.items()}
    return TokenSet(cat["tokens"], cat["fg"].astype(bool), cat["targets"].astype(np.float32), cat["stop"].astype(bool),
                    cat["boxes"].astype(np.float32), cat["stop_z"].astype(np.float32), grid)


def _weights_id(encoder: PatchEncoder) -> str:
    import hashlib

    return hashlib.sha256(encoder.w1.numpy().tobytes() + encoder.w2.numpy().tobytes()).hexdigest()[:10]


def cached_scenes(cache_dir: str | Path, count: int, split_seed: int, encoder: PatchEncoder, size: int = 224,
                  workers: int = 1) -> TokenSet:
    """`encode_scenes`, stored under cache_dir as one .npz per (count, seed, encoder, size)."""
    path = Path(cache_dir) / (f"planning-v{CACHE_VERSION}-n{count}-s{split_seed}-d{encoder.dim}-p{encoder.patch}"
                              f"-w{_weights_id(encoder)}-{size}.npz")
    if path.is_file():
        z = np.load(path)
        return TokenSet(z["tokens"], z["fg"], z["targets"], z["stop"], z["boxes"], z["stop_z"], tuple(z["grid"]))  # type: ignore[arg-type]
    ts = encode_scenes(count, split_seed, encoder, size, workers)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, tokens=ts.tokens, fg=ts.fg, targets=ts.targets, stop=ts.stop, boxes=ts.boxes, stop_z=ts.stop_z,
             grid=np.array(ts.grid))
    os.replace(tmp, path)
    return ts
