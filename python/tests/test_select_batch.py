# test_select_batch.py — select() policies and score_batch(): checked when the library exports them, UnsupportedError otherwise.
from __future__ import annotations

import numpy as np
import pytest
from conftest import case_files

from fastdrive_pruner import CapacityError, InvalidArgumentError, NonFiniteError, Policy, Pruner, ShapeError, UnsupportedError, _lib
from fastdrive_pruner.reference import weights


@pytest.fixture
def mrope():
    path, tokens, _, grid = case_files("mrope_bidir_f32_5x7")
    with Pruner(path, max_tokens=256, num_threads=1) as p:
        yield p, tokens, grid


def _ascending_unique(idx: np.ndarray, k: int, n: int) -> None:
    assert idx.dtype == np.int64 and idx.shape == (k,)
    assert np.all(np.diff(idx) > 0) and idx[0] >= 0 and idx[-1] < n


def test_select(mrope) -> None:
    p, tokens, grid = mrope
    n, k = len(tokens), 12
    if not _lib.has_function("fastdrive_select"):
        with pytest.raises(UnsupportedError, match="fastdrive_select") as e:
            p.select(tokens, k, grid=grid)
        assert isinstance(e.value, NotImplementedError)
        return
    scores = p.score(tokens, grid=grid)
    expected = p.topk(scores, k)
    np.testing.assert_array_equal(p.select(tokens, k, grid=grid), expected)
    np.testing.assert_array_equal(p.select(tokens, k, policy=Policy.RECONPRUNER, aux=scores, grid=grid), expected)
    aux = np.random.default_rng(3).standard_normal(n).astype(np.float32)
    np.testing.assert_array_equal(p.select(tokens, k, policy="attention", aux=aux, grid=grid), p.topk(aux, k))
    norms = np.linalg.norm(tokens.astype(np.float64), axis=1).astype(np.float32)
    np.testing.assert_array_equal(p.select(tokens, k, policy="norm", grid=grid), p.topk(norms, k))
    for policy in ("divprune", "uniform", "random", "vispruner"):
        kwargs = {"aux": aux} if policy == "vispruner" else {}
        idx = p.select(tokens, k, policy=policy, grid=grid, **kwargs)
        _ascending_unique(idx, k, n)
        np.testing.assert_array_equal(idx, p.select(tokens, k, policy=policy, grid=grid, **kwargs))  # deterministic
    r1 = p.select(tokens, k, policy="random", seed=1, grid=grid)
    assert any(not np.array_equal(r1, p.select(tokens, k, policy="random", seed=s, grid=grid)) for s in (2, 3, 4))
    assert p.select(tokens, n, policy="uniform", grid=grid).tolist() == list(range(n))


def test_select_argument_errors(mrope) -> None:
    p, tokens, grid = mrope
    if not _lib.has_function("fastdrive_select"):
        with pytest.raises(UnsupportedError):
            p.select(tokens, 3, grid=grid)
        return
    n = len(tokens)
    cases = [
        dict(k=0), dict(k=n + 1), dict(policy="fastv"), dict(policy=99), dict(policy="attention"),
        dict(policy="attention", aux=np.ones(n - 1, np.float32)), dict(important_ratio=1.5), dict(seed=-1),
    ]
    for kwargs in cases:
        kwargs.setdefault("k", 3)
        with pytest.raises(InvalidArgumentError):
            p.select(tokens, grid=grid, **kwargs)
    bad_aux = np.ones(n, np.float32)
    bad_aux[4] = np.nan
    with pytest.raises((InvalidArgumentError, NonFiniteError)) as e:  # the header lists NaN in aux as INVALID_ARGUMENT
        p.select(tokens, 3, policy="attention", aux=bad_aux, grid=grid)
    assert e.value.message.startswith("fastdrive_select")


def test_score_batch(mrope) -> None:
    p, tokens, grid = mrope
    frames = [weights.random_tokens(35, 64, seed=s) for s in range(3)] + [weights.random_tokens(36, 64, seed=9)]
    grids = [grid, grid, (7, 5), (6, 6)]
    with pytest.raises(ShapeError, match="frame 3: .*grid"):  # rope = mrope: no grid is guessed
        p.score_batch(frames, grids[:3] + [None])
    if not _lib.has_function("fastdrive_pruner_score_batch"):
        with pytest.raises(UnsupportedError, match="score_batch"):
            p.score_batch(frames, grids)
        return
    batched = p.score_batch(frames, grids)
    assert [len(s) for s in batched] == [35, 35, 35, 36]
    for frame, g, scores in zip(frames, grids, batched):
        alone = p.score(frame, grid=g)
        np.testing.assert_allclose(scores, alone, rtol=0, atol=1e-4 * max(1.0, float(np.abs(alone).max())))
    stacked = np.stack(frames[:3]).astype(np.float16)  # one 3-D array, half precision
    for scores, frame in zip(p.score_batch(stacked, [grid] * 3), stacked):
        np.testing.assert_allclose(scores, p.score(frame, grid=grid), rtol=0, atol=1e-3)


def test_score_batch_errors(mrope) -> None:
    p, tokens, grid = mrope
    if not _lib.has_function("fastdrive_pruner_score_batch"):
        with pytest.raises(UnsupportedError):
            p.score_batch([tokens], [grid])
        return
    with pytest.raises(InvalidArgumentError):
        p.score_batch([])
    with pytest.raises(InvalidArgumentError):
        p.score_batch([tokens] * 65)
    with pytest.raises(InvalidArgumentError, match="grids"):
        p.score_batch([tokens, tokens], [grid])
    with pytest.raises(InvalidArgumentError, match="frame 1"):
        p.score_batch([tokens, tokens.astype(np.float64)], [grid, grid])
    with pytest.raises(CapacityError):
        p.score_batch([tokens] * 8, [grid] * 8)  # 8·35 + 7 > max_tokens 256
