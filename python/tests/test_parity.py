# test_parity.py — scores and top-K of the Python binding against transformers' Qwen2_5_VLDecoderLayer (tolerance of docs/model.md).
from __future__ import annotations

import numpy as np
import pytest
from conftest import CASES, assert_same_topk_up_to_ties, assert_scores_close, case_files

from fastdrive_pruner import Pruner, ShapeError, UnsupportedError, schema
from fastdrive_pruner.reference import transformers_layer, weights


@pytest.mark.parametrize("name", [c["name"] for c in CASES])
def test_committed_fixture_parity(name: str) -> None:
    path, tokens, ref, grid = case_files(name)
    with Pruner(path, max_tokens=256, num_threads=1) as p:
        scores = p.score(tokens, grid=grid)
        assert_scores_close(scores, ref)
        n = len(tokens)
        for k in sorted({1, max(1, n // 4), max(1, n // 2), n}):
            assert_same_topk_up_to_ties(p.topk(scores, k), ref, k)
        indices, kept = p.prune(tokens, k=max(1, n // 2), grid=grid)
        assert_same_topk_up_to_ties(indices, ref, max(1, n // 2))
        np.testing.assert_array_equal(kept, tokens[indices])


@pytest.fixture(scope="module")
def fresh_model(tmp_path_factory):
    """A model made now with fastdrive_pruner.reference (D = 128, mrope, causal, bf16 weights) and its config."""
    config = schema.normalize_config(
        {
            "hidden_size": 128,
            "intermediate_size": 256,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "head_dim": 32,
            "rope": "mrope",
            "mrope_section": schema.scaled_mrope_section(32),
            "rope_theta": 200.0,
            "rms_norm_eps": 1e-5,
            "attention": "causal",
        }
    )
    tensors = weights.random_pruner(config, seed=1234)
    path = tmp_path_factory.mktemp("fresh") / "fresh.safetensors"
    weights.write_pruner(path, config, tensors, "bf16")
    _, stored = weights.read_pruner(path)  # the bf16-rounded values the runtime sees
    return path, config, stored


def test_fresh_model_parity_nonsquare_grid(fresh_model) -> None:
    path, config, stored = fresh_model
    tokens = weights.random_tokens(48, 128, seed=7)
    ref = transformers_layer.reference_scores(stored, config, tokens, 6, 8)
    with Pruner(path, max_tokens=64, num_threads=1) as p:
        assert p.config == config
        scores = p.score(tokens, grid=(6, 8))
        assert_scores_close(scores, ref)
        assert_same_topk_up_to_ties(p.topk(scores, 24), ref, 24)


def test_fresh_model_under_mrope_needs_the_grid(fresh_model) -> None:
    """Under M-RoPE the grid sets every position: a perfect-square N is not assumed square (a 16:9
    camera's 36 x 64 = 2304 tokens are also 48 x 48); only N = 1 has a single possible grid."""
    path, config, stored = fresh_model
    tokens = weights.random_tokens(49, 128, seed=8)
    ref = transformers_layer.reference_scores(stored, config, tokens, 7, 7)
    with Pruner(path, max_tokens=64, num_threads=1) as p:
        for call in (lambda: p.score(tokens), lambda: p.prune(tokens, ratio=0.5), lambda: p.select(tokens, 3)):
            with pytest.raises(ShapeError, match="grid"):
                call()
        assert_scores_close(p.score(tokens, grid=(7, 7)), ref)
        indices, kept = p.prune(tokens, ratio=0.5, grid=(7, 7))
        assert len(indices) == 24
        assert_same_topk_up_to_ties(indices, ref, 24)
        one = tokens[:1]
        np.testing.assert_array_equal(p.score(one), p.score(one, grid=(1, 1)))
        # policies that do not score need no grid
        assert p.select(tokens, 3, policy="uniform").tolist() == [8, 24, 40]


@pytest.mark.parametrize("compute, feature", [("bf16", "avx512_bf16"), ("int8", "avx512-vnni")])
def test_reduced_precision_compute_meets_spec_or_is_reported_unsupported(mrope_case, compute, feature) -> None:
    """docs/model.md: bf16 and int8 compute keep >= 97 % of the top-K at K = N/2; a CPU without
    their instructions says UNSUPPORTED, naming what is missing."""
    path, tokens, ref, grid = mrope_case
    try:
        p = Pruner(path, compute=compute, num_threads=1)
    except UnsupportedError as e:
        assert e.status == 8 and feature in str(e).lower()
        return
    with p:
        assert p.compute == compute
        k = len(tokens) // 2
        got = set(p.topk(p.score(tokens, grid=grid), k).tolist())
        want = set(np.argsort(-ref, kind="stable")[:k].tolist())
        assert len(got & want) >= int(0.97 * k)
