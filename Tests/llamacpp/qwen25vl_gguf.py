# qwen25vl_gguf.py — random Qwen2.5-VL models for llama.cpp (text GGUF + mmproj GGUF), made at test / benchmark time.
"""Writes Qwen2.5-VL models with random weights in the two files llama.cpp's libmtmd loads.

``make_tiny(out, llama_src)`` writes one small enough for tests:

* ``text.gguf``: arch ``qwen2vl`` (Qwen2.5-VL's language model: Qwen2 with q/k/v biases and
  M-RoPE sections), random f32 weights, an untied output head (with a tied head, greedy decoding
  mostly repeats the input token), and Qwen2's real BPE tokenizer copied from llama.cpp's
  ``models/ggml-vocab-qwen2.gguf`` with Qwen2.5-VL's special tokens at their real ids
  (``<|vision_start|>`` = 151652, ``<|image_pad|>`` = 151655, ...), which mtmd looks up by text.
* ``mmproj.gguf``: projector ``qwen2.5vl_merger`` (Qwen2.5-VL's vision tower: 14-px patches, two
  conv kernels for the temporal pair, RMSNorm blocks with SwiGLU MLPs, window attention on every
  layer but the last, and the 2×2 patch merger MLP), random f32 weights.
* ``pruner.safetensors``: a ReconPruner (rope = mrope) whose hidden size is the text model's, and
  ``pruner-d128.safetensors``, one that does not fit (for the error test).
* ``a.png`` (112×84 px → a 3×4 merged grid), ``b.png`` (168×196 px → 7×6), ``tiny.png`` (20×20 px,
  smaller than one merged patch).
* ``config.json``: the config above, in transformers' Qwen2_5_VLConfig terms.

Traps met on the way (each makes llama.cpp fail or silently misbehave):
* the vision feed-forward size must differ from the vision hidden size: clip.cpp swaps ffn_up and
  ffn_down of Qwen-VL projectors when ffn_down's input size equals the hidden size (a fix for
  old conversions), which with equal sizes would swap correct tensors;
* the mmproj needs ``clip.has_vision_encoder``, ``image_mean``/``image_std`` and the attention
  q/k/v biases; the tokenizer needs its merges (an empty merge list fails to load);
* mtmd's warm-up encodes a 46×46-token image at load; the programs turn it off (``warmup = false``).

``write_text_model(path, llama_src, shape)`` writes just a text model of any shape (the benchmark's
Qwen2.5-VL-3B-shaped one with a few layers and tied embeddings, as the 3B has).

Usage: qwen25vl_gguf.py OUT_DIR LLAMA_CPP_SRC   (the tiny model; LLAMA_CPP_SRC: the tree
scripts/build_llamacpp.sh unpacked)
"""
from __future__ import annotations

import json
import math
import importlib.util
import struct
import sys
import zlib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]

# Qwen2.5-VL's special tokens after Qwen2's <|endoftext|> / <|im_start|> / <|im_end|> (151643-151645).
SPECIAL_TOKENS = {
    151646: "<|object_ref_start|>",
    151647: "<|object_ref_end|>",
    151648: "<|box_start|>",
    151649: "<|box_end|>",
    151650: "<|quad_start|>",
    151651: "<|quad_end|>",
    151652: "<|vision_start|>",
    151653: "<|vision_end|>",
    151654: "<|vision_pad|>",
    151655: "<|image_pad|>",
    151656: "<|video_pad|>",
}
BOS_ID = 151643  # <|endoftext|>
EOS_ID = 151645  # <|im_end|>
IMAGE_TOKEN_ID = 151655
VISION_START_ID = 151652
VISION_END_ID = 151653
VIDEO_TOKEN_ID = 151656

# Qwen2.5-VL-3B's language model (36 layers in the real one; the benchmark takes a few)
TEXT_3B = dict(
    hidden_size=2048,
    intermediate_size=11008,
    num_hidden_layers=36,
    num_attention_heads=16,
    num_key_value_heads=2,
    rms_norm_eps=1e-6,
    rope_theta=1_000_000.0,
    mrope_section=[16, 24, 24],
    max_position_embeddings=128000,
    tie_word_embeddings=True,
)
# the tiny model's: the same architecture scaled down, with an untied head
TEXT = dict(TEXT_3B, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
            mrope_section=[2, 3, 3],  # 16,24,24 scaled to head_dim 16 (8 frequency pairs)
            max_position_embeddings=4096, tie_word_embeddings=False)
