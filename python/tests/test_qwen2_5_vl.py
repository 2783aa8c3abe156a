# test_qwen2_5_vl.py — the transformers Qwen2.5-VL integration on a tiny random model: exactness, positions, errors.
"""Tests of :mod:`fastdrive_pruner.integrations.qwen2_5_vl` (needs torch + transformers; no hub access).

The model is a tiny random ``Qwen2_5_VLForConditionalGeneration`` built here (2 LLM layers of
width 64, a 2-block vision tower whose merger outputs 64), and the pruners are random weight files
from ``fastdrive_pruner.reference``: the point is the plumbing, not the ranking quality.
"""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from fastdrive_pruner import schema  # noqa: E402
from fastdrive_pruner.reference import weights  # noqa: E402
from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration  # noqa: E402

from fastdrive_pruner import CapacityError, InvalidArgumentError, Pruner, ShapeError  # noqa: E402
from fastdrive_pruner.integrations import qwen2_5_vl as fdq  # noqa: E402

IMG, VIDEO, VS, VE, PAD = 5, 6, 3, 4, 0
D = 64
MERGE = 2
PATCH_DIM = 3 * 2 * 14 * 14  # channels · temporal_patch_size · patch²


def tiny_config(out_hidden: int = D) -> Qwen2_5_VLConfig:
    return Qwen2_5_VLConfig(
        text_config=dict(
            vocab_size=64, hidden_size=D, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, max_position_embeddings=512, bos_token_id=1, eos_token_id=2, pad_token_id=PAD,
            rope_parameters={"rope_type": "default", "mrope_section": [2, 3, 3], "rope_theta": 1e6},
        ),
        vision_config=dict(
            depth=2, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=out_hidden, patch_size=14,
            spatial_merge_size=MERGE, temporal_patch_size=2, window_size=112, fullatt_block_indexes=[1],
        ),
        image_token_id=IMG, video_token_id=VIDEO, vision_start_token_id=VS, vision_end_token_id=VE,
    )


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return Qwen2_5_VLForConditionalGeneration(tiny_config()).eval()


def _write_pruner(path, hidden: int, seed: int = 0):
    cfg = schema.normalize_config(dict(
        hidden_size=hidden, intermediate_size=96, num_attention_heads=4, num_key_value_heads=2,
        head_dim=hidden // 4, mrope_section=schema.scaled_mrope_section(hidden // 4),
    ))
    weights.write_pruner(path, cfg, weights.random_pruner(cfg, seed=seed))
    return path


@pytest.fixture(scope="module")
def pruner_path(tmp_path_factory):
    return _write_pruner(tmp_path_factory.mktemp("qwen") / "pruner64.safetensors", D)


@pytest.fixture(scope="module")
def pruner(pruner_path):
    with Pruner(pruner_path, max_tokens=256, num_threads=1) as p:
        yield p


