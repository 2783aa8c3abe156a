"""NumPy token-selection policies to compare against: top-K, DivPrune, DART, CDPruner, uniform,
random, norm, oracle.

Every policy returns K kept indices in ascending order, like the runtime's top-K (docs/model.md).
DART and CDPruner are the runtime's own float64 references (fastdrive_pruner.reference.policies).
"""

from __future__ import annotations

import numpy as np
from fastdrive_pruner.reference import policies as _industrial


def keep_count(n: int, keep_ratio: float) -> int:
    """K = ⌊r·N⌋ clamped to [1, N] (docs/model.md)."""
    return int(min(max(int(np.floor(keep_ratio * n)), 1), n))


def topk(scores: np.ndarray, k: int) -> np.ndarray:
    """The K highest scores, ties to the lower index, returned ascending."""
    order = np.lexsort((np.arange(len(scores)), -scores))  # primary: -score, secondary: index
    return np.sort(order[:k])


def uniform(n: int, k: int) -> np.ndarray:
    """K indices spread evenly over the token sequence (centre of each of K equal strides)."""
    return np.floor((np.arange(k) + 0.5) * n / k).astype(np.int64)


def random_keep(n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    return np.sort(rng.choice(n, size=k, replace=False))


def dart(tokens: np.ndarray, k: int) -> np.ndarray:
    """DART (TensorRT-Edge-LLM's pruner) with its defaults: 4 L1-norm pivots, no text pivots."""
    return np.asarray(_industrial.dart(tokens, k, margins=False), dtype=np.int64)


def standout_relevance(tokens: np.ndarray) -> np.ndarray:
    """CDPruner's relevance when there is no instruction: -cos(token, the frame's mean token)."""
    x = tokens / np.maximum(np.linalg.norm(tokens, axis=1, keepdims=True), 1e-12)
    m = tokens.mean(axis=0)
    return -(x @ (m / max(float(np.linalg.norm(m)), 1e-12)))


def cdpruner(tokens: np.ndarray, k: int, relevance: np.ndarray | None = None, theta: float = 0.5) -> np.ndarray:
    """CDPruner (OpenVINO GenAI's pruner): conditional-DPP greedy MAP; relevance defaults to
    :func:`standout_relevance` (synthetic scenes carry no instruction), θ = 0.5."""
    rel = standout_relevance(tokens) if relevance is None else relevance
    return np.asarray(_industrial.cdpruner(tokens, rel, k, theta, margins=False), dtype=np.int64)


def norm(tokens: np.ndarray, k: int) -> np.ndarray:
    """The K tokens with the largest L2 norm."""
    return topk(np.linalg.norm(tokens, axis=1), k)


def divprune(tokens: np.ndarray, k: int) -> np.ndarray:
    """DivPrune (CVPR 2025): greedy max-min diversity under cosine distance.

    First the token whose nearest neighbour is farthest, then repeatedly the candidate whose
    minimum distance to the selected set is largest (ties to the lower index).
    """
    x = tokens / np.maximum(np.linalg.norm(tokens, axis=1, keepdims=True), 1e-12)
    n = len(x)
    dist = 1.0 - x @ x.T
    np.fill_diagonal(dist, np.inf)
    first = int(np.argmax(dist.min(axis=1)))
    selected = [first]
    min_d = 1.0 - x @ x[first]
    min_d[first] = -np.inf
    for _ in range(k - 1):
        nxt = int(np.argmax(min_d))
        selected.append(nxt)
        min_d = np.minimum(min_d, 1.0 - x @ x[nxt])
        min_d[selected] = -np.inf
    assert len(set(selected)) == min(k, n)
    return np.sort(np.array(selected, dtype=np.int64))


def oracle(fg: np.ndarray, k: int) -> np.ndarray:
    """Foreground tokens first (the best any policy can do)."""
    return topk(fg.astype(np.float64), k)


def recall_precision(kept: np.ndarray, fg: np.ndarray) -> tuple[float, float]:
    """Share of foreground tokens kept, and share of kept tokens that are foreground."""
    hit = float(fg[kept].sum())
    total = float(fg.sum())
    return (hit / total if total > 0 else 1.0), hit / max(len(kept), 1)
