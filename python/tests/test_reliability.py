# test_reliability.py — inputs users pass by accident: exotic paths, float64 scores, huge ints, deprecated names.
from __future__ import annotations

import os
import shutil
import threading
import warnings

import numpy as np
import pytest
from fastdrive_pruner.reference import weights
from conftest import case_files

import fastdrive_pruner as fp
from fastdrive_pruner import FastdriveIOError, InvalidArgumentError, NonFiniteError, Pruner, ShapeError


@pytest.fixture(scope="module")
def flat():
    """A rope = none pruner (no grid needed) and its fixture tokens."""
    path, tokens, _, _ = case_files("none_bidir_f32")
    with Pruner(path, max_tokens=64, num_threads=1) as p:
        yield p, tokens


# ---- paths ----


@pytest.mark.parametrize("name", [b"mod\xe8le-\xe9t\xe9.safetensors", b"\xff\xfe.safetensors"])
def test_a_path_that_is_not_utf8_loads(tmp_path, name) -> None:
    """Linux paths are bytes: a Latin-1 name must reach open() unchanged, as bytes or as the str
    os.fsdecode gives for it (surrogate escapes)."""
    source, tokens, _, _ = case_files("none_bidir_f32")
    path = os.path.join(os.fsencode(tmp_path), name)
    shutil.copyfile(source, path)
    for given in (path, os.fsdecode(path)):
        with Pruner(given, max_tokens=64, num_threads=1) as p:
            assert p.score(tokens).shape == (len(tokens),)
            assert p.path == os.fsdecode(path)


def test_a_fifo_is_refused_at_once(tmp_path) -> None:
    """A FIFO nobody writes to: opening it for reading would wait for a writer for ever."""
    fifo = tmp_path / "weights.safetensors"
    os.mkfifo(fifo)
    outcome = []

    def create() -> None:
        try:
            Pruner(fifo)
        except Exception as e:  # noqa: BLE001 - recorded for the assertion
            outcome.append(e)

    t = threading.Thread(target=create, daemon=True)  # daemon: a regression must not hang the suite
    t.start()
    t.join(timeout=30)
    assert not t.is_alive(), "Pruner(fifo) blocked"
    assert len(outcome) == 1 and isinstance(outcome[0], FastdriveIOError) and "FIFO" in str(outcome[0])


def test_a_long_missing_path_keeps_the_reason(tmp_path) -> None:
    path = os.path.join(tmp_path, *(["d" * 60] * 12), "model.safetensors")
    with pytest.raises(FastdriveIOError, match="No such file or directory"):
        Pruner(path)


# ---- scores wider than float32 rank exactly ----


def test_float64_scores_rank_exactly(flat) -> None:
    p, _ = flat
    cases = [
        ([1.0, 1.0 + 1e-12, 0.5], 1, [1]),  # a near tie that float32 would round into a tie
        ([1e39, 1e40, 0.0, -1e39], 2, [0, 1]),  # beyond float32's range: not two +Inf ties
        ([3.0, 1e-50, 2e-50, 0.0], 2, [0, 2]),  # below float32's smallest subnormal
        ([0.0, -0.0, -1.0], 1, [0]),  # -0.0 == 0.0: a tie, the lower index wins
        ([np.inf, 1e308, -np.inf], 2, [0, 1]),
    ]
    for values, k, want in cases:
        arr = np.array(values, dtype=np.float64)
        assert p.topk(arr, k).tolist() == want, values
        assert p.topk(list(values), k).tolist() == want, values  # a list is float64 too
        assert np.array_equal(p.topk(arr, k), np.sort(np.argsort(-arr, kind="stable")[:k]))
    with pytest.raises(NonFiniteError, match=r"scores\[1\] is NaN"):
        p.topk(np.array([1.0, np.nan, 2.0]), 1)
    # float32 input is passed as is (and float16 converts exactly)
    assert p.topk(np.array([1, 3, 2], dtype=np.float16), 1).tolist() == [1]


def test_float64_scores_from_torch_rank_exactly(flat) -> None:
    torch = pytest.importorskip("torch")
    p, _ = flat
    s = torch.tensor([1.0, 1.0 + 1e-12, 0.5], dtype=torch.float64)
    assert p.topk(s, 1).tolist() == [1]


def test_float64_aux_ranks_exactly(flat) -> None:
    p, tokens = flat
    n = len(tokens)
    aux = np.full(n, 1.0)
    aux[7] = 1.0 + 1e-13  # the only one above the rest: float32 would make all n equal
    assert p.select(tokens, 1, policy="attention", aux=aux).tolist() == [7]
    assert p.select(tokens, 1, policy="reconpruner", aux=aux).tolist() == [7]
    assert 7 in p.select(tokens, 4, policy="vispruner", aux=aux).tolist()


# ---- ints that ctypes would wrap ----


def test_keep_count_refuses_what_int64_cannot_hold() -> None:
    assert fp.keep_count(2**63 - 1, 1.0) == 2**63 - 1
    for n in (2**63, 2**64 + 10, -(2**64)):
        with pytest.raises(InvalidArgumentError, match="n must be"):
            fp.keep_count(n, 0.5)
    with pytest.raises(InvalidArgumentError, match="ratio"):
        fp.keep_count(10, 10**400)  # float() of it overflows


# ---- names ----


def test_deprecated_spellings_still_work_with_a_warning(flat) -> None:
    path, _, _, _ = case_files("none_bidir_f32")
    with pytest.warns(DeprecationWarning, match="num_threads"):
        p = Pruner(path, max_tokens=8, threads=2)
    with p:
        assert p.num_threads == 2
        with pytest.warns(DeprecationWarning, match="num_attention_heads"):
            assert p.num_heads == p.num_attention_heads == p.config["num_attention_heads"]
        with pytest.warns(DeprecationWarning, match="num_key_value_heads"):
            assert p.num_kv_heads == p.num_key_value_heads == p.config["num_key_value_heads"]
    with pytest.raises(InvalidArgumentError, match="num_threads only"), pytest.warns(DeprecationWarning):
        Pruner(path, num_threads=1, threads=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the current names do not warn
        with Pruner(path, max_tokens=8, num_threads=1) as q:
            assert (q.num_attention_heads, q.num_key_value_heads, q.num_threads) == (4, 2, 1)


# ---- messages ----


def test_score_batch_errors_name_the_frame() -> None:
    path, tokens, _, grid = case_files("mrope_bidir_f32_5x7")
    with Pruner(path, max_tokens=200, num_threads=1) as p:
        bad = tokens.copy()
        bad[3, 5] = np.inf
        with pytest.raises(NonFiniteError, match=r"frames\[2\]: token 3, element 5"):
            p.score_batch([tokens, tokens, bad], [grid] * 3)
        with pytest.raises(ShapeError, match=r"frames\[1\]: grid 5×6 does not hold"):
            p.score_batch([tokens, weights.random_tokens(25, 64, seed=1)], [grid, (5, 6)])
