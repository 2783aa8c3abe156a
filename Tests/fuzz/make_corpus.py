#!/usr/bin/env python3
# make_corpus.py — writes the seed corpus of the safetensors fuzzer (Tests/fuzz/corpus/).
#
# usage: python3 Tests/fuzz/make_corpus.py [OUT_DIR=Tests/fuzz/corpus]
#
# Standard library only (no numpy / safetensors), deterministic: rerunning it rewrites the same
# bytes, so the committed corpus can be checked against it. Two kinds of seeds:
#   valid-*    well-formed pruner files of every dtype (F32, F16, BF16, mixed), rope mode and
#              attention mask, from a tiny D=4 model (fast to mutate) up to D=64;
#   bad-*      one hand-made violation each, named after what is wrong (the list:
#              truncation at every section, header length, JSON shape, UTF-8, duplicates,
#              shapes, offsets, dtypes, metadata numbers, inconsistent configs).
# Every seed is small; the whole corpus stays well under 1 MB.
import json
import os
import shutil
import struct
import sys

TINY = dict(hidden_size=4, intermediate_size=3, num_attention_heads=2, num_key_value_heads=1,
            head_dim=2, mrope_section="1,0,0")
SMALL = dict(hidden_size=32, intermediate_size=64, num_attention_heads=4, num_key_value_heads=2,
             head_dim=8, mrope_section="1,1,2")
MHA = dict(hidden_size=32, intermediate_size=48, num_attention_heads=4, num_key_value_heads=4,
           head_dim=8, mrope_section="2,1,1")
GQA4 = dict(hidden_size=64, intermediate_size=96, num_attention_heads=8, num_key_value_heads=2,
            head_dim=8, mrope_section="2,1,1")
WIDE = dict(hidden_size=64, intermediate_size=128, num_attention_heads=4, num_key_value_heads=2,
            head_dim=16, mrope_section="2,3,3")


def shapes(c):
    d, i = c["hidden_size"], c["intermediate_size"]
    q = c["num_attention_heads"] * c["head_dim"]
    kv = c["num_key_value_heads"] * c["head_dim"]
    return [
        ("query", [1, d]), ("input_layernorm.weight", [d]),
        ("self_attn.q_proj.weight", [q, d]), ("self_attn.q_proj.bias", [q]),
        ("self_attn.k_proj.weight", [kv, d]), ("self_attn.k_proj.bias", [kv]),
        ("self_attn.v_proj.weight", [kv, d]), ("self_attn.v_proj.bias", [kv]),
        ("self_attn.o_proj.weight", [d, q]), ("post_attention_layernorm.weight", [d]),
        ("mlp.gate_proj.weight", [i, d]), ("mlp.up_proj.weight", [i, d]),
        ("mlp.down_proj.weight", [d, i]),
        ("scorer.weight", [1, d]), ("scorer.bias", [1]),
    ]


def values(count, seed):
    """Deterministic values in [-0.5, 0.5) from a 64-bit LCG (as Tests/.../TestModel.swift)."""
    m = (1 << 64) - 1
    x = (seed * 6364136223846793005 + 1442695040888963407) & m
    out = []
    for _ in range(count):
        x = (x * 6364136223846793005 + 1442695040888963407) & m
        out.append((x >> 40) / float(1 << 24) - 0.5)
    return out


def encode(vals, dtype):
    if dtype == "F32":
        return struct.pack("<%df" % len(vals), *vals)
    if dtype == "F16":
        return struct.pack("<%de" % len(vals), *vals)
    if dtype == "BF16":
        words = struct.unpack("<%dI" % len(vals), struct.pack("<%df" % len(vals), *vals))
        return struct.pack("<%dH" % len(vals), *[w >> 16 for w in words])
    raise ValueError(dtype)


BITS = {"F32": 32, "F16": 16, "BF16": 16}


def metadata(c, rope="mrope", attention="bidirectional", **extra):
    md = {"format": "fastdrive-reconpruner", "format_version": "1"}
    md.update({k: str(v) for k, v in c.items()})
    md.update(rms_norm_eps="1e-06", rope_theta="1000000.0", rope=rope, attention=attention)
    md.update(extra)
    return md


def pack(header_obj, data, pad=True, length=None):
    """8-byte LE length + JSON header (space-padded to 8 like the official writer) + data."""
    h = header_obj if isinstance(header_obj, bytes) else json.dumps(header_obj, separators=(",", ":")).encode()
    if pad:
        h += b" " * (-len(h) % 8)
    n = len(h) if length is None else length
    return struct.pack("<Q", n) + h + data


