# policies.py — NumPy float64 references of the DART and CDPRUNER selection policies.
"""Independent NumPy implementations of two selection rules of ``fastdrive_select``, written from
the papers and the authors' code, not from the runtime. They are test oracles: float64, slow,
clear. (The other policies' references live in ``scripts/policies_reference.py``, which also
writes the fixtures the Swift tests read; it imports this module for DART and CDPruner.)

DART (Wen et al., "Stop Looking for Important Tokens in Multimodal Language Models: Duplication
Matters More", arXiv 2502.11494; code ZichenWen1/DART ``get_retained_image_token``), at the
embedding level as TensorRT-Edge-LLM applies it:

1. Image pivots: the ``p_img`` tokens with the largest L1 norm (default 4, the authors'
   ``pivot_image_token``), in descending-norm order. Text pivots: the ``p_txt`` host-given pivot
   rows (e.g. the instruction's text embeddings) with the largest L1 norm (default 4, the
   authors' ``pivot_text_token``, or every row when fewer are given; none without rows).
2. The K − p_img tokens left to keep are shared out over the P = p_img + p_txt pivots, in that
   order: the first (K − p_img) mod P pivots take ⌈(K − p_img)/P⌉, the rest ⌊(K − p_img)/P⌋.
   (The authors' code gives every pivot ⌊K/P⌋, which keeps p_img + P·⌊K/P⌋ tokens, not K.)
3. Pivot by pivot, its share is the still-free non-pivot tokens of lowest cosine similarity to
   it (``topk(-cos)``), which are then taken. Kept: the image pivots and every share.

CDPruner (Zhang et al., "Beyond Attention or Similarity: Maximizing Conditional Diversity for
Token Pruning in MLLMs", arXiv 2506.10967; code Theia-4869/CDPruner, and OpenVINO GenAI's
``cdpruner``), with the host's per-token relevance ``a`` in place of the mean text cosine:

1. r = (a − min a) / (max a − min a + 1e-6) (the code's min-max normalisation); with θ < 1,
   r ← exp(α r), α = θ / (2 (1 − θ)) (the code's ``theta`` option; θ = 1, the default, keeps r).
2. S = the cosine matrix of the tokens (x/‖x‖; an all-zero token has cosine 0 with everything,
   itself included; the diagonal is exactly 1 otherwise). Kernel L = diag(r) S diag(r).
3. Greedy MAP of the DPP (fast Cholesky form, Chen et al. 2018, as the code): d²ᵢ = Lᵢᵢ; K times:
   j = argmax d² over the unpicked tokens; eₙ = (L_jn − Σ_t c_t[j] c_t[n]) / √(max(d²ⱼ, 0) + 1e-5)
   (a d² rounded below 0 past the tokens' rank counts as 0);
   c_i = e; d² ← d² − e².

Ties go to the lower index everywhere; results are ascending index lists. Every dot product is
an elementwise product reduced along the last axis (one order for every pair), so identical
tokens give identical values and exact ties stay exact. The runtime's dot products are float32,
so the reference raises :class:`NearTie` for any decision whose margin is too small for both to
be sure of it (the caller redraws or skips that case).
"""
from __future__ import annotations

from typing import List, Optional

import numpy as np

DART_IMAGE_PIVOTS = 4
DART_TEXT_PIVOTS = 4
DART_MAX_PIVOTS = 64
CDPRUNER_RANGE_EPS = 1e-6
CDPRUNER_SQRT_EPS = 1e-5

MARGIN = 1e-6  # relative margin of a float32 cosine or norm decision at small D
DPP_MARGIN = 1e-4  # relative margin of a d² decision (it accumulates float32 cosines)


class NearTie(Exception):
    """A decision of the rule is too close to call in float32."""


