"""Reading tensors and configs out of a local (possibly sharded) Qwen2.5-VL checkpoint directory."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import safe_open

from .config import PrunerConfig
from .pruner import LAYER_TENSORS, ReconPruner

# Older checkpoints name the language model `model.layers.{i}`; transformers ≥ 4.52 re-saves it
# as `model.language_model.layers.{i}`. The vision tower moved from `visual.` to `model.visual.`.
LAYER_PREFIXES = ("model.layers.{i}.", "model.language_model.layers.{i}.")
VISION_PREFIXES = ("visual.", "model.visual.")


class CheckpointIndex:
    """Tensor name → shard file map for `model.safetensors.index.json` or a single safetensors file."""

    def __init__(self, path: str | Path) -> None:
        self.root = Path(path)
        index = self.root / "model.safetensors.index.json"
        single = self.root / "model.safetensors"
        if index.is_file():
            weight_map = json.loads(index.read_text())["weight_map"]
            self.files = {name: self.root / shard for name, shard in weight_map.items()}
        elif single.is_file():
            with safe_open(str(single), framework="pt") as f:
                self.files = {name: single for name in f.keys()}
        else:
            raise FileNotFoundError(
                f"{self.root}: no model.safetensors.index.json or model.safetensors found"
            )

    def config(self) -> dict:
        """The parsed `config.json` of the checkpoint."""
        cfg = self.root / "config.json"
        if not cfg.is_file():
            raise FileNotFoundError(f"{cfg}: missing (needed to know the layer's shape)")
        return json.loads(cfg.read_text())

    def names_with_prefix(self, prefix: str) -> list[str]:
        return [n for n in self.files if n.startswith(prefix)]

    def load(self, names: list[str]) -> dict[str, torch.Tensor]:
        """Load the named tensors, opening each shard once."""
        by_file: dict[Path, list[str]] = {}
        for n in names:
            if n not in self.files:
                raise KeyError(f"tensor {n!r} not in checkpoint {self.root}")
            by_file.setdefault(self.files[n], []).append(n)
        out: dict[str, torch.Tensor] = {}
        for file, ns in by_file.items():
            if not file.is_file():
                raise FileNotFoundError(f"{file}: shard listed in the index is missing")
            with safe_open(str(file), framework="pt") as f:
                for n in ns:
                    out[n] = f.get_tensor(n)
        return out

    def find_prefix(self, candidates: tuple[str, ...], what: str) -> str:
        """The first candidate prefix that some tensor name starts with."""
        for p in candidates:
            if self.names_with_prefix(p):
                return p
        raise KeyError(f"{self.root}: no tensors for {what} under any of {', '.join(candidates)}")


def text_config_dict(config: dict) -> dict:
    """The language-model part of a Qwen2.5-VL config.json (nested `text_config` or top level)."""
    return config.get("text_config", config)


def pruner_config_from_checkpoint(path: str | Path, **overrides) -> PrunerConfig:
    """PrunerConfig with the checkpoint's layer shape; rope/attention modes from `overrides`."""
    tc = text_config_dict(CheckpointIndex(path).config())
    rope = tc.get("rope_parameters") or tc.get("rope_scaling") or {}
    heads = tc["num_attention_heads"]
    kwargs = dict(
        hidden_size=tc["hidden_size"],
        intermediate_size=tc["intermediate_size"],
        num_attention_heads=heads,
        num_key_value_heads=tc.get("num_key_value_heads", heads),
        head_dim=tc["hidden_size"] // heads,
        rms_norm_eps=tc.get("rms_norm_eps", 1e-6),
        rope_theta=rope.get("rope_theta", tc.get("rope_theta", 1_000_000.0)),
    )
    if "mrope_section" in rope:
        kwargs["mrope_section"] = tuple(rope["mrope_section"])
    kwargs.update(overrides)
    return PrunerConfig(**kwargs)


def load_decoder_layer(path: str | Path, layer_index: int) -> dict[str, torch.Tensor]:
    """Tensors of decoder layer `layer_index`, renamed to weight-file names (either prefix accepted)."""
    ckpt = CheckpointIndex(path)
    prefixes = tuple(p.format(i=layer_index) for p in LAYER_PREFIXES)
    prefix = ckpt.find_prefix(prefixes, f"decoder layer {layer_index}")
    raw = ckpt.load([prefix + name for name in LAYER_TENSORS])
    return {name: raw[prefix + name] for name in LAYER_TENSORS}


def pruner_from_checkpoint(path: str | Path, layer_index: int, **overrides) -> ReconPruner:
    """A ReconPruner whose PrunerLayer is layer `layer_index` of the checkpoint (query, scorer fresh)."""
    cfg = pruner_config_from_checkpoint(path, **overrides)
    pruner = ReconPruner(cfg)
    tensors = pruner.spec_state_dict()
    layer = load_decoder_layer(path, layer_index)
    tensors.update({k: v.to(torch.float32) for k, v in layer.items()})
    pruner.load_spec_state_dict(tensors)
    return pruner
