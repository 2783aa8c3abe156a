#!/usr/bin/env python3
# run_all.py — one-shot side-by-side benchmark: fastdrive-pruner vs PyTorch eager vs ONNX Runtime; table, JSON, PNG.
"""Runs every implementation on the same full-size weights, the same tokens and the same thread count,
each in its own subprocess, checks that each computes the reference scores, then prints markdown tables
and writes results/latest.json and results/latency_vs_n.png. Nothing in Benchmarks/ is API.

    .venv/bin/python Benchmarks/run_all.py                      # full run (see README for its duration)
    .venv/bin/python Benchmarks/run_all.py --quick              # smoke test: N = 256, 512, 2 runs

Steps: build (swift build -c release --traits BenchHooks into .build/bench) -> weights (init --config full, seed 0, cached in --workdir)
-> tokens (numpy seed 0, N(0,1)) -> reference scores (untimed) -> ours f32 -> ours bf16 -> ours int8 (n/a if the CLI
has no such --compute) -> PyTorch eager f32 -> bf16 -> dynamic int8 -> ONNX export (cached) -> ONNX Runtime f32 ->
its dynamic int8 quantization. Ratios between these sequential steps carry the machine's drift; for ratios
that must hold on a shared machine use interleaved.py (all contenders loaded, timed round-robin).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from importlib import metadata
from pathlib import Path

import numpy as np
from peers import _common as C  # Benchmarks/ is this script's folder, so Python finds peers/ and report.py
from report import LABELS, ORDER, check, report

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
PEERS = BENCH / "peers"

FULL_NS = "256,512,1024,2048,3249,4096"
T_START = time.monotonic()


def log(msg: str) -> None:
    print(f"[{time.monotonic() - T_START:7.1f} s] {msg}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- subprocesses


def run_child(cmd: list, env: dict = None, timeout: float = 3600.0, echo: bool = False) -> dict:
    """Run cmd, collect stdout lines and stderr; peak RSS of exactly this child via wait4's rusage."""
    t0 = time.monotonic()
    err_path = Path(ARGS.workdir) / "last_stderr.txt"
    with open(err_path, "w+b") as err:
        p = subprocess.Popen([str(c) for c in cmd], stdout=subprocess.PIPE, stderr=err, env=env, text=True)
        timer = threading.Timer(timeout, p.kill)
        timer.start()
        lines = []
        for line in p.stdout:
            lines.append(line.rstrip("\n"))
            if echo:
                log("  " + line.strip()[:160])
        p.stdout.close()
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        timer.cancel()
        err.seek(0)
        stderr = err.read().decode(errors="replace")
    return {"rc": p.returncode, "stdout": lines, "stderr": stderr, "maxrss_mb": ru.ru_maxrss / 1024.0,
            "seconds": time.monotonic() - t0}


def json_lines(lines: list) -> list:
    out = []
    for line in lines:
        line = line.strip()
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    return out


def first_error(stderr: str) -> str:
    lines = [x.strip() for x in stderr.splitlines() if x.strip()]
    hits = [x for x in lines if x.lower().startswith("error") or "Error" in x]
    return (hits or lines or ["(no message)"])[0 if hits else -1][:200]


def python_env() -> dict:
    env = dict(os.environ)
    t = str(ARGS.threads)
    env.update(OMP_NUM_THREADS=t, MKL_NUM_THREADS=t, PYTHONUNBUFFERED="1")
    return env


# ----------------------------------------------------------------------------- steps


def step_build() -> None:
    if ARGS.no_build:
        return
    # The BenchHooks trait compiles in the GEMM-only pass behind `gemm_ms` / `outside_gemm`; its
    # own scratch path keeps the production build in .build/release as it is.
    log("swift build -c release --traits BenchHooks --scratch-path .build/bench")
    r = run_child(["swift", "build", "-c", "release", "--traits", "BenchHooks", "--package-path", REPO,
                   "--scratch-path", REPO / ".build" / "bench"], timeout=3600)
    if r["rc"] != 0:
        sys.exit(f"swift build failed:\n{r['stderr'][-3000:]}")


def step_weights() -> Path:
    w = Path(ARGS.weights) if ARGS.weights else Path(ARGS.workdir) / "full.safetensors"
    if not w.exists():
        log(f"writing random full-size weights {w}")
        r = run_child([CLI, "init", "--config", "full", "--seed", "0", "--out", w])
        if r["rc"] != 0:
            sys.exit(f"init failed: {r['stderr']}")
    return w