def prompt(grids, text=(10, 11), between=(12,), tail=(13, 14, 15)):
    """One row: text, then per image <vision_start> placeholders <vision_end> + a separator, then a tail."""
    ids = list(text)
    for t, h, w in grids:
        ids += [VS] + [IMG] * (t * h * w // MERGE**2) + [VE] + list(between)
    return ids + list(tail)


def batch(rows, grids, pad_left=True):
    """input_ids / attention_mask / pixel_values / image_grid_thw / mm_token_type_ids like a processor's output."""
    n = max(len(r) for r in rows)
    ids = torch.full((len(rows), n), PAD, dtype=torch.long)
    am = torch.zeros_like(ids)
    for b, r in enumerate(rows):
        sl = slice(n - len(r), n) if pad_left else slice(0, len(r))
        ids[b, sl] = torch.tensor(r)
        am[b, sl] = 1
    g = torch.tensor(grids, dtype=torch.long)
    gen = torch.Generator().manual_seed(1)
    pv = torch.randn(int(g.prod(-1).sum()), PATCH_DIM, generator=gen)
    return dict(input_ids=ids, attention_mask=am, pixel_values=pv, image_grid_thw=g,
                mm_token_type_ids=(ids == IMG).to(torch.int32))


def unpruned_logits(model, inputs):
    with torch.no_grad():
        return model(**inputs).logits


def vision_embeds(model, inputs):
    with torch.no_grad():
        f = model.model.get_image_features(inputs["pixel_values"], inputs["image_grid_thw"], return_dict=True)
    return torch.cat(list(f.pooler_output))


GRIDS_2 = [[1, 6, 8], [1, 4, 4]]


# --------------------------------------------------------------------------- exactness


def test_keep_all_reproduces_the_unpruned_logits(model, pruner) -> None:
    inputs = batch([prompt(GRIDS_2)], GRIDS_2)
    ref = unpruned_logits(model, inputs)
    for kw in (dict(ratio=1.0), dict(k=[12, 4])):
        pr = fdq.prune_inputs(model, pruner, **inputs, **kw)
        assert pr.keep_counts == [12, 4] and pr.token_counts == [12, 4]
        assert torch.equal(pr.input_ids, inputs["input_ids"])
        out = fdq.prefill(model, pr).logits
        torch.testing.assert_close(out, ref, rtol=0, atol=0)  # bit-identical: same embeds, same positions


def test_keep_all_matches_on_a_left_padded_batch(model, pruner) -> None:
    grids = [[1, 6, 8], [1, 4, 4], [1, 4, 6]]
    rows = [prompt(grids[:1]), prompt(grids[1:], tail=(13,))]
    inputs = batch(rows, grids)
    ref = unpruned_logits(model, inputs)
    pr = fdq.prune_inputs(model, pruner, **inputs, ratio=1.0)
    out = fdq.prefill(model, pr).logits
    real = inputs["attention_mask"].bool()
    torch.testing.assert_close(out[real], ref[real], rtol=0, atol=0)


def test_keep_all_generates_the_same_tokens(model, pruner) -> None:
    inputs = batch([prompt(GRIDS_2)], GRIDS_2)
    with torch.no_grad():
        ref = model.generate(**inputs, max_new_tokens=4, do_sample=False)
    pr = fdq.prune_inputs(model, pruner, **inputs, ratio=1.0)
    out = fdq.generate(model, pr, max_new_tokens=4, do_sample=False)
    assert torch.equal(out, ref)


# --------------------------------------------------------------------------- positions


def test_kept_tokens_keep_their_unpruned_positions(model, pruner) -> None:
    inputs = batch([prompt(GRIDS_2)], GRIDS_2)
    full, _ = model.model.get_rope_index(inputs["input_ids"], inputs["mm_token_type_ids"],
                                         image_grid_thw=inputs["image_grid_thw"], attention_mask=inputs["attention_mask"])
    pr = fdq.prune_inputs(model, pruner, **inputs, ratio=0.5)
    assert pr.keep_counts == [6, 2]
    n0 = inputs["input_ids"].shape[1]
    assert pr.input_ids.shape == (1, n0 - 6 - 2)
    src = pr.source_positions[0]
    assert bool((src[1:] > src[:-1]).all())  # original order
    assert torch.equal(pr.position_ids[:, 0], full[:, 0, src])  # every kept token: its unpruned (t, h, w)
    # each image's kept tokens sit at (start + f, start + row, start + col) of its own grid
    for img, kept in zip(pr.images, pr.kept):
        seq = img.start + torch.as_tensor(kept)
        at = torch.nonzero(torch.isin(src, seq)).flatten()
        assert at.numel() == kept.size
        text_pos = int(full[0, 0, img.start - 1]) + 1  # position after <vision_start>
        exp = torch.stack([torch.as_tensor(kept) // (img.h * img.w), torch.as_tensor(kept) % (img.h * img.w) // img.w,
                           torch.as_tensor(kept) % img.w]) + text_pos
        assert torch.equal(pr.position_ids[:, 0, at], exp)
    # the text after the images keeps its original positions
    tail = torch.arange(n0 - 3, n0)
    assert torch.equal(pr.position_ids[:, 0, -3:], full[:, 0, tail])
    assert torch.equal(pr.input_ids[0, -3:], inputs["input_ids"][0, -3:])
    # rope_deltas: the next token continues where the unpruned prompt would
    assert int(pr.rope_deltas[0, 0]) + pr.input_ids.shape[1] == int(full[:, 0].max()) + 1


def test_pruned_generate_continues_at_the_unpruned_positions(model, pruner) -> None:
    inputs = batch([prompt(GRIDS_2)], GRIDS_2)
    pr = fdq.prune_inputs(model, pruner, **inputs, ratio=0.5)
    out = fdq.generate(model, pr, max_new_tokens=3, do_sample=False)[:, pr.input_ids.shape[1]:]
    # manual greedy loop over the cache: explicit positions max+1, max+2, ... of the unpruned prompt
    with torch.no_grad():
        step = model(**pr.model_inputs(), use_cache=True)
        toks, am = [], pr.attention_mask
        nxt = int(pr.position_ids.max()) + 1
        for i in range(3):
            tok = step.logits[:, -1].argmax(-1, keepdim=True)
            toks.append(tok)
            am = torch.cat([am, torch.ones_like(tok)], dim=1)
            pos = torch.full((3, 1, 1), nxt + i, dtype=torch.long)
            step = model(input_ids=tok, attention_mask=am, position_ids=pos, cache=step.cache, use_cache=True)
    assert torch.equal(out, torch.cat(toks, dim=1))
    # and the model's own rope_deltas path (no position_ids while decoding) agrees after prefill()
    with torch.no_grad():
        first = fdq.prefill(model, pr, use_cache=True)
        tok = first.logits[:, -1].argmax(-1, keepdim=True)
        # (transformers 5.24 derives decode positions from rope_deltas only without an attention_mask)
        implicit = model(input_ids=tok, cache=first.cache, use_cache=True).logits
    with torch.no_grad():
        first = model(**pr.model_inputs(), use_cache=True)
        pos = torch.full((3, 1, 1), nxt, dtype=torch.long)
        explicit = model(input_ids=tok, position_ids=pos, cache=first.cache, use_cache=True).logits
    torch.testing.assert_close(implicit, explicit, rtol=0, atol=0)


def test_right_padded_batch_is_repadded_on_the_right(model, pruner) -> None:
    grids = [[1, 6, 8], [1, 4, 4]]
    inputs = batch([prompt(grids[:1]), prompt(grids[1:])], grids, pad_left=False)
    full, _ = model.model.get_rope_index(inputs["input_ids"], inputs["mm_token_type_ids"],
                                         image_grid_thw=inputs["image_grid_thw"], attention_mask=inputs["attention_mask"])
    pr = fdq.prune_inputs(model, pruner, **inputs, k=[3, 4])
    for b in range(2):
        real = pr.attention_mask[b].bool()
        assert bool(real[: int(real.sum())].all())  # padding only at the end
        src = pr.source_positions[b][real]
        assert torch.equal(pr.position_ids[:, b][:, real], full[:, b, src])
        assert torch.equal(pr.input_ids[b][real], inputs["input_ids"][b, src])


# --------------------------------------------------------------------------- several images


def test_six_cameras_each_keep_their_own_tokens(model, pruner) -> None:
    grids = [[1, 4, 6], [1, 6, 4], [1, 4, 4], [1, 6, 6], [1, 4, 8], [1, 8, 4]]
    inputs = batch([prompt(grids)], grids)
    embeds = vision_embeds(model, inputs)
    calls = []
    hook = model.model.visual.register_forward_hook(lambda *a: calls.append(1))
    try:
        pr = fdq.prune_inputs(model, pruner, **inputs, ratio=0.5)
    finally:
        hook.remove()
    assert len(calls) == 1  # the vision tower runs once for all six images
    assert pr.keep_counts == [max(1, n // 2) for n in pr.token_counts]
    offset, at = 0, 0
    for img, kept in zip(pr.images, pr.kept):
        own = embeds[offset : offset + img.n_tokens]
        # the runtime's choice on this image alone, with this image's grid
        idx, _ = pruner.prune(own, k=kept.size, grid=(img.h, img.w))
        np.testing.assert_array_equal(kept, idx)
        torch.testing.assert_close(pr.image_embeds[at : at + kept.size], own[torch.as_tensor(kept)], rtol=0, atol=0)
        # and those embeddings sit at this image's placeholders in inputs_embeds
        src = pr.source_positions[0]
        cols = torch.nonzero(torch.isin(src, img.start + torch.as_tensor(kept))).flatten()
        torch.testing.assert_close(pr.inputs_embeds[0, cols], own[torch.as_tensor(kept)], rtol=0, atol=0)
        offset += img.n_tokens
        at += kept.size
    assert int((pr.input_ids == IMG).sum()) == sum(pr.keep_counts)


def test_per_image_ratios_and_a_path_instead_of_a_pruner(model, pruner_path) -> None:
    grids = [[1, 6, 8], [1, 4, 4]]
    inputs = batch([prompt(grids)], grids)
    pr = fdq.prune_inputs(model, str(pruner_path), **inputs, ratio=[0.25, 1.0])
    assert pr.keep_counts == [3, 4]
    assert pr.scores[1] is None and pr.scores[0].shape == (12,)


def test_frame_by_frame_scoring_when_the_batch_does_not_fit(model, pruner_path) -> None:
    grids = [[1, 6, 8], [1, 4, 4]]
    inputs = batch([prompt(grids)], grids)
    with Pruner(pruner_path, max_tokens=12, num_threads=1) as small, Pruner(pruner_path, max_tokens=256, num_threads=1) as big:
        a = fdq.prune_inputs(model, small, **inputs, ratio=0.5)
        b = fdq.prune_inputs(model, big, **inputs, ratio=0.5, batch_frames=False)
    for x, y in zip(a.kept, b.kept):
        np.testing.assert_array_equal(x, y)


# --------------------------------------------------------------------------- errors, before any model work


@pytest.fixture
def no_model_work(model, monkeypatch):
    def boom(*a, **k):
        raise AssertionError("the vision tower ran before the inputs were checked")

    monkeypatch.setattr(model.model, "get_image_features", boom)
    return model


def test_pruner_of_another_hidden_size_fails_clearly(no_model_work, tmp_path) -> None:
    path = _write_pruner(tmp_path / "pruner32.safetensors", 32)
    inputs = batch([prompt(GRIDS_2)], GRIDS_2)
    with Pruner(path, num_threads=1) as p, pytest.raises(ShapeError, match=r"hidden size 32 .* output size 64"):
        fdq.prune_inputs(no_model_work, p, **inputs, ratio=0.5)


@pytest.mark.parametrize("grids, match", [
    ([[1, 4, 4], [1, 6, 8]], r"image 0: image_grid_thw \[1, 4, 4\] gives 4 tokens .* has 12"),  # swapped order
    ([[1, 6, 8], [1, 4, 8]], r"2 image\(s\) with 20 tokens .* \(12, 8\), but input_ids hold 16"),
    ([[1, 6, 8]], r"1 image\(s\) with 12 tokens .* 16 image placeholder tokens .* 2 run"),
    ([[1, 6, 8], [1, 4, 4], [1, 4, 4]], r"3 image\(s\) .* 2 run"),
    ([[1, 6, 8], [1, 4, 3]], r"multiples of the spatial merge size 2"),
])
def test_grid_inconsistent_with_the_placeholders_fails_first(no_model_work, pruner, grids, match) -> None:
    inputs = batch([prompt(GRIDS_2)], GRIDS_2)
    inputs["image_grid_thw"] = torch.tensor(grids)
    with pytest.raises(ShapeError, match=match):
        fdq.prune_inputs(no_model_work, pruner, **inputs, ratio=0.5)


def test_pixel_values_that_do_not_match_the_grid_fail_first(no_model_work, pruner) -> None:
    inputs = batch([prompt(GRIDS_2)], GRIDS_2)
    inputs["pixel_values"] = inputs["pixel_values"][:-4]
    with pytest.raises(ShapeError, match="pixel_values"):
        fdq.prune_inputs(no_model_work, pruner, **inputs, ratio=0.5)


@pytest.mark.parametrize("kw", [dict(ratio=0.0), dict(ratio=1.5), dict(ratio=-0.25), dict(ratio=float("nan")),
                                dict(ratio=[0.5, 2.0]), dict(ratio=[0.5]), dict(k=0), dict(k=[12, 5]),
                                dict(), dict(ratio=0.5, k=3)])
def test_bad_keep_ratio_or_k_fails_first(no_model_work, pruner, kw) -> None:
    inputs = batch([prompt(GRIDS_2)], GRIDS_2)
    with pytest.raises(InvalidArgumentError):
        fdq.prune_inputs(no_model_work, pruner, **inputs, **kw)


def test_frame_larger_than_the_pruner_capacity_fails_first(no_model_work, pruner_path) -> None:
    inputs = batch([prompt(GRIDS_2)], GRIDS_2)
    with Pruner(pruner_path, max_tokens=8, num_threads=1) as p, pytest.raises(CapacityError, match="max_tokens >= 12"):
        fdq.prune_inputs(no_model_work, p, **inputs, ratio=0.5)


def test_video_placeholders_are_rejected(no_model_work, pruner) -> None:
    inputs = batch([prompt(GRIDS_2, tail=(VIDEO,))], GRIDS_2)
    with pytest.raises(InvalidArgumentError, match="video"):
        fdq.prune_inputs(no_model_work, pruner, **inputs, ratio=0.5)
