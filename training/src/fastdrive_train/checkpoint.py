"""Training checkpoints: model, optimizer, schedule and RNG state, written atomically."""

from __future__ import annotations

import os
import pickle
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .config import PrunerConfig
from .pruner import ReconPruner


def rng_state() -> dict[str, Any]:
    """This process's global RNG states: torch CPU, every CUDA device (when CUDA is up), NumPy, Python."""
    state: dict[str, Any] = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what `rng_state` recorded (the CUDA part only where CUDA is available)."""
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(path: str | Path, state: dict[str, Any], rng: list[dict[str, Any]] | None = None) -> None:
    """torch.save to a temp file, then rename: a crash never leaves a truncated `last.pt`.

    `rng` is every rank's `rng_state()` (index = rank); None records this process's only.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    state = dict(state)
    ranks = rng if rng is not None else [rng_state()]
    state["rng"] = ranks[0]  # the layout older checkpoints have
    state["rng_per_rank"] = ranks
    torch.save(state, tmp)
    os.replace(tmp, path)


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """A checkpoint's contents (CPU tensors); nothing restored. ValueError naming the file if it is none."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except (RuntimeError, EOFError, OSError, ValueError, pickle.UnpicklingError) as exc:
        raise ValueError(f"{path}: not a readable training checkpoint ({exc})") from exc
    if not isinstance(state, dict) or not {"model", "pruner", "pruner_config", "step"} <= set(state):
        raise ValueError(f"{path}: not a training checkpoint of this trainer (no model/pruner/step entries)")
    return state


def restore_rng(state: dict[str, Any], rank: int = 0) -> None:
    """Put back the RNG states a checkpoint recorded for `rank` (rank 0's if it has none for it)."""
    ranks = state.get("rng_per_rank") or ([state["rng"]] if state.get("rng") is not None else [])
    if ranks:
        set_rng_state(ranks[rank] if rank < len(ranks) else ranks[0])


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load a checkpoint (CPU tensors) and restore the global RNG states it recorded."""
    state = read_checkpoint(path)
    restore_rng(state)
    return state


def pruner_from_checkpoint(path: str | Path) -> ReconPruner:
    """Just the pruner out of a training checkpoint (for export and evaluation)."""
    state = read_checkpoint(path)
    pruner = ReconPruner(PrunerConfig.from_dict(state["pruner_config"]))
    pruner.load_state_dict(state["pruner"])
    return pruner.eval()