def step_tokens(ns: list, dim: int) -> Path:
    d = Path(ARGS.workdir) / "tokens"
    d.mkdir(parents=True, exist_ok=True)
    for n in ns:
        np.save(d / f"tokens_{n}.npy", C.tokens_for(n, dim))
    return d


def cli_json_flag() -> list:
    """`--json` is a flag; early builds of the CLI declared it as an option taking a value (`--json true`)."""
    r = run_child([CLI, "bench", "--help"])
    return ["--json", "true"] if "--json <json>" in "\n".join(r["stdout"]) + r["stderr"] else ["--json"]


def step_ours(weights: Path, ns: list, tokens_dir: Path, scores_dir: Path, dtype: str) -> list:
    """Per N: `score` on the benchmark tokens (scores for the check; peak RSS of that process) and
    `bench --json` (latency, GEMM-only time). bf16 is passed as --compute bf16; n/a if rejected."""
    key = f"ours_{dtype}"
    extra = [] if dtype == "f32" else ["--compute", dtype]
    records = []
    for n in ns:
        gh, gw = C.grid_for(n)
        b = run_child([CLI, "bench", weights, "--tokens", n, "--threads", ARGS.threads, "--runs", ARGS.runs,
                       *JSON_FLAG, *extra], timeout=ARGS.child_timeout)
        rows = json_lines(b["stdout"])
        if b["rc"] != 0 or not rows:
            why = first_error(b["stderr"])
            status = "n/a" if dtype != "f32" and ("--compute" in why or "nknown option" in why
                                                    or "nsupported" in why.lower()) else "failed"
            log(f"{LABELS[key]} N={n}: {status} ({why})")
            if status == "n/a":  # the CLI has no such option: the same for every N
                return records + [{"key": key, "n_tokens": m, "dtype": dtype, "status": status, "note": why}
                                  for m in ns[len(records):]]
            records.append({"key": key, "n_tokens": n, "dtype": dtype, "status": status, "note": why})
            continue
        rec = {"key": key, "status": "ok", "machine": C.machine(), **rows[-1], "bench_process_rss_mb": b["maxrss_mb"]}
        s = run_child([CLI, "score", weights, "--threads", ARGS.threads, tokens_dir / f"tokens_{n}.npy",
                       "--grid", f"{gh}x{gw}", "--out", scores_dir / f"{key}_{n}.npy", *extra],
                      timeout=ARGS.child_timeout)
        if s["rc"] == 0:
            rec["rss_peak_mb"] = s["maxrss_mb"]
        else:
            rec["note"] = f"score: {first_error(s['stderr'])}"
        log(f"{LABELS[key]} N={n}: {rec['ms_median']:.1f} ms, {rec['gflops']:.1f} GFLOP/s, "
            f"GEMM-only {rec.get('gemm_ms', float('nan')):.1f} ms")
        records.append(rec)
    return records


def peer_records(key: str, r: dict, ns: list) -> list:
    rows = {row["n_tokens"]: row for row in json_lines(r["stdout"])}
    out = []
    for n in ns:
        if n in rows:
            rec = {"key": key, "status": "ok", **rows[n], "process_peak_rss_mb": r["maxrss_mb"]}
            log(f"{LABELS[key]} N={n}: {rec['ms_median']:.1f} ms, {rec['gflops']:.1f} GFLOP/s")
        else:
            rec = {"key": key, "n_tokens": n, "dtype": key.split("_")[1], "status": "failed",
                   "note": first_error(r["stderr"])}
            log(f"{LABELS[key]} N={n}: failed ({rec['note']})")
        out.append(rec)
    return out


def step_torch(weights: Path, ns: list, tokens_dir: Path, scores_dir: Path, dtype: str) -> list:
    log(f"{LABELS['torch_' + dtype]}: one process for N = {ns}")
    r = run_child([sys.executable, PEERS / "torch_eager.py", "--weights", weights, "--ns", ",".join(map(str, ns)),
                   "--dtype", dtype, "--threads", ARGS.threads, "--runs", ARGS.runs, "--max-seconds",
                   ARGS.max_seconds, "--tokens-dir", tokens_dir, "--scores-dir", scores_dir],
                  env=python_env(), timeout=ARGS.child_timeout * len(ns))
    return peer_records(f"torch_{dtype}", r, ns)


