#!/usr/bin/env python3
# prune_camera_frames.py — the main demo: a trained ReconPruner in the runtime prunes synthetic
# camera frames; prints foreground recall against the runtime's baseline policies and writes PNGs.
"""Load the shipped small ReconPruner (models/reconpruner-small.safetensors) with the runtime's
Python package, encode synthetic driving scenes with the trainer's frozen patch encoder, and keep
the top-K tokens at 25 / 50 / 75 % pruning. For every policy the runtime offers (ReconPruner,
DivPrune, DART as TensorRT-Edge-LLM ships it, CDPruner as OpenVINO GenAI ships it, norm, uniform,
random) and the oracle, print the share of foreground tokens kept (recall) and the share of kept
tokens that are foreground (precision), mean ± std over frames. The scenes come without an
instruction, so CDPruner's relevance is a text-free stand-in: each token's negated cosine to the
frame's mean token (how much it stands out), with θ = 0.5.
Write one PNG per frame (2x scale): a row per pruning ratio (25 / 50 / 75 %, K in the row's title)
with the frame, its foreground, and the tokens ReconPruner, DivPrune, DART and CDPruner keep, each
captioned with its recall and precision, under a legend."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]

from fastdrive_pruner import Pruner  # noqa: E402
from fastdrive_train.baselines import standout_relevance  # noqa: E402
from fastdrive_train.data.scene_tokens import encode_scene  # noqa: E402
from fastdrive_train.encoders import PatchEncoder  # noqa: E402
from fastdrive_train.overlay import kept_overlay, mask_panel  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

POLICIES = ["reconpruner", "divprune", "dart", "cdpruner", "norm", "uniform", "random"]
DRAWN = [("reconpruner", "ReconPruner"), ("divprune", "DivPrune"), ("dart", "DART"), ("cdpruner", "CDPruner")]
PRUNING = [0.25, 0.50, 0.75]

LEGEND = ("bright, yellow outline = kept token; dimmed = pruned.  R = recall (share of the foreground kept), "
          "P = precision (share of the kept that is foreground)")


def sheet(rows: list, path: Path, scale: int = 2) -> None:
    """One PNG: a legend line, then per row a title line and captioned panels, scaled `scale`×."""
    w, h = rows[0][1][0][1].size
    line = 14
    width = w * max(len(panels) for _, panels in rows)
    out = Image.new("RGB", (width, line + len(rows) * (2 * line + h)), (0, 0, 0))
    draw = ImageDraw.Draw(out)
    draw.text((3, 1), LEGEND, fill=(255, 210, 0))
    y = line
    for title, panels in rows:
        draw.text((3, y + 1), title, fill=(255, 255, 255))
        for i, (caption, im) in enumerate(panels):
            draw.text((i * w + 3, y + line + 1), caption, fill=(200, 200, 200))
            out.paste(im, (i * w, y + 2 * line))
        y += 2 * line + h
    out.resize((out.width * scale, out.height * scale), Image.NEAREST).save(path)




def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--weights", default=str(ROOT / "models/reconpruner-small.safetensors"))
    ap.add_argument("--frames", type=int, default=24, help="held-out synthetic frames to score")
    ap.add_argument("--pngs", type=int, default=4, help="frames to draw")
    ap.add_argument("--out", default=str(ROOT / ".build/demo"), help="folder for the PNGs")
    ap.add_argument("--seed", type=int, default=777, help="scene seed (training used 1 and 2)")
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--patch", type=int, default=16)
    ap.add_argument("--encoder-seed", type=int, default=1234)
    args = ap.parse_args()

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    recall = {(p, q): [] for p in POLICIES + ["oracle"] for q in PRUNING}
    precision = {key: [] for key in recall}
    with Pruner(args.weights, max_tokens=4096, num_threads=0) as pruner:
        encoder = PatchEncoder(dim=pruner.hidden_size, patch=args.patch, seed=args.encoder_seed)
        print(f"{args.weights}: D={pruner.hidden_size}, {pruner.parameter_count} parameters, rope={pruner.rope}")
        for f in range(args.frames):
            sc = encode_scene(args.seed * 1_000_003 + f, encoder, args.size)
            image, pixels, fg_pixels, tokens, grid, fg = sc.image, sc.pixels, sc.fg_pixels, sc.tokens, sc.grid, sc.fg
            n = len(fg)
            rows = []
            for q in PRUNING:
                k = pruner.keep_count(n, 1.0 - q)
                extra = {"cdpruner": dict(relevance=standout_relevance(tokens), relevance_theta=0.5)}
                kept = {p: pruner.select(tokens, k, policy=p, grid=grid, seed=f, **extra.get(p, {})) for p in POLICIES}
                kept["oracle"] = np.sort(np.argsort(~fg, kind="stable")[:k])
                for p, idx in kept.items():
                    hits = int(fg[idx].sum())
                    recall[(p, q)].append(hits / max(1, int(fg.sum())))
                    precision[(p, q)].append(hits / k)
                if f < args.pngs:
                    rows.append((f"{int(q * 100)} % pruned: K = {k} of {n} tokens kept",
                                 [("frame", image), ("foreground (the oracle)", mask_panel(pixels, fg_pixels))]
                                 + [(f"{title}  R {recall[(p, q)][-1]:.2f}  P {precision[(p, q)][-1]:.2f}",
                                     kept_overlay(pixels, kept[p], grid, args.patch)) for p, title in DRAWN]))
            if rows:
                sheet(rows, out / f"frame{f:02d}.png")

    print(f"\nforeground recall / precision of the kept tokens, {args.frames} held-out frames "
          "(recall: mean ± std over frames; precision: mean)\n")
    print("| policy | " + " | ".join(f"{int(q * 100)} % pruned: recall / precision" for q in PRUNING) + " |")
    print("|---|" + "---|" * len(PRUNING))
    for p in POLICIES + ["oracle"]:
        cells = [f"{np.mean(recall[(p, q)]):.3f} ± {np.std(recall[(p, q)]):.3f} / {np.mean(precision[(p, q)]):.3f}"
                 for q in PRUNING]
        print(f"| {p} | " + " | ".join(cells) + " |")
    print("(cdpruner: relevance = -cos to the frame's mean token, θ = 0.5; the scenes have no instruction)")
    print(f"\nwrote {min(args.pngs, args.frames)} PNGs to {out} (ReconPruner, DivPrune, DART, CDPruner at 25 / 50 / 75 % "
          "pruning; kept tokens outlined)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
