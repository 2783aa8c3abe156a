"""The CLI's contract for bad input: one line on stderr, a non-zero exit, never a traceback and
never a hang (FIFOs), whatever the argument; and every flag documents itself and its default."""

import argparse
import os
import subprocess
import sys

import pytest

from fastdrive_train.cli import _train_config, build_parser, main
from fastdrive_train.config import PrunerConfig
from fastdrive_train.export import export_pruner
from fastdrive_train.pruner import ReconPruner
from fastdrive_train.train import TrainConfig


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    return export_pruner(ReconPruner(PrunerConfig.small(64)), tmp_path_factory.mktemp("w") / "p.safetensors")


def _fails_in_one_line(argv, capsys) -> str:
    try:
        code = main([str(x) for x in argv])
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code
    err = capsys.readouterr().err
    assert code not in (0, None), argv
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    return err


@pytest.mark.parametrize("extra,needle", [
    (["--count", "-1"], "--count"),
    (["--count", "0"], "--count"),
    (["--size", "0"], "--size"),
    (["--size", "abc"], "--size"),
    (["--seed", "-3"], "--seed"),
])
def test_generate_rejects_bad_values(tmp_path, capsys, extra, needle):
    err = _fails_in_one_line(["generate", "--out", tmp_path / "g", *extra], capsys)
    assert needle in err
    assert not (tmp_path / "g").exists()


@pytest.mark.parametrize("extra,needle", [
    (["--pruning", "1.5"], "--pruning"),
    (["--pruning", "1"], "--pruning"),
    (["--pruning", "-0.1"], "--pruning"),
    (["--pruning", "nan"], "--pruning"),
    (["--frames", "0"], "--frames"),
    (["--size", "100"], "multiple of --patch"),
    (["--patch", "0"], "--patch"),
])
def test_demo_rejects_bad_values(tmp_path, capsys, weights, extra, needle):
    err = _fails_in_one_line(["demo", "--weights", weights, "--out", tmp_path / "png", *extra], capsys)
    assert needle in err


def test_bad_files_are_one_line_errors(tmp_path, capsys, tiny_data):
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint at all")
    assert "junk.pt: not a readable training checkpoint" in _fails_in_one_line(
        ["export", "--checkpoint", junk, "--out", tmp_path / "o"], capsys)
    _fails_in_one_line(["export", "--checkpoint", tmp_path / "missing.pt", "--out", tmp_path / "o"], capsys)
    assert "not a usable weight file" in _fails_in_one_line(["demo", "--weights", junk, "--out", tmp_path / "png"], capsys)
    _fails_in_one_line(["eval", "--weights", junk, "--manifest", tiny_data], capsys)
    _fails_in_one_line(["eval", "--weights", tmp_path, "--manifest", tiny_data], capsys)  # a folder
    cfg = tmp_path / "c.json"
    cfg.write_text('{"stepz": 3}')
    err = _fails_in_one_line(["train", "--train", tiny_data, "--out", tmp_path / "r", "--config", cfg], capsys)
    assert "stepz" in err
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("extra,needle", [
    (["--steps", "4", "--decoder-warmup", "4"], "only the decoder would train"),
    (["--steps", "8", "--decoder-warmup", "3", "--anchor-until", "2"], "never apply"),
    (["--hidden", "100"], "multiple of 64"),
    (["--lr", "0"], "--lr"),
    (["--alpha", "2"], "--alpha"),
    (["--image-size", "100"], "multiple of the patch"),
])
def test_train_rejects_bad_settings_before_writing(tmp_path, capsys, tiny_data, extra, needle):
    err = _fails_in_one_line(["train", "--train", tiny_data, "--out", tmp_path / "r", "--device", "cpu", *extra], capsys)
    assert needle in err
    assert not (tmp_path / "r").exists()


def _cli(argv, timeout=120):
    return subprocess.run([sys.executable, "-m", "fastdrive_train", *argv], capture_output=True, timeout=timeout)