VISION = dict(
    depth=2,
    hidden_size=32,
    intermediate_size=48,  # must differ from hidden_size (see the traps above)
    num_heads=2,
    patch_size=14,
    spatial_merge_size=2,
    temporal_patch_size=2,
    window_size=112,
    fullatt_block_indexes=[1],  # layer 0 windowed, layer 1 full: mtmd's n_wa_pattern = 2
    in_channels=3,
    out_hidden_size=64,  # = text hidden size
)
IMAGE_MEAN = [0.48145466, 0.4578275, 0.40821073]
IMAGE_STD = [0.26862954, 0.26130258, 0.27577711]
IMAGES = {"a.png": (84, 112), "b.png": (196, 168), "tiny.png": (20, 20)}  # name: (height, width)


def hf_config(vocab_size: int) -> dict:
    """The same model as a transformers Qwen2_5_VLConfig dict."""
    text = dict(TEXT)
    mrope = text.pop("mrope_section")
    rope = {"rope_type": "default", "mrope_section": mrope, "rope_theta": TEXT["rope_theta"]}
    text.update(vocab_size=vocab_size, rope_scaling=rope, rope_parameters=rope)
    return {
        "model_type": "qwen2_5_vl",
        "text_config": text,
        "vision_config": dict(VISION),
        "image_token_id": IMAGE_TOKEN_ID,
        "video_token_id": VIDEO_TOKEN_ID,
        "vision_start_token_id": VISION_START_ID,
        "vision_end_token_id": VISION_END_ID,
        "bos_token_id": BOS_ID,
        "eos_token_id": EOS_ID,
        "tie_word_embeddings": False,
        "image_mean": IMAGE_MEAN,
        "image_std": IMAGE_STD,
    }


def _import_gguf(llama_src: Path):
    """The vendored gguf-py of the llama.cpp being tested (not a PyPI gguf of another version)."""
    if "gguf" in sys.modules:
        return sys.modules["gguf"]
    package = llama_src / "gguf-py" / "gguf"
    spec = importlib.util.spec_from_file_location("gguf", package / "__init__.py",
                                                  submodule_search_locations=[str(package)])
    gguf = importlib.util.module_from_spec(spec)
    sys.modules["gguf"] = gguf
    spec.loader.exec_module(gguf)
    return gguf


def _normal(rng: np.random.Generator, shape, std: float) -> np.ndarray:
    return (rng.standard_normal(shape) * std).astype(np.float32)


def _norm_weight(rng: np.random.Generator, n: int) -> np.ndarray:
    return (1.0 + 0.1 * rng.standard_normal(n)).astype(np.float32)


def _linear(t: dict, rng: np.random.Generator, name: str, out: int, inp: int, gain: float = 1.0, bias: bool = True) -> None:
    """name.weight [out, in] ~ N(0, gain²/in) and, if bias, name.bias [out] ~ N(0, 0.1²)."""
    t[name + ".weight"] = _normal(rng, (out, inp), gain / math.sqrt(inp))
    if bias:
        t[name + ".bias"] = _normal(rng, (out,), 0.1)


