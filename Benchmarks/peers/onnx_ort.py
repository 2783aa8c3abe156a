# onnx_ort.py — peer: the PyTorch peer module exported to ONNX, run by onnxruntime's CPU provider (f32).
"""Two steps, each its own process:

    python Benchmarks/peers/onnx_ort.py export --weights full.safetensors --out pruner.onnx
    python Benchmarks/peers/onnx_ort.py run --model pruner.onnx --weights full.safetensors --ns 256,3249 --threads 2

`export` wraps transformers' Qwen2_5_VLDecoderLayer + fusion + scorer (fastdrive_pruner.reference's
ReconPrunerModule, the module the PyTorch peer times) and exports it with torch.onnx.export (opset 18, the N axis dynamic; inputs
tokens [N, D], cos/sin [1, N+1, head_dim]; output scores [N]). `run` never imports torch: it builds an
InferenceSession (CPUExecutionProvider, intra_op_num_threads = T, inter_op 1, sequential, all graph
optimizations) and prints one JSON line per N in the schema of `fastdrive-pruner bench --json`.
Timed: session.run only. rss_peak_mb is VmHWM from just before the warm-up to the end of the timed
runs (the session's weights and arena, the runtime, the activations). Nothing here is API.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

OPSET = 18


def export(args) -> int:
    import torch

    torch.set_num_threads(args.threads)
    import _common as C
    from fastdrive_pruner.reference import transformers_layer

    config, module, rotary = C.load_torch_module(args.weights, torch.float32)
    n = 64
    grid = C.grid_for(n)
    tokens = torch.from_numpy(C.tokens_for(n, config["hidden_size"]))
    cos, sin = transformers_layer.cos_sin(config, rotary, n, grid, torch.float32)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    try:  # torch.export-based exporter (the default since torch 2.9); N + 1 rows for cos/sin is a derived dim
        dim_n = torch.export.Dim("n", min=2, max=16384)
        torch.onnx.export(
            module, (tokens, cos, sin), args.out, dynamo=True, opset_version=OPSET,
            input_names=["tokens", "cos", "sin"], output_names=["scores"],
            dynamic_shapes={"tokens": {0: dim_n}, "cos": {1: dim_n + 1}, "sin": {1: dim_n + 1}},
            external_data=True, optimize=True, verbose=False,
        )
        exporter = "dynamo"
    except Exception as e:  # noqa: BLE001 — fall back to the TorchScript exporter
        print(f"dynamo export failed ({type(e).__name__}: {e}); using the TorchScript exporter", file=sys.stderr)
        torch.onnx.export(
            module, (tokens, cos, sin), args.out, dynamo=False, opset_version=OPSET,
            input_names=["tokens", "cos", "sin"], output_names=["scores"],
            dynamic_axes={"tokens": {0: "n"}, "cos": {1: "s"}, "sin": {1: "s"}},
        )
        exporter = "torchscript"
    print(f"exported {args.out} ({exporter}, opset {OPSET}) in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return 0


def run(args) -> int:
    sys.modules["torch"] = None  # keep torch out of this process (the NumPy path needs none)
    import _common as C
    import numpy as np
    import onnxruntime as ort

    config = C.read_config(args.weights)
    d = config["hidden_size"]
    so = ort.SessionOptions()
    so.intra_op_num_threads = args.threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    model = args.model
    if args.int8:  # the same exported model after onnxruntime's dynamic quantization (made once, cached)
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from interleaved import quantized_onnx

        model = str(quantized_onnx(Path(args.model)))
    key = "ort_int8" if args.int8 else "ort_f32"
    sess = ort.InferenceSession(model, sess_options=so, providers=["CPUExecutionProvider"])
    C.release_freed_memory()
    for n in C.parse_ns(args.ns):
        grid = C.grid_for(n)
        cos, sin = C.numpy_cos_sin(config, n, grid)
        feed = {"tokens": C.load_tokens(args.tokens_dir, n, d), "cos": cos, "sin": sin}
        C.reset_peak_rss()
        samples, out = C.time_runs(lambda: sess.run(["scores"], feed)[0], args.runs, args.max_seconds)
        rss = C.peak_rss_mb()
        C.save_scores(args.scores_dir, key, n, np.asarray(out, np.float32))
        stats = C.summarize(samples)
        C.emit({
            "case": "onnx_ort", "n_tokens": n, "dim": d, "dtype": "int8" if args.int8 else "f32", "threads": args.threads,
            **stats, "gflops": C.frame_flops(config, n) / (stats["ms_median"] / 1e3) / 1e9,
            "runs": len(samples), "rss_peak_mb": rss, "grid": list(grid),
            "impl": f"onnxruntime {ort.__version__} CPUExecutionProvider", "machine": C.machine(),
        })
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("export", help="write the ONNX model (+ .data external weights)")
    e.add_argument("--weights", required=True)
    e.add_argument("--out", required=True)
    e.add_argument("--threads", type=int, default=2)
    r = sub.add_parser("run", help="time the ONNX model with onnxruntime")
    r.add_argument("--model", required=True)
    r.add_argument("--weights", required=True, help="the weight file the model came from (for its config)")
    r.add_argument("--ns", default="3249")
    r.add_argument("--threads", type=int, default=2)
    r.add_argument("--runs", type=int, default=5)
    r.add_argument("--max-seconds", type=float, default=120.0)
    r.add_argument("--tokens-dir", default="")
    r.add_argument("--scores-dir", default="")
    r.add_argument("--int8", action="store_true", help="quantize_dynamic (per-channel) the model first")
    args = ap.parse_args(argv)
    return export(args) if args.cmd == "export" else run(args)


if __name__ == "__main__":
    sys.exit(main())
