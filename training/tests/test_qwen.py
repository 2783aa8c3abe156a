"""Qwen2.5-VL integration on tiny checkpoints the test writes itself: PrunerLayer init from a decoder
layer (sharded, both tensor-name prefixes) and the vision tower as the frozen encoder."""

import json

import numpy as np
import pytest
import torch
from safetensors.torch import save_file
from transformers.models.qwen2_5_vl.configuration_qwen2_5_vl import Qwen2_5_VLTextConfig, Qwen2_5_VLVisionConfig
from transformers.models.qwen2_5_vl.modeling_qwen2_5_vl import (
    Qwen2_5_VisionTransformerPretrainedModel,
    Qwen2_5_VLDecoderLayer,
)

from conftest import perturb
from fastdrive_train.encoders import QwenVisionEncoder
from fastdrive_train.pruner import LAYER_TENSORS
from fastdrive_train.qwen_checkpoint import load_decoder_layer, pruner_from_checkpoint

TEXT = dict(hidden_size=64, intermediate_size=96, num_attention_heads=2, num_key_value_heads=1,
            num_hidden_layers=3, rms_norm_eps=1e-6, vocab_size=8, bos_token_id=None, eos_token_id=None,
            rope_parameters={"rope_type": "default", "rope_theta": 1e6, "mrope_section": [4, 6, 6]})


def _write_text_checkpoint(root, prefix: str, nested: bool) -> list[Qwen2_5_VLDecoderLayer]:
    """Three random decoder layers over two shards plus an index, like a real HF checkpoint."""
    cfg = Qwen2_5_VLTextConfig(**TEXT)
    cfg._attn_implementation = "eager"
    torch.manual_seed(0)
    layers = [Qwen2_5_VLDecoderLayer(cfg, i) for i in range(3)]
    for layer in layers:
        perturb(layer, 0.1)
    shards: list[dict[str, torch.Tensor]] = [{}, {}]
    weight_map = {}
    for i, layer in enumerate(layers):
        for name, t in layer.state_dict().items():
            key = prefix.format(i=i) + name
            shard = i % 2
            shards[shard][key] = t.to(torch.bfloat16) if i == 2 else t.contiguous()
            weight_map[key] = f"model-0000{shard + 1}-of-00002.safetensors"
    shards[0]["model.embed_tokens.weight"] = torch.zeros(8, 64)
    weight_map["model.embed_tokens.weight"] = "model-00001-of-00002.safetensors"
    for s, tensors in enumerate(shards):
        save_file(tensors, str(root / f"model-0000{s + 1}-of-00002.safetensors"))
    (root / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))
    text = {k: v for k, v in TEXT.items() if k not in ("bos_token_id", "eos_token_id")}
    config = {"model_type": "qwen2_5_vl", "text_config": text} if nested else text
    (root / "config.json").write_text(json.dumps(config))
    return layers


@pytest.mark.parametrize(
    "prefix,nested", [("model.layers.{i}.", False), ("model.language_model.layers.{i}.", True)]
)
def test_pruner_layer_from_checkpoint(tmp_path, prefix, nested):
    layers = _write_text_checkpoint(tmp_path, prefix, nested)
    pruner = pruner_from_checkpoint(tmp_path, layer_index=1, rope="1d")
    assert pruner.cfg.hidden_size == 64 and pruner.cfg.num_key_value_heads == 1
    assert pruner.cfg.mrope_section == (4, 6, 6) and pruner.cfg.rope == "1d"
    ref = layers[1].state_dict()
    for name in LAYER_TENSORS:
        assert torch.equal(pruner.layer.state_dict()[name], ref[name]), name
    # The loaded layer computes what the checkpoint's layer computes.
    x = torch.randn(1, 5, 64)
    cos_sin = pruner.rotary(x, 4, None, with_query=True)
    with torch.no_grad():
        assert torch.allclose(pruner.layer(x, position_embeddings=cos_sin), layers[1](x, position_embeddings=cos_sin))


def test_bf16_layer_and_missing_layer(tmp_path):
    _write_text_checkpoint(tmp_path, "model.layers.{i}.", False)
    assert load_decoder_layer(tmp_path, 2)["self_attn.q_proj.weight"].dtype == torch.bfloat16
    pruner_from_checkpoint(tmp_path, layer_index=2)  # bf16 shard converts to the f32 module
    with pytest.raises(KeyError, match="decoder layer 7"):
        load_decoder_layer(tmp_path, 7)


