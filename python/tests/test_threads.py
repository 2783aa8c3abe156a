# test_threads.py — separate handles run concurrently with results identical to serial; one shared handle is serialised.
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from conftest import case_files

from fastdrive_pruner import Pruner
from fastdrive_pruner.reference import weights


def _frames(n_frames: int, n: int, dim: int):
    return [weights.random_tokens(n, dim, seed=100 + i) for i in range(n_frames)]


def test_four_handles_in_four_threads_match_serial() -> None:
    path, _, _, grid = case_files("mrope_bidir_f32_3x43")
    frames = _frames(12, 129, 64)
    with Pruner(path, num_threads=1) as p:
        serial = [p.score(f, grid=grid) for f in frames]
    handles = [Pruner(path, num_threads=1) for _ in range(4)]
    try:

        def work(h: int):
            # handle h scores frames h, h+4, h+8 and keeps the top half of each
            out = []
            for i in range(h, len(frames), 4):
                s = handles[h].score(frames[i], grid=grid)
                out.append((i, s, handles[h].topk(s, 64)))
            return out

        with ThreadPoolExecutor(max_workers=4) as pool:
            results = [r for chunk in pool.map(work, range(4)) for r in chunk]
    finally:
        for h in handles:
            h.close()
    assert sorted(i for i, _, _ in results) == list(range(len(frames)))
    for i, scores, kept in results:
        np.testing.assert_array_equal(scores, serial[i])
        np.testing.assert_array_equal(kept, np.sort(np.argsort(-serial[i], kind="stable")[:64]))


def test_one_handle_shared_by_threads_is_serialised() -> None:
    path, _, _, grid = case_files("mrope_bidir_f32_5x7")
    frames = _frames(8, 35, 64)
    with Pruner(path, num_threads=1) as p:
        serial = [p.score(f, grid=grid) for f in frames]
        with ThreadPoolExecutor(max_workers=4) as pool:
            shared = list(pool.map(lambda f: p.score(f, grid=grid), frames))
    for a, b in zip(shared, serial):
        np.testing.assert_array_equal(a, b)
