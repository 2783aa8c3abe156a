# test_cli.py — the `fastdrive-py` command line: inspect, score and prune on .npy files, help, errors.
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import assert_same_topk_up_to_ties, assert_scores_close, case_files

from fastdrive_pruner import Pruner, cli


def run(capsys, *argv: str) -> tuple:
    """(exit code, stdout, stderr) of the command line run in this process."""
    try:
        code = cli.main([str(a) for a in argv])
    except SystemExit as e:  # argparse's own exits (--help, usage errors)
        code = e.code
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def mrope(tmp_path):
    """An M-RoPE fixture on a 5×7 grid: (weights, tokens.npy, tokens, reference scores)."""
    path, tokens, ref, grid = case_files("mrope_bidir_f32_5x7")
    assert grid == (5, 7)
    np.save(tmp_path / "tokens.npy", tokens)
    return path, tmp_path / "tokens.npy", tokens, ref


def test_help_names_every_command_and_an_example(capsys) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for word in ("inspect", "score", "prune", "--grid 57x57", "--keep-ratio", "image_grid_thw"):
        assert word in out
    for command in ("inspect", "score", "prune"):
        code, out, _ = run(capsys, command, "--help")
        assert code == 0 and "weights" in out


def test_python_dash_m_is_the_same_command() -> None:
    r = subprocess.run([sys.executable, "-m", "fastdrive_pruner", "--version"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("fastdrive-py ") and "library " in r.stdout


def test_inspect_reports_the_runtime_config(capsys) -> None:
    path, tokens, _, _ = case_files("mrope_bidir_f32_5x7")
    code, out, _ = run(capsys, "inspect", path, "--json")
    assert code == 0
    report = json.loads(out)
    with Pruner(path, max_tokens=1) as p:
        assert report["config"] == p.config and report["parameters"] == p.parameter_count
    assert [t["name"] for t in report["tensors"]][:2] == ["query", "input_layernorm.weight"]
    code, out, _ = run(capsys, "inspect", path)
    assert code == 0 and "rope = mrope" in out and "mrope_section = 2,3,3" in out


def test_score_matches_the_reference(capsys, mrope, tmp_path) -> None:
    weights, npy, _, ref = mrope
    code, out, err = run(capsys, "score", weights, npy, "--grid", "5x7", "--threads", "1", "--out", tmp_path / "s.npy")
    assert code == 0, err
    assert "35 scores" in out
    assert_scores_close(np.load(tmp_path / "s.npy"), ref)


def test_prune_by_ratio_and_by_k(capsys, mrope, tmp_path) -> None:
    weights, npy, tokens, ref = mrope
    code, out, err = run(capsys, "prune", weights, npy, "--grid", "5x7", "--keep-ratio", "0.5",
                         "--out", tmp_path / "keep", "--kept", tmp_path / "rows")
    assert code == 0, err
    keep = np.load(tmp_path / "keep")  # written under the exact name given, no ".npy" appended
    assert keep.dtype == np.int64
    assert_same_topk_up_to_ties(keep, ref, 17)  # floor(0.5 * 35)
    np.testing.assert_array_equal(np.load(tmp_path / "rows"), tokens[keep])
    assert "kept 17 of 35 tokens" in out
    code, _, err = run(capsys, "prune", weights, npy, "--grid", "5x7", "-k", "3", "--out", tmp_path / "k3.npy")
    assert code == 0, err
    assert_same_topk_up_to_ties(np.load(tmp_path / "k3.npy"), ref, 3)


def test_prune_with_the_industrial_policies(capsys, mrope, tmp_path) -> None:
    weights, npy, tokens, _ = mrope
    rel = np.linspace(-1, 1, len(tokens), dtype=np.float32)[::-1].copy()
    np.save(tmp_path / "rel.npy", rel)
    np.save(tmp_path / "text.npy", tokens[:3] * -1)
    with Pruner(weights, max_tokens=64) as p:
        want_cd = p.select(tokens, 12, policy="cdpruner", relevance=rel, relevance_theta=0.5)
        want_dart = p.select(tokens, 12, policy="dart", pivot_rows=tokens[:3] * -1)
    code, _, err = run(capsys, "prune", weights, npy, "--grid", "5x7", "-k", "12", "--policy", "cdpruner",
                       "--aux", tmp_path / "rel.npy", "--theta", "0.5", "--out", tmp_path / "cd.npy")
    assert code == 0, err
    np.testing.assert_array_equal(np.load(tmp_path / "cd.npy"), want_cd)
    code, _, err = run(capsys, "prune", weights, npy, "--grid", "5x7", "-k", "12", "--policy", "DART",
                       "--pivot-rows", tmp_path / "text.npy", "--out", tmp_path / "dart.npy", "--kept", tmp_path / "r.npy")
    assert code == 0, err
    np.testing.assert_array_equal(np.load(tmp_path / "dart.npy"), want_dart)
    np.testing.assert_array_equal(np.load(tmp_path / "r.npy"), tokens[want_dart])
    code, _, err = run(capsys, "prune", weights, npy, "--grid", "5x7", "-k", "12", "--policy", "cdpruner",
                       "--out", tmp_path / "x.npy")
    assert code == 1 and "needs relevance" in err


def test_mrope_without_a_grid_is_refused_with_the_fix(capsys, mrope, tmp_path) -> None:
    weights, npy, _, _ = mrope
    code, _, err = run(capsys, "score", weights, npy, "--out", tmp_path / "s.npy")
    assert code == 2 and "rope = mrope" in err and "--grid HxW" in err
    assert not (tmp_path / "s.npy").exists()


@pytest.mark.parametrize("argv, words", [
    (["prune", "W", "T", "--out", "o.npy"], ["one of the arguments -k --keep-ratio is required"]),
    (["prune", "W", "T", "-k", "2", "--keep-ratio", "0.5", "--out", "o.npy"], ["not allowed with"]),
    (["score", "W", "T", "--grid", "57", "--out", "o.npy"], ["expected HxW"]),
    (["prune", "W", "T", "--keep-ratio", "1.5", "--out", "o.npy"], ["must be in (0, 1]"]),
])
def test_usage_errors_say_what_is_wrong(capsys, argv, words) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2
    for w in words:
        assert w in err


def test_runtime_errors_are_one_line_without_traceback(capsys, mrope, tmp_path) -> None:
    weights, npy, _, _ = mrope
    code, _, err = run(capsys, "inspect", tmp_path / "missing.safetensors")
    assert code == 1 and "missing.safetensors" in err and "Traceback" not in err
    np.save(tmp_path / "wide.npy", np.zeros((35, 65), np.float32))
    code, _, err = run(capsys, "score", weights, tmp_path / "wide.npy", "--grid", "5x7", "--out", tmp_path / "s.npy")
    assert code == 1 and "65" in err
    np.save(tmp_path / "flat.npy", np.zeros(35, np.float32))
    code, _, err = run(capsys, "score", weights, tmp_path / "flat.npy", "--grid", "5x7", "--out", tmp_path / "s.npy")
    assert code == 2 and "2-D" in err
