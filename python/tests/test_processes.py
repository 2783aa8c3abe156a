# test_processes.py — Pruner across fork, spawn (pickling), copies and interpreter exit; each a race, so repeated.
"""What users do with a pruner and processes, with a deadline on every child so that a hang fails
the test instead of the suite: multiprocessing (fork and spawn), torch DataLoader workers, a forked
child that exits with the Pruner open, copies, and a daemon thread inside ``score`` at exit.

The pruners here have a 2-thread pool: fork copies none of its threads, which is what used to
hang a child (score waited for workers that do not exist there; destroy joined them).
"""
from __future__ import annotations

import copy
import multiprocessing as mp
import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from fastdrive_pruner.reference import weights
from conftest import REPO, case_files
from test_example import _make_small_model

from fastdrive_pruner import InvalidArgumentError, Pruner, _lib

CASE = "mrope_bidir_f32_5x7"
DEADLINE = 120  # seconds for any child; a healthy one takes well under 10

# Set before the pools fork, read in their workers (fork start method: inherited, not pickled).
_inherited: "Pruner | None" = None


def _score_inherited(seed: int) -> np.ndarray:
    assert _inherited is not None
    tokens = weights.random_tokens(35, 64, seed=seed)
    return _inherited.score(tokens, grid=(5, 7))


def _score_with(pruner: Pruner, seed: int) -> np.ndarray:
    return pruner.score(weights.random_tokens(35, 64, seed=seed), grid=(5, 7))


def test_multiprocessing_fork_pool_uses_an_inherited_pruner() -> None:
    global _inherited
    path, _, _, grid = case_files(CASE)
    with Pruner(path, num_threads=2) as p:
        expected = [_score_with(p, s) for s in range(6)]
        _inherited = p
        try:
            with mp.get_context("fork").Pool(2) as pool:
                got = pool.map_async(_score_inherited, range(6)).get(timeout=DEADLINE)
        finally:
            _inherited = None
        for a, b in zip(got, expected):
            np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(_score_with(p, 0), expected[0])  # the parent's handle is intact


def test_multiprocessing_spawn_pool_gets_its_own_pruner() -> None:
    """The spawn start method pickles the Pruner: the child loads its own handle from the path."""
    path, _, _, _ = case_files(CASE)
    with Pruner(path, max_tokens=100, num_threads=2) as p:
        expected = [_score_with(p, s) for s in range(2)]
        with mp.get_context("spawn").Pool(1) as pool:
            got = pool.starmap_async(_score_with, [(p, s) for s in range(2)]).get(timeout=DEADLINE)
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b)


class _Frames:
    """A map-style dataset that prunes each frame with a pruner created in the parent."""

    def __init__(self, pruner: Pruner) -> None:
        self.pruner = pruner

    def __len__(self) -> int:
        return 8

    def __getitem__(self, i: int):
        tokens = weights.random_tokens(35, 64, seed=i)
        indices, _ = self.pruner.prune(tokens, k=10, grid=(5, 7))
        return indices


def test_torch_dataloader_workers_prune_with_an_inherited_pruner() -> None:
    torch = pytest.importorskip("torch")
    path, _, _, _ = case_files(CASE)
    with Pruner(path, num_threads=2) as p:
        data = _Frames(p)
        expected = [data[i] for i in range(len(data))]
        loader = torch.utils.data.DataLoader(data, batch_size=None, num_workers=2, multiprocessing_context="fork",
                                             timeout=DEADLINE)
        got = list(loader)
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(np.asarray(a), b)


def _run(script: str, *args: str, timeout: float = DEADLINE) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO / "python"), str(REPO / "scripts")]))
    env[_lib.ENV_VAR] = str(_lib.library_path())
    return subprocess.run([sys.executable, "-c", textwrap.dedent(script), *args], env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_forked_child_exits_with_the_pruner_open() -> None:
    """os.fork, then the child scores and simply exits: the exit-time finalizer destroys the
    inherited handle in the child, which must neither hang nor crash; the parent is unaffected."""
    path, _, _, _ = case_files(CASE)
    script = """
        import os, sys, numpy as np
        from fastdrive_pruner import Pruner
        p = Pruner(sys.argv[1], num_threads=2)
        tokens = np.random.default_rng(0).standard_normal((35, 64)).astype(np.float32)
        before = p.score(tokens, grid=(5, 7))
        for mode in ("score, then exit", "exit at once", "close, then exit"):
            pid = os.fork()
            if pid == 0:
                if mode != "exit at once":
                    ok = np.array_equal(p.score(tokens, grid=(5, 7)), before)
                    if mode == "close, then exit":
                        p.close()
                    sys.exit(0 if ok else 3)
                sys.exit(0)
            _, status = os.waitpid(pid, 0)
            assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, (mode, status)
        assert np.array_equal(p.score(tokens, grid=(5, 7)), before)
        print("ok")
    """
    for _ in range(5):
        r = _run(script, str(path))
        assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-2000:]


EXIT_WHILE_SCORING = """
    import sys, threading, numpy as np
    from fastdrive_pruner import Pruner
    p = Pruner(sys.argv[1], max_tokens=4096, num_threads=2)
    tokens = np.random.default_rng(0).standard_normal((4096, p.hidden_size)).astype(np.float32)
    started = threading.Event()

    def loop():
        while True:
            started.set()
            p.score(tokens, grid=(64, 64))

    threading.Thread(target=loop, daemon=True).start()
    started.wait()
    # the interpreter exits now, with the daemon thread inside (or about to enter) score
"""


def test_exit_while_a_daemon_thread_is_scoring(tmp_path) -> None:
    """The interpreter exits while a daemon thread is inside score (a frame of 4096 tokens, ~0.1 s):
    the exit-time finalizer must not destroy the handle under the running call, and the library
    must let the call finish before OpenBLAS is torn down. It used to be SIGSEGV in 1 run of 4."""
    path = tmp_path / "pruner.safetensors"
    _make_small_model(path)  # D = 128, rope = mrope
    failures = []
    for run in range(20):
        r = _run(EXIT_WHILE_SCORING, str(path))
        if r.returncode != 0:
            failures.append(f"run {run}: exit status {r.returncode}: {r.stderr[-300:]}")
    assert not failures, "\n".join(failures)


def test_copies_and_pickles_never_share_a_handle() -> None:
    path, tokens, _, grid = case_files(CASE)
    p = Pruner(path, max_tokens=77, num_threads=2)
    expected = p.score(tokens, grid=grid)
    for make in (copy.copy, copy.deepcopy, lambda q: pickle.loads(pickle.dumps(q))):
        q = make(p)
        assert q is not p and not q.closed
        assert (q.max_tokens, q.num_threads, q.compute, q.path) == (77, 2, "f32", p.path)
        np.testing.assert_array_equal(q.score(tokens, grid=grid), expected)
        q.close()  # closing the copy leaves the original working
        np.testing.assert_array_equal(p.score(tokens, grid=grid), expected)
    p.close()
    for make in (copy.copy, copy.deepcopy, pickle.dumps):
        with pytest.raises(InvalidArgumentError, match="closed"):
            make(p)
