# _common.py — shared by the benchmark peers and run_all.py: tokens, grid, FLOPs, timing stats, RSS, JSON lines.
"""Nothing here is API. No torch import at module level, so the ONNX Runtime peer stays torch-free."""
from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

BENCH_DIR = Path(__file__).resolve().parents[1]
REPO = BENCH_DIR.parent
sys.path.insert(0, str(REPO / "scripts"))  # reference.py: the reference of docs/model.md and the weight-file reader

TOKEN_SEED = 0


def tokens_for(n: int, dim: int) -> np.ndarray:
    """The benchmark tokens: numpy PCG64 seed 0, N(0, 1), float32 [n, dim] (identical for every peer)."""
    return np.random.default_rng(TOKEN_SEED).standard_normal((n, dim), dtype=np.float32)


def grid_for(n: int) -> tuple:
    """The most square grid_h x grid_w = n with grid_h <= grid_w (3249 -> 57x57, 512 -> 16x32)."""
    h = int(n ** 0.5)
    while n % h:
        h -= 1
    return h, n // h


def frame_flops(config: dict, n: int) -> float:
    """FLOPs of one frame, the formula of `fastdrive-pruner bench`: projections, attention, MLP (R = n + 1)."""
    r, d, i = float(n + 1), float(config["hidden_size"]), float(config["intermediate_size"])
    q = float(config["num_attention_heads"] * config["head_dim"])
    kv = float(config["num_key_value_heads"] * config["head_dim"])
    attention = 4 * r * r * q * (0.5 if config.get("attention") == "causal" else 1.0)
    return 2 * r * d * (q + 2 * kv) + 2 * r * q * d + 6 * r * d * i + attention


def summarize(samples_s: list) -> dict:
    """median/p10/p90 in ms with the same index rule as `fastdrive-pruner bench` (sorted[n/2], [n/10], [9n/10])."""
    s = sorted(samples_s)
    n = len(s)
    return {"ms_median": s[n // 2] * 1e3, "ms_p10": s[n // 10] * 1e3, "ms_p90": s[n * 9 // 10] * 1e3}


def time_runs(fn, runs: int, max_seconds: float, min_runs: int = 3) -> tuple:
    """One warm-up call, then `runs` timed calls; fewer (but at least min_runs) if the warm-up says the
    case would exceed max_seconds. Returns (samples in seconds, last result)."""
    t0 = time.perf_counter()
    out = fn()
    warm = time.perf_counter() - t0
    if warm > 0 and runs * warm > max_seconds:
        runs = max(min_runs, int(max_seconds / warm))
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        samples.append(time.perf_counter() - t0)
    return samples, out


def reset_peak_rss() -> bool:
    """Reset this process's VmHWM to its current RSS (Linux: clear_refs 5). False if not permitted."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def release_freed_memory() -> None:
    """gc + glibc malloc_trim(0): hand memory freed while loading back to the OS, so that the measured
    RSS is the steady state, not the allocator's leftovers from transient weight copies."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def peak_rss_mb() -> float:
    """VmHWM of this process in MB (since start or the last reset_peak_rss)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def machine() -> str:
    """CPU model and logical core count, e.g. 'AMD EPYC, 2 cores'."""
    model = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores"


def emit(record: dict) -> None:
    """One JSON line on stdout (the schema of `fastdrive-pruner bench --json`, plus peer fields)."""
    print(json.dumps(record), flush=True)


def load_tokens(tokens_dir: str, n: int, dim: int) -> np.ndarray:
    """tokens_dir/tokens_{n}.npy if the harness wrote it, else generated (same values either way)."""
    p = Path(tokens_dir) / f"tokens_{n}.npy" if tokens_dir else None
    if p is not None and p.exists():
        t = np.load(p)
        assert t.shape == (n, dim) and t.dtype == np.float32, f"{p}: shape {t.shape} dtype {t.dtype}"
        return t
    return tokens_for(n, dim)


def save_scores(scores_dir: str, name: str, n: int, scores: np.ndarray) -> None:
    if scores_dir:
        Path(scores_dir).mkdir(parents=True, exist_ok=True)
        np.save(Path(scores_dir) / f"{name}_{n}.npy", np.asarray(scores, dtype=np.float32))


def read_config(weights: str) -> dict:
    """The normalized config (docs/weight-file.md) from a weight file's header (no tensor data read)."""
    import reference

    meta = reference.read_safetensors_header(weights).get("__metadata__", {}) or {}
    return reference.normalize_config({k: meta[k] for k in reference.FULL_SIZE_CONFIG if k in meta})


def numpy_cos_sin(config: dict, n: int, grid: tuple) -> tuple:
    """Rotary tables for the positions of docs/model.md without torch (reference.py's float64 NumPy path): float32 [1, N+1, head_dim]."""
    import reference

    s = n + 1
    if config["rope"] == "none":
        return np.ones((1, s, config["head_dim"]), np.float32), np.zeros((1, s, config["head_dim"]), np.float32)
    cos, sin = reference._rope_cos_sin(config, reference.position_ids(config["rope"], n, *grid))
    return cos[None].astype(np.float32), sin[None].astype(np.float32)


def parse_ns(text: str) -> list:
    return [int(x) for x in text.split(",") if x.strip()]
