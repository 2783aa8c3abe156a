#!/usr/bin/env python3
# fuzz_cli.py — randomized, mutational fuzzing of the `fastdrive-pruner` command line, bounded in time.
#
# usage: Tests/fuzz/fuzz_cli.py CLI [--seconds 30] [--seed N] [--artifacts DIR]
#
# Builds command lines for every command from a grammar of options and values chosen to break
# parsers: boundary integers (0, -1, 2^31, 2^32, 2^63, 10^30), NaN/Inf/5e9 reals, malformed grids,
# empty, very long and non-UTF-8 arguments; paths to valid and hostile weight files and .npy
# files (Tests/fuzz/corpus, Tests/fuzz/npy-corpus, and mutations of valid .npy files made on the
# fly: flipped bytes, rewritten shapes and dtypes, truncations), directories, /dev/zero, a FIFO
# with no writer, missing and non-UTF-8 names. Then mutates the command lines (drop, repeat,
# swap, insert). Every run must end, within its timeout, with exit status 0 (success), 1 (refused
# input, with a message) or 64 (usage): a signal, any other status or a hang is a finding, saved
# to the artifacts folder as a JSON argv (bytes as latin-1 escapes) and reported.
# Values that legitimately take long (many runs, huge but valid token counts) are left out, and
# outputs are never FIFOs (writing to a FIFO waits for a reader, as in any Unix tool).
# Exit status: 0 = no finding; 1 = findings; 2 = setup failed.
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ALLOWED = {0, 1, 64}
COMMANDS = ("inspect", "init", "score", "prune", "bench", "bench-policies")
TIMEOUT = 60  # seconds per run; a healthy run on a small model takes well under 1 s

INTS = ["0", "1", "2", "3", "-1", "36", "37", "4096", "2147483647", "2147483648", "4294967295", "4294967296",
        "5000000000", "9223372036854775807", "9223372036854775808", "-9223372036854775808", "1" + "0" * 30,
        "1e3", "0x10", "", " 1", "+1"]
REALS = ["0", "-0", "0.5", "1", "1.0000001", "2", "-0.5", "1e-300", "5e-324", "nan", "inf", "-inf", "5e9",
         "0.25", "abc", ""]
GRIDS = ["6x6", "7x5", "5x7", "1x36", "36x1", "0x1", "1x0", "3000000000x1", "2147483647x2147483647", "x",
         "1x", "x1", "-1x2", "1x2x3", "6X6", "６x６", "6x6 ", "2147483648x1", ""]
JUNK = ["", "-", "--", "---", "-k", "--k", "--out", "=", "--out=", "\u00e9", "x" * 5000]


def run(cli: str, args: list, cwd: Path) -> tuple:
    """(exit status or 'hang', stderr tail) of one run."""
    argv = [os.fsencode(cli)] + [a if isinstance(a, bytes) else os.fsencode(a) for a in args]
    try:
        r = subprocess.run(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, timeout=TIMEOUT, env=dict(os.environ, SWIFT_BACKTRACE="enable=no"))
    except subprocess.TimeoutExpired:
        return "hang", b""
    return r.returncode, r.stderr[-400:]


def mutate_npy(data: bytes, rng: random.Random) -> bytes:
    """One structural or byte-level mutation of a .npy file."""
    choice = rng.randrange(6)
    if choice == 0 and data:  # flip bytes
        b = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            i = rng.randrange(len(b))
            b[i] = rng.randrange(256)
        return bytes(b)
    if choice == 1:  # rewrite one dimension
        head_end = data.find(b"\n")
        if head_end > 0:
            header = data[:head_end].decode("latin-1")
            start = header.find("(")
            end = header.find(")", start)
            if 0 <= start < end:
                dims = [d.strip() for d in header[start + 1:end].split(",") if d.strip()]
                if dims:
                    dims[rng.randrange(len(dims))] = rng.choice(
                        ["-1", "0", "4294967296", "9223372036854775807", "2147483648", "18446744073709551617", "1", "x"])
                new = header[:start + 1] + ", ".join(dims) + ("," if len(dims) == 1 else "") + header[end:]
                return new.encode("latin-1") + data[head_end:]
    if choice == 2:  # rewrite the dtype
        for old in (b"'<f4'", b"'<f2'", b"'<V2'"):
            if old in data:
                return data.replace(old, rng.choice([b"'>f4'", b"'<f8'", b"'<i8'", b"'|O'", b"'<f2'", b"'<V2'", b"'<f4'"]), 1)
    if choice == 3:  # truncate
        return data[:rng.randrange(len(data) + 1)]
    if choice == 4:  # append
        return data + bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    # header length field
    if len(data) >= 10:
        return data[:8] + struct.pack("<H", rng.choice([0, 1, 9, 64, 118, 65535])) + data[10:]
    return data


