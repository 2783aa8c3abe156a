"""Training checkpoints: model, optimizer, schedule and RNG state, written atomically."""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .config import PrunerConfig
from .pruner import ReconPruner


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> None:
    """torch.save to a temp file, then rename: a crash never leaves a truncated `last.pt`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    state = dict(state)
    state["rng"] = {
        "torch": torch.get_rng_state(),
        "numpy": np.random.get_state(),
        "python": random.getstate(),
    }
    torch.save(state, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load a checkpoint (CPU tensors) and restore the global RNG states it recorded."""
    state = torch.load(path, map_location="cpu", weights_only=False)
    rng = state.get("rng")
    if rng is not None:
        torch.set_rng_state(rng["torch"])
        np.random.set_state(rng["numpy"])
        random.setstate(rng["python"])
    return state


def pruner_from_checkpoint(path: str | Path) -> ReconPruner:
    """Just the pruner out of a training checkpoint (for export and evaluation)."""
    state = torch.load(path, map_location="cpu", weights_only=False)
    pruner = ReconPruner(PrunerConfig.from_dict(state["pruner_config"]))
    pruner.load_state_dict(state["pruner"])
    return pruner.eval()
