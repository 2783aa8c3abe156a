#!/usr/bin/env python3
# interleaved.py — ratios that survive a noisy machine: every implementation loaded once, in its own
# process, then timed one run at a time in rotating order, round after round, on the same tokens.
"""Each contender is a worker process that loads its model, warms up on the frame, then waits; the
driver asks one worker at a time for one timed run (the others sit idle on a pipe), rotating the
order every round. So every contender sees the same stretch of the machine's load, and a ratio is
taken within a round. Reports per contender the fastest and the median run, and per pair the
ratio of fastest runs and the median of the per-round ratios, plus each one's top-N/2 overlap with
our f32 scores. Nothing here is API.

    .venv/bin/python Benchmarks/interleaved.py --weights full.safetensors --onnx pruner.onnx --ns 256,512,3249 \
        --threads 2 --rounds 5 --json Benchmarks/results/interleaved.json --png Benchmarks/results/interleaved.png

Contenders (--impls): ours_f32, ours_bf16, ours_int8 (the Python package over the release library,
FASTDRIVE_PRUNER_LIB), ort_f32 (the exported module, onnx_ort.py's model), ort_int8 (that model after
onnxruntime.quantization.quantize_dynamic: per-channel s8 weights, u8 activations quantized per tensor
at run time), torch_int8 (the PyTorch peer module after torch.ao.quantization.quantize_dynamic with
per_channel_dynamic_qconfig: per-channel s8 weights of every nn.Linear). All on the same weights.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
PEERS = BENCH / "peers"
sys.path.insert(0, str(PEERS))
import _common as C  # noqa: E402

IMPLS = ("ours_f32", "ours_bf16", "ours_int8", "ort_f32", "ort_int8", "torch_int8")


# ----------------------------------------------------------------------------- workers


def quantized_onnx(model: Path) -> Path:
    """model's dynamic int8 twin, made once (per-channel weights, the quantizer's defaults otherwise)."""
    out = model.with_name(model.stem + ".int8.onnx")
    if not out.exists() or out.stat().st_mtime < model.stat().st_mtime:
        import onnx
        from onnxruntime.quantization import QuantType, quantize_dynamic

        # The linear layers: MatMuls whose weight is a 2-D initializer. The scorer's 1-D weight
        # stays f32 (as ours does), and onnxruntime's DynamicQuantizeMatMul mis-shapes a 1-D B.
        g = onnx.load(str(model), load_external_data=False).graph
        dims = {t.name: len(t.dims) for t in g.initializer}
        linear = [nd.name for nd in g.node if nd.op_type == "MatMul" and dims.get(nd.input[1]) == 2]
        tmp = model.with_name(model.stem + ".int8.tmp.onnx")
        quantize_dynamic(str(model), str(tmp), per_channel=True, weight_type=QuantType.QInt8,
                         nodes_to_quantize=linear)
        # The quantizer keeps the exporter's intermediate shape annotations, some with the trace's
        # sizes; onnxruntime's buffer planner trusts them and fails at another N. Drop them.
        q = onnx.load(str(tmp))
        del q.graph.value_info[:]
        onnx.save(q, str(out))
        tmp.unlink()
    return out


def make_runner(impl: str, args, config: dict):
    """A function (tokens, grid) -> scores for `impl`, with its model loaded."""
    if impl.startswith("ours_"):
        from fastdrive_pruner import Pruner

        p = Pruner(args.weights, max_tokens=max(C.parse_ns(args.ns)), num_threads=args.threads,
                   compute=impl.split("_")[1])
        return lambda tokens, grid: p.score(tokens, grid=grid)
    if impl.startswith("ort_"):
        import onnxruntime as ort

        model = Path(args.onnx)
        if impl == "ort_int8":
            model = quantized_onnx(model)
        so = ort.SessionOptions()
        so.intra_op_num_threads = args.threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        sess = ort.InferenceSession(str(model), sess_options=so, providers=["CPUExecutionProvider"])

        def run(tokens, grid):
            cos, sin = C.numpy_cos_sin(config, len(tokens), grid)
            return sess.run(["scores"], {"tokens": tokens, "cos": cos, "sin": sin})[0]
        return run
    if impl == "torch_int8":
        os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
        import torch
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

        torch.set_num_threads(args.threads)
        torch.set_num_interop_threads(1)
        from fastdrive_pruner.reference import transformers_layer

        _, module, rotary = C.load_torch_module(args.weights, torch.float32)
        module = quantize_dynamic(module, {torch.nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8)

        def run(tokens, grid):
            cos, sin = transformers_layer.cos_sin(config, rotary, len(tokens), grid, torch.float32)
            with torch.inference_mode():
                return module(torch.from_numpy(tokens), cos, sin).float().numpy()
        return run
    raise SystemExit(f"unknown implementation {impl}")


def worker(args) -> int:
    """Reads commands on stdin: `n N` (load that frame and warm up), `run` (one timed run; prints seconds),
    `save PATH` (the last scores as .npy). Prints `ok` after each command."""
    config = C.read_config(args.weights)
    run = make_runner(args.impl, args, config)
    tokens = grid = scores = None
    print("ok", flush=True)
    for line in sys.stdin:
        cmd, _, arg = line.strip().partition(" ")
        if cmd == "n":
            n = int(arg)
            tokens, grid = C.load_tokens("", n, config["hidden_size"]), C.grid_for(n)
            scores = run(tokens, grid)  # warm-up
            print("ok", flush=True)
        elif cmd == "run":
            t0 = time.perf_counter()
            scores = run(tokens, grid)
            print(f"{time.perf_counter() - t0:.6f}", flush=True)
        elif cmd == "save":
            np.save(arg, np.asarray(scores, np.float32))
            print("ok", flush=True)
    return 0


# ----------------------------------------------------------------------------- driver


class Worker:
    def __init__(self, impl: str, args):
        cmd = [sys.executable, __file__, "--worker", impl, "--weights", args.weights, "--ns", args.ns,
               "--threads", str(args.threads), "--onnx", args.onnx]
        self.impl = impl
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.expect_ok()

    def ask(self, line: str) -> str:
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        return self.read()

    def read(self) -> str:
        out = self.p.stdout.readline().strip()
        if not out:
            raise RuntimeError(f"{self.impl}: worker exited (rc {self.p.wait()})")
        return out

    def expect_ok(self) -> None:
        if (r := self.read()) != "ok":
            raise RuntimeError(f"{self.impl}: {r}")

    def close(self) -> None:
        self.p.stdin.close()
        self.p.wait()


def topk_set(s: np.ndarray, k: int) -> set:
    return set(np.argsort(-s, kind="stable")[:k].tolist())


def drive(args) -> dict:
    impls = [i for i in args.impls.split(",") if i]
    load_before = os.getloadavg()
    workers = []
    for impl in impls:
        t0 = time.monotonic()
        workers.append(Worker(impl, args))
        print(f"[{impl}] loaded in {time.monotonic() - t0:.1f} s", file=sys.stderr, flush=True)
    out = {"machine": C.machine(), "threads": args.threads, "rounds": args.rounds, "weights": args.weights,
           "load_average_before": load_before, "ns": {}}
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    try:
        for n in C.parse_ns(args.ns):
            for w in workers:
                if w.ask(f"n {n}") != "ok":
                    raise RuntimeError(f"{w.impl}: warm-up failed")
            samples = {w.impl: [] for w in workers}
            for r in range(args.rounds):
                order = workers[r % len(workers):] + workers[:r % len(workers)]
                for w in order:
                    samples[w.impl].append(float(w.ask("run")))
                print(f"N={n} round {r + 1}/{args.rounds}: " +
                      ", ".join(f"{i} {s[-1] * 1e3:.0f} ms" for i, s in samples.items()), file=sys.stderr, flush=True)
            overlap = {}
            for w in workers:
                w.ask(f"save {work / f'{w.impl}_{n}.npy'}")
            if "ours_f32" in samples:
                base = np.load(work / f"ours_f32_{n}.npy")
                k = max(1, n // 2)
                for w in workers:
                    overlap[w.impl] = len(topk_set(base, k) & topk_set(np.load(work / f"{w.impl}_{n}.npy"), k)) / k
            out["ns"][str(n)] = {
                impl: {"ms_fastest": min(s) * 1e3, "ms_median": float(np.median(s)) * 1e3,
                       "samples_ms": [x * 1e3 for x in s], "topk_overlap_vs_ours_f32": overlap.get(impl)}
                for impl, s in samples.items()}
    finally:
        for w in workers:
            w.close()
    out["load_average_after"] = os.getloadavg()
    return out


def ratio(a: list, b: list) -> tuple:
    """(fastest b / fastest a, median over rounds of b_r / a_r): how many times faster a is than b."""
    return min(b) / min(a), float(np.median([y / x for x, y in zip(a, b)]))


def table(doc: dict) -> str:
    lines = []
    for n, res in doc["ns"].items():
        lines.append(f"\nN = {n}, {doc['threads']} threads, {doc['rounds']} interleaved rounds ({doc['machine']})\n")
        lines.append("| implementation | fastest ms | median ms | top-N/2 overlap vs our f32 |")
        lines.append("|---|---|---|---|")
        for impl, r in res.items():
            ov = r["topk_overlap_vs_ours_f32"]
            lines.append(f"| {impl} | {r['ms_fastest']:,.0f} | {r['ms_median']:,.0f} | {'' if ov is None else f'{ov:.4f}'} |")
        lines.append("\n| ratio (how many times faster) | fastest vs fastest | median of per-round ratios |")
        lines.append("|---|---|---|")
        pairs = [("ours_int8", "ours_bf16"), ("ours_int8", "ort_int8"), ("ours_int8", "torch_int8"),
                 ("ours_int8", "ours_f32"), ("ours_bf16", "ort_f32"), ("ours_f32", "ort_f32"), ("ours_int8", "ort_f32")]
        for a, b in pairs:
            if a in res and b in res:
                f, m = ratio(res[a]["samples_ms"], res[b]["samples_ms"])
                lines.append(f"| {a} vs {b} | {f:.2f}× | {m:.2f}× |")
    return "\n".join(lines)


def plot(doc: dict, path: Path) -> None:
    """Fastest and median latency vs N per contender (log-log), from the interleaved rounds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    ns = sorted(int(n) for n in doc["ns"])
    style = {"ours_f32": ("C0", "o", "-"), "ours_bf16": ("C0", "s", "--"), "ours_int8": ("C0", "*", ":"),
             "torch_int8": ("C3", "<", ":"), "ort_f32": ("C2", "D", "-"), "ort_int8": ("C2", "d", ":")}
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    for impl in doc["ns"][str(ns[0])]:
        color, marker, ls = style.get(impl, ("C7", ".", "-"))
        fast = [doc["ns"][str(n)][impl]["ms_fastest"] / 1e3 for n in ns]
        med = [doc["ns"][str(n)][impl]["ms_median"] / 1e3 for n in ns]
        ax.plot(ns, fast, color=color, marker=marker, ls=ls, lw=2, ms=7, label=f"{impl} (fastest; bar: median)")
        ax.vlines(ns, fast, med, color=color, lw=1, alpha=0.6)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(ns, [str(n) for n in ns])
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlabel("tokens per frame N")
    ax.set_ylabel("seconds per frame")
    ax.set_title(f"interleaved, {doc['threads']} threads, {doc['rounds']} rounds\n{doc['machine']}, "
                 f"load average {doc['load_average_before'][0]:.1f} before", fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", default="", help="full-size weights (attention = bidirectional)")
    ap.add_argument("--ns", default="3249")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--impls", default=",".join(IMPLS))
    ap.add_argument("--onnx", default="", help="onnx_ort.py export's model (needed by ort_*)")
    ap.add_argument("--workdir", default=str(BENCH.parent / ".build" / "bench-interleaved"))
    ap.add_argument("--json", default="", help="also write the results here")
    ap.add_argument("--png", default="", help="also draw latency vs N here")
    ap.add_argument("--from-json", default="", help="only remake the tables (and --png) from an earlier --json")
    ap.add_argument("--worker", default="", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        args.impl = args.worker
        return worker(args)
    doc = json.loads(Path(args.from_json).read_text()) if args.from_json else drive(args)
    if args.png:
        plot(doc, Path(args.png))
    if args.json and not args.from_json:
        Path(args.json).write_text(json.dumps(doc, indent=1))
    print(table(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
