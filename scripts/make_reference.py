#!/usr/bin/env python3
# Generates the committed ReconPruner test fixtures (Tests/Fixtures/) and, with --full-size, a large uncommitted case.
"""Fixture generator.

    .venv/bin/python scripts/make_reference.py                 # rewrite Tests/Fixtures/
    .venv/bin/python scripts/make_reference.py --check         # regenerate to a temp dir, compare bytes
    .venv/bin/python scripts/make_reference.py --full-size --out /tmp/full [--rope mrope] [--attention bidirectional]

Per case: <name>.safetensors (docs/weight-file.md), <name>.tokens.npy ([N, D] f32 or f16), <name>.scores.npy
(float32 [N], transformers' Qwen2_5_VLDecoderLayer + fusion + scorer, from the *stored* weight and
token values), plus cases.json and README.md. For every case the generator asserts that

* the independent NumPy oracle (fastdrive_pruner.reference.numpy_float64) agrees with transformers,
* causality really holds / does not hold in the transformers layer (perturb the last token),
* the case is discriminative: deliberately wrong variants (no RoPE, 1-D instead of M-RoPE,
  transposed grid, wrong mask, wrong GQA mapping, default eps/theta) move the scores by more than
  10x the tolerance of docs/model.md, so a runtime with that bug cannot pass the test.
"""
from __future__ import annotations

import argparse
import filecmp
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from fastdrive_pruner import schema
from fastdrive_pruner.reference import numpy_float64, score_tolerance, transformers_layer, weights

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "Tests" / "Fixtures"
COMMAND = ".venv/bin/python scripts/make_reference.py"

# numpy (float64) vs transformers (float32): relative to max(1, max |S|). Observed ~3e-7.
NUMPY_AGREEMENT = 1e-5
# A wrong variant must move the scores by more than this many tolerances (docs/model.md).
MUTANT_MARGIN = 10.0

# Wrong variants that are allowed to stay within 10x tolerance, per case. With the real theta 1e6 and
# head_dim 16 the width section (and most of the height one) rotates by < 0.01 rad on small grids,
# so section-layout mistakes barely move the scores there; the theta-100 mrope cases catch them.
# With a single token the only relative offset is 1 position, so RoPE changes are small there.
WEAK_OK = {"mrope_bidir_f32_3x43": {"mrope_section reversed"}, "mrope_causal_f32_1x1": {"rope=none", "rope_theta=1e4"}}

# Small-model base config; cases override fields.
BASE = dict(
    hidden_size=64,
    intermediate_size=128,
    num_attention_heads=4,
    num_key_value_heads=2,
    head_dim=16,
    rms_norm_eps=1e-6,
    rope_theta=1e6,
    mrope_section=[2, 3, 3],  # 16,24,24 scaled from 64 to 8 frequency pairs
)

# Mixed-dtype file: attention in bf16, MLP in f16, norms / query / scorer / biases kept f32 except
# the k/v biases (f16), so every dtype appears for both matrices and vectors.
MIXED = {
    "self_attn.q_proj.weight": "bf16",
    "self_attn.k_proj.weight": "bf16",
    "self_attn.v_proj.weight": "bf16",
    "self_attn.o_proj.weight": "bf16",
    "self_attn.k_proj.bias": "f16",
    "self_attn.v_proj.bias": "f16",
    "mlp.gate_proj.weight": "f16",
    "mlp.up_proj.weight": "f16",
    "mlp.down_proj.weight": "f16",
    "query": "bf16",
}

