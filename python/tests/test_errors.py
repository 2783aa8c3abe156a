# test_errors.py — every status has its exception class; bad input is caught in Python or mapped from C with last_error.
from __future__ import annotations

import gc
import math
import pickle
import re

import numpy as np
import pytest
from conftest import HEADER

import fastdrive_pruner as fp
from fastdrive_pruner import (
    STATUS_ERRORS,
    CapacityError,
    FastdriveIOError,
    FastdrivePrunerError,
    FormatError,
    InvalidArgumentError,
    NonFiniteError,
    Pruner,
    ShapeError,
    Status,
    UnsupportedError,
)
from fastdrive_pruner.errors import error_for_status

EXPECTED_NAMES = {
    "FASTDRIVE_ERR_INVALID_ARGUMENT": "InvalidArgumentError",
    "FASTDRIVE_ERR_IO": "FastdriveIOError",
    "FASTDRIVE_ERR_FORMAT": "FormatError",
    "FASTDRIVE_ERR_SHAPE": "ShapeError",
    "FASTDRIVE_ERR_CAPACITY": "CapacityError",
    "FASTDRIVE_ERR_NON_FINITE": "NonFiniteError",
    "FASTDRIVE_ERR_OUT_OF_MEMORY": "OutOfMemoryError",
    "FASTDRIVE_ERR_UNSUPPORTED": "UnsupportedError",
    "FASTDRIVE_ERR_INTERNAL": "InternalError",
    "FASTDRIVE_ERR_ABORTED": "AbortedError",
}


def header_statuses():
    """{name: value} of enum fastdrive_status as written in the C header."""
    body = re.search(r"typedef enum fastdrive_status \{(.*?)\}", HEADER.read_text(), re.S).group(1)
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"(FASTDRIVE_\w+)\s*=\s*(\d+)", body)}


def test_one_exception_class_per_status_1_to_1_with_the_header(library) -> None:
    statuses = header_statuses()
    assert statuses.pop("FASTDRIVE_OK") == 0
    assert {v: EXPECTED_NAMES[k] for k, v in statuses.items()} == {v: c.__name__ for v, c in STATUS_ERRORS.items()}
    for name, value in statuses.items():
        assert Status[name[len("FASTDRIVE_"):]] == value
        cls = STATUS_ERRORS[value]
        assert issubclass(cls, FastdrivePrunerError) and cls.STATUS == value
        assert getattr(fp, cls.__name__) is cls
        e = error_for_status(value, "detail")
        assert type(e) is cls and e.status == value and str(e) == "detail"
        assert library.fastdrive_status_string(value) not in (None, b"", b"unknown status")
    unknown = error_for_status(99, "new status")
    assert type(unknown) is FastdrivePrunerError and unknown.status == 99
    assert pickle.loads(pickle.dumps(unknown)).status == 99
    assert issubclass(FastdriveIOError, OSError) and issubclass(ShapeError, ValueError)
    assert issubclass(UnsupportedError, NotImplementedError)


def test_missing_file_is_io_error(tmp_path) -> None:
    with pytest.raises(FastdriveIOError) as e:
        Pruner(tmp_path / "nope.safetensors")
    assert e.value.status == Status.ERR_IO and "nope.safetensors" in str(e.value)


def test_truncated_file_is_format_error(tmp_path, f32_case) -> None:
    path, _, _ = f32_case
    data = path.read_bytes()
    bad = tmp_path / "truncated.safetensors"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(FormatError) as e:
        Pruner(bad)
    assert e.value.status == Status.ERR_FORMAT and e.value.message.startswith("fastdrive_pruner_create")


def test_bad_options_are_caught_before_c(f32_case) -> None:
    path, _, _ = f32_case
    for kwargs in ({"max_tokens": 0}, {"max_tokens": 2**32}, {"num_threads": -1}, {"compute": "f16"}, {"max_tokens": 1.5}):
        with pytest.raises(InvalidArgumentError):
            Pruner(path, **kwargs)
    with pytest.raises(InvalidArgumentError):
        Pruner("a\0b")
    with pytest.raises(InvalidArgumentError, match="path"):
        Pruner(None)  # type: ignore[arg-type]


def test_none_arguments_are_clear_errors(f32_case) -> None:
    """The Python spelling of C's NULL pointers never reaches C."""
    path, tokens, _ = f32_case
    with Pruner(path, num_threads=1) as p:
        with pytest.raises(InvalidArgumentError, match="dtype"):
            p.score(None)
        with pytest.raises(ShapeError):
            p.topk(None, 1)
        with pytest.raises(InvalidArgumentError):
            p.topk(np.ones(3, np.float32), None)
        with pytest.raises(InvalidArgumentError):
            p.prune(None, k=1)


def test_token_dtype_rank_and_dim_are_checked_in_python(f32_case) -> None:
    path, tokens, _ = f32_case
    with Pruner(path, num_threads=1) as p:
        for bad in (tokens.astype(np.float64), tokens.astype(np.int32), tokens > 0, tokens.tolist()):
            with pytest.raises(InvalidArgumentError, match="dtype"):
                p.score(bad)
        with pytest.raises(ShapeError, match="2-D"):
            p.score(tokens[0])
        with pytest.raises(ShapeError, match="2-D"):
            p.score(tokens[None])
        with pytest.raises(ShapeError, match="hidden size 64"):
            p.score(tokens[:, :32])
        with pytest.raises(InvalidArgumentError, match="no rows"):
            p.score(tokens[:0])


