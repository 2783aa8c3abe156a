# test_select_industrial.py — DART and CDPruner through Pruner.select, index for index against the NumPy references.
from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest
from conftest import case_files

from fastdrive_pruner import InvalidArgumentError, NonFiniteError, Policy, Pruner, ShapeError, _lib
from fastdrive_pruner.reference import policies as ref

pytestmark = pytest.mark.skipif(
    not _lib.has_function("fastdrive_select"), reason="the loaded library has no fastdrive_select"
)


@pytest.fixture(scope="module")
def pruner():
    path, tokens, _, _ = case_files("mrope_bidir_f32_5x7")
    with Pruner(path, max_tokens=256, num_threads=2) as p:
        yield p, tokens.shape[1]


def _frames(d: int):
    """(name, tokens f32 [n, d], relevance f32 [n]) — random, clustered, duplicated, tied, zero rows."""
    rng = np.random.default_rng(19)
    out = []
    for n in (7, 40, 64, 150):
        out.append((f"random_{n}", rng.standard_normal((n, d)), rng.uniform(-1, 1, n)))
    centres = rng.standard_normal((5, d)) * 3
    out.append(("clustered_90", centres[rng.integers(0, 5, 90)] + 0.4 * rng.standard_normal((90, d)), rng.uniform(0, 1, 90)))
    # exact duplicates: rows of ±1/2 in four places (every cosine a multiple of 1/4), each 3 times,
    # relevance equal within a duplicate group so their DPP values tie exactly
    base = np.zeros((12, d))
    for r in range(12):
        base[r, rng.choice(d, 4, replace=False)] = rng.choice([-0.5, 0.5], 4) * rng.choice([1.0, 2.0])
    group = rng.permutation(np.repeat(np.arange(12), 3))
    out.append(("duplicated_36", base[group], np.round(rng.uniform(0, 1, 12), 1)[group]))
    out.append(("all_equal_20", np.repeat(rng.standard_normal((1, d)), 20, axis=0), np.full(20, 0.5)))
    z = rng.standard_normal((30, d))
    z[[2, 11]] = 0.0
    out.append(("zero_rows_30", z, rng.standard_normal(30)))
    out.append(("single_1", rng.standard_normal((1, d)), np.array([0.3])))
    return [(name, x.astype(np.float32), a.astype(np.float32)) for name, x, a in out]