def model(c, dtypes="F32", rope="mrope", attention="bidirectional", seed=1, pad=True, md=None,
          tensors=None, edit=None):
    """A pruner file. `dtypes` is one dtype or a per-tensor function; `edit(name, entry)` may
    change a tensor's header entry after its offsets are computed (to build bad files)."""
    tensors = tensors if tensors is not None else shapes(c)
    header, blobs, off = {"__metadata__": md if md is not None else metadata(c, rope, attention)}, [], 0
    # Official writer order: larger element types first, which keeps every tensor aligned.
    order = sorted(range(len(tensors)), key=lambda k: -BITS[dtypes(tensors[k][0]) if callable(dtypes) else dtypes])
    for k in order:
        name, shape = tensors[k]
        dt = dtypes(name) if callable(dtypes) else dtypes
        count = 1
        for s in shape:
            count *= s
        v = values(count, seed + k)
        if name.endswith("layernorm.weight"):
            v = [1 + x for x in v]
        blob = encode(v, dt)
        header[name] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + len(blob)]}
        if edit:
            edit(name, header[name])
        blobs.append(blob)
        off += len(blob)
    return pack(header, b"".join(blobs), pad=pad)


def header_only(obj_bytes, data=b"", length=None):
    return pack(obj_bytes, data, pad=False, length=length)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    seeds = {}

    # ---- valid files: every dtype, rope mode, mask, and head layout ----
    mixed = lambda name: ("F32", "F16", "BF16")[len(name) % 3]
    for rope in ("none", "1d", "mrope"):
        for att in ("bidirectional", "causal"):
            for dt in ("F32", "F16", "BF16"):
                seeds[f"valid-tiny-{rope}-{att[:6]}-{dt.lower()}"] = model(TINY, dt, rope, att)
    seeds["valid-tiny-mixed"] = model(TINY, mixed)
    seeds["valid-tiny-unpadded-misaligned"] = model(TINY, "F32", pad=False)  # F32 copied, not mapped
    seeds["valid-small-none-bidir-f32"] = model(SMALL, "F32", "none")
    seeds["valid-small-1d-causal-f16"] = model(SMALL, "F16", "1d", "causal")
    seeds["valid-small-mrope-bidir-bf16"] = model(SMALL, "BF16")
    seeds["valid-small-mrope-causal-mixed"] = model(SMALL, mixed, "mrope", "causal")
    seeds["valid-mha-1d-bidir-f16"] = model(MHA, "F16", "1d")
    seeds["valid-gqa4-mrope-causal-bf16"] = model(GQA4, "BF16", "mrope", "causal")
    seeds["valid-wide-mrope-bidir-bf16"] = model(WIDE, "BF16")
    seeds["valid-tiny-defaults-omitted"] = model(TINY, md={"format": "fastdrive-reconpruner", "format_version": "1",
                                                           **{k: str(v) for k, v in TINY.items()}})
    seeds["valid-tiny-extra-field"] = model(TINY, edit=lambda n, e: e.update(extra=[1, {"x": None}]))
    # The crate's own vectors (format-valid, not a pruner: they reach the config checks).
    crate = b'{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}'
    seeds["crate-valid-i32"] = header_only(crate, bytes(16))
    seeds["crate-whitespace-empty"] = header_only(b"\t\n{}\r ")
    seeds["crate-zero-sized"] = header_only(b'{"test":{"dtype":"I32","shape":[2,0],"data_offsets":[0,0]}}')

    base = model(TINY, "F32")
    n = struct.unpack("<Q", base[:8])[0]

    # ---- truncated at every section ----
    for label, cut in [("empty", 0), ("in-length", 4), ("length-only", 8), ("header-first-byte", 9),
                       ("mid-header", 8 + n // 2), ("header-last-byte", 8 + n - 1), ("no-data", 8 + n),
                       ("first-data-byte", 8 + n + 1), ("mid-data", (8 + n + len(base)) // 2),
                       ("last-byte", len(base) - 1)]:
        seeds[f"bad-truncated-{label}"] = base[:cut]
    seeds["bad-trailing-bytes"] = base + b"\0" * 16

    # ---- header length ----
    body = base[8:]
    for label, value in [("eq-file-size", len(base)), ("file-size-minus-7", len(base) - 7),
                         ("limit-plus-1", 100_000_001), ("limit", 100_000_000), ("2p63", 1 << 63),
                         ("u64-max", (1 << 64) - 1), ("zero", 0)]:
        seeds[f"bad-header-length-{label}"] = struct.pack("<Q", value) + body
    seeds["bad-crate-length-ff"] = bytes([0x3C, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF]) + crate + bytes(16)

    # ---- header JSON shape / encoding ----
    for label, h in [("not-json", b"hello world"), ("array", b"[]"), ("string", b'"x"'), ("number", b"42"),
                     ("null", b"null"), ("unclosed", b"{"), ("nul-padded", b"{}\0\0\0\0\0\0"),
                     ("trailing-junk", b"{} x"), ("bom", b"\xef\xbb\xbf{}"), ("two-values", b"{}{}"),
                     ("not-utf8-ff", b'{"\xff":1}'), ("not-utf8-overlong", b'{"\xc0\xaf":1}'),
                     ("not-utf8-surrogate", b'{"\xed\xa0\x80":1}'), ("not-utf8-cut", b'{"\xe2\x82":1}'),
                     ("lone-surrogate-escape", b'{"\\ud800":1}'), ("bad-escape", b'{"\\x":1}'),
                     ("control-char", b'{"a\x01":1}'), ("leading-zero", b'{"a":01}'),
                     ("nested-63", b"[" * 63 + b"]" * 63), ("nested-64", b"[" * 64 + b"]" * 64),
                     ("nested-65", b"[" * 65 + b"]" * 65), ("nested-10000", b"[" * 10000),
                     ("nested-objects", b'{"a":' * 200 + b"1" + b"}" * 200),
                     ("metadata-not-object", b'{"__metadata__":[]}'),
                     ("metadata-number-value", b'{"__metadata__":{"format":1}}'),
                     ("metadata-duplicate-key", b'{"__metadata__":{"a":"1","a":"2"}}'),
                     ("tensor-not-object", b'{"t":[1,2]}')]:
        seeds[f"bad-json-{label}"] = header_only(h)

    # ---- duplicates, shapes, offsets, dtypes (format level, TINY tensors) ----
    hdr = json.loads(base[8:8 + n])
    data = base[8 + n:]

    def variant(mutate, keep_data=True):
        h = json.loads(json.dumps(hdr))
        mutate(h)
        return pack(h, data if keep_data else b"")

    text = json.dumps(hdr, separators=(",", ":")).encode()
    dup = text[:-1] + b',"scorer.bias":' + json.dumps(hdr["scorer.bias"], separators=(",", ":")).encode() + b"}"
    seeds["bad-duplicate-tensor"] = pack(dup, data)
    seeds["bad-duplicate-metadata-block"] = pack(text[:-1] + b',"__metadata__":{}}', data)
    seeds["bad-duplicate-field"] = pack(text.replace(b'"dtype":"F32"', b'"dtype":"F32","dtype":"F32"', 1), data)

    def set_field(name, field, value):
        return lambda h: h[name].__setitem__(field, value)

    sb = "scorer.bias"
    b0 = hdr[sb]["data_offsets"][0]
    for label, mutate in [
        ("shape-negative", set_field(sb, "shape", [-1])),
        ("shape-float", set_field(sb, "shape", [1.0])),
        ("shape-exponent", set_field(sb, "shape", [1e0])),
        ("shape-string", set_field(sb, "shape", ["1"])),
        ("shape-not-array", set_field(sb, "shape", 1)),
        ("shape-overflow-u64", set_field(sb, "shape", [2, 18446744073709551614])),
        ("shape-overflow-product", set_field(sb, "shape", [4294967296, 4294967296])),
        ("shape-overflow-bits", set_field(sb, "shape", [1 << 61])),
        ("shape-huge-literal", set_field(sb, "shape", [10 ** 30])),
        ("shape-scalar", set_field(sb, "shape", [])),
        ("shape-zero", set_field(sb, "shape", [0])),
        ("span-mismatch", set_field(sb, "data_offsets", [b0, b0 + 2])),
        ("offsets-reversed", set_field(sb, "data_offsets", [b0 + 4, b0])),
        ("offsets-three", set_field(sb, "data_offsets", [b0, b0 + 4, b0 + 8])),
        ("offsets-negative", set_field(sb, "data_offsets", [-4, 0])),
        ("offsets-past-end", set_field(sb, "data_offsets", [len(data), len(data) + 4])),
        ("offsets-overlap", set_field(sb, "data_offsets", [0, 4])),
        ("offsets-u64-max", set_field(sb, "data_offsets", [18446744073709551611, 18446744073709551615])),
        ("offsets-gap", set_field(sb, "data_offsets", [b0 + 4, b0 + 8])),
        ("dtype-unknown", set_field(sb, "dtype", "F128")),
        ("dtype-lowercase", set_field(sb, "dtype", "f32")),
        ("dtype-i32", set_field(sb, "dtype", "I32")),
        ("dtype-f64", lambda h: h[sb].update(dtype="F64", data_offsets=[b0, b0 + 8])),
        ("dtype-f8", lambda h: h[sb].update(dtype="F8_E4M3", data_offsets=[b0, b0 + 1])),
        ("dtype-f4", lambda h: h[sb].update(dtype="F4", shape=[1])),
        ("dtype-number", set_field(sb, "dtype", 32)),
        ("missing-dtype", lambda h: h[sb].pop("dtype")),
        ("missing-offsets", lambda h: h[sb].pop("data_offsets")),
        ("missing-tensor", lambda h: h.pop("query")),
        ("extra-tensor", lambda h: h.__setitem__("extra", {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]})),
        ("wrong-shape", set_field(sb, "shape", [1, 1])),
        ("transposed", set_field("self_attn.o_proj.weight", "shape", hdr["self_attn.o_proj.weight"]["shape"][::-1])),
    ]:
        seeds[f"bad-{label}"] = variant(mutate)

    # ---- metadata values and configs ----
    def with_md(**changes):
        md = metadata(TINY)
        for k, v in changes.items():
            if v is None:
                md.pop(k, None)
            else:
                md[k] = v
        return model(TINY, md=md)

    for label, ch in [
        ("format-wrong", dict(format="safetensors")), ("format-missing", dict(format=None)),
        ("version-2", dict(format_version="2")), ("version-missing", dict(format_version=None)),
        ("hidden-words", dict(hidden_size="four")), ("hidden-float", dict(hidden_size="4.0")),
        ("hidden-hex", dict(hidden_size="0x4")), ("hidden-space", dict(hidden_size=" 4")),
        ("hidden-negative", dict(hidden_size="-4")), ("hidden-empty", dict(hidden_size="")),
        ("hidden-zero", dict(hidden_size="0")), ("hidden-huge", dict(hidden_size="99999999999999999999999")),
        ("hidden-over-limit", dict(hidden_size="2097152", head_dim="1048576")),
        ("eps-nan", dict(rms_norm_eps="nan")), ("eps-inf", dict(rms_norm_eps="inf")),
        ("eps-junk", dict(rms_norm_eps="1e-6x")), ("eps-overflow", dict(rms_norm_eps="1e999")),
        ("theta-negative", dict(rope_theta="-1")), ("theta-zero", dict(rope_theta="0")),
        ("rope-unknown", dict(rope="2d")), ("attention-unknown", dict(attention="sliding")),
        ("mrope-two-parts", dict(mrope_section="1,0")), ("mrope-sum", dict(mrope_section="1,1,1")),
        ("mrope-negative", dict(mrope_section="-1,1,1")), ("mrope-empty-part", dict(mrope_section="1,,0")),
        ("heads-not-dividing-hidden", dict(num_attention_heads="3")),
        ("head-dim-odd", dict(hidden_size="6", num_attention_heads="2", head_dim="3", mrope_section="1,0,0")),
        ("kv-not-dividing-heads", dict(num_attention_heads="2", num_key_value_heads="3")),
        ("kv-zero", dict(num_key_value_heads="0")),
        ("intermediate-mismatch", dict(intermediate_size="5")),
    ]:
        seeds[f"bad-md-{label}"] = with_md(**ch)

    # ---- values ----
    for label, bits in [("nan", 0x7FC00000), ("inf", 0x7F800000), ("neg-inf", 0xFF800000)]:
        seeds[f"bad-weight-{label}"] = base[:-4] + struct.pack("<I", bits)  # scorer.bias is last
    seeds["bad-weight-f16-inf"] = (lambda b: b[:-2] + b"\x00\x7c")(model(TINY, "F16"))
    seeds["valid-weight-huge"] = base[:-4] + struct.pack("<f", 3.0e38)
    seeds["valid-weight-subnormal"] = base[:-4] + struct.pack("<I", 1)

    for name, blob in sorted(seeds.items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(blob)
    total = sum(len(b) for b in seeds.values())
    print(f"{len(seeds)} seeds, {total} bytes in {out}")


if __name__ == "__main__":
    main()
