"""PrunerConfig: the ReconPruner hyper-parameters, with the weight file's metadata mapping (docs/weight-file.md)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

FORMAT_NAME = "fastdrive-reconpruner"
FORMAT_VERSION = 1

ROPE_MODES = ("none", "1d", "mrope")
ATTENTION_MODES = ("bidirectional", "causal")


@dataclass(frozen=True)
class PrunerConfig:
    """Configuration of one PrunerLayer plus query and scorer (docs/model.md).

    Defaults are the full-size Qwen2.5-VL-3B language-model layer, which is also what the
    runtime assumes for any metadata key that a weight file omits.
    """

    hidden_size: int = 2048
    intermediate_size: int = 11008
    num_attention_heads: int = 16
    num_key_value_heads: int = 2
    head_dim: int = 128
    rms_norm_eps: float = 1e-6
    rope_theta: float = 1_000_000.0
    rope: str = "mrope"
    mrope_section: tuple[int, int, int] = (16, 24, 24)
    attention: str = "bidirectional"

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
        """The weight file's `__metadata__`: every value a decimal (or enum) string."""
        return {
            "format": FORMAT_NAME,
            "format_version": str(FORMAT_VERSION),
            "hidden_size": str(self.hidden_size),
            "intermediate_size": str(self.intermediate_size),
            "num_attention_heads": str(self.num_attention_heads),
            "num_key_value_heads": str(self.num_key_value_heads),
            "head_dim": str(self.head_dim),
            "rms_norm_eps": _float_str(self.rms_norm_eps),
            "rope_theta": _float_str(self.rope_theta),
            "rope": self.rope,
            "mrope_section": ",".join(str(s) for s in self.mrope_section),
            "attention": self.attention,
        }

    @classmethod
    def from_metadata(cls, meta: dict[str, str]) -> "PrunerConfig":
        """Parse `__metadata__`; missing keys take the full-size defaults, as the runtime does."""
        if meta.get("format", FORMAT_NAME) != FORMAT_NAME:
            raise ValueError(f"metadata 'format' is {meta.get('format')!r}, expected {FORMAT_NAME!r}")
        if meta.get("format_version", str(FORMAT_VERSION)) != str(FORMAT_VERSION):
            raise ValueError(f"unsupported format_version {meta.get('format_version')!r}")
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in meta:
                continue
            raw = meta[f.name]
            try:
                if f.name == "mrope_section":
                    kwargs[f.name] = tuple(int(s) for s in raw.split(","))
                elif f.name in ("rms_norm_eps", "rope_theta"):
                    kwargs[f.name] = float(raw)
                elif f.name in ("rope", "attention"):
                    kwargs[f.name] = raw
                else:
                    kwargs[f.name] = int(raw)
            except ValueError as exc:
                raise ValueError(f"metadata key {f.name!r} has bad value {raw!r}") from exc
        return cls(**kwargs)

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


def _float_str(x: float) -> str:
    """Shortest decimal that round-trips (e.g. 1e-06, 1000000.0), parseable by strtod."""
    return repr(float(x))
