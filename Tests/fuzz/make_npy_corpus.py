#!/usr/bin/env python3
# make_npy_corpus.py — writes the seed corpus of the .npy fuzzers (Tests/fuzz/npy-corpus/).
#
# usage: python3 Tests/fuzz/make_npy_corpus.py [OUT_DIR=Tests/fuzz/npy-corpus]
#
# Standard library only, deterministic. Seeds:
#   valid-*  what numpy and ml_dtypes write: float32 / float16 / bfloat16 ('<V2') / int64 / float64,
#            0-D to 3-D, version 1, 2 and 3 headers, keys in another order, a zero-sized array;
#   bad-*    one violation each: magic, version, header length (over the file, over the cap),
#            truncation in every section, trailing bytes, negative / non-numeric / 2^63 / 2^64
#            dimensions, a shape whose element or byte count overflows, (n) without a comma,
#            Fortran order, big-endian and structured dtypes, missing / duplicate / unknown keys,
#            escapes and control characters in strings, junk after the dict.
# The CLI fuzzer (fuzz_cli.py) feeds the same files to `score` and `prune`.
import os
import shutil
import struct
import sys


def npy(header: str, payload: bytes = b"", major: int = 1, pad: bool = True, length=None) -> bytes:
    h = header.encode("utf-8")
    pre = 10 if major == 1 else 12
    if pad:
        h += b" " * ((64 - (pre + len(h) + 1) % 64) % 64) + b"\n"
    n = len(h) if length is None else length
    size = struct.pack("<H", n) if major == 1 else struct.pack("<I", n)
    return b"\x93NUMPY" + bytes([major, 0]) + size + h + payload


def dict_(descr="'<f4'", fortran="False", shape="(2, 3)") -> str:
    return f"{{'descr': {descr}, 'fortran_order': {fortran}, 'shape': {shape}, }}"


def f32(values) -> bytes:
    return b"".join(struct.pack("<f", v) for v in values)


SIX = f32([0.5, -1.0, 2.0, 0.0, 3.25, -0.125])


