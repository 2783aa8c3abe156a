# _arrays.py — turns numpy arrays and CPU torch tensors into zero-copy fastdrive_tokens views (copying only odd layouts).
"""Input adaptation for :class:`fastdrive_pruner.Pruner`.

Tokens reach C by pointer whenever their memory already has the layout the C view describes:
rows of ``dim`` contiguous elements, ``row_stride`` elements apart (``fastdrive_tokens``). That
covers C-contiguous arrays, row slices (``big[::2]``), column slices (``big[:, :D]``) and CPU torch
tensors of the same shapes. Any other layout (a transposed view, negative or overlapping strides,
a misaligned or byte-swapped buffer) is copied once into a C-contiguous array first.

Accepted element types: float32, float16 and bfloat16 (``ml_dtypes.bfloat16`` numpy arrays, or
``torch.bfloat16`` tensors, which are reinterpreted bit for bit as 16-bit integers since torch
cannot hand a bfloat16 tensor to numpy). Everything else is rejected rather than silently cast.
"""
from __future__ import annotations

import math
import numbers
import sys
from typing import Any, Optional, Tuple

import numpy as np

from ._lib import DType
from .errors import InvalidArgumentError, NonFiniteError, ShapeError

__all__ = [
    "TokenView",
    "is_torch_tensor",
    "as_token_view",
    "as_ranked_scores",
    "check_k",
    "check_ratio",
    "check_grid",
]

_INT32_MAX = 2**31 - 1


