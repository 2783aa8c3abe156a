# reference_scores.py — untimed ground truth for the benchmark's correctness checks (fastdrive_pruner.reference, f32).
"""Writes ref_{N}.npy: transformers_layer.reference_scores (transformers' Qwen2_5_VLDecoderLayer, eager, f32, plus
fusion and scorer) on the benchmark tokens, so run_all.py can check that every implementation it times
computes the same scores. Nothing here is API.

    python Benchmarks/peers/reference_scores.py --weights full.safetensors --ns 256,3249 --out-dir scores/
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import _common as C


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--ns", default="3249")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tokens-dir", default="")
    ap.add_argument("--out-dir", required=True)
    args = ap.parse_args(argv)

    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    from fastdrive_pruner.reference import transformers_layer, weights

    config, tensors = weights.read_pruner(args.weights)
    Path(args.out_dir).mkdir(parents=True, exist_ok=True)
    for n in C.parse_ns(args.ns):
        t0 = time.perf_counter()
        tokens = C.load_tokens(args.tokens_dir, n, config["hidden_size"])
        scores = transformers_layer.reference_scores(tensors, config, tokens, *C.grid_for(n))
        np.save(Path(args.out_dir) / f"ref_{n}.npy", scores.astype(np.float32))
        print(f"reference N={n}: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