def seeds():
    yield "valid-f32-2x3", npy(dict_(), SIX)
    yield "valid-f32-v2-2x3", npy(dict_(), SIX, major=2)
    yield "valid-f32-v3-2x3", npy(dict_(), SIX, major=3)
    yield "valid-f32-keys-reordered", npy("{'shape': (2, 3), 'fortran_order': False, 'descr': '<f4'}", SIX)
    yield "valid-f32-double-quotes", npy('{"descr": "<f4", "fortran_order": False, "shape": (2, 3)}', SIX)
    yield "valid-f32-no-trailing-comma", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}", SIX)
    yield "valid-f32-1d", npy(dict_(shape="(6,)"), SIX)
    yield "valid-f32-0d", npy(dict_(shape="()"), SIX[:4])
    yield "valid-f32-3d", npy(dict_(shape="(1, 2, 3)"), SIX)
    yield "valid-f32-zero-rows", npy(dict_(shape="(0, 128)"))
    yield "valid-f32-python2-long", npy(dict_(shape="(2L, 3L)"), SIX)
    yield "valid-f16-3x2", npy(dict_("'<f2'", shape="(3, 2)"), bytes(range(12)))
    yield "valid-bf16-v2-3x2", npy(dict_("'<V2'", shape="(3, 2)"), bytes(range(12)))
    yield "valid-i8-3", npy(dict_("'<i8'", shape="(3,)"), struct.pack("<3q", 4, 0, 7))
    yield "valid-f8-2", npy(dict_("'<f8'", shape="(2,)"), struct.pack("<2d", 1.0, 1.0 + 1e-12))
    yield "valid-u1-4", npy(dict_("'|u1'", shape="(4,)"), b"\x00\x01\xfe\xff")
    yield "valid-unpadded", npy(dict_(), SIX, pad=False)

    yield "bad-empty", b""
    yield "bad-magic-only", b"\x93NUMPY"
    yield "bad-magic", b"\x93NUMPZ\x01\x00\x10\x00" + b"{}".ljust(16)
    yield "bad-version-0", npy(dict_(), SIX)[:6] + b"\x00" + npy(dict_(), SIX)[7:]
    yield "bad-version-4", npy(dict_(), SIX)[:6] + b"\x04" + npy(dict_(), SIX)[7:]
    yield "bad-header-length-over-file", npy(dict_(), SIX, length=4000)
    yield "bad-header-length-v2-4g", npy(dict_(), SIX, major=2, length=0xFFFFFFFF)
    yield "bad-header-length-v2-over-cap", npy(dict_(), SIX, major=2, length=100_001)
    full = npy(dict_(), SIX)
    for cut in (9, 10, 40, len(full) - len(SIX) - 1, len(full) - 1):
        yield f"bad-truncated-at-{cut}", full[:cut]
    yield "bad-trailing-byte", full + b"\x00"
    yield "bad-negative-dim", npy(dict_(shape="(-3, 128)"))
    yield "bad-dim-2p63", npy(dict_(shape="(9223372036854775808, 1)"))
    yield "bad-dim-2p64", npy(dict_(shape="(18446744073709551616, 1)"))
    yield "bad-dim-huge-literal", npy(dict_(shape="(" + "9" * 400 + ", 1)"))
    yield "valid-2p32-by-zero", npy(dict_(shape="(4294967296, 0)"))  # no elements: valid (the CLI refuses it)
    yield "bad-count-overflow", npy(dict_(shape="(4611686018427387904, 4)"))
    yield "bad-bytes-overflow", npy(dict_(shape="(2305843009213693952, 2)"))
    yield "bad-dim-float", npy(dict_(shape="(2.0, 3)"), SIX)
    yield "bad-dim-hex", npy(dict_(shape="(0x2, 3)"), SIX)
    yield "bad-dim-word", npy(dict_(shape="(two, 3)"), SIX)
    yield "bad-shape-not-tuple", npy(dict_(shape="[2, 3]"), SIX)
    yield "bad-shape-paren-int", npy(dict_(shape="(6)"), SIX)
    yield "bad-shape-nested", npy(dict_(shape="((2, 3),)"), SIX)
    yield "bad-shape-33-dims", npy(dict_(shape="(" + "1, " * 33 + ")"), SIX[:4])
    yield "bad-fortran-order", npy(dict_(fortran="True"), SIX)
    yield "bad-fortran-order-int", npy(dict_(fortran="1"), SIX)
    yield "bad-big-endian", npy(dict_("'>f4'"), SIX)
    yield "bad-structured", npy(dict_("[('a', '<f4'), ('b', '<f4')]", shape="(3,)"), SIX)
    yield "bad-object", npy(dict_("'|O'"), SIX)
    yield "bad-unicode-descr", npy(dict_("'<U4'", shape="(1,)"), b"a\0\0\0b\0\0\0c\0\0\0d\0\0\0")
    yield "bad-missing-shape", npy("{'descr': '<f4', 'fortran_order': False}", SIX)
    yield "bad-missing-descr", npy("{'fortran_order': False, 'shape': (2, 3)}", SIX)
    yield "bad-duplicate-shape", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'shape': (6,)}", SIX)
    yield "bad-unknown-key", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 1}", SIX)
    yield "bad-escape-in-string", npy(dict_("'<f\\x34'"), SIX)
    yield "bad-control-char", npy(dict_("'<f\x014'"), SIX)
    yield "bad-unterminated-string", npy("{'descr': '<f4", SIX)
    yield "bad-no-closing-brace", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), ", SIX)
    yield "bad-junk-after-dict", npy(dict_() + " x", SIX)
    yield "bad-not-a-dict", npy("[1, 2, 3]", SIX)
    yield "bad-utf8-in-header", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), '\u00e9': 1}", SIX, major=3)


def main() -> None:
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "npy-corpus")
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    names = set()
    for name, data in seeds():
        assert name not in names, name
        names.add(name)
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print(f"wrote {len(names)} seeds to {out}")


if __name__ == "__main__":
    main()
