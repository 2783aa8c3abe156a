# test_swift_cli.py — the `fastdrive-pruner` tool on input users get wrong: exit 1 (or 64 for usage) with a message, never a signal.
"""Regression tests of the command-line tool (the release build in .build/release, or $FASTDRIVE_PRUNER_CLI).

Each case once trapped, hung, wrote wrong bytes or failed silently. The contract: exit status 0 on
success, 1 when the input or the library refuses it, 64 for a bad command line; a message on
stderr whenever the status is not 0; a bounded time for every input (FIFOs, /dev/zero).
Tests/fuzz/fuzz_cli.py explores the same space at random.
"""
from __future__ import annotations

import os
import struct
import subprocess
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
CLI = os.environ.get("FASTDRIVE_PRUNER_CLI", str(REPO / ".build" / "release" / "fastdrive-pruner"))


def cli(*args, timeout: float = 60) -> subprocess.CompletedProcess:
    argv = [os.fsencode(CLI)] + [a if isinstance(a, bytes) else os.fsencode(str(a)) for a in args]
    return subprocess.run(argv, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL,
                          env=dict(os.environ, SWIFT_BACKTRACE="enable=no"))


def expect(r: subprocess.CompletedProcess, status: int, fragment: str = "") -> None:
    err = r.stderr.decode(errors="replace")
    assert r.returncode == status, f"exit {r.returncode} (want {status}): {err[-600:]}"
    if status != 0:
        assert err.strip(), "no message"
        assert fragment in err, f"{fragment!r} not in {err!r}"


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("cli")
    for rope in ("mrope", "none"):
        expect(cli("init", "--rope", rope, "--out", d / f"{rope}.safetensors"), 0)
    rng = np.random.default_rng(0)
    np.save(d / "t36.npy", rng.standard_normal((36, 128)).astype(np.float32))
    np.save(d / "t36f16.npy", rng.standard_normal((36, 128)).astype(np.float16))
    np.save(d / "t36bf16.npy", rng.standard_normal((36, 128)).astype(ml_dtypes.bfloat16))
    np.save(d / "t1.npy", rng.standard_normal((1, 128)).astype(np.float32))
    return d


def npy_with_shape(path: Path, shape: str, payload: bytes = b"") -> Path:
    header = f"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}".encode()
    header += b" " * ((64 - (10 + len(header) + 1) % 64) % 64) + b"\n"
    path.write_bytes(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + payload)
    return path


@pytest.mark.parametrize("shape", ["(-3, 128)", "(99999999999999999999999, 128)", "(4294967296, 0)",
                                   "(4611686018427387904, 4)", "(3, abc)", "(36)", "(0, 128)", "(36, 0)"])
def test_malformed_npy_headers_are_errors(work, shape) -> None:
    bad = npy_with_shape(work / "bad.npy", shape)
    for command in (["score", work / "none.safetensors", bad, "--out", work / "o.npy"],
                    ["prune", work / "none.safetensors", bad, "-k", "1", "--out", work / "o.npy"]):
        expect(cli(*command), 1, "bad.npy")


@pytest.mark.parametrize("args,status,fragment", [
    (["score", "{none}", "{t36}", "--out", "{out}", "--grid", "3000000000x1"], 64, "--grid"),
    (["score", "{none}", "{t36}", "--out", "{out}", "--grid", "0x36"], 64, "--grid"),
    (["prune", "{none}", "{t36}", "--out", "{out}", "-k", "9223372036854775807"], 1, "more than the 36 tokens"),
    (["prune", "{none}", "{t36}", "--out", "{out}", "-k", "0"], 64, "-k"),
    (["prune", "{none}", "{t36}", "--out", "{out}", "-k", "-9223372036854775808"], 64, "-k"),
    (["prune", "{none}", "{t36}", "--out", "{out}", "--keep-ratio", "0"], 64, "--keep-ratio"),
    (["prune", "{none}", "{t36}", "--out", "{out}", "--keep-ratio", "nan"], 64, "--keep-ratio"),
    (["prune", "{none}", "{t36}", "--out", "{out}"], 64, "exactly one"),
    (["bench", "{none}", "--tokens", "5000000000"], 64, "max_tokens"),
    (["bench", "{none}", "--tokens", "3000000000", "--frames", "2"], 64, "max_tokens"),
    (["bench", "{none}", "--frames", "65"], 64, "--frames"),
    (["bench", "{none}", "--runs", "0"], 64, "--runs"),
    (["bench-policies", "{none}", "--runs", "0"], 64, "--runs"),
    (["bench-policies", "{none}", "--tokens", "36", "--k", "-5"], 64, "--k"),
    (["bench-policies", "{none}", "--tokens", "4294967296"], 64, "--tokens"),
    (["init", "--out", "{out}", "--rope", "2d"], 64, "--rope"),
    (["score", "{none}", "{t36}", "--out", "{out}", "--threads", "1000"], 1, "num_threads"),
])
def test_out_of_range_options_are_errors(work, args, status, fragment) -> None:
    names = {"none": work / "none.safetensors", "t36": work / "t36.npy", "out": work / "o.npy"}
    expect(cli(*[a.format(**names) if a.startswith("{") else a for a in args]), status, fragment)


