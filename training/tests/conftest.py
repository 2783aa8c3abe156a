"""Shared fixtures: tiny configs and a tiny synthetic dataset, so the suite runs in CPU seconds."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from fastdrive_train.config import PrunerConfig
from fastdrive_train.data.synthetic import write_dataset

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_cfg() -> PrunerConfig:
    """D = 64: one head of 64, mRoPE sections 8/12/12 over its 32 frequency pairs."""
    return PrunerConfig.small(64)


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Twelve 64×64 scenes (4×4 tokens of 16 px) in the manifest layout."""
    return write_dataset(tmp_path_factory.mktemp("data"), 12, seed=7, size=64)


def perturb(module: torch.nn.Module, scale: float = 0.05, seed: int = 0) -> None:
    """Move every parameter off its init (norm weights are all ones, biases zeros) for real tests."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(torch.randn(p.shape, generator=g) * scale)
