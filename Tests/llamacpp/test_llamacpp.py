# test_llamacpp.py — ReconPruner inside llama.cpp (libmtmd, Qwen2.5-VL): the example against llama.cpp and transformers.
"""The llama.cpp integration end to end, on a tiny random Qwen2.5-VL made here (qwen25vl_gguf.py).

* scripts/build_llamacpp.sh builds libllama + libmtmd once (cached outside the repo);
* CMake builds examples/llamacpp (mtmd_prune) and check_pruned_eval.cpp against it and against
  this repository's library (.build/release, built by the test command before this step);
* check_pruned_eval checks bit-identity with llama.cpp's own path at keep ratio 1, the rows and
  positions llama.cpp's graph receives at keep ratio 0.5, and that the runtimes take turns;
* the example program is run as a user would, including bad inputs;
* transformers with the project's own integration (fastdrive_pruner.integrations.qwen2_5_vl), on
  the same weights read back from the GGUF files, checks the vision tower's output and the pruned
  and unpruned first-step logits.

Tokenizer: the transformers side takes llama.cpp's token ids (the GGUF carries Qwen2's vocabulary
but no tokenizer.json to build a transformers tokenizer from), so the text is tokenized once.
Images: the PNGs are multiples of 28 px, so neither side resizes them; the transformers side
patchifies the same pixels itself (Qwen2-VL's processor layout), so the vision towers are compared
on identical inputs, and the logits on identical embeddings.

Run: .venv/bin/python -m pytest Tests/llamacpp   (~2 min once llama.cpp is built; the first build
takes about 10 min on 2 cores)
"""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
import qwen25vl_gguf as q  # beside this file; pytest puts its folder first on the import path

LIB = Path(os.environ.get("FASTDRIVE_PRUNER_LIB", REPO / ".build" / "release" / "libfastdrive_pruner.so"))


def run(*cmd, check=True, **kw) -> subprocess.CompletedProcess:
    # errors="replace": a generated token can be part of a multi-byte character
    return subprocess.run([str(c) for c in cmd], text=True, errors="replace", capture_output=True, check=check, **kw)


