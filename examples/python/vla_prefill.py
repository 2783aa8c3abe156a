#!/usr/bin/env python3
# vla_prefill.py — prefill latency / peak memory of a Qwen2.5-VL-shaped VLA, unpruned vs ReconPruner 25/50/75 % pruned.
"""What ReconPruner saves in a VLA's prefill, measured on this machine's CPU.

    python examples/python/vla_prefill.py                       # random 3B-shaped LM, 4 layers
    python examples/python/vla_prefill.py --model /path/Qwen2.5-VL-3B-Instruct --pruner pruner.safetensors

The model:
  * ``--model PATH``: a local Qwen2.5-VL checkpoint (e.g. Impromptu-VLA), loaded with transformers.
  * otherwise a *random* model with the language-model shape of Qwen2.5-VL-3B (hidden 2048,
    intermediate 11008, 16 heads, 2 KV heads, head_dim 128, vocab 151936, tied embeddings, mRoPE
    16/24/24) but only ``--layers`` decoder layers (default 4 instead of 36, to fit a small CPU),
    and a 1-block stand-in vision tower (it is bypassed, see below).

The input: one 1596×1596 camera frame = 57×57 = 3249 visual tokens after the 2×2 merge
(``image_grid_thw`` = [1, 114, 114]), inside a driving prompt (system + instruction text around
the image; with ``--model`` and a processor in the checkpoint folder, the real chat template).

The vision tower is bypassed by default: random vision embeddings of the right shape
[3249, 2048] go straight into the integration's rebuild path (``prune_inputs(image_embeds=...)``),
the same path the tower's output takes; the tower's cost is identical with and without pruning,
so it does not change the saving. ``--vision`` runs the real tower on random pixels instead.

Measured per configuration (unpruned, keep 75 / 50 / 25 % = pruning 25 / 50 / 75 %):
  * LLM prefill latency (one forward over the prompt with the KV cache, ``logits_to_keep=1``,
    as ``generate`` does), and the time of each decoder layer (forward hooks);
  * the pruner's own cost (runtime score + top-K over the 3249 tokens; the same work for every K,
    so the fastest of all pruned runs is used for every row) and the rebuild
    (position ids, gathers, embedding), which the unpruned path runs too;
  * peak memory: the largest resident-set growth during the prefill over the RSS just before it
    (sampled every 1 ms after ``malloc_trim``), i.e. activations + KV cache, not the weights;
  * net saving = unpruned (prefill + rebuild) - pruned (prefill + rebuild + pruner), and the
    break-even layer count L* = pruner cost / (layer time at N - layer time at K): with more
    LLM layers than L* pruning pays for itself on this CPU. A projection to the 3B's 36 layers
    uses the measured per-layer times.

Prints a markdown table and writes a PNG bar chart (``--png``, default next to this script).
"""
from __future__ import annotations

import argparse
import ctypes
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import torch

from fastdrive_pruner import Pruner, schema
from fastdrive_pruner.integrations import qwen2_5_vl as fdq
from fastdrive_pruner.reference import weights

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]

SYSTEM = "You are an autonomous driving agent. You see the front camera of the ego vehicle."
INSTRUCTION = (
    "Describe the critical objects (vehicles, pedestrians, traffic lights and signs, barriers, the road) "
    "and predict the ego vehicle's trajectory for the next 3 seconds as (x, y) waypoints every 0.5 s."
)
KEEP = [(1.0, "unpruned"), (0.75, "25 % pruned"), (0.5, "50 % pruned"), (0.25, "75 % pruned")]
LAYERS_3B = 36

# ------------------------------------------------------------------ memory


_libc = ctypes.CDLL(None)
_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * _PAGE


class PeakRSS:
    """Largest RSS growth over the value at entry, sampled every 1 ms by a thread (torch releases the GIL)."""

    def __enter__(self):
        gc.collect()
        if hasattr(_libc, "malloc_trim"):
            _libc.malloc_trim(0)  # hand freed heap back, so earlier runs do not hide this one's peak
        self.base = self.peak = rss()
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, rss())
            time.sleep(0.001)

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, rss())

    @property
    def delta_mb(self) -> float:
        return (self.peak - self.base) / 2**20


