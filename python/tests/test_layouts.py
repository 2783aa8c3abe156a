# test_layouts.py — zero-copy strided views, copied layouts, f16/bf16 tokens and torch tensors give the same scores.
from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest
import torch

from fastdrive_pruner import Pruner
from fastdrive_pruner._arrays import as_token_view


@pytest.fixture
def pruner(f32_case):
    path, _, _ = f32_case
    with Pruner(path, max_tokens=128, num_threads=1) as p:
        yield p


def test_column_slice_of_a_wider_array_is_read_in_place(pruner, f32_case) -> None:
    _, tokens, _ = f32_case
    n, d = tokens.shape
    big = np.zeros((n, d + 24), dtype=np.float32)
    big[:, :d] = tokens
    view = big[:, :d]
    tv = as_token_view(view, d)
    assert not tv.copied and tv.data == big.ctypes.data and tv.row_stride == d + 24
    np.testing.assert_array_equal(pruner.score(view), pruner.score(tokens))


def test_every_other_row_is_read_in_place(pruner, f32_case) -> None:
    _, tokens, _ = f32_case
    n, d = tokens.shape
    big = np.zeros((2 * n, d), dtype=np.float32)
    big[::2] = tokens
    big[1::2] = 1e6  # rows that must not be read
    view = big[::2]
    tv = as_token_view(view, d)
    assert not tv.copied and tv.row_stride == 2 * d
    np.testing.assert_array_equal(pruner.score(view), pruner.score(tokens))


def test_contiguous_input_has_zero_row_stride_and_no_copy(pruner, f32_case) -> None:
    _, tokens, _ = f32_case
    tv = as_token_view(tokens, tokens.shape[1])
    assert not tv.copied and tv.row_stride == 0 and tv.data == tokens.ctypes.data


def test_transposed_view_is_copied_once_with_the_same_result(pruner, f32_case) -> None:
    _, tokens, ref = f32_case
    transposed = np.ascontiguousarray(tokens.T).T  # same values, column-major
    assert not transposed.flags.c_contiguous
    assert as_token_view(transposed, tokens.shape[1]).copied
    np.testing.assert_array_equal(pruner.score(transposed), pruner.score(tokens))
    reversed_rows = tokens[::-1]  # negative row stride: copied too
    assert as_token_view(reversed_rows, tokens.shape[1]).copied
    # rope=none + bidirectional: permuting rows permutes scores (up to f32 summation order)
    np.testing.assert_allclose(pruner.score(reversed_rows), pruner.score(tokens)[::-1], rtol=0, atol=1e-5)


def test_byte_swapped_input_is_converted(pruner, f32_case) -> None:
    _, tokens, _ = f32_case
    swapped = tokens.astype(tokens.dtype.newbyteorder(">"))
    np.testing.assert_array_equal(pruner.score(swapped), pruner.score(tokens))


@pytest.mark.parametrize("dtype", [np.float16, ml_dtypes.bfloat16], ids=["f16", "bf16"])
def test_half_precision_tokens_equal_f32_tokens_of_the_same_values(pruner, f32_case, dtype) -> None:
    _, tokens, _ = f32_case
    half = tokens.astype(dtype)
    widened = half.astype(np.float32)
    np.testing.assert_allclose(pruner.score(half), pruner.score(widened), rtol=0, atol=1e-5)
    d = tokens.shape[1]
    big = np.zeros((tokens.shape[0], d + 8), dtype=dtype)  # strided half-precision view
    big[:, :d] = half
    assert not as_token_view(big[:, :d], d).copied
    np.testing.assert_array_equal(pruner.score(big[:, :d]), pruner.score(half))


def test_torch_tensors_are_read_without_a_copy(pruner, f32_case) -> None:
    _, tokens, _ = f32_case
    n, d = tokens.shape
    expected = pruner.score(tokens)
    t = torch.from_numpy(tokens.copy()).requires_grad_(True)
    tv = as_token_view(t, d)
    assert not tv.copied and tv.data == t.data_ptr()
    np.testing.assert_array_equal(pruner.score(t), expected)
    wide = torch.zeros(n, d + 16)
    wide[:, :d] = torch.from_numpy(tokens)
    assert not as_token_view(wide[:, :d], d).copied
    np.testing.assert_array_equal(pruner.score(wide[:, :d]), expected)
    np.testing.assert_array_equal(pruner.score(torch.from_numpy(tokens).T.contiguous().T), expected)  # copied


def test_torch_half_and_bf16_match_numpy(pruner, f32_case) -> None:
    _, tokens, _ = f32_case
    t16 = torch.from_numpy(tokens).to(torch.float16)
    np.testing.assert_array_equal(pruner.score(t16), pruner.score(tokens.astype(np.float16)))
    tb = torch.from_numpy(tokens).to(torch.bfloat16)
    tv = as_token_view(tb, tokens.shape[1])
    assert not tv.copied and tv.data == tb.data_ptr()
    np.testing.assert_array_equal(pruner.score(tb), pruner.score(tokens.astype(ml_dtypes.bfloat16)))


def test_prune_returns_original_rows_in_original_dtype(pruner, f32_case) -> None:
    _, tokens, _ = f32_case
    half = tokens.astype(np.float16)
    idx, kept = pruner.prune(half, ratio=0.25)
    assert kept.dtype == np.float16 and kept.shape == (len(idx), tokens.shape[1])
    np.testing.assert_array_equal(kept, half[idx])
    tb = torch.from_numpy(tokens).to(torch.bfloat16)
    idx_t, kept_t = pruner.prune(tb, k=5)
    # torch in, torch out: the indices too, so both index the host's tensors alike
    assert isinstance(kept_t, torch.Tensor) and kept_t.dtype == torch.bfloat16
    assert isinstance(idx_t, torch.Tensor) and idx_t.dtype == torch.int64
    assert torch.equal(kept_t, tb[idx_t])
    assert idx_t.tolist() == sorted(idx_t.tolist())
    assert isinstance(idx, np.ndarray) and isinstance(kept, np.ndarray)  # numpy in, numpy out