def test_grid_errors(mrope_case) -> None:
    path, tokens, _, grid = mrope_case
    with Pruner(path, num_threads=1) as p:
        with pytest.raises(ShapeError, match="grid") as e:
            p.score(tokens)  # mrope, 35 tokens: not a square, so the grid is required (C says so)
        assert e.value.status == Status.ERR_SHAPE
        with pytest.raises(ShapeError):
            p.score(tokens, grid=(5, 8))  # C: 5×8 != 35
        for bad in ((5,), (5, -7), (5.0, 7), "5x7", (True, 7)):
            with pytest.raises(InvalidArgumentError):
                p.score(tokens, grid=bad)


def test_more_tokens_than_max_tokens_is_capacity_error(f32_case) -> None:
    path, tokens, _ = f32_case
    with Pruner(path, max_tokens=8, num_threads=1) as p:
        assert p.max_tokens == 8
        with pytest.raises(CapacityError) as e:
            p.score(tokens[:9])
        assert e.value.status == Status.ERR_CAPACITY and e.value.message.startswith("fastdrive_pruner_score")
        with pytest.raises(CapacityError):
            p.topk(np.zeros(9, np.float32), 2)
        assert p.score(tokens[:8]).shape == (8,)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_tokens_are_rejected(f32_case, value) -> None:
    path, tokens, _ = f32_case
    bad = tokens.copy()
    bad[3, 5] = value
    with Pruner(path, num_threads=1) as p:
        with pytest.raises(NonFiniteError) as e:
            p.score(bad)
        assert e.value.status == Status.ERR_NON_FINITE and e.value.message


def test_topk_arguments(f32_case) -> None:
    path, _, _ = f32_case
    scores = np.array([0.5, 2.0, 2.0, -1.0, 3.0], dtype=np.float32)
    with Pruner(path, num_threads=1) as p:
        assert p.topk(scores, 2).tolist() == [1, 4]  # tie 1 vs 2 goes to the lower index
        assert p.topk(scores.astype(np.float64), 3).tolist() == [1, 2, 4]
        assert p.topk(scores, 5).tolist() == [0, 1, 2, 3, 4]
        for k in (0, 6, -1, 2.0, True, None):
            with pytest.raises(InvalidArgumentError):
                p.topk(scores, k)
        with pytest.raises(NonFiniteError, match="NaN"):
            p.topk(np.array([1.0, math.nan], np.float32), 1)
        assert p.topk(np.array([-math.inf, math.inf, 0.0], np.float32), 1).tolist() == [1]
        with pytest.raises(ShapeError):
            p.topk(scores[None], 1)
        with pytest.raises(InvalidArgumentError):
            p.topk(np.zeros(0, np.float32), 1)
        with pytest.raises(InvalidArgumentError):
            p.topk(np.arange(5), 1)  # integer scores


def test_keep_count_and_prune_arguments(f32_case) -> None:
    path, tokens, _ = f32_case
    assert [fp.keep_count(3249, r) for r in (0.75, 0.5, 0.25)] == [2436, 1624, 812]
    assert fp.keep_count(10, 0.01) == 1 and fp.keep_count(10, 1.0) == 10
    for n, r in ((0, 0.5), (10, 0.0), (10, 1.5), (10, math.nan), (10, -0.1), (2.5, 0.5)):
        with pytest.raises(InvalidArgumentError):
            fp.keep_count(n, r)
    with Pruner(path, num_threads=1) as p:
        assert p.keep_count(37, 0.5) == 18
        with pytest.raises(InvalidArgumentError, match="exactly one"):
            p.prune(tokens)
        with pytest.raises(InvalidArgumentError, match="exactly one"):
            p.prune(tokens, k=3, ratio=0.5)
        with pytest.raises(InvalidArgumentError):
            p.prune(tokens, k=38)
        idx, kept = p.prune(tokens, ratio=0.5)
        assert len(idx) == 18 and kept.shape == (18, 64)


def test_closed_handle(f32_case) -> None:
    path, tokens, _ = f32_case
    p = Pruner(path, num_threads=1)
    with p as same:
        assert same is p and not p.closed
    assert p.closed
    p.close()  # idempotent
    for use in (lambda: p.score(tokens), lambda: p.topk(np.ones(3, np.float32), 1), lambda: p.prune(tokens, k=1),
                lambda: p.select(tokens, 1), lambda: p.hidden_size, lambda: p.config, lambda: p.keep_count(3, 0.5)):
        with pytest.raises(InvalidArgumentError, match="closed") as e:
            use()
        assert e.value.status == Status.ERR_INVALID_ARGUMENT
    with pytest.raises(InvalidArgumentError):
        with p:
            pass
    assert "closed" in repr(p)


def test_garbage_collection_destroys_the_handle(f32_case) -> None:
    path, _, _ = f32_case
    p = Pruner(path, num_threads=1)
    finalizer = p._finalizer
    assert finalizer.alive
    del p
    gc.collect()
    assert not finalizer.alive


def test_c_statuses_are_mapped_for_raw_misuse(library, f32_case) -> None:
    """Misuse the Python layer cannot produce is still a status from C with its last_error (NULL out pointer)."""
    path, _, _ = f32_case
    status = library.fastdrive_pruner_create(str(path).encode(), None, None)
    assert status == Status.ERR_INVALID_ARGUMENT
    with pytest.raises(InvalidArgumentError, match="out"):
        fp._native.raise_for(status, library, None, "fastdrive_pruner_create")