def test_decoder_layers_from_checkpoint(tmp_path):
    """With --init-from the decoder's layers are checkpoint layers init_layer+1, ... by default,
    another first layer on request, or random with decoder_init=fresh."""
    from fastdrive_train.train import TrainConfig, build_model, build_pruner

    layers = _write_text_checkpoint(tmp_path, "model.language_model.layers.{i}.", True)
    base = TrainConfig(train_manifest="", out_dir="", init_from=str(tmp_path), init_layer=0, decoder_layers=2,
                       pruner={"rope": "1d", "attention": "bidirectional"})

    def same(module, ref, stored=torch.float32) -> bool:
        theirs = ref.state_dict()
        return all(torch.equal(v, theirs[k].to(stored).float()) for k, v in module.state_dict().items())

    model = build_model(base, build_pruner(base), 16)
    assert same(model.pruner.layer, layers[0])
    assert same(model.decoder.layers[0], layers[1]) and same(model.decoder.layers[1], layers[2], torch.bfloat16)  # a bf16 shard
    one = TrainConfig(**{**base.__dict__, "decoder_layers": 1, "decoder_init_layer": 0})
    assert same(build_model(one, build_pruner(one), 16).decoder.layers[0], layers[0])
    fresh = TrainConfig(**{**base.__dict__, "decoder_init": "fresh"})
    assert not same(build_model(fresh, build_pruner(fresh), 16).decoder.layers[0], layers[1])
    too_deep = TrainConfig(**{**base.__dict__, "decoder_layers": 3})  # layers 1, 2, 3: there is no 3
    with pytest.raises(KeyError, match="decoder layer 3"):
        build_model(too_deep, build_pruner(too_deep), 16)


def test_missing_checkpoint_is_clear(tmp_path):
    with pytest.raises(FileNotFoundError, match="model.safetensors"):
        load_decoder_layer(tmp_path, 0)


VISION = dict(depth=2, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=48, patch_size=14,
              spatial_merge_size=2, temporal_patch_size=2, window_size=56, fullatt_block_indexes=[1])


@pytest.fixture(scope="module")
def vision_ckpt(tmp_path_factory):
    root = tmp_path_factory.mktemp("qwen_vision")
    cfg = Qwen2_5_VLVisionConfig(**VISION)
    cfg._attn_implementation = "eager"
    torch.manual_seed(0)
    model = Qwen2_5_VisionTransformerPretrainedModel(cfg)
    save_file({"model.visual." + k: v.contiguous() for k, v in model.state_dict().items()}, str(root / "model.safetensors"))
    (root / "config.json").write_text(json.dumps({"model_type": "qwen2_5_vl", "vision_config": VISION}))
    return root, model


def test_vision_encoder_from_local_weights(vision_ckpt):
    root, model = vision_ckpt
    enc = QwenVisionEncoder.from_pretrained(root)
    assert enc.patch == 28 and enc.dim == 48
    images = torch.rand(2, 3, 56, 84)
    tokens, grid = enc(images)
    assert grid == (2, 3) and tokens.shape == (2, 6, 48)
    # Batched encoding equals encoding each image alone (no cross-image leakage).
    alone, _ = enc(images[1:])
    assert torch.allclose(tokens[1:], alone, atol=1e-5)
    # And equals the tower called directly on the same pixel layout.
    flat, thw = enc.pixel_values(images[:1])
    with torch.no_grad():
        direct = model.eval()(flat, grid_thw=thw).pooler_output
    assert torch.allclose(tokens[0], direct, atol=1e-5)


def test_pixel_layout_matches_transformers_processor(vision_ckpt):
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    enc = QwenVisionEncoder.from_pretrained(vision_ckpt[0])
    img = (np.random.default_rng(0).random((56, 84, 3)) * 255).astype(np.uint8)
    ref = Qwen2VLImageProcessorPil()(images=[img], do_resize=False, return_tensors="pt")
    ours, thw = enc.pixel_values(torch.from_numpy(img).permute(2, 0, 1)[None].float() / 255.0)
    assert thw.tolist() == ref["image_grid_thw"].tolist()
    assert torch.allclose(ours, ref["pixel_values"].float(), atol=1e-4)
