# conftest.py — shared fixtures for the fastdrive_pruner tests: the loaded library, the committed parity cases, tolerances.
"""Test support.

The library is located with the package's own loader (``$FASTDRIVE_PRUNER_LIB``, next to the
package, the repo's build folders); the suite builds nothing. If the library cannot be loaded,
every test fails with the loader's message (places tried and why): never a silent skip.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List

import numpy as np
import pytest

import fastdrive_pruner
from fastdrive_pruner import _lib

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "Tests" / "Fixtures"
HEADER = REPO / "include" / "fastdrive_pruner.h"

CASES: List[Dict] = json.loads((FIXTURES / "cases.json").read_text())


@pytest.fixture(scope="session", autouse=True)
def library() -> "_lib._Loaded":
    """The loaded shared library; a load failure fails the test with the loader's message."""
    try:
        return _lib.load()
    except fastdrive_pruner.LibraryNotFoundError as e:
        pytest.fail(str(e), pytrace=False)


def spec_tol(reference: np.ndarray) -> float:
    """The f32 tolerance of docs/model.md: 1e-3 · max(1, max|S_ref|)."""
    return 1e-3 * max(1.0, float(np.max(np.abs(reference))))


def assert_scores_close(scores: np.ndarray, reference: np.ndarray) -> None:
    """max|S - S_ref| within the tolerance of docs/model.md."""
    assert scores.dtype == np.float32 and scores.shape == reference.shape
    err = float(np.max(np.abs(scores.astype(np.float64) - reference.astype(np.float64))))
    assert err <= spec_tol(reference), f"max |S - S_ref| = {err:.3g} > {spec_tol(reference):.3g}"


def assert_same_topk_up_to_ties(indices: np.ndarray, reference: np.ndarray, k: int) -> None:
    """The runtime's top-k set equals the reference's, except for indices whose reference scores tie
    (within the tolerance of docs/model.md) with the k-th highest reference score."""
    assert indices.dtype == np.int64 and indices.shape == (k,)
    assert np.all(np.diff(indices) > 0), "indices must be strictly ascending"
    order = np.argsort(-reference.astype(np.float64), kind="stable")
    expected = set(order[:k].tolist())
    kth = float(reference[order[k - 1]])
    tol = spec_tol(reference)
    for i in expected.symmetric_difference(indices.tolist()):
        assert abs(float(reference[i]) - kth) <= 2 * tol, f"index {i} differs and is not a tie at the k-th score"


def case_files(name: str):
    """(weights path, tokens, reference scores, grid or None) of a committed fixture case."""
    case = next(c for c in CASES if c["name"] == name)
    tokens = np.load(FIXTURES / f"{name}.tokens.npy")
    scores = np.load(FIXTURES / f"{name}.scores.npy")
    grid = (case["grid_h"], case["grid_w"]) if case["grid_h"] else None
    return FIXTURES / f"{name}.safetensors", tokens, scores, grid


@pytest.fixture
def f32_case():
    """A plain f32 fixture without RoPE (no grid needed): (path, tokens, reference scores)."""
    path, tokens, scores, _ = case_files("none_bidir_f32")
    return path, tokens, scores


@pytest.fixture
def mrope_case():
    """An M-RoPE fixture on a non-square 5×7 grid: (path, tokens, reference scores, grid)."""
    return case_files("mrope_bidir_f32_5x7")
