"""The token-selection policies of the planning benchmark, one row each.

Every policy the runtime's `fastdrive_select` has runs through it (the Python wrapper's
`Pruner.select`); the mask oracle is the only NumPy one (it reads the foreground labels, which no
host has). A row is one line here: a runtime policy that needs only the tokens is
`SelectPolicy("name", "runtime_name")`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import baselines

CDPRUNER_THETA = 0.5  # relevance against diversity, as in the recall table


@dataclass(frozen=True)
class SelectPolicy:
    """A row of the table. `aux`: what the runtime's `aux` argument gets — None, "planner_attention"
    (the planner's own attention on the unpruned tokens), or "standout" (CDPruner's relevance:
    the scenes carry no instruction, so each token's negated cosine to the frame's mean token, as
    in the recall table); nothing for ReconPruner, whose scores the runtime computes from
    `weights` (a weight file; None = the benchmark's default)."""

    name: str
    runtime: str | None  # the runtime's policy name, None for the NumPy-only oracle
    aux: str | None = None
    weights: str | None = None

    @property
    def per_planner(self) -> bool:
        """Does the selection depend on the planner (so it is redone for each planner seed)?"""
        return self.aux == "planner_attention"


def default_policies(reconpruner: str | Path, extra_pruners: dict[str, str | Path] | None = None) -> list[SelectPolicy]:
    rows = [SelectPolicy("ReconPruner", "reconpruner", weights=str(reconpruner))]
    rows += [SelectPolicy(name, "reconpruner", weights=str(path)) for name, path in (extra_pruners or {}).items()]
    rows += [
        SelectPolicy("DivPrune", "divprune"),
        SelectPolicy("VisPruner", "vispruner", aux="planner_attention"),
        SelectPolicy("DART", "dart"),
        SelectPolicy("CDPruner", "cdpruner", aux="standout"),
        SelectPolicy("FastV", "attention", aux="planner_attention"),
        SelectPolicy("norm", "norm"),
        SelectPolicy("uniform", "uniform"),
        SelectPolicy("random", "random"),
        SelectPolicy("oracle", None),
    ]
    return rows


class Selector:
    """Kept indices (n, K) for a policy over a token set, through the runtime where it has the policy."""

    def __init__(self, default_weights: str | Path, max_tokens: int = 4096) -> None:
        from fastdrive_pruner import Pruner  # the runtime, through its Python wrapper

        self._Pruner = Pruner
        self._max_tokens = max_tokens
        self._default = str(default_weights)
        self._handles: dict[str, object] = {}

    def _handle(self, weights: str | None):
        path = weights or self._default
        if path not in self._handles:
            self._handles[path] = self._Pruner(path, max_tokens=self._max_tokens, num_threads=1)
        return self._handles[path]

    def select(self, policy: SelectPolicy, tokens: np.ndarray, fg: np.ndarray, k: int, grid: tuple[int, int],
               attention: np.ndarray | None = None) -> np.ndarray:
        n, n_tok = tokens.shape[:2]
        if k >= n_tok:
            return np.broadcast_to(np.arange(n_tok), (n, n_tok)).copy()
        out = np.empty((n, k), dtype=np.int64)
        if policy.runtime is None:
            for i in range(n):
                out[i] = baselines.oracle(fg[i], k)
            return out
        handle = self._handle(policy.weights)
        for i in range(n):
            t = np.ascontiguousarray(tokens[i], dtype=np.float32)
            if policy.aux == "standout":
                out[i] = handle.select(t, k, policy=policy.runtime, relevance=baselines.standout_relevance(t),  # type: ignore[attr-defined]
                                       relevance_theta=CDPRUNER_THETA, seed=i, grid=grid)
                continue
            aux = attention[i].astype(np.float64) if policy.aux == "planner_attention" else None
            out[i] = handle.select(t, k, policy=policy.runtime, aux=aux, seed=i, grid=grid)  # type: ignore[attr-defined]
        return out
