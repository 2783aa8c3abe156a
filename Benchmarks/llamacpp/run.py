#!/usr/bin/env python3
# run.py — ReconPruner in llama.cpp: a 3249-token frame's prefill at 0/25/50/75 % pruning, f32 and Q8_0, with the pruner's cost.
"""Measures what pruning one camera frame saves in llama.cpp's prefill, and what the pruner costs.

    .venv/bin/python Benchmarks/llamacpp/run.py            # full size (~30 min on 2 idle cores; see README)
    .venv/bin/python Benchmarks/llamacpp/run.py --small    # the same pipeline at toy size (~1 min), to check it runs

Full size: a text model with Qwen2.5-VL-3B's shape (hidden 2048, intermediate 11008, 16 heads,
2 KV heads, M-RoPE 16/24/24, Qwen's 151936-token vocabulary, tied embeddings) but --layers decoder
layers (default 4 of the 3B's 36, so that it fits a small machine), random weights, written with
llama.cpp's gguf-py and quantized with llama.cpp's own llama_model_quantize; one 57×57 = 3249-token
frame of random embeddings between 5 + 80 text tokens; a random full-size ReconPruner.

For each weight type (--types, default f32 and q8_0) one process times every keep ratio and the
pruner (f32 and bf16 compute), interleaved over --repeats rounds (bench_prefill.cpp); then one
process per keep ratio measures peak memory. Reports the fastest and the median of each; the
derived columns use the fastest:
  net saving (L layers)   = (prefill unpruned - prefill pruned - pruner) / prefill unpruned
  break-even layers       = pruner / ((prefill unpruned - prefill pruned) / L)
  projected, 36 layers    = the same with 36 layers' prefill (per-layer time × 36) and the same pruner
(the prefill is treated as L equal layers: the embedding lookup and the one-token output head are
a few ms of it).
Writes --out/latest.json, --out/prefill.png and prints the markdown table the README carries.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def _load_gguf_writer():
    """Tests/llamacpp/qwen25vl_gguf.py, the tests' GGUF writer, loaded by path (it is not a package)."""
    path = REPO / "Tests" / "llamacpp" / "qwen25vl_gguf.py"
    spec = importlib.util.spec_from_file_location("qwen25vl_gguf", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["qwen25vl_gguf"] = module
    spec.loader.exec_module(module)
    return module


qwen25vl_gguf = _load_gguf_writer()

SMALL = dict(qwen25vl_gguf.TEXT_3B, hidden_size=256, intermediate_size=704, num_attention_heads=4,
             num_key_value_heads=2, mrope_section=[8, 12, 12])


def sh(*cmd, quiet=False, **kw) -> str:
    """stdout of a command; quiet: its stderr only if it fails."""
    r = subprocess.run([str(c) for c in cmd], text=True, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE if quiet else None, **kw)
    if r.returncode:
        sys.exit(f"{' '.join(str(c) for c in cmd)} failed ({r.returncode})\n{r.stderr or ''}")
    return r.stdout


def build(work: Path) -> tuple[Path, Path]:
    """llama.cpp (cached), the pruner library, and bench_prefill; returns (llama.cpp dir, bench binary)."""
    llama = Path(sh(REPO / "scripts" / "build_llamacpp.sh").strip().splitlines()[-1])
    if not (REPO / ".build" / "release" / "libfastdrive_pruner.so").exists():
        subprocess.run(["swift", "build", "-c", "release"], cwd=REPO, check=True)
    b = work / "cmake"
    subprocess.run(["cmake", "-S", HERE, "-B", b, f"-DCMAKE_PREFIX_PATH={llama / 'install'}",
                    "-DCMAKE_BUILD_TYPE=Release"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", b], check=True, stdout=subprocess.DEVNULL)
    return llama, b / "bench_prefill"


def make_inputs(args, llama: Path, bench: Path, work: Path) -> tuple[dict, Path]:
    """Model files per weight type and the pruner file, made once and kept in --work."""
    shape = dict(SMALL if args.small else qwen25vl_gguf.TEXT_3B, num_hidden_layers=args.layers)
    tag = f"{'small' if args.small else '3b'}-{args.layers}L"
    f32 = work / f"qwen25vl-{tag}-f32.gguf"
    if not f32.exists():
        print(f"writing {f32.name} (random weights)", file=sys.stderr)
        qwen25vl_gguf.write_text_model(f32.with_suffix(".tmp"), llama / "src", shape)
        f32.with_suffix(".tmp").rename(f32)
    models = {"f32": f32}
    for t in args.types:
        if t == "f32":
            continue
        q = work / f"qwen25vl-{tag}-{t}.gguf"
        if not q.exists():
            print(f"quantizing to {t} with llama_model_quantize", file=sys.stderr)
            subprocess.run([bench, "--quantize", f32, q, t], check=True, stdout=subprocess.DEVNULL)
        models[t] = q
    pruner = work / f"pruner-{'small' if args.small else 'full'}.safetensors"
    if not pruner.exists():
        if args.small:
            from fastdrive_pruner.reference.weights import random_pruner, write_pruner
            from fastdrive_pruner.schema import scaled_mrope_section

            d = shape["hidden_size"]
            c = dict(hidden_size=d, intermediate_size=4 * d, num_attention_heads=4, num_key_value_heads=2,
                     head_dim=d // 4, rms_norm_eps=1e-6, rope_theta=1e6, rope="mrope",
                     mrope_section=scaled_mrope_section(d // 4), attention="bidirectional")
            write_pruner(pruner, c, random_pruner(c, seed=15))
        else:
            sh(REPO / ".build" / "release" / "fastdrive-pruner", "init", "--config", "full", "--out", pruner)
    return {t: models[t] for t in args.types}, pruner


def measure(args, bench: Path, models: dict, pruner: Path) -> dict:
    keeps = [1 - p / 100 for p in args.pruning]
    common = ["--side", args.side, "--threads", args.threads, "--text", "5,80"]
    out = {}
    for t, model in models.items():
        print(f"timing {t}: {args.repeats} interleaved rounds", file=sys.stderr)
        timing = json.loads(sh(bench, model, pruner, "--keep", ",".join(f"{k:g}" for k in keeps),
                               "--repeats", args.repeats, *common).strip().splitlines()[-1])
        memory = []
        for k in keeps:  # a fresh process per configuration
            memory.append(json.loads(sh(bench, model, pruner, "--memory", f"{k:g}", *common, quiet=True)
                                     .strip().splitlines()[-1]))
        out[t] = {"timing": timing, "memory": memory}
    return out


def derive(results: dict, total_layers: int = 36) -> list:
    rows = []
    for t, r in results.items():
        timing = r["timing"]
        layers = timing["layers"]
        base = timing["prefill"][0]["ms"]["fastest"]
        pruner = {c: timing["pruner_ms"][c]["fastest"] for c in ("f32", "bf16")}
        for p, mem in zip(timing["prefill"], r["memory"]):
            ms = p["ms"]["fastest"]
            row = dict(type=t, pruned=round(100 * (1 - p["keep"])), seq_len=p["seq_len"], kept=p["kept"],
                       prefill_fastest=ms, prefill_median=p["ms"]["median"], layers=layers,
                       prefill_mb=mem["prefill_mb"], pruner_mb=mem["pruner_mb"], weights_mb=mem["weights_mb"])
            if p["keep"] < 1:
                saved_per_layer = (base - ms) / layers
                for c, cost in pruner.items():
                    row[f"net_{c}"] = (base - ms - cost) / base
                    row[f"break_even_{c}"] = cost / saved_per_layer if saved_per_layer > 0 else float("inf")
                    row[f"projected_{c}"] = (total_layers * saved_per_layer - cost) / (total_layers * base / layers)
            rows.append(row)
    return rows


def table(rows: list, results: dict) -> str:
    layers = rows[0]["layers"]
    lines = [f"| weights | pruned | LLM seq len | prefill ms ({layers} layers), fastest / median | peak prefill MB "
             f"| net saving ({layers} layers) | break-even layers | projected saving, 36 layers |",
             "|---|---|--:|--:|--:|--:|--:|--:|"]
    for r in rows:
        if r["pruned"] == 0:
            rest = "— | — | —"
        else:
            rest = (f"{100 * r['net_f32']:.0f} % / {100 * r['net_bf16']:.0f} % | {r['break_even_f32']:.1f} / "
                    f"{r['break_even_bf16']:.1f} | {100 * r['projected_f32']:.0f} % / {100 * r['projected_bf16']:.0f} %")
        lines.append(f"| {r['type']} | {r['pruned']} % | {r['seq_len']} | {r['prefill_fastest']:,.0f} / "
                     f"{r['prefill_median']:,.0f} | {r['prefill_mb']:.0f} | {rest} |")
    first = next(iter(results.values()))
    pr = first["timing"]["pruner_ms"]
    pruner_mb = max(m["pruner_mb"] for m in first["memory"])
    lines.append("")
    lines.append(f"Pruner (score + top-K of {first['timing']['tokens']} tokens, same process): "
                 f"f32 {pr['f32']['fastest']:,.0f} ms (median {pr['f32']['median']:,.0f}), bf16 "
                 f"{pr['bf16']['fastest']:,.0f} ms (median {pr['bf16']['median']:,.0f}), {pruner_mb:,.0f} MB "
                 "(f32 weights + arena); savings are given as f32 / bf16 pruner. Peak prefill MB: resident-set "
                 "growth during the prefill (KV cache, compute buffers), weights loaded before it.")
    return "\n".join(lines)


def plot(rows: list, results: dict, out: Path) -> bool:
    try:
        import matplotlib
    except ImportError:
        print("no chart: matplotlib is missing (.venv/bin/pip install -r Benchmarks/requirements.txt)", file=sys.stderr)
        return False

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    types = list(dict.fromkeys(r["type"] for r in rows))
    pruned = sorted({r["pruned"] for r in rows})
    fig, ax = plt.subplots(figsize=(7, 3.6), dpi=120)
    width = 0.8 / len(types)
    for j, t in enumerate(types):
        mine = {r["pruned"]: r for r in rows if r["type"] == t}
        cost = results[t]["timing"]["pruner_ms"]["bf16"]["fastest"] / 1000
        xs = [i + j * width for i in range(len(pruned))]
        prefill = [mine[p]["prefill_fastest"] / 1000 for p in pruned]
        bars = ax.bar(xs, prefill, width, label=f"prefill, {t} weights")
        ax.bar(xs[1:], [cost] * (len(xs) - 1), width, bottom=prefill[1:], color=bars[0].get_facecolor(), alpha=0.35,
               hatch="//", label="+ pruner (bf16)" if j == 0 else None)
    ax.set_xticks([i + width * (len(types) - 1) / 2 for i in range(len(pruned))], [f"{p:g} %" for p in pruned])
    ax.set_xlabel(f"visual tokens pruned (of one {rows[0]['kept']}-token frame)")
    ax.set_ylabel(f"seconds ({rows[0]['layers']} LLM layers)")
    ax.set_title(f"llama.cpp prefill with ReconPruner, {results[types[0]]['timing']['threads']} threads")
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    fig.savefig(out)
    return True


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--small", action="store_true", help="toy size (hidden 256, 2 layers, 16×16 frame): checks the pipeline")
    ap.add_argument("--layers", type=int, help="decoder layers (default 4; --small: 2)")
    ap.add_argument("--side", type=int, help="frame side in merged tokens (default 57; --small: 16)")
    ap.add_argument("--types", default="f32,q8_0", help="weight types, comma-separated: f32, q8_0, bf16, f16")
    ap.add_argument("--pruning", default="0,25,50,75", help="pruning percentages (default 0,25,50,75)")
    ap.add_argument("--repeats", type=int, help="interleaved rounds (default 3; --small: 1)")
    ap.add_argument("--threads", type=int, default=2, help="threads for llama.cpp and for the pruner (default 2)")
    ap.add_argument("--work", default=str(REPO / ".build" / "bench-llamacpp"), help="models and build (git-ignored)")
    ap.add_argument("--out", help="results folder (default Benchmarks/llamacpp/results; --small: under --work)")
    args = ap.parse_args(argv)
    args.layers = args.layers or (2 if args.small else 4)
    args.side = args.side or (16 if args.small else 57)
    args.repeats = args.repeats or (1 if args.small else 3)
    args.types = [t.strip() for t in args.types.split(",") if t.strip()]
    args.pruning = [float(p) for p in args.pruning.split(",")]
    if args.pruning[0] != 0:
        ap.error("--pruning must start with 0 (the unpruned baseline)")
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    out = Path(args.out) if args.out else (work / "results-small" if args.small else HERE / "results")
    out.mkdir(parents=True, exist_ok=True)

    start = time.time()
    llama, bench = build(work)
    models, pruner = make_inputs(args, llama, bench, work)
    results = measure(args, bench, models, pruner)
    rows = derive(results)
    md = table(rows, results)
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    try:
        machine = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")) + \
            f", {os.cpu_count()} cores"
    except (OSError, StopIteration):
        pass
    (out / "latest.json").write_text(json.dumps({"machine": machine, "date": time.strftime("%Y-%m-%d"),
                                                 "threads": args.threads, "results": results, "rows": rows,
                                                 "table": md}, indent=1))
    charted = plot(rows, results, out / "prefill.png")
    print(md)
    t = results[args.types[0]]["timing"]
    print(f"\n{machine}; {t['threads']} threads for llama.cpp and the pruner, n_batch {t['n_batch']}, "
          f"n_ubatch {t['n_ubatch']}; the pruner's workers used "
          f"{sum(r['timing']['pruner_ticks_during_prefill'] for r in results.values())} CPU ticks during the prefills, "
          f"{max(r['timing']['other_threads_during_score'] for r in results.values())} other threads existed while it "
          f"scored; {time.time() - start:.0f} s in all. Wrote {out / 'latest.json'}"
          + (f" and {out / 'prefill.png'}." if charted else "."))
    return 0


if __name__ == "__main__":
    sys.exit(main())