@pytest.fixture(scope="session")
def llama() -> Path:
    """The cached llama.cpp build (built here when missing: ~10 min on 2 cores)."""
    out = subprocess.run([REPO / "scripts" / "build_llamacpp.sh"], text=True, stdout=subprocess.PIPE, check=True)
    return Path(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def binaries(llama, tmp_path_factory) -> dict:
    if not LIB.exists():
        pytest.fail(f"{LIB} is missing: run 'swift build -c release' first (scripts/test.sh does)")
    b = tmp_path_factory.mktemp("cmake")
    run("cmake", "-S", HERE, "-B", b, f"-DCMAKE_PREFIX_PATH={llama / 'install'}", f"-DFASTDRIVE_PRUNER_LIBRARY={LIB}")
    build = run("cmake", "--build", b, check=False)
    assert build.returncode == 0, build.stdout + build.stderr
    return {"mtmd_prune": b / "example" / "mtmd_prune", "check": b / "check_pruned_eval"}


@pytest.fixture(scope="session")
def tiny(llama, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tiny-qwen25vl")
    q.make_tiny(out, llama / "src")
    return out


@pytest.fixture(scope="session")
def checked(binaries, tiny, tmp_path_factory):
    dump = tmp_path_factory.mktemp("dump")
    r = run(binaries["check"], tiny / "text.gguf", tiny / "mmproj.gguf", tiny / "pruner.safetensors",
            tiny / "a.png", tiny / "b.png", dump, 2, check=False)
    print(r.stdout)
    return r, dump


def example(binaries, tiny, *args, images=("a.png", "b.png"), pruner="pruner.safetensors"):
    cmd = [binaries["mtmd_prune"], "-m", tiny / "text.gguf", "--mmproj", tiny / "mmproj.gguf",
           "--pruner", tiny / pruner, "-t", 1]  # one thread: fastest for a model this small
    for im in images:
        cmd += ["--image", tiny / im]
    return run(*cmd, *args, check=False)


PROMPT = "<|im_start|>user\nFront: <__media__> rear: <__media__>. Brake?<|im_end|>\n<|im_start|>assistant\n"


# --------------------------------------------------------------------------- against llama.cpp itself


def test_checker_passes(checked) -> None:
    r, _ = checked
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout
    assert "ratio 1.0, n_batch 2048 / n_ubatch 512: logits bit-identical to mtmd_helper_eval_chunks at 8 of 8 steps" in out
    assert "ratio 1.0, n_batch 16 / n_ubatch 8: logits bit-identical to mtmd_helper_eval_chunks at 8 of 8 steps" in out
    assert "ratio 0.5, image 0: 3x4 grid, 12 rows, kept 6 (the runtime's top-K)" in out
    assert "ratio 0.5, image 1: 7x6 grid, 42 rows, kept 21 (the runtime's top-K)" in out
    assert "OK: 0 failure(s)" in out


def test_example_prunes_and_generates(binaries, tiny) -> None:
    r = example(binaries, tiny, "-p", PROMPT, "--keep-ratio", "0.5", "-n", "6", "--compare")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("image 0: 3x4 grid, 12 tokens -> kept 6 ")
    assert lines[1].startswith("image 1: 7x6 grid, 42 tokens -> kept 21 ")
    prompt_line = next(l for l in lines if l.startswith("prompt:"))
    assert "27 of 54 image rows decoded" in prompt_line
    generated = next(l for l in lines if l.startswith("generated "))
    assert generated.startswith("generated 6 tokens")
    assert any(l.startswith("unpruned (mtmd_helper_eval_chunks):") for l in lines)


def test_example_keep_all_is_llamacpp_bit_for_bit(binaries, tiny) -> None:
    r = example(binaries, tiny, "-p", PROMPT, "--keep-ratio", "1", "-n", "5", "--compare")
    assert r.returncode == 0, r.stderr
    assert "54 of 54 image rows decoded" in r.stdout
    assert "max |pruned - unpruned| = 0; logits bit-identical at 5 of 5 steps; first 5 generated tokens agree" in r.stdout


def test_example_without_markers_puts_the_images_first(binaries, tiny) -> None:
    r = example(binaries, tiny, "-p", "What is ahead?", "--keep-ratio", "0.25", "-n", "2", images=("b.png",))
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("image 0: 7x6 grid, 42 tokens -> kept 10 ")


@pytest.mark.parametrize("args, images, pruner, message", [
    (["--keep-ratio", "0"], ("a.png",), "pruner.safetensors", "--keep-ratio must be in (0, 1], got 0"),
    (["--keep-ratio", "1.5"], ("a.png",), "pruner.safetensors", "--keep-ratio must be in (0, 1], got 1.5"),
    (["--keep-ratio", "nan"], ("a.png",), "pruner.safetensors", "--keep-ratio must be in (0, 1], got nan"),
    (["--keep-ratio", "half"], ("a.png",), "pruner.safetensors", "--keep-ratio expects a number, got 'half'"),
    ([], ("a.png",), "pruner-d128.safetensors",
     "the pruner's hidden size 128 differs from the image embeddings' size 64 (llama_model_n_embd_inp): "
     "this pruner was trained for another model"),
    ([], ("a.png", "tiny.png"), "pruner.safetensors",
     "tiny.png is 20x20 px, smaller than one merged patch of this model (28x28 px)"),
    (["-p", "one <__media__> marker"], ("a.png", "b.png"), "pruner.safetensors",
     "the prompt has 1 media marker(s) (<__media__>) for 2 --image file(s)"),
    ([], ("missing.png",), "pruner.safetensors", "cannot read the image"),
    ([], ("a.png",), "missing.safetensors", "pruner: I/O error: fastdrive_pruner_create: cannot open"),
])
def test_bad_input_fails_before_any_decode(binaries, tiny, args, images, pruner, message) -> None:
    r = example(binaries, tiny, *args, images=images, pruner=pruner)
    assert r.returncode == 2, r.stdout + r.stderr
    assert message in r.stderr, r.stderr
    assert r.stdout == "", "nothing may be decoded or reported after a bad input"


# --------------------------------------------------------------------------- against transformers


def read_png(path: Path) -> np.ndarray:
    """The 8-bit RGB PNGs qwen25vl_gguf writes (one IDAT, filter 0), without an imaging library."""
    data = path.read_bytes()
    pos, idat, w, h = 8, b"", 0, 0
    while pos < len(data):
        n = int.from_bytes(data[pos : pos + 4], "big")
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + n]
        if kind == b"IHDR":
            w, h = int.from_bytes(body[:4], "big"), int.from_bytes(body[4:8], "big")
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    rows = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(h, 1 + 3 * w)
    assert (rows[:, 0] == 0).all()
    return rows[:, 1:].reshape(h, w, 3)


def pixel_values(rgb: np.ndarray, patch: int = 14, merge: int = 2, temporal: int = 2) -> tuple:
    """Qwen2-VL's image processor layout: normalise, repeat the frame over the temporal patch, and
    flatten patches in 2×2-merge order -> ([n_patches, 3·2·14·14], grid (t, h, w) in patches)."""
    x = (rgb.astype(np.float32) / 255.0 - np.array(q.IMAGE_MEAN, np.float32)) / np.array(q.IMAGE_STD, np.float32)
    x = np.repeat(x.transpose(2, 0, 1)[None], temporal, axis=0)  # [T, C, H, W]
    gh, gw = x.shape[2] // patch, x.shape[3] // patch
    x = x.reshape(1, temporal, 3, gh // merge, merge, patch, gw // merge, merge, patch)
    x = x.transpose(0, 3, 6, 4, 7, 2, 1, 5, 8)
    return x.reshape(gh * gw, 3 * temporal * patch * patch), (1, gh, gw)


@pytest.fixture(scope="session")
def hf_model(llama, tiny):
    """transformers' Qwen2_5_VLForConditionalGeneration with the weights of the GGUF files."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    gguf = q._import_gguf(llama / "src")
    cfg = json.loads((tiny / "config.json").read_text())
    config = Qwen2_5_VLConfig(
        text_config=cfg["text_config"], vision_config=cfg["vision_config"], image_token_id=cfg["image_token_id"],
        video_token_id=cfg["video_token_id"], vision_start_token_id=cfg["vision_start_token_id"],
        vision_end_token_id=cfg["vision_end_token_id"], tie_word_embeddings=False,
    )
    config._attn_implementation = "eager"
    model = Qwen2_5_VLForConditionalGeneration(config).eval()

    def tensors(path):
        return {t.name: np.array(t.data, dtype=np.float32) for t in gguf.GGUFReader(str(path)).tensors}

    t, v = tensors(tiny / "text.gguf"), tensors(tiny / "mmproj.gguf")
    lm = "model.language_model."
    sd = {lm + "embed_tokens.weight": t["token_embd.weight"], lm + "norm.weight": t["output_norm.weight"],
          "lm_head.weight": t["output.weight"]}
    for i in range(cfg["text_config"]["num_hidden_layers"]):
        g, h = f"blk.{i}.", f"{lm}layers.{i}."
        sd[h + "input_layernorm.weight"] = t[g + "attn_norm.weight"]
        sd[h + "post_attention_layernorm.weight"] = t[g + "ffn_norm.weight"]
        for a, b in (("q", "q"), ("k", "k"), ("v", "v")):
            sd[h + f"self_attn.{b}_proj.weight"] = t[g + f"attn_{a}.weight"]
            sd[h + f"self_attn.{b}_proj.bias"] = t[g + f"attn_{a}.bias"]
        sd[h + "self_attn.o_proj.weight"] = t[g + "attn_output.weight"]
        for a in ("gate", "up", "down"):
            sd[h + f"mlp.{a}_proj.weight"] = t[g + f"ffn_{a}.weight"]
    vm = "model.visual."
    sd[vm + "patch_embed.proj.weight"] = np.stack([v["v.patch_embd.weight"], v["v.patch_embd.weight.1"]], axis=2)
    for i in range(cfg["vision_config"]["depth"]):
        g, h = f"v.blk.{i}.", f"{vm}blocks.{i}."
        sd[h + "norm1.weight"], sd[h + "norm2.weight"] = v[g + "ln1.weight"], v[g + "ln2.weight"]
        for p in ("weight", "bias"):
            sd[h + f"attn.qkv.{p}"] = np.concatenate([v[g + f"attn_{x}.{p}"] for x in "qkv"])
            sd[h + f"attn.proj.{p}"] = v[g + f"attn_out.{p}"]
            for a in ("gate", "up", "down"):
                sd[h + f"mlp.{a}_proj.{p}"] = v[g + f"ffn_{a}.{p}"]
    sd[vm + "merger.ln_q.weight"] = v["v.post_ln.weight"]
    for i in (0, 2):
        for p in ("weight", "bias"):
            sd[vm + f"merger.mlp.{i}.{p}"] = v[f"mm.{i}.{p}"]
    missing, unexpected = model.load_state_dict({k: torch.from_numpy(x) for k, x in sd.items()}, strict=False)
    assert not unexpected, unexpected
    assert not [k for k in missing if "inv_freq" not in k], missing
    return model


def prompt_inputs(dump: Path, torch):
    """input_ids (llama.cpp's tokens + one image placeholder per image row), grids, and mtmd's embeddings."""
    meta = json.loads((dump / "prompt.json").read_text())
    ids, grids, embeds, kept = [], [], [], []
    for c in meta["chunks"]:
        if "text" in c:
            ids += c["text"]
        else:
            ids += [q.IMAGE_TOKEN_ID] * (c["grid_h"] * c["grid_w"])
            grids.append([1, 2 * c["grid_h"], 2 * c["grid_w"]])  # in patches, before the 2×2 merge
            embeds.append(np.load(dump / f"embd{c['image']}.npy"))
            kept.append(np.load(dump / f"kept{c['image']}.npy"))
    return (torch.tensor([ids]), torch.tensor(grids), torch.from_numpy(np.concatenate(embeds)), kept, meta)


def test_vision_tower_matches_transformers(checked, hf_model, tiny) -> None:
    """mtmd's Qwen2.5-VL encoder (window attention, 2D RoPE, merger) vs transformers' on the same pixels."""
    import torch

    r, dump = checked
    assert r.returncode == 0, r.stdout + r.stderr
    for i, name in enumerate(("a.png", "b.png")):
        pv, grid = pixel_values(read_png(tiny / name))
        with torch.no_grad():
            out = hf_model.model.get_image_features(torch.from_numpy(pv), torch.tensor([grid]), return_dict=True)
        mine = torch.cat(list(out.pooler_output)).numpy()
        theirs = np.load(dump / f"embd{i}.npy")
        assert mine.shape == theirs.shape
        # ggml's GELU is the tanh form through an f16 table, transformers' the exact erf form
        err = np.abs(mine - theirs).max() / np.abs(mine).max()
        assert err < 5e-3, f"{name}: max |mtmd - transformers| = {err:.2e} of the largest value"


def test_pruned_logits_match_transformers(checked, hf_model, tiny) -> None:
    """The first generated token's logits after a 50 % pruned prefill: llama.cpp (this example) vs
    transformers with fastdrive_pruner.integrations.qwen2_5_vl, on the same embeddings."""
    import torch
    from fastdrive_pruner.integrations import qwen2_5_vl as fdq

    r, dump = checked
    assert r.returncode == 0, r.stdout + r.stderr
    ids, grids, embeds, kept, meta = prompt_inputs(dump, torch)
    llama_pruned = np.load(dump / "logits_pruned.npy")
    llama_unpruned = np.load(dump / "logits_unpruned.npy")

    # unpruned first: the two runtimes agree on the model itself
    full = fdq.prune_inputs(hf_model, tiny / "pruner.safetensors", ids, image_grid_thw=grids, image_embeds=embeds,
                            ratio=1.0)
    ref_full = fdq.prefill(hf_model, full).logits[0, -1].numpy()
    scale = np.abs(ref_full).max()
    assert np.abs(ref_full - llama_unpruned).max() < 1e-5 * scale  # seen: 9e-7

    pruned = fdq.prune_inputs(hf_model, tiny / "pruner.safetensors", ids, image_grid_thw=grids, image_embeds=embeds,
                              ratio=0.5)
    for mine, theirs in zip(pruned.kept, kept):  # the Python binding picks the same rows as the C API
        np.testing.assert_array_equal(mine, theirs)
    assert int(pruned.position_ids.amax()) + 1 == meta["n_past"]  # both continue where the unpruned prompt ends
    ref = fdq.prefill(hf_model, pruned).logits[0, -1].numpy()
    err = np.abs(ref - llama_pruned).max()
    assert err < 1e-5 * scale, f"max |llama.cpp - transformers| = {err:.3g} (largest logit {scale:.3g})"

    # the check can tell: the same kept rows at compacted positions give different logits
    seq = pruned.inputs_embeds.shape[1]
    compact = torch.arange(seq).view(1, 1, -1).expand(3, 1, -1)
    with torch.no_grad():
        wrong = hf_model(inputs_embeds=pruned.inputs_embeds, position_ids=compact).logits[0, -1].numpy()
    assert np.abs(wrong - llama_pruned).max() > 100 * max(err, 1e-6 * scale)
