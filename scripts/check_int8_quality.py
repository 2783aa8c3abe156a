#!/usr/bin/env python3
# check_int8_quality.py — compute = int8 against f32 on the shipped trained pruner: foreground
# recall of the kept tokens at 25 / 50 / 75 % pruning on held-out synthetic scenes, and how far
# int8's scores move from f32's. Run by scripts/test.sh; prints the figures the README quotes.
"""Score held-out synthetic driving scenes (scene seed 777; training used 1 and 2) with the shipped
trained ReconPruner (models/reconpruner-small.safetensors) twice, compute = f32 and compute = int8,
on the same tokens. Prints each one's mean foreground recall at 25 / 50 / 75 % pruning and their
difference (the bar: |int8 - f32| <= 0.005 at every ratio), the top-K agreement, and the score
error distribution: |S_int8 - S_f32| relative to the frame's max |S_f32|, pooled over tokens."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

from fastdrive_pruner import Pruner  # noqa: E402
from fastdrive_train.data.scene_tokens import encode_scene  # noqa: E402
from fastdrive_train.encoders import PatchEncoder  # noqa: E402

PRUNING = (0.25, 0.50, 0.75)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--weights", default=str(ROOT / "models/reconpruner-small.safetensors"))
    ap.add_argument("--frames", type=int, default=200, help="held-out synthetic frames")
    ap.add_argument("--seed", type=int, default=777, help="scene seed (training used 1 and 2)")
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--patch", type=int, default=16)
    ap.add_argument("--encoder-seed", type=int, default=1234)
    ap.add_argument("--tolerance", type=float, default=0.005, help="largest |recall int8 - recall f32|")
    args = ap.parse_args()

    recall = {(c, q): [] for c in ("f32", "int8") for q in PRUNING}
    overlap = {q: [] for q in PRUNING}
    rel_err = []
    with Pruner(args.weights, max_tokens=4096, num_threads=0) as f32, \
            Pruner(args.weights, max_tokens=4096, num_threads=0, compute="int8") as int8:
        encoder = PatchEncoder(dim=f32.hidden_size, patch=args.patch, seed=args.encoder_seed)
        for f in range(args.frames):
            sc = encode_scene(args.seed * 1_000_003 + f, encoder, args.size)
            tokens, grid, fg = sc.tokens, sc.grid, sc.fg
            scores = {"f32": f32.score(tokens, grid=grid), "int8": int8.score(tokens, grid=grid)}
            rel_err.append(np.abs(scores["int8"] - scores["f32"]) / max(1e-12, float(np.abs(scores["f32"]).max())))
            n = len(fg)
            for q in PRUNING:
                k = f32.keep_count(n, 1.0 - q)
                kept = {c: f32.topk(s, k) for c, s in scores.items()}
                for c, idx in kept.items():
                    recall[(c, q)].append(int(fg[idx].sum()) / max(1, int(fg.sum())))
                overlap[q].append(len(set(kept["f32"].tolist()) & set(kept["int8"].tolist())) / k)

    print(f"{args.weights}: {args.frames} held-out frames (scene seed {args.seed}), N = {n} tokens each\n")
    print("| pruned | recall f32 | recall int8 | int8 - f32 | top-K shared with f32 |")
    print("|---|---|---|---|---|")
    ok = True
    for q in PRUNING:
        a, b = np.mean(recall[("f32", q)]), np.mean(recall[("int8", q)])
        ok &= abs(b - a) <= args.tolerance
        print(f"| {int(q * 100)} % | {a:.4f} | {b:.4f} | {b - a:+.4f} | {np.mean(overlap[q]):.4f} (min {np.min(overlap[q]):.4f}) |")
    e = np.concatenate(rel_err)
    pct = np.percentile(e, [50, 90, 99, 99.9])
    print(f"\n|S_int8 - S_f32| / max|S_f32| per frame, {e.size} tokens: median {pct[0]:.2e}, p90 {pct[1]:.2e}, "
          f"p99 {pct[2]:.2e}, p99.9 {pct[3]:.2e}, max {e.max():.2e}")
    print(f"\nrecall within {args.tolerance} of f32 at every ratio: {'yes' if ok else 'NO'}")
    print("1 passed, 0 failed" if ok else "0 passed, 1 failed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
