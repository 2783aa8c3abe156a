# test_abort.py — Pruner.abort() from another thread, deadline=, mmap=False and blas_threads (API 1.1).
from __future__ import annotations

import pickle
import shutil
import threading
import time

import numpy as np
import pytest
from conftest import case_files

import fastdrive_pruner as fp
from fastdrive_pruner import AbortedError, DeadlineExceededError, InvalidArgumentError, Pruner
from fastdrive_pruner.reference import weights


def _frame():
    path, _, _, grid = case_files("mrope_bidir_f32_3x43")
    return path, weights.random_tokens(129, 64, seed=5), grid


def test_abort_from_another_thread_stops_a_call_and_the_pruner_stays_exact() -> None:
    path, tokens, grid = _frame()
    with Pruner(path, num_threads=1) as fresh:
        reference = fresh.score(tokens, grid=grid)
    with Pruner(path, num_threads=2) as p:
        stop = threading.Timer(0.005, p.abort)
        stop.start()
        with pytest.raises(AbortedError) as caught:
            for _ in range(1_000_000):  # one of these calls is running when the abort comes
                p.score(tokens, grid=grid)
        stop.join()
        assert "fastdrive_pruner_request_abort" in str(caught.value)
        assert not isinstance(caught.value, DeadlineExceededError)
        # The request was used up: the next calls run, and give a new Pruner's scores bit for bit.
        for _ in range(3):
            assert p.score(tokens, grid=grid).view(np.uint32).tolist() == reference.view(np.uint32).tolist()


def test_abort_between_calls_stops_the_next_call_only() -> None:
    path, tokens, grid = _frame()
    with Pruner(path) as p:
        p.abort()
        with pytest.raises(AbortedError):
            p.select(tokens, 40, "divprune", grid=grid)
        assert p.select(tokens, 40, "divprune", grid=grid).shape == (40,)
    p.abort()  # closed: nothing to stop, no error


def test_deadline() -> None:
    path, tokens, grid = _frame()
    with Pruner(path) as p:
        reference = p.score(tokens, grid=grid)
        with pytest.raises(DeadlineExceededError) as caught:
            p.score(tokens, grid=grid, deadline=time.monotonic() - 1)
        assert isinstance(caught.value, TimeoutError) and isinstance(caught.value, AbortedError)
        with pytest.raises(DeadlineExceededError):
            p.score_batch([tokens, tokens], [grid, grid], deadline=time.monotonic())
        with pytest.raises(DeadlineExceededError):
            p.prune(tokens, ratio=0.5, grid=grid, deadline=0.0)
        with pytest.raises(DeadlineExceededError):
            p.select(tokens, 40, "vispruner", aux=reference, grid=grid, deadline=0.0)
        # A deadline that does not pass changes nothing, and leaves no request behind.
        out = p.score(tokens, grid=grid, deadline=time.monotonic() + 60)
        np.testing.assert_array_equal(out, reference)
        np.testing.assert_array_equal(p.score(tokens, grid=grid), reference)
        for bad in ("soon", float("nan"), True):
            with pytest.raises(InvalidArgumentError):
                p.score(tokens, grid=grid, deadline=bad)


def test_deadline_during_a_call() -> None:
    """A deadline a few ms ahead stops one of a run of calls mid-way; the rest are exact."""
    path, tokens, grid = _frame()
    with Pruner(path, num_threads=2) as p:
        reference = p.score(tokens, grid=grid)
        stopped = 0
        for i in range(200):
            try:
                out = p.score(tokens, grid=grid, deadline=time.monotonic() + 0.0005 * (i % 7))
                np.testing.assert_array_equal(out, reference)
            except DeadlineExceededError:
                stopped += 1
        assert stopped > 0
        np.testing.assert_array_equal(p.score(tokens, grid=grid), reference)


def test_mmap_false_reads_the_file_once(tmp_path) -> None:
    path, tokens, grid = _frame()
    copy = tmp_path / "copy.safetensors"
    shutil.copy(path, copy)
    with Pruner(path) as mapped:
        reference = mapped.score(tokens, grid=grid)
    p = Pruner(copy, mmap=False)
    data = bytearray(copy.read_bytes())
    data[len(data) // 2:] = b"\x7f" * (len(data) - len(data) // 2)
    copy.write_bytes(bytes(data))  # rewritten in place
    np.testing.assert_array_equal(p.score(tokens, grid=grid), reference)
    copy.unlink()
    np.testing.assert_array_equal(p.score(tokens, grid=grid), reference)
    p.close()
    with pytest.raises(InvalidArgumentError):
        Pruner(path, mmap="no")  # type: ignore[arg-type]


def test_blas_threads_choices_and_copies_keep_options() -> None:
    path, tokens, grid = _frame()
    with Pruner(path) as p:
        reference = p.score(tokens, grid=grid)
    for mode in ("set_one", "restore", "leave"):
        with Pruner(path, blas_threads=mode, mmap=False) as p:
            np.testing.assert_array_equal(p.score(tokens, grid=grid), reference)
            clone = pickle.loads(pickle.dumps(p))
            assert clone._keywords == {"mmap": False, "blas_threads": mode}
            clone.close()
    with pytest.raises(InvalidArgumentError):
        Pruner(path, blas_threads="private")


def test_aborted_status_maps_to_its_class() -> None:
    assert fp.STATUS_ERRORS[10] is AbortedError
    assert fp.Status.ERR_ABORTED == 10