# name, overrides of BASE, n_tokens, grid (h, w) or None, weights dtype, tokens dtype, description
CASES = [
    ("none_bidir_f32", dict(rope="none", attention="bidirectional"), 37, None, "f32", "f32",
     "No RoPE, bidirectional, GQA 4:2, odd N = 37, no grid."),
    ("none_causal_f16_mha", dict(rope="none", attention="causal", num_key_value_heads=4, intermediate_size=192), 37, None,
     "f16", "f16", "No RoPE, causal mask, kv_heads == heads (plain MHA), I = 3·D, f16 weights and f16 tokens."),
    ("rope1d_bidir_f32", dict(rope="1d", attention="bidirectional"), 37, None, "f32", "f32",
     "1-D RoPE (query at 0, token i at i+1), bidirectional, GQA 4:2, N = 37, no grid."),
    ("rope1d_causal_bf16_gqa4", dict(rope="1d", attention="causal", num_key_value_heads=1), 33, (3, 11), "bf16", "f32",
     "1-D RoPE, causal, GQA 4:1 (one KV head), bf16 weights; a (matching, unused) 3×11 grid is passed."),
    ("rope1d_causal_eps_theta", dict(rope="1d", attention="causal", rms_norm_eps=0.05, rope_theta=100.0), 37, None,
     "f32", "f16", "1-D RoPE, causal, non-default rms_norm_eps = 0.05 and rope_theta = 100 (both must be "
     "read from the metadata), f16 tokens."),
    ("mrope_bidir_f32_5x7", dict(rope="mrope", attention="bidirectional", rope_theta=100.0), 35, (5, 7), "f32", "f32",
     "M-RoPE on a non-square 5×7 grid, sections 2,3,3, theta 100, bidirectional, GQA 4:2."),
    ("mrope_bidir_mixed_7x5", dict(rope="mrope", attention="bidirectional", rope_theta=100.0), 35, (7, 5), "mixed",
     "f16", "M-RoPE on the transposed 7×5 grid, theta 100, mixed-dtype file (f32 + f16 + bf16 tensors), f16 tokens."),
    ("mrope_causal_f16_3x9", dict(rope="mrope", attention="causal", num_key_value_heads=4, rope_theta=100.0), 27,
     (3, 9), "f16", "f16", "M-RoPE on a 3×9 grid, theta 100, causal, kv_heads == heads, f16 weights and tokens."),
    ("mrope_bidir_bf16_d128", dict(rope="mrope", attention="bidirectional", hidden_size=128, intermediate_size=384,
                                    head_dim=32, mrope_section=[4, 6, 6], rms_norm_eps=1e-5, rope_theta=300.0),
     36, (6, 6), "bf16", "f32",
     "Wider model: D = 128, I = 384, head_dim 32, sections 4,6,6, eps 1e-5, theta 300, 6×6 grid, bf16 weights."),
    ("mrope_bidir_f32_3x43", dict(rope="mrope", attention="bidirectional"), 129, (3, 43), "f32", "f32",
     "M-RoPE with the real theta 1e6, N = 129 (crosses 32/64/128 tile boundaries) on a long 3×43 grid."),
    ("mrope_causal_f32_1x1", dict(rope="mrope", attention="causal"), 1, (1, 1), "f32", "f32",
     "Edge case: a single token (1×1 grid), causal."),
]


def stored(weights_dtype: str) -> str | dict:
    """write_pruner's dtype argument for a case's weights_dtype label."""
    return MIXED if weights_dtype == "mixed" else weights_dtype


def make_tokens(n: int, dim: int, seed: int, dtype: str) -> np.ndarray:
    t = weights.random_tokens(n, dim, seed)
    return t.astype(np.float16) if dtype == "f16" else t


def mutants(c: dict, n: int, grid) -> list:
    """(label, config, kwargs for numpy_float64.scores) of deliberately wrong variants that must be caught."""
    out = []
    gh, gw = grid if grid else (0, 0)
    flip = {"bidirectional": "causal", "causal": "bidirectional"}
    out.append((f"attention={flip[c['attention']]}", dict(c, attention=flip[c["attention"]]), {}))
    if c["rope"] != "none":
        out.append(("rope=none", dict(c, rope="none"), {}))
        out.append(("rope_theta=1e6" if c["rope_theta"] != 1e6 else "rope_theta=1e4",
                    dict(c, rope_theta=1e6 if c["rope_theta"] != 1e6 else 1e4), {}))
    if c["rope"] == "mrope" and n > 1:  # a single token sits at (1,1,1) under 1d and mrope alike
        out.append(("rope=1d", dict(c, rope="1d"), {}))
        if gh != gw and gh > 1 and gw > 1:
            out.append(("grid transposed", c, dict(grid_h=gw, grid_w=gh)))
        swapped = numpy_float64.positions("mrope", n, gh, gw)[[0, 2, 1]]
        out.append(("height/width rows swapped", c, dict(position_ids=swapped)))
        sec = c["mrope_section"]
        if sec[::-1] != sec:
            out.append(("mrope_section reversed", dict(c, mrope_section=sec[::-1]), {}))
    if c["num_key_value_heads"] < c["num_attention_heads"] and c["num_key_value_heads"] > 1:
        kv = c["num_key_value_heads"]
        out.append(("GQA head j -> kv j % kv_heads", c, dict(kv_head_of=lambda j: j % kv)))
    if c["rms_norm_eps"] >= 1e-2:  # smaller eps changes are invisible next to mean(x²) ~ 1, by design
        out.append(("rms_norm_eps=1e-6", dict(c, rms_norm_eps=1e-6), {}))
    return out