# ------------------------------------------------------------------ model and inputs


def random_model(layers: int, hidden: int, intermediate: int, heads: int, kv_heads: int, vocab: int, dtype):
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    head_dim = hidden // heads
    pairs = head_dim // 2
    section = [16 * pairs // 64, 24 * pairs // 64]
    section.append(pairs - sum(section))
    cfg = Qwen2_5_VLConfig(
        text_config=dict(
            vocab_size=vocab, hidden_size=hidden, intermediate_size=intermediate, num_hidden_layers=layers,
            num_attention_heads=heads, num_key_value_heads=kv_heads, max_position_embeddings=32768,
            rms_norm_eps=1e-6, rope_parameters={"rope_type": "default", "mrope_section": section, "rope_theta": 1e6},
            bos_token_id=vocab - 10, eos_token_id=vocab - 9, pad_token_id=vocab - 8,
        ),
        # stand-in tower (bypassed): only its output size matters
        vision_config=dict(depth=1, hidden_size=64, intermediate_size=128, num_heads=2, out_hidden_size=hidden,
                           patch_size=14, spatial_merge_size=2, temporal_patch_size=2, fullatt_block_indexes=[0]),
        image_token_id=vocab - 5, video_token_id=vocab - 4, vision_start_token_id=vocab - 7,
        vision_end_token_id=vocab - 6, tie_word_embeddings=True,
    )
    torch.manual_seed(0)
    with torch.no_grad():
        model = Qwen2_5_VLForConditionalGeneration(cfg)
    return model.to(dtype).eval()


def prompt_ids(model, n_image_tokens: int, processor=None):
    """(input_ids [1, L], attention_mask) of system + <vision_start> image pads <vision_end> + instruction."""
    cfg = model.config
    if processor is not None:
        tok = processor.tokenizer
        pre = tok(f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\n", add_special_tokens=False).input_ids
        post = tok(f"{INSTRUCTION}<|im_end|>\n<|im_start|>assistant\n", add_special_tokens=False).input_ids
    else:  # no tokenizer: text ids of a plausible length (~4 characters per token), fixed seed
        rng = np.random.default_rng(0)
        top = min(30000, cfg.text_config.vocab_size - 16)
        pre = rng.integers(100, top, size=len(SYSTEM) // 4 + 8).tolist()
        post = rng.integers(100, top, size=len(INSTRUCTION) // 4 + 6).tolist()
    ids = pre + [cfg.vision_start_token_id] + [cfg.image_token_id] * n_image_tokens + [cfg.vision_end_token_id] + post
    ids = torch.tensor([ids])
    return ids, torch.ones_like(ids)


def make_pruner_file(hidden: int, heads: int, kv_heads: int, intermediate: int, out: Path) -> Path:
    cli = REPO / ".build" / "release" / "fastdrive-pruner"
    if hidden == 2048 and cli.is_file():
        subprocess.run([str(cli), "init", "--config", "full", "--out", str(out)], check=True, capture_output=True)
        return out
    hd = hidden // heads
    cfg = schema.normalize_config(dict(hidden_size=hidden, intermediate_size=intermediate, num_attention_heads=heads,
                                       num_key_value_heads=kv_heads, head_dim=hd,
                                       mrope_section=schema.scaled_mrope_section(hd)))
    weights.write_pruner(out, cfg, weights.random_pruner(cfg, seed=0))
    return out


# ------------------------------------------------------------------ measurement


class LayerTimer:
    """Wall time of every decoder layer call (forward pre/post hooks)."""

    def __init__(self, layers):
        self.times: list = []
        self._handles = []
        for layer in layers:
            self._handles.append(layer.register_forward_pre_hook(self._pre))
            self._handles.append(layer.register_forward_hook(self._post))

    def _pre(self, *a):
        self._t0 = time.perf_counter()

    def _post(self, *a):
        self.times.append(time.perf_counter() - self._t0)

    def reset(self):
        self.times = []


def measure(model, pruner, ids, am, grid_thw, embeds, pixel_values, keep, timer):
    """One configuration: prune (or keep all) through the integration, then one prefill."""
    kw = dict(image_embeds=embeds) if pixel_values is None else dict(pixel_values=pixel_values)
    with PeakRSS() as mem_prune:
        pr = fdq.prune_inputs(model, pruner, ids, am, image_grid_thw=grid_thw, ratio=keep, **kw)
    timer.reset()
    with PeakRSS() as mem, torch.no_grad():
        t0 = time.perf_counter()
        fdq.prefill(model, pr, use_cache=True, logits_to_keep=1)
        prefill_s = time.perf_counter() - t0
    return dict(
        kept=sum(pr.keep_counts), seq=pr.input_ids.shape[1], prefill=prefill_s, layer=statistics.fmean(timer.times),
        score=pr.timings["score"], rebuild=pr.timings["rebuild"], vision=pr.timings["vision"],
        peak_mb=mem.delta_mb, prune_peak_mb=mem_prune.delta_mb,
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", help="local Qwen2.5-VL checkpoint folder (default: random 3B-shaped LM)")
    ap.add_argument("--pruner", help="ReconPruner weight file (default: a random full-size one)")
    ap.add_argument("--layers", type=int, default=4, help="decoder layers of the random model (default 4; the 3B has 36)")
    ap.add_argument("--grid", type=int, default=57, help="tokens per side after the merge (default 57: 3249 tokens)")
    ap.add_argument("--shape", choices=["3b", "tiny"], default="3b",
                    help="random LM shape: 3b (2048/11008/16/2) or tiny (256/688/4/2, a smoke test)")
    ap.add_argument("--dtype", choices=["float32", "bfloat16"], default="float32", help="LLM dtype (default float32)")
    ap.add_argument("--vision", action="store_true", help="run the vision tower on random pixels instead of bypassing it")
    ap.add_argument("--repeats", type=int, default=2, help="runs per configuration; the fastest is reported (default 2)")
    ap.add_argument("--threads", type=int, default=0, help="pruner threads (0 = the CPUs this process may use); torch uses its own setting")
    ap.add_argument("--png", default=str(HERE / "vla_prefill.png"), help="bar chart output ('' = none)")
    args = ap.parse_args(argv)
    dtype = getattr(torch, args.dtype)

    t0 = time.perf_counter()
    processor = None
    if args.model:
        from transformers import Qwen2_5_VLForConditionalGeneration

        model = Qwen2_5_VLForConditionalGeneration.from_pretrained(args.model, dtype=dtype).eval()
        try:
            from transformers import AutoProcessor

            processor = AutoProcessor.from_pretrained(args.model)
        except Exception as e:  # noqa: BLE001 - a checkpoint without processor files: synthetic text ids
            print(f"(no processor in {args.model}: {type(e).__name__}; using synthetic text ids)", file=sys.stderr)
        source = f"checkpoint {args.model}"
    else:
        shape = dict(hidden=2048, intermediate=11008, heads=16, kv_heads=2, vocab=151936) if args.shape == "3b" else \
            dict(hidden=256, intermediate=688, heads=4, kv_heads=2, vocab=4096)
        model = random_model(args.layers, dtype=dtype, **shape)
        source = f"random Qwen2.5-VL-3B-shaped LM ({args.shape}), {args.layers} layers"
    tcfg = model.config.text_config
    vcfg = model.config.vision_config
    n_layers = tcfg.num_hidden_layers
    merge = vcfg.spatial_merge_size
    n_img = args.grid * args.grid
    grid_thw = torch.tensor([[1, args.grid * merge, args.grid * merge]])
    ids, am = prompt_ids(model, n_img, processor)
    gen = torch.Generator().manual_seed(0)
    embeds = pixel_values = None
    if args.vision:
        patch_dim = 3 * vcfg.temporal_patch_size * vcfg.patch_size**2
        pixel_values = torch.randn(int(grid_thw.prod()), patch_dim, generator=gen).to(dtype)
    else:
        embeds = torch.randn(n_img, vcfg.out_hidden_size, generator=gen).to(dtype)
    print(f"model: {source}; load {time.perf_counter() - t0:.1f} s; prompt {ids.shape[1]} tokens "
          f"({n_img} visual = {args.grid}x{args.grid}); torch threads {torch.get_num_threads()}", file=sys.stderr)

    with tempfile.TemporaryDirectory() as tmp:
        path = args.pruner or make_pruner_file(tcfg.hidden_size, tcfg.num_attention_heads, tcfg.num_key_value_heads,
                                               tcfg.intermediate_size, Path(tmp) / "pruner.safetensors")
        pruner = Pruner(path, max_tokens=max(n_img, 16), num_threads=args.threads)
    print(f"pruner: {pruner}", file=sys.stderr)

    timer = LayerTimer(model.model.language_model.layers)
    # warm-up: a short prompt (thread pools, allocator), not measured
    small = max(2, args.grid // 4)
    w_ids, w_am = prompt_ids(model, small * small, processor)
    w_kw = dict(image_embeds=torch.zeros(small * small, vcfg.out_hidden_size, dtype=dtype)) if not args.vision else \
        dict(pixel_values=torch.zeros(small * small * merge * merge, pixel_values.shape[1], dtype=dtype))
    fdq.prefill(model, fdq.prune_inputs(model, pruner, w_ids, w_am, image_grid_thw=torch.tensor([[1, small * merge, small * merge]]),
                                        ratio=0.5, **w_kw), use_cache=True, logits_to_keep=1)

    results = {}
    for rep in range(args.repeats):
        for keep, name in KEEP:
            r = measure(model, pruner, ids, am, grid_thw, embeds, pixel_values, keep, timer)
            print(f"  run {rep + 1}: {name:12s} prefill {r['prefill'] * 1e3:8.0f} ms  pruner {r['score'] * 1e3:6.0f} ms  "
                  f"peak +{r['peak_mb']:.0f} MB", file=sys.stderr)
            best = results.get(name)
            if best is None:
                results[name] = r
            else:  # fastest run per quantity; largest peak memory
                for key in ("prefill", "layer", "score", "rebuild", "vision"):
                    best[key] = min(best[key], r[key])
                best["peak_mb"] = max(best["peak_mb"], r["peak_mb"])
                best["prune_peak_mb"] = max(best["prune_peak_mb"], r["prune_peak_mb"])

    base = results["unpruned"]
    base_total = base["prefill"] + base["rebuild"]
    # the pruner scores the same 3249 tokens whatever K is (top-K is negligible): pool its runs
    pruner_cost = min(results[name]["score"] for keep, name in KEEP if keep < 1)
    rows = []
    for keep, name in KEEP:
        r = results[name]
        pruner_s = pruner_cost if keep < 1 else 0.0
        total = r["prefill"] + r["rebuild"] + pruner_s
        d_layer = base["layer"] - r["layer"]
        r.update(pruner_s=pruner_s, total=total, saving=base_total - total,
                 break_even=(pruner_s / d_layer if keep < 1 and d_layer > 0 else float("nan")),
                 proj=(LAYERS_3B * d_layer - pruner_s) if keep < 1 else 0.0,
                 proj_base=LAYERS_3B * base["layer"])
        rows.append((name, r))

    ms = lambda s: f"{s * 1e3:,.0f}"  # noqa: E731
    print(f"\n### Prefill on this CPU ({os.cpu_count()} cores, torch {torch.__version__}, {args.dtype}): {source}, "
          f"{ids.shape[1]}-token prompt with {n_img} visual tokens\n")
    print("| config | visual tokens kept | LLM seq len | LLM prefill ms | ms / layer | pruner ms (score + top-K) "
          "| rebuild ms | total ms | net saving ms | peak prefill mem MB | break-even layers "
          f"| projected saving at {LAYERS_3B} layers ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in rows:
        be = "—" if r["pruner_s"] == 0 else f"{r['break_even']:.2f}"
        proj = "—" if r["pruner_s"] == 0 else f"{ms(r['proj'])} ({100 * r['proj'] / r['proj_base']:.0f} %)"
        saving = "—" if r["pruner_s"] == 0 else f"{ms(r['saving'])} ({100 * r['saving'] / base_total:.0f} %)"
        print(f"| {name} | {r['kept']} | {r['seq']} | {ms(r['prefill'])} | {ms(r['layer'])} | "
              f"{ms(r['pruner_s']) if r['pruner_s'] else '—'} | {r['rebuild'] * 1e3:.1f} | {ms(r['total'])} | {saving} | "
              f"{r['peak_mb']:,.0f} | {be} | {proj} |")
    print(f"\nPruner: {pruner.parameter_count / 1e6:.1f} M parameters, arena {pruner.arena_bytes / 2**20:.0f} MB, "
          f"{pruner.num_threads} threads, {pruner.compute}. Break-even layers L* = pruner ms / (ms per layer unpruned - "
          f"ms per layer pruned): an LLM deeper than L* gains net time from pruning on this CPU.")
    if args.vision:
        print(f"Vision tower (run once per configuration, same in every row): {ms(base['vision'])} ms.")
    else:
        print("Vision tower bypassed (random vision embeddings of shape "
              f"[{n_img}, {vcfg.out_hidden_size}] fed to the same rebuild path); its cost is the same in every row.")

    if args.png:
        plot(rows, Path(args.png), f"{source}, {n_img} visual tokens", n_layers)
        print(f"\nchart: {args.png}")
    pruner.close()
    return 0


def plot(rows, out: Path, title: str, n_layers: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [n for n, _ in rows]
    x = np.arange(len(rows))
    prefill = np.array([r["prefill"] for _, r in rows]) * 1e3
    pruner = np.array([r["pruner_s"] for _, r in rows]) * 1e3
    rebuild = np.array([r["rebuild"] for _, r in rows]) * 1e3
    mem = np.array([r["peak_mb"] for _, r in rows])
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))
    ax = axes[0]
    ax.bar(x, prefill, color="#4C72B0", label=f"LLM prefill ({n_layers} layers)")
    ax.bar(x, pruner, bottom=prefill, color="#DD8452", label="ReconPruner (score + top-K)")
    ax.bar(x, rebuild, bottom=prefill + pruner, color="#55A868", label="rebuild inputs")
    for i, tot in enumerate(prefill + pruner + rebuild):
        ax.text(i, tot, f"{tot:,.0f}", ha="center", va="bottom", fontsize=9)
    ax.set_ylabel("ms")
    ax.set_title("measured prefill latency")
    ax.legend(fontsize=8, loc="upper right")
    ax = axes[1]
    layer = np.array([r["layer"] for _, r in rows]) * 1e3
    ax.bar(x, LAYERS_3B * layer, color="#4C72B0", label=f"{LAYERS_3B} LLM layers (projected from ms/layer)")
    ax.bar(x, pruner, bottom=LAYERS_3B * layer, color="#DD8452", label="ReconPruner")
    for i, tot in enumerate(LAYERS_3B * layer + pruner):
        ax.text(i, tot, f"{tot:,.0f}", ha="center", va="bottom", fontsize=9)
    ax.set_title(f"projected to the 3B's {LAYERS_3B} layers")
    ax.set_ylabel("ms")
    ax.legend(fontsize=8, loc="upper right")
    ax = axes[2]
    ax.bar(x, mem, color="#8172B2")
    for i, m in enumerate(mem):
        ax.text(i, m, f"{m:,.0f}", ha="center", va="bottom", fontsize=9)
    ax.set_title("peak memory growth during prefill")
    ax.set_ylabel("MB (activations + KV cache)")
    for ax in axes:
        ax.set_ylim(0, ax.get_ylim()[1] * 1.25)  # room for the legend and labels
        ax.set_xticks(x)
        ax.set_xticklabels(names, fontsize=9)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