class Pool:
    """Files and paths the runs draw from."""

    def __init__(self, cli: str, work: Path, rng: random.Random) -> None:
        self.work, self.rng = work, rng
        self.models = []
        for rope in ("mrope", "none"):
            path = work / f"{rope}.safetensors"
            r = subprocess.run([cli, "init", "--rope", rope, "--out", str(path)], capture_output=True)
            if r.returncode != 0:
                raise SystemExit(f"cannot make a model: {r.stderr.decode(errors='replace')}")
            self.models.append(path)
        latin1 = os.fsencode(work) + b"/mod\xe8le.safetensors"
        shutil.copyfile(self.models[0], latin1)
        self.models.append(latin1)
        corpus = sorted((HERE / "corpus").iterdir()) if (HERE / "corpus").is_dir() else []
        self.bad_models = [p for p in corpus if p.name.startswith("bad-")][:40]
        self.tokens = self._tokens()
        npy_corpus = sorted((HERE / "npy-corpus").iterdir()) if (HERE / "npy-corpus").is_dir() else []
        self.npy_seeds = npy_corpus
        self.fifo = work / "fifo"
        os.mkfifo(self.fifo)
        (work / "dir").mkdir()
        self.mutants = 0

    def _tokens(self) -> list:
        """Valid token files: f32 [36, 128], f16 [49, 128], bf16 [36, 128], written without numpy."""
        out = []
        for name, descr, n, size in (("t36.npy", "<f4", 36, 4), ("t49f16.npy", "<f2", 49, 2), ("t36bf16.npy", "<V2", 36, 2)):
            header = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({n}, 128), }}".encode()
            header += b" " * ((64 - (10 + len(header) + 1) % 64) % 64) + b"\n"
            rnd = random.Random(n)
            if size == 4:
                payload = b"".join(struct.pack("<f", rnd.uniform(-2, 2)) for _ in range(n * 128))
            else:  # f16 / bf16: a finite half in both readings (exponent bits kept small)
                payload = b"".join(struct.pack("<H", rnd.randrange(0x3000, 0x3C00)) for _ in range(n * 128))
            path = self.work / name
            path.write_bytes(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + payload)
            out.append(path)
        latin1 = os.fsencode(self.work) + b"/t\xff.npy"
        shutil.copyfile(out[0], latin1)
        out.append(latin1)
        return out

    def weights(self):
        r = self.rng.random()
        if r < 0.75:
            return self.rng.choice(self.models)
        if r < 0.88 and self.bad_models:
            return self.rng.choice(self.bad_models)
        return self.rng.choice([self.fifo, self.work / "dir", "/dev/zero", "/dev/null", self.work / "missing",
                                "", b"/tmp/\xff\xfe-missing", "x" * 5000, "/" + "d" * 300])

    def npy(self):
        r = self.rng.random()
        if r < 0.45:
            return self.rng.choice(self.tokens)
        if r < 0.6 and self.npy_seeds:
            return self.rng.choice(self.npy_seeds)
        if r < 0.9:
            source = self.rng.choice(self.tokens + self.npy_seeds)
            data = Path(os.fsdecode(source)).read_bytes()
            for _ in range(self.rng.randint(1, 3)):
                data = mutate_npy(data, self.rng)
            self.mutants += 1
            path = self.work / f"mutant-{self.mutants % 50}.npy"
            path.write_bytes(data)
            return path
        return self.rng.choice([self.fifo, self.work / "dir", "/dev/zero", "/dev/null", self.work / "missing", "",
                                b"/tmp/\xfe.npy"])

    def out(self):
        return self.rng.choice([self.work / "out.npy", self.work / "out.safetensors", os.fsencode(self.work) + b"/o\xe9.npy",
                                self.work / "dir", self.work / "no" / "such" / "dir.npy", "/dev/null", ""])