def is_torch_tensor(x: Any) -> bool:
    """Whether ``x`` is a torch tensor (checked without importing torch)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


class TokenView:
    """Tokens ready for C: the array that owns the memory and the fields of ``fastdrive_tokens``.

    Attributes:
        array: numpy array whose buffer C reads (keep it alive during the call).
        dtype: the ``fastdrive_dtype`` of the elements.
        n_tokens, dim: rows and columns.
        row_stride: elements between row starts (0 = dim, contiguous).
        copied: True if the input's layout forced a copy.
    """

    __slots__ = ("array", "dtype", "n_tokens", "dim", "row_stride", "copied")

    def __init__(self, array: np.ndarray, dtype: DType, row_stride: int, copied: bool) -> None:
        self.array = array
        self.dtype = dtype
        self.n_tokens = int(array.shape[0])
        self.dim = int(array.shape[1])
        self.row_stride = int(row_stride)
        self.copied = copied

    @property
    def data(self) -> int:
        """Address of the first element."""
        return int(self.array.ctypes.data)


def _to_numpy(tokens: Any) -> Tuple[np.ndarray, Optional[DType]]:
    """A numpy view of ``tokens`` (no copy for ndarrays and CPU tensors) and a forced dtype for raw bf16 bits."""
    if is_torch_tensor(tokens):
        import torch

        t = tokens.detach()
        if t.device.type != "cpu":
            raise InvalidArgumentError(f"tokens are on device {t.device}; move them to the CPU first (tokens.cpu())")
        if t.dtype == torch.bfloat16:
            # torch cannot export bfloat16 to numpy: reinterpret the same bits as int16 (no copy)
            return t.view(torch.int16).numpy(), DType.BF16
        if t.dtype not in (torch.float32, torch.float16):
            raise InvalidArgumentError(
                f"tokens dtype {t.dtype} is not supported: use torch.float32, torch.float16 or torch.bfloat16"
            )
        return t.numpy(), None
    return (tokens if isinstance(tokens, np.ndarray) else np.asarray(tokens)), None


def _dtype_code(dt: np.dtype) -> Optional[DType]:
    """The fastdrive_dtype for a numpy dtype, or None if unsupported."""
    if dt.kind == "f" and dt.itemsize == 4:
        return DType.F32
    if dt.kind == "f" and dt.itemsize == 2:
        return DType.F16
    if dt.name == "bfloat16" and dt.itemsize == 2:  # ml_dtypes.bfloat16
        return DType.BF16
    return None


def as_token_view(tokens: Any, hidden_size: int) -> TokenView:
    """Validate ``tokens`` ([n_tokens, hidden_size]) and describe them for C without copying when possible.

    Raises:
        InvalidArgumentError: unsupported dtype or device, or no rows.
        ShapeError: not 2-D, or dim != hidden_size.
    """
    arr, forced = _to_numpy(tokens)
    code = forced if forced is not None else _dtype_code(arr.dtype)
    if code is None:
        raise InvalidArgumentError(
            f"tokens dtype {arr.dtype} is not supported: use float32, float16 or bfloat16 "
            "(ml_dtypes.bfloat16), e.g. tokens.astype(np.float32)"
        )
    if arr.ndim != 2:
        raise ShapeError(f"tokens must be 2-D [n_tokens, dim], got shape {tuple(arr.shape)}")
    n, d = arr.shape
    if n < 1:
        raise InvalidArgumentError("tokens has no rows (n_tokens must be >= 1)")
    if d != hidden_size:
        raise ShapeError(f"token dim {d} != the pruner's hidden size {hidden_size} (tokens shape {tuple(arr.shape)})")
    if not arr.dtype.isnative:
        arr = arr.astype(arr.dtype.newbyteorder("="))  # byte-swapped input: one converting copy
        return TokenView(np.ascontiguousarray(arr), code, 0, True)

    item = arr.itemsize
    s0, s1 = arr.strides
    columns_ok = d == 1 or s1 == item
    rows_ok = n == 1 or (s0 > 0 and s0 % item == 0 and s0 // item >= d)
    if arr.flags.aligned and columns_ok and rows_ok:
        stride = 0 if n == 1 else s0 // item
        return TokenView(arr, code, 0 if stride == d else stride, False)
    # e.g. a transposed view (column-major rows): copy once into C order
    return TokenView(np.ascontiguousarray(arr), code, 0, True)


def _as_float_vector(values: Any, name: str) -> np.ndarray:
    """A 1-D floating-point numpy view of ``values`` (torch tensors keep their precision)."""
    if is_torch_tensor(values):
        import torch

        t = values.detach().cpu()
        if t.dtype == torch.bfloat16:
            t = t.to(torch.float32)  # exact: bfloat16 is the top half of a float32
        values = t.numpy()
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ShapeError(f"{name} must be 1-D [n], got shape {tuple(arr.shape)}")
    if arr.dtype.kind != "f" and _dtype_code(arr.dtype) is None:
        raise InvalidArgumentError(f"{name} dtype {arr.dtype} is not supported: pass floating-point {name}")
    if arr.size < 1:
        raise InvalidArgumentError(f"{name} is empty (n must be >= 1)")
    return arr


#: Distinct values a float32 holds exactly as integers: the most ranks one call can carry.
_EXACT_RANKS = 2**24


def as_ranked_scores(values: Any, name: str) -> np.ndarray:
    """A C-contiguous float32 vector that ranks exactly as ``values`` do, ties included.

    The C library ranks float32. float32, float16 and bfloat16 convert exactly. Wider floats
    (float64, long double) convert exactly only if every value survives the round trip; if not
    (values closer than float32's precision, or beyond its range, would become ties or ±Inf),
    they are replaced by their dense ranks (equal values, -0.0 and 0.0 included, share a rank),
    which orders and ties exactly as the values do. A NaN is NonFiniteError, as in C.
    """
    arr = _as_float_vector(values, name)
    if arr.dtype == np.float32 or arr.dtype.itemsize < 4 or _dtype_code(arr.dtype) is not None:
        return np.ascontiguousarray(arr, dtype=np.float32)
    nan = np.flatnonzero(np.isnan(arr))
    if nan.size:
        raise NonFiniteError(f"{name}[{int(nan[0])}] is NaN")
    with np.errstate(over="ignore"):  # beyond float32's range: detected just below
        narrow = arr.astype(np.float32)
    if np.array_equal(narrow.astype(arr.dtype), arr):
        return np.ascontiguousarray(narrow)
    distinct, ranks = np.unique(arr, return_inverse=True)
    if distinct.size > _EXACT_RANKS:
        raise InvalidArgumentError(
            f"{name} has {distinct.size} distinct {arr.dtype} values that float32 cannot rank exactly "
            f"(at most {_EXACT_RANKS}); convert them to float32 yourself if rounding is acceptable"
        )
    return np.ascontiguousarray(ranks.reshape(-1), dtype=np.float32)


def as_float32_values(values: Any, name: str) -> np.ndarray:
    """A C-contiguous float32 vector of ``values`` rounded to nearest: for inputs whose values
    matter (CDPruner's relevance), unlike :func:`as_ranked_scores`, which keeps only the order."""
    arr = _as_float_vector(values, name)
    with np.errstate(over="ignore"):  # beyond float32's range becomes ±Inf, which C refuses by name
        return np.ascontiguousarray(arr, dtype=np.float32)


def check_k(k: Any, n: int) -> int:
    """``k`` as an int in 1..n, or InvalidArgumentError."""
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        raise InvalidArgumentError(f"k must be an int, got {type(k).__name__}")
    if not 1 <= int(k) <= n:
        raise InvalidArgumentError(f"k = {k} is out of range 1..{n} (the number of tokens)")
    return int(k)


def check_ratio(ratio: Any) -> float:
    """A keep ratio as a float in (0, 1], or InvalidArgumentError."""
    if isinstance(ratio, bool) or not isinstance(ratio, numbers.Real):
        raise InvalidArgumentError(f"ratio must be a number in (0, 1], got {type(ratio).__name__}")
    try:
        r = float(ratio)
    except OverflowError:  # an int beyond float range
        r = math.inf
    if not (math.isfinite(r) and 0.0 < r <= 1.0):
        raise InvalidArgumentError(f"ratio = {ratio} is out of range (0, 1] (the share of tokens to keep)")
    return r


def check_grid(grid: Any, n: int, required: bool) -> Tuple[int, int]:
    """(grid_h, grid_w) for C: the given pair, or (0, 0) = none.

    ``required`` (scoring under rope = mrope, where every token's position comes from the grid):
    a missing grid is ShapeError, except for n = 1, whose only grid is 1 x 1. Nothing else is
    guessed: a perfect square n is also e.g. a 16:9 camera's 36 x 64 = 2304 = 48 x 48.
    The product is not checked here: the C library reports a grid that does not fit as a ShapeError.
    """
    if grid is None:
        if not required:
            return (0, 0)
        if n == 1:
            return (1, 1)
        raise ShapeError(
            f"this pruner uses rope = mrope: pass grid=(grid_h, grid_w) for the {n} tokens "
            "(for Qwen2.5-VL: image_grid_thw's h and w divided by the merge size 2)"
        )
    try:
        h, w = grid
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"grid must be a (grid_h, grid_w) pair, got {grid!r}") from None
    for name, v in (("grid_h", h), ("grid_w", w)):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or not 0 <= int(v) <= _INT32_MAX:
            raise InvalidArgumentError(f"{name} must be an int in 0..{_INT32_MAX} (0 = unknown), got {v!r}")
    return int(h), int(w)
