#!/usr/bin/env python3
"""compare_revisions.py — our runtime at two commits, side by side: same scores? same speed?

For a change that must not change behaviour (a refactor), this answers both questions in one run:

1. builds the `fastdrive-pruner` CLI of each commit from a clean export (`git archive`, so the
   working tree is not touched), each in its own build folder, cached by commit;
2. scores the same tokens with both builds: a full-size model (f32 and, where the CPU has it,
   bf16 compute) and a small model in every rope × attention mode; the score files must be
   byte-identical;
3. times `fastdrive-pruner bench` of both builds on the same full-size weights, interleaved
   (base, head, head, base, ...) so that a change in machine load hits both alike, and reports the
   fastest and the median of the per-process medians and their ratio.

Shared machines vary by 20-50 % from run to run: trust ratios from one interleaved run on a quiet
machine (`uptime` near 0), not figures from separate runs. Stdlib only (NumPy is used for the
tokens when present). Nothing here is API.

    Benchmarks/compare_revisions.py --base main --head HEAD --rounds 6 --runs 5
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import struct
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def log(msg: str) -> None:
    print(msg, flush=True)


def run(cmd: list, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)


def resolve(rev: str) -> str:
    r = run(["git", "-C", REPO, "rev-parse", "--verify", rev + "^{commit}"])
    if r.returncode != 0:
        sys.exit(f"unknown revision {rev!r}: {r.stderr.strip()}")
    return r.stdout.strip()


def build(sha: str, work: Path) -> Path:
    """The release CLI of commit `sha`, built once into work/build-<sha>."""
    src, out = work / f"src-{sha}", work / f"build-{sha}"
    cli = out / "release" / "fastdrive-pruner"
    if cli.exists():
        return cli
    if not src.exists():
        src.mkdir(parents=True)
        archive = subprocess.Popen(["git", "-C", str(REPO), "archive", sha], stdout=subprocess.PIPE)
        subprocess.run(["tar", "-x", "-C", str(src)], stdin=archive.stdout, check=True)
        archive.wait()
    log(f"building {sha[:10]} (swift build -c release) ...")
    t0 = time.time()
    r = run(["swift", "build", "-c", "release", "--package-path", src, "--scratch-path", out])
    if r.returncode != 0 or not cli.exists():
        sys.exit(f"build of {sha[:10]} failed:\n{(r.stdout + r.stderr)[-3000:]}")
    log(f"  built in {time.time() - t0:.0f} s")
    return cli


def write_npy(path: Path, n: int, d: int, seed: int) -> None:
    """[n, d] float32 standard normals, C order."""
    if path.exists():
        return
    try:
        import numpy as np
        payload = np.random.default_rng(seed).standard_normal((n, d), dtype=np.float32).tobytes()
    except ImportError:
        rng = random.Random(seed)
        payload = struct.pack(f"<{n * d}f", *(rng.gauss(0, 1) for _ in range(n * d)))
    header = f"{{'descr': '<f4', 'fortran_order': False, 'shape': ({n}, {d}), }}".encode()
    header += b" " * (-(10 + len(header) + 1) % 64) + b"\n"
    path.write_bytes(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + payload)


def identity(clis: dict, work: Path, tokens: int, computes: list) -> bool:
    """Scores of both builds on the same inputs must be byte-identical."""
    head_cli = clis["head"]
    cases = []
    full = work / "full-seed0.safetensors"
    if not full.exists():
        r = run([head_cli, "init", "--config", "full", "--seed", "0", "--out", full])
        if r.returncode != 0:
            sys.exit(f"init failed: {r.stderr}")
    side = int(round(tokens ** 0.5))
    grid = f"{side}x{side}" if side * side == tokens else f"1x{tokens}"
    write_npy(work / f"tokens-{tokens}x2048.npy", tokens, 2048, 1)
    for c in computes:
        cases.append((f"full size, N = {tokens}, {c}", full, work / f"tokens-{tokens}x2048.npy", grid, c))
    write_npy(work / "tokens-300x128.npy", 300, 128, 2)
    for rope in ("none", "1d", "mrope"):
        for attention in ("bidirectional", "causal"):
            model = work / f"small-{rope}-{attention}.safetensors"
            if not model.exists():
                r = run([head_cli, "init", "--config", "small", "--rope", rope, "--attention", attention,
                         "--seed", "3", "--out", model])
                if r.returncode != 0:
                    sys.exit(f"init failed: {r.stderr}")
            for c in computes:
                cases.append((f"small, {rope}, {attention}, {c}", model, work / "tokens-300x128.npy", "15x20", c))
    same = True
    for name, model, toks, g, c in cases:
        outs = {}
        for label, cli in clis.items():
            out = work / f"scores-{label}.npy"
            r = run([cli, "score", model, toks, "--grid", g, "--threads", "2", "--compute", c, "--out", out])
            outs[label] = (r.returncode, out.read_bytes() if r.returncode == 0 else r.stderr.strip())
        if outs["base"][0] != 0 and outs["head"][0] != 0 and "AVX512_BF16" in str(outs["head"][1]):
            log(f"  {name:36} skipped (no AVX512_BF16)")
            continue
        failed = [label for label, (rc, _) in outs.items() if rc != 0]
        ok = not failed and outs["base"] == outs["head"]
        same &= ok
        verdict = "byte-identical" if ok else f"FAILED ({', '.join(failed)}: {outs[failed[0]][1]})" if failed else "DIFFERENT"
        log(f"  {name:36} {verdict}")
    return same


def bench(cli: Path, weights: Path, args, compute: str) -> dict:
    r = run([cli, "bench", weights, "--tokens", args.tokens, "--threads", args.threads, "--runs", args.runs,
             "--compute", compute, "--json"])
    if r.returncode != 0:
        return {"error": r.stderr.strip()[-300:]}
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base", default="main", help="the reference commit (default main)")
    ap.add_argument("--head", default="HEAD", help="the commit under test (default HEAD; commit your changes first)")
    ap.add_argument("--tokens", type=int, default=3249)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--compute", default="f32,bf16", help="comma-separated: f32, bf16")
    ap.add_argument("--rounds", type=int, default=6, help="bench processes per build and compute type")
    ap.add_argument("--runs", type=int, default=5, help="timed runs per bench process")
    ap.add_argument("--workdir", type=Path, default=REPO / ".build" / "compare")
    ap.add_argument("--no-identity", action="store_true", help="skip the byte-identity check of scores")
    args = ap.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    computes = [c for c in args.compute.split(",") if c]
    shas = {"base": resolve(args.base), "head": resolve(args.head)}
    log(f"base {args.base} = {shas['base'][:10]}, head {args.head} = {shas['head'][:10]}; load {os.getloadavg()}")
    clis = {label: build(sha, args.workdir) for label, sha in shas.items()}

    identical = True
    if not args.no_identity:
        log("scores (same tokens, both builds):")
        identical = identity(clis, args.workdir, args.tokens, computes)

    weights = args.workdir / "full-seed0.safetensors"
    if not weights.exists():
        r = run([clis["head"], "init", "--config", "full", "--seed", "0", "--out", weights])
        if r.returncode != 0:
            sys.exit(f"init failed: {r.stderr}")
    log(f"timing: {args.rounds} rounds × {len(computes)} compute types × 2 builds, N = {args.tokens}, "
        f"{args.threads} threads, {args.runs} runs per process, interleaved")
    medians = {(label, c): [] for label in clis for c in computes}
    skipped = set()
    for rnd in range(args.rounds):
        order = ["base", "head"] if rnd % 2 == 0 else ["head", "base"]
        for c in computes:
            for label in order:
                if c in skipped:
                    continue
                rec = bench(clis[label], weights, args, c)
                if "error" in rec:
                    log(f"  round {rnd + 1} {c} {label}: {rec['error']}")
                    if "AVX512_BF16" in rec["error"]:
                        skipped.add(c)
                    continue
                medians[(label, c)].append(rec["ms_median"])
                log(f"  round {rnd + 1} {c:4} {label}: median {rec['ms_median']:8.1f} ms  (load {os.getloadavg()[0]:.1f})")
    log("")
    log(f"| compute | base fastest | base median | head fastest | head median | head/base fastest | head/base median |")
    log("|---|--:|--:|--:|--:|--:|--:|")
    for c in computes:
        b, h = medians[("base", c)], medians[("head", c)]
        if not b or not h:
            continue
        log(f"| {c} | {min(b):.0f} ms | {statistics.median(b):.0f} ms | {min(h):.0f} ms | {statistics.median(h):.0f} ms "
            f"| {min(h) / min(b):.3f} | {statistics.median(h) / statistics.median(b):.3f} |")
    log(f"(per-process medians of `bench --runs {args.runs}`; load average at the end {os.getloadavg()})")
    if not identical:
        log("scores DIFFER between the builds")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