def text_tensors(rng: np.random.Generator, vocab: int, shape: dict) -> dict:
    """GGUF name -> [out, in] float32 array (PyTorch layout; gguf-py reverses it into ggml's)."""
    h, i = shape["hidden_size"], shape["intermediate_size"]
    kv = shape["num_key_value_heads"] * (h // shape["num_attention_heads"])
    t = {"token_embd.weight": _normal(rng, (vocab, h), 1.0)}
    for b in range(shape["num_hidden_layers"]):
        p = f"blk.{b}."
        t[p + "attn_norm.weight"] = _norm_weight(rng, h)
        # q/k at twice the default scale so that attention is peaked and positions matter
        _linear(t, rng, p + "attn_q", h, h, gain=2.0)
        _linear(t, rng, p + "attn_k", kv, h, gain=2.0)
        _linear(t, rng, p + "attn_v", kv, h)
        _linear(t, rng, p + "attn_output", h, h, bias=False)
        t[p + "ffn_norm.weight"] = _norm_weight(rng, h)
        _linear(t, rng, p + "ffn_gate", i, h, bias=False)
        _linear(t, rng, p + "ffn_up", i, h, bias=False)
        _linear(t, rng, p + "ffn_down", h, i, bias=False)
    t["output_norm.weight"] = _norm_weight(rng, h)
    if not shape["tie_word_embeddings"]:
        _linear(t, rng, "output", vocab, h, gain=4.0, bias=False)
    return t


def vision_tensors(rng: np.random.Generator) -> dict:
    c, f, p = VISION["hidden_size"], VISION["intermediate_size"], VISION["patch_size"]
    merged = c * VISION["spatial_merge_size"] ** 2
    t = {
        # Qwen2.5-VL's Conv3d over (2 frames, 14, 14) split into one Conv2d kernel per frame
        "v.patch_embd.weight": _normal(rng, (c, 3, p, p), 1.0 / math.sqrt(3 * p * p)),
        "v.patch_embd.weight.1": _normal(rng, (c, 3, p, p), 1.0 / math.sqrt(3 * p * p)),
    }
    for b in range(VISION["depth"]):
        q = f"v.blk.{b}."
        t[q + "ln1.weight"] = _norm_weight(rng, c)
        for name in ("attn_q", "attn_k", "attn_v", "attn_out"):
            _linear(t, rng, q + name, c, c)
        t[q + "ln2.weight"] = _norm_weight(rng, c)
        _linear(t, rng, q + "ffn_gate", f, c)
        _linear(t, rng, q + "ffn_up", f, c)
        _linear(t, rng, q + "ffn_down", c, f)
    t["v.post_ln.weight"] = _norm_weight(rng, c)  # the merger's ln_q
    _linear(t, rng, "mm.0", merged, merged)
    _linear(t, rng, "mm.2", VISION["out_hidden_size"], merged, gain=2.0)
    return t


def _write(w, tensors: dict) -> None:
    for name, data in tensors.items():
        w.add_tensor(name, data)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def write_text_gguf(gguf, path: Path, vocab_path: Path, rng: np.random.Generator, shape: dict = TEXT) -> int:
    vocab = gguf.GGUFReader(str(vocab_path))
    tokens = list(vocab.fields["tokenizer.ggml.tokens"].contents())
    types = list(vocab.fields["tokenizer.ggml.token_type"].contents())
    merges = list(vocab.fields["tokenizer.ggml.merges"].contents())
    if not merges:
        raise ValueError(f"{vocab_path}: no BPE merges")
    for i, text in SPECIAL_TOKENS.items():
        if not tokens[i].startswith("[PAD"):
            raise ValueError(f"{vocab_path}: id {i} is {tokens[i]!r}, expected a [PAD] slot for {text}")
        tokens[i] = text
        types[i] = int(gguf.TokenType.CONTROL)

    w = gguf.GGUFWriter(str(path), "qwen2vl")
    w.add_name(f"qwen2.5-vl text model, random weights, {shape['num_hidden_layers']} layers")
    w.add_context_length(shape["max_position_embeddings"])
    w.add_embedding_length(shape["hidden_size"])
    w.add_block_count(shape["num_hidden_layers"])
    w.add_feed_forward_length(shape["intermediate_size"])
    w.add_head_count(shape["num_attention_heads"])
    w.add_head_count_kv(shape["num_key_value_heads"])
    w.add_layer_norm_rms_eps(shape["rms_norm_eps"])
    w.add_rope_freq_base(shape["rope_theta"])
    w.add_rope_dimension_sections(shape["mrope_section"] + [0])
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("qwen2")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    w.add_bos_token_id(BOS_ID)
    w.add_eos_token_id(EOS_ID)
    w.add_pad_token_id(BOS_ID)
    w.add_add_bos_token(False)
    _write(w, text_tensors(rng, len(tokens), shape))
    return len(tokens)


def write_mmproj_gguf(gguf, path: Path, rng: np.random.Generator) -> None:
    w = gguf.GGUFWriter(str(path), "clip")
    w.add_name("tiny-qwen2.5-vl mmproj (random weights, for tests)")
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    w.add_clip_projector_type(gguf.VisionProjectorType.QWEN25VL)
    w.add_clip_has_vision_encoder(True)
    w.add_vision_projection_dim(VISION["out_hidden_size"])
    w.add_vision_image_size(560)
    w.add_vision_patch_size(VISION["patch_size"])
    w.add_vision_embedding_length(VISION["hidden_size"])
    w.add_vision_feed_forward_length(VISION["intermediate_size"])
    w.add_vision_block_count(VISION["depth"])
    w.add_vision_head_count(VISION["num_heads"])
    w.add_vision_attention_layernorm_eps(TEXT["rms_norm_eps"])
    w.add_vision_image_mean(IMAGE_MEAN)
    w.add_vision_image_std(IMAGE_STD)
    w.add_vision_use_silu(True)
    w.add_vision_n_wa_pattern(VISION["fullatt_block_indexes"][0] + 1)
    w.add_vision_spatial_merge_size(VISION["spatial_merge_size"])
    _write(w, vision_tensors(rng))


def write_pruners(out: Path) -> None:
    from fastdrive_pruner.reference.weights import random_pruner, write_pruner
    from fastdrive_pruner.schema import scaled_mrope_section

    def config(d: int, heads: int, kv: int) -> dict:
        hd = d // heads
        return dict(hidden_size=d, intermediate_size=2 * d, num_attention_heads=heads, num_key_value_heads=kv,
                    head_dim=hd, rms_norm_eps=1e-6, rope_theta=1e6, rope="mrope",
                    mrope_section=scaled_mrope_section(hd), attention="bidirectional")

    fit = config(TEXT["hidden_size"], 4, 2)
    write_pruner(out / "pruner.safetensors", fit, random_pruner(fit, seed=15))
    other = config(128, 4, 2)
    write_pruner(out / "pruner-d128.safetensors", other, random_pruner(other, seed=16))


def write_png(path: Path, rgb: np.ndarray) -> None:
    """8-bit RGB PNG with the standard library only (zlib + CRCs)."""
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[y].astype(np.uint8).tobytes() for y in range(h))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    path.write_bytes(png)


