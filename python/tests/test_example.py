# test_example.py — runs examples/quickstart.py (the README's Python snippet) on a model made by the CLI's `init`.
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import REPO

from fastdrive_pruner import _lib, schema
from fastdrive_pruner.reference import weights

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "quickstart.py"


def _make_small_model(out: Path) -> None:
    """`fastdrive-pruner init --config small` (built beside the library); the same config via fastdrive_pruner.reference otherwise."""
    for folder in (_lib.library_path().parent, REPO / ".build" / "release", REPO / ".build" / "debug"):
        cli = folder / "fastdrive-pruner"
        if cli.is_file():
            subprocess.run([str(cli), "init", "--config", "small", "--out", str(out)], check=True, capture_output=True)
            return
    config = schema.normalize_config({"hidden_size": 128, "intermediate_size": 384, "num_attention_heads": 4,
                                      "num_key_value_heads": 2, "head_dim": 32, "mrope_section": [4, 6, 6]})
    weights.write_pruner(out, config, weights.random_pruner(config, seed=0))


def test_readme_python_snippet_runs(tmp_path) -> None:
    _make_small_model(tmp_path / "pruner.safetensors")
    env = dict(os.environ, **{_lib.ENV_VAR: str(_lib.library_path())})
    r = subprocess.run([sys.executable, str(EXAMPLE)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.rstrip().endswith("(18, 128)")
    assert len(EXAMPLE.read_text().splitlines()) <= 15
