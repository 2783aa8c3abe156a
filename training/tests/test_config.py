"""PrunerConfig validation and its metadata mapping (docs/weight-file.md)."""

import pytest

import fastdrive_train
from fastdrive_train.config import PrunerConfig


def test_defaults_are_qwen25_vl_3b():
    m = PrunerConfig().to_metadata()
    assert m == {
        "format": "fastdrive-reconpruner", "format_version": "1", "hidden_size": "2048",
        "intermediate_size": "11008", "num_attention_heads": "16", "num_key_value_heads": "2",
        "head_dim": "128", "rms_norm_eps": "0.000001", "rope_theta": "1000000", "rope": "mrope",
        "mrope_section": "16,24,24", "attention": "bidirectional",
        "producer": "fastdrive-train", "producer_version": fastdrive_train.__version__,
    }


def test_metadata_round_trip_and_defaults():
    cfg = PrunerConfig.small(128, rope="1d", attention="causal")
    assert PrunerConfig.from_metadata(cfg.to_metadata()) == cfg
    # Missing optional keys take the full-size value, as the runtime does.
    assert PrunerConfig.from_metadata({"format": "fastdrive-reconpruner"}) == PrunerConfig()


@pytest.mark.parametrize(
    "kwargs",
    [dict(rope="2d"), dict(attention="sliding"), dict(head_dim=64), dict(num_key_value_heads=3),
     dict(mrope_section=(16, 24, 23))],
)
def test_invalid_configs_rejected(kwargs):
    with pytest.raises(ValueError):
        PrunerConfig(**kwargs)


def test_bad_metadata_value_named():
    with pytest.raises(ValueError, match="hidden_size"):
        PrunerConfig.from_metadata({"hidden_size": "lots"})


def test_full_size_config_is_valid_and_schedules_the_anchor_as_initialiser():
    """The GPU recipe's config passes the trainer's checks, and its anchor stops a few thousand
    steps after the decoder warm-up so most of training is the reconstruction objective."""
    import json
    from pathlib import Path

    from fastdrive_train.train import TrainConfig

    raw = json.loads((Path(__file__).parents[1] / "configs" / "full-qwen2.5-vl-3b.json").read_text())
    cfg = TrainConfig(train_manifest="", out_dir="", **{k: v for k, v in raw.items() if not k.startswith("_")})
    cfg.validate()
    assert cfg.decoder_warmup < cfg.anchor_until <= cfg.decoder_warmup + 5000 < cfg.steps // 2
    assert (cfg.decoder_init, cfg.decoder_first_layer(), cfg.decoder_layers) == ("checkpoint", 1, 6)