def step_ort(weights: Path, ns: list, tokens_dir: Path, scores_dir: Path, dtype: str = "f32") -> list:
    key = f"ort_{dtype}"
    model = Path(ARGS.workdir) / "onnx" / "pruner.onnx"
    stamp = model.with_suffix(".source.json")
    st = weights.stat()
    want = {"weights": str(weights.resolve()), "size": st.st_size, "mtime": st.st_mtime,
            "torch": version("torch"), "transformers": version("transformers")}
    if not (model.exists() and stamp.exists() and json.loads(stamp.read_text()) == want):
        log("exporting the PyTorch peer module to ONNX")
        r = run_child([sys.executable, PEERS / "onnx_ort.py", "export", "--weights", weights, "--out", model,
                       "--threads", ARGS.threads], env=python_env(), timeout=ARGS.child_timeout)
        if r["rc"] != 0:
            why = first_error(r["stderr"])
            log(f"ONNX export failed: {why}")
            return [{"key": key, "n_tokens": n, "dtype": dtype, "status": "failed", "note": f"export: {why}"}
                    for n in ns]
        stamp.write_text(json.dumps(want))
    log(f"{LABELS[key]}: one process for N = {ns}")
    r = run_child([sys.executable, PEERS / "onnx_ort.py", "run", "--model", model, "--weights", weights,
                   "--ns", ",".join(map(str, ns)), "--threads", ARGS.threads, "--runs", ARGS.runs,
                   "--max-seconds", ARGS.max_seconds, "--tokens-dir", tokens_dir, "--scores-dir", scores_dir,
                   *(["--int8"] if dtype == "int8" else [])],
                  env=python_env(), timeout=ARGS.child_timeout * len(ns))
    return peer_records(key, r, ns)


def step_reference(weights: Path, ns: list, tokens_dir: Path, scores_dir: Path) -> None:
    log(f"reference scores (untimed) for N = {ns}")
    r = run_child([sys.executable, PEERS / "reference_scores.py", "--weights", weights, "--ns",
                   ",".join(map(str, ns)), "--threads", ARGS.threads, "--tokens-dir", tokens_dir,
                   "--out-dir", scores_dir], env=python_env(), timeout=ARGS.child_timeout * len(ns))
    if r["rc"] != 0:
        log(f"reference failed: {first_error(r['stderr'])}")


def version(pkg: str) -> str:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine_info() -> dict:
    flags = set()
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    ob = subprocess.run(["pkg-config", "--modversion", "openblas"], capture_output=True, text=True)
    ver = run_child([CLI, "--version"])
    import psutil

    freq = psutil.cpu_freq()
    return {
        "cpu": C.machine(), "isa": sorted(flags & {"avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni",
                                                   "amx_bf16", "amx_tile"}),
        "physical_cores": psutil.cpu_count(logical=False), "mhz": round(freq.current) if freq else None,
        "mem_gb": round(psutil.virtual_memory().total / 2**30, 1), "kernel": platform.release(), "python": platform.python_version(),
        "fastdrive_pruner": (ver["stdout"] or ["?"])[0].strip(), "openblas": ob.stdout.strip() or "?",
        "torch": version("torch"), "transformers": version("transformers"), "onnxruntime": version("onnxruntime"),
        "onnx": version("onnx"), "numpy": version("numpy"),
    }


# ----------------------------------------------------------------------------- main


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ns", default=FULL_NS, help=f"token counts of the sweep (default {FULL_NS})")
    ap.add_argument("--main-n", type=int, default=3249, help="N of the main table (default 3249)")
    ap.add_argument("--threads", type=int, default=2, help="threads for every implementation (default 2)")
    ap.add_argument("--runs", type=int, default=5, help="timed runs per case after one warm-up (default 5)")
    ap.add_argument("--max-seconds", type=float, default=120.0,
                    help="Python peers: cap on timed seconds per case; fewer runs (>= 3) if exceeded")
    ap.add_argument("--only", default=",".join(ORDER), help="subset of " + ",".join(ORDER))
    ap.add_argument("--weights", default="", help="weight file (default: WORKDIR/full.safetensors, made if missing)")
    ap.add_argument("--workdir", default="/tmp/fastdrive-bench", help="weights, tokens, ONNX model, scores")
    ap.add_argument("--out", default=str(BENCH / "results"), help="where latest.json and the PNG go")
    ap.add_argument("--no-build", action="store_true", help="skip the build (swift build -c release --traits BenchHooks --scratch-path .build/bench)")
    ap.add_argument("--no-check", action="store_true", help="skip the reference scores and the checks")
    ap.add_argument("--child-timeout", type=float, default=1800.0, help="seconds per subprocess (per N for peers)")
    ap.add_argument("--from-json", default="", help="re-make tables and PNG from a saved latest.json, no runs")
    ap.add_argument("--quick", action="store_true", help="smoke test: --ns 256,512 --main-n 512 --runs 2")
    a = ap.parse_args(argv)
    if a.quick:
        a.ns, a.main_n, a.runs = "256,512", 512, 2
    return a