def _ks(n: int):
    return sorted({k for k in (1, 2, 3, n // 4, n // 2, n - 1, n) if 1 <= k <= n})


def _compare(p, tokens_for_c, tokens_exact, rel, k, policy, **kw):
    """The runtime's indices against the reference's on the same values; False if a near tie."""
    try:
        if policy == "dart":
            rows = kw.get("pivot_rows")
            want = ref.dart(tokens_exact, k, kw.get("image_pivots", 0), kw.get("text_pivots", 0),
                            None if rows is None else np.asarray(rows, np.float64))
        else:
            want = ref.cdpruner(tokens_exact, rel.astype(np.float64), k, kw.get("relevance_theta", 0.0))
    except ref.NearTie:
        return False
    extra = {"relevance": rel} if policy == "cdpruner" else {}
    got = p.select(tokens_for_c, k, policy=policy, **extra, **kw)
    assert got.tolist() == want, f"{policy} k={k} {kw}"
    return True


@pytest.mark.parametrize("policy", ["dart", "cdpruner"])
def test_matches_reference(pruner, policy) -> None:
    p, d = pruner
    checked = 0
    text = np.random.default_rng(5).standard_normal((6, d)).astype(np.float32)
    variants = (
        [{}, {"image_pivots": 1}, {"pivot_rows": text}, {"image_pivots": 2, "text_pivots": 5, "pivot_rows": text}]
        if policy == "dart"
        else [{}, {"relevance_theta": 0.5}, {"relevance_theta": 0.9}]
    )
    for name, x, rel in _frames(d):
        for k in _ks(len(x)):
            for kw in variants:
                if policy == "dart":
                    try:
                        rows = kw.get("pivot_rows")
                        ref.dart_pivot_counts(len(x), k, kw.get("image_pivots", 0), kw.get("text_pivots", 0),
                                              0 if rows is None else len(rows))
                    except ValueError:
                        continue
                checked += _compare(p, x, x.astype(np.float64), rel, k, policy, **kw)
    assert checked > 100


@pytest.mark.parametrize("policy", ["dart", "cdpruner"])
def test_views_and_half_precision(pruner, policy) -> None:
    """Strided rows, float16 and bfloat16 tokens: the reference reads the same (rounded) values."""
    p, d = pruner
    rng = np.random.default_rng(7)
    x = rng.standard_normal((48, d)).astype(np.float32)
    rel = rng.uniform(0, 1, 48).astype(np.float32)
    wide = np.zeros((48, d + 9), np.float32)
    wide[:, 3 : 3 + d] = x
    strided = wide[:, 3 : 3 + d]  # row stride d + 9, not contiguous
    assert not strided.flags.c_contiguous
    checked = 0
    for k in (1, 5, 24, 48):
        checked += _compare(p, strided, x.astype(np.float64), rel, k, policy)
        half = x.astype(np.float16)
        checked += _compare(p, half, half.astype(np.float64), rel, k, policy)
        bf = x.astype(ml_dtypes.bfloat16)
        checked += _compare(p, bf, bf.astype(np.float64), rel, k, policy)
    assert checked >= 9


def test_pivot_rows_in_half_precision(pruner) -> None:
    p, d = pruner
    rng = np.random.default_rng(11)
    x = rng.standard_normal((60, d)).astype(np.float32)
    rows = rng.standard_normal((5, d)).astype(ml_dtypes.bfloat16)
    assert _compare(p, x, x.astype(np.float64), None, 20, "dart", pivot_rows=rows)


def test_defaults_and_bounds(pruner) -> None:
    p, d = pruner
    x = np.random.default_rng(3).standard_normal((30, d)).astype(np.float32)
    rel = np.linspace(0, 1, 30, dtype=np.float32)
    # defaults: 0 asks for the library's (4 pivots; θ = 1)
    assert p.select(x, 10, policy="dart").tolist() == p.select(x, 10, policy="dart", image_pivots=4).tolist()
    assert (p.select(x, 10, policy="cdpruner", relevance=rel).tolist()
            == p.select(x, 10, policy=Policy.CDPRUNER, aux=rel, relevance_theta=1.0).tolist())
    assert p.select(x, 30, policy="cdpruner", relevance=rel).tolist() == list(range(30))
    bad = [
        dict(policy="cdpruner"),
        dict(policy="cdpruner", relevance=rel, aux=rel),
        dict(policy="dart", relevance=rel),
        dict(policy="cdpruner", relevance=rel, relevance_theta=1.5),
        dict(policy="cdpruner", relevance=rel, relevance_theta=float("nan")),
        dict(policy="cdpruner", relevance=np.where(np.arange(30) == 4, np.inf, rel)),
        dict(policy="dart", image_pivots=-1),
        dict(policy="dart", image_pivots=11),
        dict(policy="dart", text_pivots=2),
        dict(policy="dart", text_pivots=7, pivot_rows=x[:6]),
        dict(policy="dart", image_pivots=10, text_pivots=60, pivot_rows=np.tile(x, (2, 1))),
    ]
    for kw in bad:
        with pytest.raises(InvalidArgumentError):
            p.select(x, 10, **kw)
    with pytest.raises(ShapeError):
        p.select(x, 10, policy="dart", pivot_rows=x[:, :-1])
    nan_rows = x[:3].copy()
    nan_rows[1, 2] = np.nan
    with pytest.raises(NonFiniteError, match="pivot_rows row 1"):
        p.select(x, 10, policy="dart", pivot_rows=nan_rows)