def scene(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A gradient 'road and sky' with a few coloured boxes and noise: tokens that differ from each other."""
    y = np.linspace(0.0, 1.0, h)[:, None, None]
    x = np.linspace(0.0, 1.0, w)[None, :, None]
    img = 255.0 * (0.3 + 0.5 * y * np.array([0.4, 0.5, 0.6]) + 0.2 * x * np.array([0.6, 0.3, 0.2]))
    img = np.broadcast_to(img, (h, w, 3)).copy()
    for _ in range(4):
        y0, x0 = rng.integers(0, max(1, h - 8)), rng.integers(0, max(1, w - 8))
        img[y0 : y0 + rng.integers(4, max(5, h // 3)), x0 : x0 + rng.integers(4, max(5, w // 3))] = rng.integers(0, 256, 3)
    img += rng.normal(0.0, 8.0, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def write_text_model(path: Path, llama_src: Path, shape: dict, seed: int = 0) -> None:
    """A text model of `shape` (keys as TEXT) with random f32 weights and Qwen2.5-VL's tokenizer."""
    gguf = _import_gguf(llama_src)
    write_text_gguf(gguf, path, llama_src / "models" / "ggml-vocab-qwen2.gguf", np.random.default_rng(seed), shape)


def make_tiny(out: Path, llama_src: Path, seed: int = 15) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    gguf = _import_gguf(llama_src)
    rng = np.random.default_rng(seed)
    vocab = write_text_gguf(gguf, out / "text.gguf", llama_src / "models" / "ggml-vocab-qwen2.gguf", rng)
    write_mmproj_gguf(gguf, out / "mmproj.gguf", rng)
    write_pruners(out)
    for name, (h, w) in IMAGES.items():
        write_png(out / name, scene(rng, h, w))
    cfg = hf_config(vocab)
    (out / "config.json").write_text(json.dumps(cfg, indent=1))
    return cfg


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__.split("\n\n")[-1])
    make_tiny(Path(sys.argv[1]), Path(sys.argv[2]))
    print(f"wrote {sys.argv[1]}")
