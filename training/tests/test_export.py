"""Export round trip: the weight file loads, carries the right metadata, and an independent NumPy
forward of the file matches the PyTorch module."""

import json
import struct

import numpy as np
import pytest
import torch
from safetensors import safe_open

from conftest import perturb
from fastdrive_train.config import PrunerConfig
from fastdrive_train.export import export_pruner, load_exported
from fastdrive_train.pruner import LAYER_TENSORS, ReconPruner
from fastdrive_pruner.reference.numpy_float64 import scores_from_file as reference_scores

SPEC_NAMES = {"query", "scorer.weight", "scorer.bias", *LAYER_TENSORS}


def _pruner(cfg: PrunerConfig) -> ReconPruner:
    torch.manual_seed(0)
    p = ReconPruner(cfg)
    perturb(p)
    return p.eval()


@pytest.mark.parametrize("rope", ["none", "1d", "mrope"])
@pytest.mark.parametrize("attention", ["bidirectional", "causal"])
def test_numpy_forward_matches_module(tmp_path, rope, attention):
    cfg = PrunerConfig.small(128, rope=rope, attention=attention)
    p = _pruner(cfg)
    path = export_pruner(p, tmp_path / "p.safetensors")
    tokens = torch.randn(1, 24, 128)
    with torch.no_grad():
        s = p(tokens, (4, 6))[0].double().numpy()
    ref = reference_scores(path, tokens[0].numpy(), (4, 6))
    assert np.abs(s - ref).max() <= 1e-4 * max(1.0, np.abs(ref).max())


@pytest.mark.parametrize("dtype,st", [("f32", "F32"), ("f16", "F16"), ("bf16", "BF16")])
def test_file_layout_and_metadata(tmp_path, dtype, st):
    cfg = PrunerConfig.small(128)
    path = export_pruner(_pruner(cfg), tmp_path / "p.safetensors", dtype)
    assert not list(tmp_path.glob("*.tmp"))
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    meta = header.pop("__metadata__")
    assert meta == cfg.to_metadata()
    assert all(isinstance(v, str) for v in meta.values())
    assert set(header) == SPEC_NAMES
    assert {h["dtype"] for h in header.values()} == {st}
    d, hd, i = 128, cfg.head_dim, cfg.intermediate_size
    assert header["query"]["shape"] == [1, d]
    assert header["self_attn.q_proj.weight"]["shape"] == [cfg.num_attention_heads * hd, d]
    assert header["self_attn.k_proj.bias"]["shape"] == [cfg.num_key_value_heads * hd]
    assert header["mlp.down_proj.weight"]["shape"] == [d, i]
    assert header["scorer.weight"]["shape"] == [1, d] and header["scorer.bias"]["shape"] == [1]
    with safe_open(str(path), framework="pt") as f:  # the standard reader accepts it too
        assert set(f.keys()) == SPEC_NAMES


@pytest.mark.parametrize("dtype", ["f16", "bf16"])
def test_half_precision_file_round_trip(tmp_path, dtype):
    cfg = PrunerConfig.small(128)
    p = _pruner(cfg)
    path = export_pruner(p, tmp_path / "p.safetensors", dtype)
    back = load_exported(path)
    assert back.cfg == cfg
    tokens = torch.randn(1, 16, 128)
    with torch.no_grad():
        s_back = back(tokens, (4, 4))[0].double().numpy()
        s_orig = p(tokens, (4, 4))[0].double().numpy()
    ref = reference_scores(path, tokens[0].numpy(), (4, 4))
    # The reloaded module and the NumPy forward see the same rounded weights: tight.
    assert np.abs(s_back - ref).max() <= 1e-4 * max(1.0, np.abs(ref).max())
    # Against the unrounded original only the ranking needs to survive.
    assert np.corrcoef(s_back, s_orig)[0, 1] > 0.99


def test_exported_f32_reloads_exactly(tmp_path):
    p = _pruner(PrunerConfig.small(64))
    back = load_exported(export_pruner(p, tmp_path / "p.safetensors"))
    for k, v in p.spec_state_dict().items():
        assert torch.equal(v, back.spec_state_dict()[k]), k


def test_patch_encoder_file_reproduces_tokens_in_numpy(tmp_path):
    """The documented encoder math, in NumPy from the saved file, gives the trainer's tokens."""
    from math import erf

    from safetensors.numpy import load_file

    from fastdrive_train.encoders import PatchEncoder, save_patch_encoder

    enc = PatchEncoder(dim=32, patch=8, hidden=16, seed=3)
    save_patch_encoder(enc, tmp_path / "enc.safetensors")
    w = load_file(str(tmp_path / "enc.safetensors"))
    img = np.random.default_rng(0).random((3, 24, 32)).astype(np.float32)
    x = ((img - 0.5) / 0.25).reshape(3, 3, 8, 4, 8).transpose(1, 3, 0, 2, 4).reshape(3, 4, -1)
    pre = x @ w["w1"].T
    local = 0.5 * pre * (1 + np.vectorize(erf)(pre / np.sqrt(2)))
    padded = np.pad(local, ((1, 1), (1, 1), (0, 0)))
    ctx = sum(padded[dy : dy + 3, dx : dx + 4] for dy in range(3) for dx in range(3)) / 9.0
    ref = np.tanh(np.concatenate([local, ctx], -1) @ w["w2"].T).reshape(12, 32)
    tokens, grid = enc(torch.from_numpy(img)[None])
    assert grid == (3, 4)
    assert np.abs(tokens[0].numpy() - ref).max() < 1e-5


@pytest.mark.parametrize("rope", ["none", "1d", "mrope"])
@pytest.mark.parametrize("attention", ["bidirectional", "causal"])
@pytest.mark.parametrize("dtype", ["f32", "bf16"])
def test_runtime_scores_match_module(tmp_path, rope, attention, dtype):
    """The exported file, loaded by the runtime (Python package over libfastdrive_pruner), scores
    like the trainer's own forward of the stored weights, within the f32 tolerance of docs/model.md."""
    from fastdrive_pruner import Pruner

    cfg = PrunerConfig.small(128, rope=rope, attention=attention)
    path = export_pruner(_pruner(cfg), tmp_path / "p.safetensors", dtype)
    module = load_exported(path).eval()  # the stored (possibly bf16-rounded) weights, as f32
    tokens = torch.randn(1, 35, 128)
    with torch.no_grad():
        expected = module(tokens, (5, 7))[0].numpy()
    with Pruner(str(path), max_tokens=64, num_threads=2) as runtime:
        got = runtime.score(tokens[0].numpy(), grid=(5, 7))
    assert np.abs(got - expected).max() <= 1e-3 * max(1.0, np.abs(expected).max())


def test_shipped_model_runs_in_the_runtime():
    """models/reconpruner-small.safetensors: the runtime and the trainer agree on it."""
    from pathlib import Path

    from fastdrive_pruner import Pruner

    path = Path(__file__).resolve().parents[2] / "models" / "reconpruner-small.safetensors"
    module = load_exported(path).eval()
    tokens = torch.randn(1, 196, module.cfg.hidden_size)
    with torch.no_grad():
        expected = module(tokens, (14, 14))[0].numpy()
    with Pruner(str(path), max_tokens=196, num_threads=2) as runtime:
        got = runtime.score(tokens[0].numpy(), grid=(14, 14))
    assert np.abs(got - expected).max() <= 1e-3 * max(1.0, np.abs(expected).max())