def check_case(name, c, tensors, tokens, grid, ref, log) -> float:
    """Run the assertions described in the module doc; returns max |numpy - transformers|."""
    n = tokens.shape[0]
    gh, gw = grid if grid else (0, 0)
    scale = max(1.0, float(np.abs(ref).max()))
    npy = numpy_float64.scores(tensors, c, tokens, gh, gw)
    diff = float(np.abs(npy - ref).max())
    assert diff <= NUMPY_AGREEMENT * scale, f"{name}: numpy vs transformers {diff:.3e}"

    # Mask semantics checked on transformers' layer itself: change the last token only.
    if n > 1:
        t2 = tokens.astype(np.float32).copy()
        t2[-1] = t2[-1][::-1] * 1.5
        ref2 = transformers_layer.reference_scores(tensors, c, t2, gh, gw)
        early = float(np.abs(ref2[:-1] - ref[:-1]).max())
        if c["attention"] == "causal":
            assert early <= 1e-6 * scale, f"{name}: causal, yet earlier scores moved by {early}"
        else:
            assert early > 1e-3 * scale, f"{name}: bidirectional, yet earlier scores did not move ({early})"

    tol = score_tolerance(ref)
    margins = []
    for label, mc, kw in mutants(c, n, grid):
        kw = dict(kw)
        mh, mw = kw.pop("grid_h", gh), kw.pop("grid_w", gw)
        m = numpy_float64.scores(tensors, mc, tokens, mh, mw, **kw)
        d = float(np.abs(m - ref).max())
        weak_ok = label in WEAK_OK.get(name, ())
        assert weak_ok or d > MUTANT_MARGIN * tol, (
            f"{name}: wrong variant '{label}' only moves scores by {d:.3g} (tol {tol:.3g})")
        margins.append(f"{label}: {d / tol:.1f}x" + (" (not required)" if weak_ok else ""))
    log(f"  {name}: max|S|={np.abs(ref).max():.3f}  |numpy-transformers|={diff:.2e}  "
        f"wrong variants (x tol): {', '.join(margins) or '-'}")
    return diff


def case_entry(name, c, n, grid, wdt, tdt) -> dict:
    return {
        "name": name,
        "n_tokens": n,
        "dim": c["hidden_size"],
        "grid_h": grid[0] if grid else 0,
        "grid_w": grid[1] if grid else 0,
        "rope": c["rope"],
        "attention": c["attention"],
        "weights_dtype": wdt,
        "tokens_dtype": tdt,
        "heads": c["num_attention_heads"],
        "kv_heads": c["num_key_value_heads"],
        "head_dim": c["head_dim"],
        "intermediate": c["intermediate_size"],
        "max_abs_score": None,  # filled in after scoring
        "rms_norm_eps": c["rms_norm_eps"],
        "rope_theta": c["rope_theta"],
        "mrope_section": c["mrope_section"],
    }


def write_case(out: Path, name, c, tensors, wdt, tokens, grid, log) -> dict:
    """Write weights + tokens, score from what was written, write scores; returns the cases.json entry."""
    wpath = out / f"{name}.safetensors"
    weights.write_pruner(wpath, c, tensors, stored(wdt))
    np.save(out / f"{name}.tokens.npy", np.ascontiguousarray(tokens))
    # Score from the file bytes: rounded weights, exactly what the runtime will load.
    c_file, t_file = weights.read_pruner(wpath)
    assert c_file == c, (c_file, c)
    tokens_file = np.load(out / f"{name}.tokens.npy")
    gh, gw = grid if grid else (0, 0)
    ref = transformers_layer.reference_scores(t_file, c_file, tokens_file, gh, gw)
    np.save(out / f"{name}.scores.npy", ref.astype(np.float32))
    entry = case_entry(name, c, tokens.shape[0], grid, wdt, "f16" if tokens.dtype == np.float16 else "f32")
    entry["max_abs_score"] = float(np.abs(ref).max())
    entry["_check"] = (t_file, tokens_file, ref)
    return entry