def command(pool: Pool, rng: random.Random) -> list:
    """One command line from the grammar."""
    pick = rng.choice
    load = []
    if rng.random() < 0.4:
        load += ["--threads", pick(["0", "1", "2", "3", "256", "257", "4294967295", "4294967296", "-1", "x"])]
    if rng.random() < 0.4:
        load += ["--max-tokens", pick(["0", "1", "35", "36", "4096", "4294967295", "4294967296", "-1"])]
    if rng.random() < 0.3:
        load += ["--compute", pick(["f32", "bf16", "f16", "F32", ""])]
    grid = ["--grid", pick(GRIDS)] if rng.random() < 0.7 else []
    which = rng.randrange(10)
    if which == 0:
        return ["inspect", pool.weights()]
    if which == 1:
        args = ["init", "--out", pool.out()]
        if rng.random() < 0.5:
            args += ["--rope", pick(["none", "1d", "mrope", "2d", ""])]
        if rng.random() < 0.5:
            args += ["--attention", pick(["bidirectional", "causal", "full"])]
        if rng.random() < 0.5:
            args += ["--dtype", pick(["f32", "f16", "bf16", "BF16", "f64"])]
        if rng.random() < 0.3:
            args += ["--seed", pick(INTS)]
        if rng.random() < 0.2:
            args += ["--config", pick(["small", "large"])]
        return args
    if which in (2, 3):
        return ["score", pool.weights(), pool.npy(), "--out", pool.out(), *grid, *load]
    if which in (4, 5, 6):
        args = ["prune", pool.weights(), pool.npy(), "--out", pool.out(), *grid, *load]
        r = rng.random()
        if r < 0.45:
            args += ["-k", pick(INTS)]
        elif r < 0.9:
            args += ["--keep-ratio", pick(REALS)]
        else:
            args += ["-k", pick(INTS), "--keep-ratio", pick(REALS)]
        if rng.random() < 0.5:
            args += ["--kept", pool.out()]
        return args
    if which == 7:
        return ["bench", pool.weights(), "--tokens", pick(["1", "2", "36", "0", "-1", "2147483648", "4294967296",
                                                          "5000000000", "9223372036854775807", "5e9"]),
                "--runs", pick(["1", "2", "0", "-1", "9223372036854775808"]),
                "--frames", pick(["1", "2", "64", "65", "0", "-1", "4611686018427387904"]), *load[:2],
                *(["--json"] if rng.random() < 0.3 else [])]
    if which == 8:
        return ["bench-policies", pool.weights(), "--tokens", pick(["1", "2", "36", "0", "-1", "4294967296",
                                                                   "9223372036854775807"]),
                "--k", pick(["0", "1", "18", "36", "37", "-1", "9223372036854775807"]),
                "--runs", pick(["1", "0", "-1"]), *load[:2]]
    return [pick(["--help", "--version", "help", "nope", "score", "prune", "-h"] + JUNK)]


def mutate(args: list, pool: Pool, rng: random.Random) -> list:
    args = list(args)
    for _ in range(rng.choice([0, 0, 1, 2])):
        op = rng.randrange(5)
        if op == 0 and len(args) > 1:
            del args[rng.randrange(1, len(args))]
        elif op == 1 and args:
            i = rng.randrange(len(args))
            args.insert(i, args[i])
        elif op == 2 and len(args) > 2:
            i, j = rng.randrange(1, len(args)), rng.randrange(1, len(args))
            args[i], args[j] = args[j], args[i]
        elif op == 3:
            args.insert(rng.randrange(len(args) + 1), rng.choice(JUNK + INTS + GRIDS + [pool.npy(), pool.weights()]))
        else:
            i = rng.randrange(len(args)) if args else 0
            if args and isinstance(args[i], str) and args[i].startswith("--") and rng.random() < 0.5:
                args[i] = args[i] + "=" + rng.choice(INTS + REALS)
    return args


def show(args: list) -> str:
    return " ".join(repr(a) if isinstance(a, bytes) or not a or " " in str(a) else str(a) for a in args)


def main() -> int:
    ap = argparse.ArgumentParser(description="Fuzz the fastdrive-pruner command line for a bounded time.")
    ap.add_argument("cli")
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--artifacts", default=".build-fuzz/artifacts")
    a = ap.parse_args()
    a.cli = os.path.abspath(a.cli)
    seed = a.seed if a.seed is not None else random.randrange(2**32)
    rng = random.Random(seed)
    artifacts = Path(a.artifacts)
    artifacts.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="fastdrive-cli-fuzz-") as tmp:
        work = Path(tmp)
        try:
            pool = Pool(a.cli, work, rng)
        except (OSError, SystemExit) as e:
            print(f"cli fuzz: setup failed: {e}")
            return 2
        deadline = time.monotonic() + a.seconds
        runs, statuses, findings = 0, {}, []
        while time.monotonic() < deadline:
            args = [str(x) if isinstance(x, Path) else x for x in mutate(command(pool, rng), pool, rng)]
            status, err = run(a.cli, args, work)
            runs += 1
            name = args[0] if args and args[0] in COMMANDS else "(other)"
            statuses.setdefault(name, set()).add(status)
            if status not in ALLOWED:
                findings.append((status, args, err))
                record = {"status": status, "seed": seed, "argv": [x.decode("latin-1") if isinstance(x, bytes) else x
                                                                    for x in args]}
                (artifacts / f"cli-{len(findings)}-{seed}.json").write_text(json.dumps(record))
                for x in args:  # keep the mutated input (its file is reused by later runs)
                    if isinstance(x, str) and Path(x).parent == work and Path(x).name.startswith("mutant-"):
                        shutil.copyfile(x, artifacts / f"cli-{len(findings)}-{seed}-{Path(x).name}")
    summary = ", ".join(f"{k}: {sorted(map(str, v))}" for k, v in sorted(statuses.items()))
    print(f"cli fuzz: {runs} runs in {a.seconds:.0f} s (seed {seed}), {pool.mutants} mutated .npy files; exit statuses {summary}")
    for status, args, err in findings[:10]:
        print(f"FINDING: status {status}: fastdrive-pruner {show(args)}\n  {err.decode(errors='replace').strip()[-300:]}")
    print(f"findings: {len(findings)}")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
