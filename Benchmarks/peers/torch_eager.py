# torch_eager.py — peer: transformers' Qwen2_5_VLDecoderLayer + fusion + scorer in PyTorch eager (f32, bf16, or
# int8: torch.ao.quantization.quantize_dynamic of every nn.Linear, per-channel s8 weights).
"""Prints one JSON line per N in the schema of `fastdrive-pruner bench --json`.

Timed: the module's forward only (query concat, decoder layer, Hadamard fusion, scorer), under
torch.inference_mode with torch.set_num_threads(T). Not timed: weight loading, the rotary cos/sin
tables (precomputed per N with transformers' own Qwen2_5_VLRotaryEmbedding), the token dtype cast.
rss_peak_mb is VmHWM from just before the warm-up to the end of the timed runs: resident weights,
the framework, and the forward's activations; not the transient copies made while loading.
Nothing here is API.

    python Benchmarks/peers/torch_eager.py --weights full.safetensors --ns 256,3249 --dtype f32 --threads 2
"""
from __future__ import annotations

import argparse
import os
import sys

import _common as C


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--ns", default="3249", help="comma-separated token counts")
    ap.add_argument("--dtype", choices=("f32", "bf16", "int8"), default="f32")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=5, help="timed runs after one warm-up")
    ap.add_argument("--max-seconds", type=float, default=120.0, help="cap on timed seconds per N (>= 3 runs)")
    ap.add_argument("--tokens-dir", default="", help="where run_all.py wrote tokens_{N}.npy")
    ap.add_argument("--scores-dir", default="", help="write the last run's scores as torch_{dtype}_{N}.npy")
    args = ap.parse_args(argv)

    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    import torch

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    from fastdrive_pruner.reference import transformers_layer

    dt = {"f32": torch.float32, "bf16": torch.bfloat16, "int8": torch.float32}[args.dtype]
    config, module, rotary = C.load_torch_module(args.weights, dt)
    if args.dtype == "int8":
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

        module = quantize_dynamic(module, {torch.nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8)
    d = config["hidden_size"]
    for n in C.parse_ns(args.ns):
        grid = C.grid_for(n)
        tokens = torch.from_numpy(C.load_tokens(args.tokens_dir, n, d)).to(dt)
        cos, sin = transformers_layer.cos_sin(config, rotary, n, grid, dt)
        C.reset_peak_rss()
        with torch.inference_mode():
            samples, scores = C.time_runs(lambda: module(tokens, cos, sin), args.runs, args.max_seconds)
        rss = C.peak_rss_mb()
        C.save_scores(args.scores_dir, f"torch_{args.dtype}", n, scores.float().numpy())
        stats = C.summarize(samples)
        C.emit({
            "case": "torch_eager", "n_tokens": n, "dim": d, "dtype": args.dtype, "threads": torch.get_num_threads(),
            **stats, "gflops": C.frame_flops(config, n) / (stats["ms_median"] / 1e3) / 1e9,
            "runs": len(samples), "rss_peak_mb": rss, "grid": list(grid),
            "impl": f"PyTorch {torch.__version__} eager (transformers Qwen2_5_VLDecoderLayer)"
                    + (", quantize_dynamic per-channel qint8" if args.dtype == "int8" else ""), "machine": C.machine(),
        })
    return 0


if __name__ == "__main__":
    sys.exit(main())