def readme(entries) -> str:
    lines = [
        "<!-- ReconPruner reference fixtures: generated by scripts/make_reference.py, do not edit by hand. -->",
        "# Test fixtures",
        "",
        "Regenerate (from the repo root; byte-identical on the same machine and library versions) or verify with:",
        "",
        "```sh",
        COMMAND,
        f"{COMMAND} --check",
        "```",
        "",
        "Each case `<name>` has three files:",
        "",
        "- `<name>.safetensors`: random ReconPruner weights in the format of docs/weight-file.md, every metadata key present",
        "  (small shapes would contradict the full-size defaults of missing keys).",
        "- `<name>.tokens.npy`: visual tokens `[N, D]`, C-order, f32 or f16 (`tokens_dtype`).",
        "- `<name>.scores.npy`: reference scores, float32 `[N]`.",
        "",
        "`cases.json` lists the cases (`grid_h`/`grid_w` are 0 when no grid is given; extra keys",
        "`rms_norm_eps`, `rope_theta`, `mrope_section` repeat the file's metadata).",
        "",
        "How the references are made (`fastdrive_pruner.reference`): weights are PyTorch-style random",
        "(nn.Linear default uniform init, q/k gain 2.5 so attention is peaked, RMSNorm weights 1 + 0.1·N(0,1),",
        "query 0.5·N(0,1), scorer gain 12 so |S| is O(1)-O(10)), drawn with numpy PCG64 from fixed seeds.",
        "Tokens are N(0,1) rows with per-token scale U(0.5, 2). The weights are written, read back, and",
        "the scores computed from the *stored* values (f16/bf16 upcast exactly to f32, f16 tokens likewise)",
        "with transformers' own `Qwen2_5_VLDecoderLayer` (eager attention, float32) and",
        "`Qwen2_5_VLRotaryEmbedding` (3-row position ids as docs/model.md gives them; `rope=none` passes cos = 1, sin = 0),",
        "a 0 / finfo.min additive mask for `causal` and no mask for `bidirectional`, then",
        "S = (H[1:] ⊙ H[0]) · w_s + b_s. The generator asserts, per case, that an independent float64",
        f"NumPy implementation agrees to {NUMPY_AGREEMENT:g}·max(1, max|S|), that causality holds exactly in the",
        "causal cases (and not in the bidirectional ones), and that deliberately wrong variants (no RoPE,",
        "1-D instead of M-RoPE, transposed grid, swapped height/width, reversed sections, flipped mask,",
        f"wrong GQA mapping, default eps/theta) each move the scores by > {MUTANT_MARGIN:g}× the tolerance of docs/model.md",
        "1e-3·max(1, max|S_ref|), so a runtime with one of those bugs fails. Exceptions (reported, not required):",
        "reversed mrope sections in `mrope_bidir_f32_3x43` (with the real theta 1e6 and head_dim 16 the",
        "height/width frequencies are so low that section-layout mistakes barely show on small grids; this is",
        "also why the other small mrope cases use theta 100 / 300), and RoPE changes in the single-token case.",
        "",
        "Unless noted: D = 64, I = 128, 4 heads, 2 KV heads, head_dim 16, mrope_section 2,3,3 (16,24,24 scaled",
        "to 8 frequency pairs), eps 1e-6, theta 1e6.",
        "",
        "| case | N | grid | rope | attention | weights | tokens | heads/kv | max abs S | what it covers |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    desc = {c[0]: c[6] for c in CASES}
    for e in entries:
        grid = f"{e['grid_h']}×{e['grid_w']}" if e["grid_h"] else "-"
        lines.append(
            f"| `{e['name']}` | {e['n_tokens']} | {grid} | {e['rope']} | {e['attention']} | {e['weights_dtype']} | "
            f"{e['tokens_dtype']} | {e['heads']}/{e['kv_heads']} | {e['max_abs_score']:.3f} | {desc[e['name']]} |"
        )
    lines += [
        "",
        "The mixed-dtype file stores q/k/v/o weights and `query` as bf16, k/v biases and MLP weights as f16,",
        "everything else as f32.",
        "",
        "A full-size case (D 2048, I 11008, 16/2 heads, head_dim 128, 3249 tokens on a 57×57 grid, ~300 MB) is",
        "not committed; make it for slow tests and benchmarks with",
        "",
        "```sh",
        f"{COMMAND} --full-size --out DIR [--rope mrope|1d|none] [--attention bidirectional|causal] \\",
        "    [--weights-dtype f32|f16|bf16] [--tokens-dtype f32|f16] [--check-numpy]",
        "```",
        "",
        "It writes the same three files plus `cases.json` into DIR.",
        "",
    ]
    return "\n".join(lines)


def generate_fixtures(out: Path, log=print) -> list:
    out.mkdir(parents=True, exist_ok=True)
    entries = []
    for idx, (name, over, n, grid, wdt, tdt, _desc) in enumerate(CASES):
        c = schema.normalize_config({**BASE, **over})
        seed = 1000 + 10 * idx  # weights seed; tokens use seed + 1
        tensors = weights.random_pruner(c, seed)
        tokens = make_tokens(n, c["hidden_size"], seed + 1, tdt)
        e = write_case(out, name, c, tensors, wdt, tokens, grid, log)
        t_file, tokens_file, ref = e.pop("_check")
        e["numpy_diff"] = check_case(name, c, t_file, tokens_file, grid, ref, log)
        entries.append(e)
    public = [{k: v for k, v in e.items() if k != "numpy_diff"} for e in entries]
    (out / "cases.json").write_text(json.dumps(public, indent=2) + "\n")
    (out / "README.md").write_text(readme(public))
    return entries


def full_size(args) -> None:
    torch.set_num_threads(2)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    c = schema.normalize_config(dict(schema.DEFAULTS, rope=args.rope, attention=args.attention))
    gh, gw = args.grid
    n = gh * gw
    name = f"full_{args.rope}_{args.attention}"
    t0 = time.time()
    tensors = weights.random_pruner(c, args.seed)
    tokens = make_tokens(n, c["hidden_size"], args.seed + 1, args.tokens_dtype)
    e = write_case(out, name, c, tensors, args.weights_dtype, tokens, (gh, gw), print)
    t_file, tokens_file, ref = e.pop("_check")
    print(f"{name}: N={n} grid {gh}x{gw}, max|S|={e['max_abs_score']:.3f}, {time.time() - t0:.1f}s")
    if args.check_numpy:
        t1 = time.time()
        npy = numpy_float64.scores(t_file, c, tokens_file, gh, gw)
        d = float(np.abs(npy - ref).max())
        print(f"  |numpy-transformers| = {d:.3e} (tolerance, docs/model.md: {score_tolerance(ref):.3e}), {time.time() - t1:.1f}s")
    (out / "cases.json").write_text(json.dumps([e], indent=2) + "\n")
    for suffix in (".safetensors", ".tokens.npy", ".scores.npy"):
        p = out / f"{name}{suffix}"
        print(f"  {p} ({p.stat().st_size / 1e6:.1f} MB)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", help="output directory (default Tests/Fixtures; required with --full-size)")
    ap.add_argument("--check", action="store_true", help="regenerate into a temp dir and compare with Tests/Fixtures")
    ap.add_argument("--full-size", action="store_true", help="write one full-size case to --out instead")
    ap.add_argument("--rope", default="mrope", choices=schema.ROPE_MODES)
    ap.add_argument("--attention", default="bidirectional", choices=schema.ATTENTION_MODES)
    ap.add_argument("--weights-dtype", default="f32", choices=(*weights.DTYPES, "mixed"))
    ap.add_argument("--tokens-dtype", default="f32", choices=("f32", "f16"))
    ap.add_argument("--grid", type=int, nargs=2, default=(57, 57), metavar=("H", "W"))
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--check-numpy", action="store_true", help="full size: also run the float64 NumPy path (slow)")
    args = ap.parse_args()

    if args.full_size:
        if not args.out:
            ap.error("--full-size needs --out DIR")
        full_size(args)
        return 0

    # One thread: tiny matmuls, and a fixed reduction order keeps the f32 scores bit-reproducible.
    torch.set_num_threads(1)
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            generate_fixtures(Path(tmp), log=lambda s: None)
            names = sorted(p.name for p in Path(tmp).iterdir())
            _, mismatch, errors = filecmp.cmpfiles(tmp, FIXTURES, names, shallow=False)
            stale = sorted(set(p.name for p in FIXTURES.iterdir()) - set(names))
        for f in mismatch + errors:
            print(f"differs or missing: {f}")
        for f in stale:
            print(f"not generated (stale?): {f}")
        print("fixtures are up to date" if not (mismatch or errors) else "fixtures are NOT up to date")
        return 1 if (mismatch or errors) else 0

    out = Path(args.out) if args.out else FIXTURES
    entries = generate_fixtures(out)
    total = sum(p.stat().st_size for p in out.iterdir() if p.is_file())
    print(f"{len(entries)} cases, {total / 1e6:.2f} MB in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