def measure() -> dict:
    """Every step; returns the latest.json document (tables are added by report())."""
    global JSON_FLAG
    ns = sorted(set(C.parse_ns(ARGS.ns)) | {ARGS.main_n})
    only = [k for k in ARGS.only.split(",") if k]
    bad = [k for k in only if k not in LABELS]
    if bad:
        sys.exit(f"--only: unknown {bad}; choose from {ORDER}")
    started = dt.datetime.now().astimezone()
    load_before = os.getloadavg()
    durations = {}

    def timed(name, fn, *a):
        t0 = time.monotonic()
        out = fn(*a)
        durations[name] = round(time.monotonic() - t0, 1)
        return out

    timed("build", step_build)
    if not CLI.exists():
        sys.exit(f"{CLI} is missing: run `swift build -c release --traits BenchHooks --scratch-path .build/bench` (or drop --no-build)")
    JSON_FLAG = cli_json_flag()
    weights = timed("weights", step_weights)
    config = C.read_config(str(weights))
    if config["attention"] != "bidirectional":
        sys.exit("the benchmark expects attention=bidirectional weights")
    tokens_dir = timed("tokens", step_tokens, ns, config["hidden_size"])
    scores_dir = Path(ARGS.workdir) / "scores"
    shutil.rmtree(scores_dir, ignore_errors=True)
    scores_dir.mkdir(parents=True)
    log(f"machine: {C.machine()}; load average {load_before[0]:.2f}; N = {ns}; threads {ARGS.threads}; "
        f"runs {ARGS.runs}")

    if not ARGS.no_check:
        timed("reference", step_reference, weights, ns, tokens_dir, scores_dir)
    records = []
    for key in ORDER:
        if key not in only:
            continue
        if key.startswith("ours_"):
            records += timed(key, step_ours, weights, ns, tokens_dir, scores_dir, key.split("_")[1])
        elif key.startswith("torch_"):
            records += timed(key, step_torch, weights, ns, tokens_dir, scores_dir, key.split("_")[1])
        else:
            records += timed(key, step_ort, weights, ns, tokens_dir, scores_dir, key.split("_")[1])

    for r in records:
        check(r, scores_dir)
        base = next((x for x in records if x["key"] == "ours_f32" and x["n_tokens"] == r["n_tokens"]
                     and x["status"] == "ok"), None)
        if base and r["status"] == "ok":
            r["ratio_vs_ours_f32"] = r["ms_median"] / base["ms_median"]
        r["label"] = LABELS[r["key"]]
    return {
        "date": started.isoformat(timespec="seconds"), "machine": machine_info(),
        "load_average_before": load_before, "load_average_after": os.getloadavg(),
        "settings": {"ns": ns, "main_n": ARGS.main_n, "threads": ARGS.threads, "runs": ARGS.runs,
                     "max_seconds": ARGS.max_seconds, "token_seed": C.TOKEN_SEED, "weights": str(weights),
                     "weight_bytes": weights.stat().st_size, "config": config},
        "flops_per_frame": {str(n): C.frame_flops(config, n) for n in ns},
        "results": records, "durations_s": durations, "total_s": round(time.monotonic() - T_START, 1),
    }


def main(argv=None) -> int:
    global ARGS, CLI
    ARGS = parse_args(argv)
    CLI = REPO / ".build" / "bench" / "release" / "fastdrive-pruner"
    if ARGS.from_json:
        return report(json.loads(Path(ARGS.from_json).read_text()), Path(ARGS.out))
    Path(ARGS.workdir).mkdir(parents=True, exist_ok=True)
    return report(measure(), Path(ARGS.out))


if __name__ == "__main__":
    sys.exit(main())
