# _describe.py — read-only properties of a Pruner, from fastdrive_pruner_describe (model config, capacity, compute).
"""The ``Pruner`` properties that report what its handle was loaded with.

Names follow the C struct ``fastdrive_pruner_info`` and the weight file's metadata keys
(``num_attention_heads``, ``num_key_value_heads``, ``num_threads``), as do the constructor's
arguments; ``num_heads`` and ``num_kv_heads`` remain as deprecated spellings.

``fastdrive_pruner_describe`` is called once at create (the answer never changes for a handle);
these properties read that snapshot and raise InvalidArgumentError after close, like every call.
"""
from __future__ import annotations

import warnings
from typing import Any, Dict, Tuple

from ._lib import Attention, DType, PrunerInfo, Rope

__all__ = ["Described"]

_ROPE_NAMES = {Rope.NONE: "none", Rope.ROPE_1D: "1d", Rope.MROPE: "mrope"}
_ATTENTION_NAMES = {Attention.BIDIRECTIONAL: "bidirectional", Attention.CAUSAL: "causal"}
_DTYPE_NAMES = {DType.F32: "f32", DType.F16: "f16", DType.BF16: "bf16", DType.INT8: "int8"}


class Described:
    """Mixin: properties over ``self._info`` (a PrunerInfo); the host class provides ``_live()`` and ``_path``."""

    _info: PrunerInfo
    _path: str

    def _live(self) -> int:  # pragma: no cover - provided by Pruner
        raise NotImplementedError

    @property
    def path(self) -> str:
        """The weight file this pruner was loaded from."""
        return self._path

    def _described(self) -> PrunerInfo:
        """The describe() snapshot, or InvalidArgumentError after close."""
        self._live()
        return self._info

    @property
    def hidden_size(self) -> int:
        """D, the token dim."""
        return int(self._described().hidden_size)

    @property
    def intermediate_size(self) -> int:
        """I, the MLP width."""
        return int(self._described().intermediate_size)

    @property
    def num_attention_heads(self) -> int:
        """H, attention heads."""
        return int(self._described().num_attention_heads)

    @property
    def num_key_value_heads(self) -> int:
        """KV heads (grouped-query attention)."""
        return int(self._described().num_key_value_heads)

    @property
    def num_heads(self) -> int:
        """Deprecated spelling of :attr:`num_attention_heads`."""
        warnings.warn("Pruner.num_heads is deprecated: use num_attention_heads", DeprecationWarning, stacklevel=2)
        return self.num_attention_heads

    @property
    def num_kv_heads(self) -> int:
        """Deprecated spelling of :attr:`num_key_value_heads`."""
        warnings.warn("Pruner.num_kv_heads is deprecated: use num_key_value_heads", DeprecationWarning, stacklevel=2)
        return self.num_key_value_heads

    @property
    def head_dim(self) -> int:
        """Per-head dim."""
        return int(self._described().head_dim)

    @property
    def rms_norm_eps(self) -> float:
        """RMSNorm epsilon."""
        return float(self._described().rms_norm_eps)

    @property
    def rope_theta(self) -> float:
        """RoPE base."""
        return float(self._described().rope_theta)

    @property
    def rope(self) -> str:
        """``"none"``, ``"1d"`` or ``"mrope"``."""
        v = self._described().rope
        return _ROPE_NAMES.get(v, str(v))

    @property
    def mrope_section(self) -> Tuple[int, int, int]:
        """Temporal, height, width frequency pairs (used under rope = mrope)."""
        s = self._described().mrope_section
        return (int(s[0]), int(s[1]), int(s[2]))

    @property
    def attention(self) -> str:
        """``"bidirectional"`` or ``"causal"``."""
        v = self._described().attention
        return _ATTENTION_NAMES.get(v, str(v))

    @property
    def max_tokens(self) -> int:
        """Capacity the arena was planned for."""
        return int(self._described().max_tokens)

    @property
    def num_threads(self) -> int:
        """Worker threads actually used (>= 1)."""
        return int(self._described().num_threads)

    @property
    def compute(self) -> str:
        """Compute precision in use, ``"f32"``, ``"bf16"`` or ``"int8"``."""
        v = self._described().compute
        return _DTYPE_NAMES.get(v, str(v))

    @property
    def parameter_count(self) -> int:
        """Elements over all weight tensors."""
        return int(self._described().parameter_count)

    @property
    def arena_bytes(self) -> int:
        """Scratch allocated at create for max_tokens."""
        return int(self._described().arena_bytes)

    @property
    def config(self) -> Dict[str, Any]:
        """The model config under the weight file's metadata key names (docs/weight-file.md)."""
        return {
            "hidden_size": self.hidden_size,
            "intermediate_size": self.intermediate_size,
            "num_attention_heads": self.num_attention_heads,
            "num_key_value_heads": self.num_key_value_heads,
            "head_dim": self.head_dim,
            "rms_norm_eps": self.rms_norm_eps,
            "rope_theta": self.rope_theta,
            "rope": self.rope,
            "mrope_section": list(self.mrope_section),
            "attention": self.attention,
        }