def test_fifo_is_refused_not_waited_on(tmp_path, capsys):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    # In a child process: a regression would block in open() and hit the timeout, not hang the suite.
    r = _cli(["export", "--checkpoint", str(fifo), "--out", str(tmp_path / "o")])
    assert r.returncode == 2 and b"not a regular file" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and b"Traceback" not in r.stderr
    # Every file-reading flag goes through the same check, which only stat()s.
    for argv in (["demo", "--weights", fifo, "--out", tmp_path / "png"],
                 ["eval", "--checkpoint", fifo, "--manifest", fifo],
                 ["train", "--train", fifo, "--out", tmp_path / "r"]):
        assert "not a regular file" in _fails_in_one_line(argv, capsys)


def test_non_utf8_path_is_a_one_line_error(tmp_path, capsys):
    bad = os.fsencode(tmp_path) + b"/run\xff"
    r = subprocess.run([sys.executable.encode(), b"-m", b"fastdrive_train", b"generate", b"--out", bad, b"--count", b"1"],
                       capture_output=True, timeout=120)
    assert r.returncode == 2 and b"not valid UTF-8" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and b"Traceback" not in r.stderr
    # What Python makes of such argv bytes (surrogate escapes), for the other path flags in-process.
    name = os.fsdecode(bad)
    for argv in (["demo", "--weights", name, "--out", tmp_path / "png"],
                 ["export", "--checkpoint", name, "--out", tmp_path / "o"],
                 ["train", "--train", name, "--out", tmp_path / "r"]):
        assert "not valid UTF-8" in _fails_in_one_line(argv, capsys)


def test_every_flag_has_help_and_says_its_default():
    parser = build_parser()
    subs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, sub in subs.choices.items():
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            flag = f"{name} {action.option_strings}"
            assert action.help, flag
            required = action.required or any(action in g._group_actions and g.required
                                              for g in sub._mutually_exclusive_groups)
            if not required and not isinstance(action, argparse._StoreTrueAction):
                assert "default" in action.help, flag
            if isinstance(action, argparse._StoreTrueAction):
                assert "default" in action.help, flag


def _cfg(argv) -> TrainConfig:
    return _train_config(build_parser().parse_args(["train", "--train", __file__, "--out", "x", *argv]))


def test_presets():
    recipe, default = _cfg(["--preset", "recipe"]), _cfg([])
    assert recipe == default  # the defaults are the shipped recipe
    paper = _cfg(["--preset", "paper"])
    assert (paper.decoder_input, paper.decoder_head, paper.decoder_warmup) == ("zero", "linear", 0)
    assert paper.objective["score_norm"] == "none" and paper.objective["anchor_weight"] == 0
    assert (paper.objective["alpha"], paper.objective["lam"]) == (0.5, 0.2)
    # Explicit flags win over the preset.
    assert _cfg(["--preset", "paper", "--decoder-head", "sigmoid"]).decoder_head == "sigmoid"
    # --anchor-weight 0 alone is not the paper: it keeps the recipe's threshold, input and head.
    off = _cfg(["--anchor-weight", "0"])
    assert off.objective["score_norm"] == "standardize" and off.decoder_input == "affine"


def test_paper_preset_decoder_is_literal(tiny_data, tmp_path):
    import torch

    from fastdrive_train.train import build_model

    cfg = _cfg(["--preset", "paper", "--hidden", "64", "--decoder-layers", "1"])
    model = build_model(cfg, ReconPruner(PrunerConfig.small(64)), 16)
    assert model.decoder.in_proj is None
    tokens = torch.randn(1, 16, 64) * 10
    with torch.no_grad():
        out = model.decoder(tokens, (4, 4))
    assert float(out.min()) < 0  # linear head: not squashed into [0, 1]
    assert not any(isinstance(m, torch.nn.Sigmoid) for m in model.decoder.modules())
    # And it trains end to end through the CLI.
    assert main(["train", "--train", str(tiny_data), "--out", str(tmp_path / "p"), "--preset", "paper", "--hidden", "64",
                 "--decoder-layers", "1", "--steps", "2", "--batch-size", "2", "--device", "cpu", "--no-progress"]) == 0
