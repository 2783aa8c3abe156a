#!/usr/bin/env python3
# abort_latency.py — how long a full-size score takes to stop once another thread asks it to.
"""Abort latency: fastdrive_pruner_request_abort (another thread) → fastdrive_pruner_score returns.

A full-size pruner (Qwen2.5-VL-3B layer, D = 2048) scores one 57 × 57 frame (3249 tokens) on a
handle of --threads threads; a second thread calls fastdrive_pruner_request_abort at a random
moment inside the call and the latency is the time from just before that call to the return of
score (FASTDRIVE_ERR_ABORTED). The request lands in a different phase each trial (projections,
attention, MLP, ...), so the maximum is the figure that matters; the README quotes it with the
fastest and the median. F32 and BF16 trials alternate in one process, so both see the same load.
It also checks that every trial returned ABORTED and that the handle then scores bit for bit as
before the aborts.

    .venv/bin/python Benchmarks/abort_latency.py [--trials 12] [--threads 2] [--weights full.safetensors]
"""
from __future__ import annotations

import argparse
import ctypes
import os
import platform
import random
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "python"))

from fastdrive_pruner import _lib  # noqa: E402  (the package's ctypes mirror of the header)
from fastdrive_pruner._lib import DType, PrunerOptions, Status, Tokens  # noqa: E402

N, GRID = 3249, 57


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def create(lib, path: str, compute: DType, threads: int) -> int:
    o = PrunerOptions()
    o.struct_size = ctypes.sizeof(PrunerOptions)
    o.max_tokens = N
    o.num_threads = threads
    o.compute = int(compute)
    handle = ctypes.c_void_p()
    status = lib.fastdrive_pruner_create(path.encode(), ctypes.byref(o), ctypes.byref(handle))
    if status != Status.OK:
        sys.exit(f"create ({compute.name}): {lib.fastdrive_pruner_last_error(None).decode()}")
    return handle.value


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trials", type=int, default=12, help="aborted calls per compute type")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--weights", default="/tmp/fastdrive-bench/full.safetensors",
                    help="full-size weight file (made with `fastdrive-pruner init --config full` if missing)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    weights = Path(args.weights)
    if not weights.exists():
        weights.parent.mkdir(parents=True, exist_ok=True)
        cli = ROOT / ".build" / "release" / "fastdrive-pruner"
        subprocess.run([str(cli), "init", "--config", "full", "--out", str(weights)], check=True, stdout=subprocess.DEVNULL)
    lib = _lib.load()
    computes = [DType.F32, DType.BF16]
    handles = {c: create(lib, str(weights), c, args.threads) for c in computes}
    tokens = np.random.default_rng(args.seed).standard_normal((N, 2048), dtype=np.float32)
    view = Tokens(tokens.ctypes.data, int(DType.F32), N, 2048, 0, GRID, GRID)
    out = np.empty(N, dtype=np.float32)
    f32p = ctypes.POINTER(ctypes.c_float)

    def score(handle: int) -> int:
        return lib.fastdrive_pruner_score(handle, ctypes.byref(view), out.ctypes.data_as(f32p))

    # Reference scores and the call's length, per compute type.
    reference, call_ms = {}, {}
    for c in computes:
        score(handles[c])  # warm-up: page in the weights
        t0 = time.perf_counter()
        status = score(handles[c])
        call_ms[c] = (time.perf_counter() - t0) * 1e3
        assert status == Status.OK
        reference[c] = out.copy()

    rng = random.Random(args.seed)
    latencies = {c: [] for c in computes}
    for trial in range(args.trials):
        for c in computes if trial % 2 == 0 else reversed(computes):  # interleaved, order alternating
            handle = handles[c]
            delay = rng.uniform(0.02, 0.9) * call_ms[c] / 1e3
            requested = [0.0]

            def request() -> None:
                time.sleep(delay)
                requested[0] = time.perf_counter()
                lib.fastdrive_pruner_request_abort(handle)

            t = threading.Thread(target=request)
            t.start()
            status = score(handle)
            returned = time.perf_counter()
            t.join()
            lib.fastdrive_pruner_reset_abort(handle)
            if status != Status.ERR_ABORTED:
                print(f"  {c.name} trial {trial}: the call finished before the request (status {status}); skipped")
                continue
            latencies[c].append((returned - requested[0]) * 1e3)

    exact = True
    for c in computes:
        exact &= score(handles[c]) == Status.OK and out.tobytes() == reference[c].tobytes()
        lib.fastdrive_pruner_destroy(handles[c])

    load = os.getloadavg()
    print(f"machine: {cpu_name()}, {os.cpu_count()} CPUs; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"library {lib.fastdrive_pruner_version().decode()}, {args.threads} threads, N = {N}, D = 2048, "
          f"{args.trials} trials each, f32 and bf16 interleaved")
    print("| compute | full call (ms) | abort latency fastest (ms) | median (ms) | max (ms) |")
    print("|---|---|---|---|---|")
    for c in computes:
        lat = latencies[c]
        if lat:
            print(f"| {c.name.lower()} | {call_ms[c]:.0f} | {min(lat):.1f} | {statistics.median(lat):.1f} | {max(lat):.1f} |")
    print("after the aborts the handles scored bit for bit as before:", "yes" if exact else "NO")
    if not exact:
        sys.exit(1)


if __name__ == "__main__":
    main()
