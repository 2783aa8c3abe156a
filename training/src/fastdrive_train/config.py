"""PrunerConfig: the ReconPruner hyper-parameters, with the weight file's metadata mapping (docs/weight-file.md)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from fastdrive_pruner import schema  # the weight file's names, defaults and metadata, defined once

from ._version import __version__

FORMAT_NAME = schema.FORMAT_NAME
FORMAT_VERSION = schema.FORMAT_VERSION
ROPE_MODES = schema.ROPE_MODES
ATTENTION_MODES = schema.ATTENTION_MODES
_D = schema.DEFAULTS


@dataclass(frozen=True)
class PrunerConfig:
    """Configuration of one PrunerLayer plus query and scorer (docs/model.md).

    Defaults are the full-size Qwen2.5-VL-3B language-model layer, which is also what the
    runtime assumes for any metadata key that a weight file omits.
    """

    hidden_size: int = _D["hidden_size"]
    intermediate_size: int = _D["intermediate_size"]
    num_attention_heads: int = _D["num_attention_heads"]
    num_key_value_heads: int = _D["num_key_value_heads"]
    head_dim: int = _D["head_dim"]
    rms_norm_eps: float = _D["rms_norm_eps"]
    rope_theta: float = _D["rope_theta"]
    rope: str = _D["rope"]
    mrope_section: tuple[int, int, int] = tuple(_D["mrope_section"])
    attention: str = _D["attention"]

    def __post_init__(self) -> None:
        if self.rope not in ROPE_MODES:
            raise ValueError(f"rope must be one of {ROPE_MODES}, got {self.rope!r}")
        if self.attention not in ATTENTION_MODES:
            raise ValueError(f"attention must be one of {ATTENTION_MODES}, got {self.attention!r}")
        # transformers' Qwen2_5_VLAttention derives head_dim as hidden/heads, so the two must agree.
        if self.head_dim * self.num_attention_heads != self.hidden_size:
            raise ValueError(
                f"head_dim ({self.head_dim}) * num_attention_heads ({self.num_attention_heads}) "
                f"must equal hidden_size ({self.hidden_size})"
            )
        if self.num_attention_heads % self.num_key_value_heads:
            raise ValueError("num_attention_heads must be a multiple of num_key_value_heads")
        if self.rope == "mrope" and sum(self.mrope_section) * 2 != self.head_dim:
            raise ValueError(
                f"mrope_section {self.mrope_section} must cover head_dim/2 = {self.head_dim // 2} "
                "rotary frequency pairs"
            )

    @classmethod
    def small(cls, hidden_size: int = 128, **overrides: Any) -> "PrunerConfig":
        """A reduced config with the 3B layer's proportions (heads of 64, 8:1 GQA → 2:1 here)."""
        head_dim = 64
        heads = max(1, hidden_size // head_dim)
        base = dict(
            hidden_size=hidden_size,
            intermediate_size=4 * hidden_size,
            num_attention_heads=heads,
            num_key_value_heads=max(1, heads // 2),
            head_dim=head_dim,
            mrope_section=(8, 12, 12),
        )
        base.update(overrides)
        return cls(**base)

    # ---- weight-file metadata (docs/weight-file.md) ---------------------------------------------------------------

    def to_metadata(self) -> dict[str, str]:
        """The weight file's `__metadata__`: every value a decimal (or enum) string, plus the
        exporter and the project version it belongs to (producer keys; the runtime ignores them)."""
        return schema.config_metadata(self.to_dict(), producer=("fastdrive-train", __version__))

    @classmethod
    def from_metadata(cls, meta: dict[str, str]) -> "PrunerConfig":
        """Parse `__metadata__`; missing keys take the full-size defaults, as the runtime does."""
        return cls.from_dict(schema.config_from_metadata(meta))

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for checkpoints / JSON (tuples become lists)."""
        d = asdict(self)
        d["mrope_section"] = list(self.mrope_section)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "PrunerConfig":
        d = dict(d)
        if "mrope_section" in d:
            d["mrope_section"] = tuple(d["mrope_section"])
        return cls(**d)