def test_special_files_never_hang(work) -> None:
    fifo = work / "fifo"
    if not fifo.exists():
        os.mkfifo(fifo)
    weights = work / "mrope.safetensors"
    expect(cli("score", weights, "/dev/zero", "--grid", "6x6", "--out", work / "o.npy", timeout=30), 1, "not a .npy file")
    expect(cli("score", weights, fifo, "--grid", "6x6", "--out", work / "o.npy", timeout=30), 1, "empty input")
    expect(cli("score", weights, work, "--grid", "6x6", "--out", work / "o.npy", timeout=30), 1, "directory")
    expect(cli("score", fifo, work / "t36.npy", "--grid", "6x6", "--out", work / "o.npy", timeout=30), 1, "FIFO")
    expect(cli("inspect", fifo, timeout=30), 1, "FIFO")
    expect(cli("inspect", "/dev/zero", timeout=30), 1, "character device")


@pytest.mark.parametrize("name,descr", [("t36.npy", "<f4"), ("t36f16.npy", "<f2"), ("t36bf16.npy", "<V2")])
def test_prune_kept_rows_keep_the_input_dtype(work, name, descr) -> None:
    expect(cli("prune", work / "mrope.safetensors", work / name, "--grid", "6x6", "-k", "9",
               "--out", work / "i.npy", "--kept", work / "k.npy"), 0)
    indices, kept = np.load(work / "i.npy"), np.load(work / "k.npy")
    tokens = np.load(work / name)
    assert kept.dtype.str in (descr, descr.replace("<", "|")), kept.dtype.str
    assert kept.shape == (9, 128) and indices.dtype == np.int64 and indices.shape == (9,)
    assert kept.tobytes() == tokens[indices].tobytes()
    if descr == "<V2":  # bfloat16 bits, readable as such (they used to be labelled float16)
        np.testing.assert_array_equal(kept.view(ml_dtypes.bfloat16), np.load(work / name).view(ml_dtypes.bfloat16)[indices])


def test_paths_that_are_not_utf8(work) -> None:
    d = os.fsencode(work)
    weights, tokens = d + b"/mod\xe8le.safetensors", d + b"/t\xff.npy"
    expect(cli("init", "--rope", "mrope", "--out", weights), 0)
    (Path(os.fsdecode(tokens))).write_bytes((work / "t36.npy").read_bytes())
    out, kept = d + b"/\xe9-indices.npy", d + b"/\xe9-kept.npy"
    expect(cli("prune", weights, tokens, "--grid", "6x6", "-k", "4", "--out", out, b"--kept=" + kept), 0)
    assert np.load(os.fsdecode(out)).shape == (4,) and np.load(os.fsdecode(kept)).shape == (4, 128)
    expect(cli("score", weights, tokens, "--grid", "6x6", "--out", out), 0)
    expect(cli("inspect", weights), 0)
    r = cli("inspect", d + b"/missing-\xe9.safetensors")
    expect(r, 1, "missing-\\xe9")  # shown escaped, with the reason
    assert b"No such file" in r.stderr


def test_mrope_needs_the_grid_and_nothing_is_guessed(work) -> None:
    weights = work / "mrope.safetensors"
    expect(cli("score", weights, work / "t36.npy", "--out", work / "o.npy"), 1, "--grid")  # 36 = 6x6, still not guessed
    expect(cli("prune", weights, work / "t36.npy", "-k", "3", "--out", work / "o.npy"), 1, "--grid")
    expect(cli("score", weights, work / "t1.npy", "--out", work / "o.npy"), 0)  # one token: one possible grid
    expect(cli("score", work / "none.safetensors", work / "t36.npy", "--out", work / "o.npy"), 0)  # no positions
    expect(cli("score", weights, work / "t36.npy", "--grid", "4x9", "--out", work / "a.npy"), 0)
    expect(cli("score", weights, work / "t36.npy", "--grid", "6x6", "--out", work / "b.npy"), 0)
    assert not np.array_equal(np.load(work / "a.npy"), np.load(work / "b.npy"))  # the grid matters