def _normalized(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    norm = np.sqrt((x * x).sum(axis=-1, keepdims=True))
    return np.divide(x, norm, out=np.zeros_like(x), where=norm > 0)


def _ranked(values: np.ndarray) -> np.ndarray:
    """Indices by descending value, ties to the lower index."""
    return np.argsort(-np.asarray(values, dtype=np.float64), kind="stable")


def _check_order(values: np.ndarray, order: np.ndarray, upto: int, what: str) -> None:
    """The first `upto` + 1 entries of `order` must be separated by a margin or exactly tied."""
    v = np.asarray(values, dtype=np.float64)[order[: upto + 1]]
    gaps = v[:-1] - v[1:]
    scale = np.maximum(1.0, np.abs(v[:-1]))
    if np.any((gaps > 0) & (gaps < MARGIN * scale)):
        raise NearTie(what)


def dart_pivot_counts(n: int, k: int, image_pivots: int = 0, text_pivots: int = 0, text_rows: int = 0):
    """(p_img, p_txt) as the runtime resolves them; ValueError where it refuses the request."""
    if image_pivots < 0 or text_pivots < 0:
        raise ValueError("pivot counts must be >= 0 (0 = default)")
    p_img = image_pivots if image_pivots else min(DART_IMAGE_PIVOTS, k)
    if p_img > k or p_img > n:
        raise ValueError(f"image_pivots = {p_img} exceeds k or n")
    if text_pivots and text_pivots > text_rows:
        raise ValueError(f"text_pivots = {text_pivots} exceeds the {text_rows} pivot rows")
    p_txt = text_pivots if text_pivots else min(DART_TEXT_PIVOTS, text_rows)
    if p_img + p_txt > DART_MAX_PIVOTS:
        raise ValueError(f"{p_img} + {p_txt} pivots exceed {DART_MAX_PIVOTS}")
    return p_img, p_txt


def dart(x, k: int, image_pivots: int = 0, text_pivots: int = 0, pivot_rows=None, margins: bool = True) -> List[int]:
    """DART's kept tokens (ascending) for tokens x [N, D]; pivot_rows [M, D] optional text pivots."""
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    rows = np.zeros((0, x.shape[1])) if pivot_rows is None else np.asarray(pivot_rows, dtype=np.float64)
    p_img, p_txt = dart_pivot_counts(n, k, image_pivots, text_pivots, len(rows))
    l1 = np.abs(x).sum(axis=-1)
    by_l1 = _ranked(l1)
    if margins:
        _check_order(l1, by_l1, min(p_img, n - 1), "image pivot L1 order")
    image = [int(i) for i in by_l1[:p_img]]
    text = []
    if p_txt:
        t_l1 = np.abs(rows).sum(axis=-1)
        by_t = _ranked(t_l1)
        if margins:
            _check_order(t_l1, by_t, min(p_txt, len(rows) - 1), "text pivot L1 order")
        text = [int(t) for t in by_t[:p_txt]]
    xn = _normalized(x)
    pivots = [xn[i] for i in image] + [_normalized(rows[t:t + 1])[0] for t in text]
    budget, count = k - p_img, len(pivots)
    free = np.ones(n, bool)
    free[image] = False
    kept = list(image)
    for p, v in enumerate(pivots):
        share = budget // count + (1 if p < budget % count else 0)
        if share == 0:
            continue
        cos = (xn * v[None, :]).sum(axis=-1)
        cos[~free] = np.inf
        order = np.argsort(cos, kind="stable")  # lowest cosine first, ties to the lower index
        if margins and share < free.sum() and k < n:
            lo, hi = cos[order[share - 1]], cos[order[share]]
            if lo != hi and hi - lo < MARGIN * max(1.0, abs(lo)):
                raise NearTie("DART share boundary")
        take = order[:share]
        free[take] = False
        kept.extend(int(i) for i in take)
    assert len(kept) == k and len(set(kept)) == k
    return sorted(kept)


def cdpruner_quality(aux, theta: float = 0.0) -> np.ndarray:
    """The kernel's per-token weights: min-max normalised relevance, exp(α r) for θ < 1."""
    a = np.asarray(aux, dtype=np.float64)
    theta = theta or 1.0
    if not (0.0 < theta <= 1.0):
        raise ValueError("theta must be in (0, 1] (0 = default 1)")
    r = (a - a.min()) / (a.max() - a.min() + CDPRUNER_RANGE_EPS)
    if theta != 1.0:
        r = np.exp(theta / (2.0 * (1.0 - theta)) * r)
    return r


def cdpruner(x, aux, k: int, theta: float = 0.0, margins: bool = True) -> List[int]:
    """CDPruner's kept tokens (ascending) for tokens x [N, D] and host relevance aux [N]."""
    xn = _normalized(x)
    n = len(xn)
    q = cdpruner_quality(aux, theta)
    sim = (xn[:, None, :] * xn[None, :, :]).sum(axis=-1)
    nonzero = (xn != 0).any(axis=-1)
    np.fill_diagonal(sim, nonzero.astype(np.float64))
    kernel = q[:, None] * sim * q[None, :]
    d2 = np.diagonal(kernel).copy()
    scale = max(float(d2.max()), 1e-30)
    c = np.zeros((k, n))
    picked = np.zeros(n, bool)
    for i in range(k):
        masked = np.where(picked, -np.inf, d2)
        j = int(np.argmax(masked))
        if margins and k < n:
            rest = masked[(~picked) & (masked != masked[j])]
            if rest.size:
                gap = masked[j] - rest.max()
                if gap < DPP_MARGIN * max(abs(masked[j]), 1e-2 * scale):
                    raise NearTie(f"DPP step {i}")
        proj = np.zeros(n)
        for t in range(i):
            proj += c[t, j] * c[t]
        e = (kernel[j] - proj) / np.sqrt(max(d2[j], 0.0) + CDPRUNER_SQRT_EPS)
        c[i] = e
        d2 = d2 - e * e
        picked[j] = True
    return sorted(np.flatnonzero(picked).tolist())


def self_test() -> None:
    """Hand-checkable facts of both rules."""
    x = np.array([[3, 0], [1, 0], [0, 1], [-1, 0.1], [0.5, 0.5]], dtype=np.float64)
    # pivot: row 0 (L1 3); share 1: lowest cosine to +x is row 3
    assert dart(x, 2, image_pivots=1) == [0, 3]
    # a text pivot along +y: its share (1 of the 2 left) is row 3 after the image pivot took... order:
    # image pivot 0 takes row 3 (share 1), text pivot (0, 1) takes the lowest cosine of rows 1, 2, 4: row 1
    assert dart(x, 3, image_pivots=1, pivot_rows=[[0, 2.0]]) == [0, 1, 3]
    # CDPruner with equal relevance and θ = 1: min-max makes every r = 0 → d² all 0: lowest indices
    assert cdpruner(x, np.ones(5), 2) == [0, 1]
    # Relevance 1 on two orthogonal tokens beats a parallel pair
    y = np.array([[1, 0], [1, 0], [0, 1]], dtype=np.float64)
    assert cdpruner(y, [1.0, 1.0, 1.0], 2, theta=0.5) == [0, 2]


if __name__ == "__main__":
    self_test()
    print("ok")
