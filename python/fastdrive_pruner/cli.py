# cli.py — the `fastdrive-py` command (also `python -m fastdrive_pruner`): inspect a weight file, score and prune .npy tokens.
"""Command line of the Python package, so a Python user needs no Swift toolchain for the common jobs.

Named ``fastdrive-py`` so that it never shadows the native ``fastdrive-pruner`` tool (installed by
``cmake --install``), which has more commands (init, bench, bench-policies) on the same weight files.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from . import schema
from ._lib import Policy
from ._native import keep_count
from ._version import __version__
from .errors import FastdrivePrunerError
from .pruner import Pruner, library_path, library_version

__all__ = ["main", "parser"]

PROG = "fastdrive-py"

DESCRIPTION = """\
ReconPruner visual-token pruning (FastDriveVLA) on the CPU, from Python.

Tokens are a [n_tokens, hidden_size] float32 or float16 .npy array: one camera frame of the vision
encoder's output. Weights are a ReconPruner weight file (.safetensors)."""

EPILOG = """\
examples:
  fastdrive-py inspect pruner.safetensors
  fastdrive-py score pruner.safetensors frame.npy --grid 57x57 --out scores.npy
  fastdrive-py prune pruner.safetensors frame.npy --grid 57x57 --keep-ratio 0.5 --out keep.npy --kept kept.npy

The grid is the frame's token grid, H x W = n_tokens; pruners with rope = mrope (the default
of Qwen2.5-VL) need it. For Qwen2.5-VL it is the LLM's merged grid: image_grid_thw's height and
width divided by 2 (57x57 = 3249 tokens for a 1596 x 1596 image).

Run `fastdrive-py COMMAND --help` for a command's options."""

GRID_HINT = "give the frame's token grid with --grid HxW (for Qwen2.5-VL: image_grid_thw's h/2 x w/2, e.g. 57x57)"


class UsageError(Exception):
    """A mistake in the command line that argparse cannot see (reported like argparse's own errors)."""


def _grid(text: str) -> Tuple[int, int]:
    parts = text.lower().replace("×", "x").split("x")
    try:
        h, w = (int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected HxW such as 57x57, got {text!r}") from None
    if h <= 0 or w <= 0:
        raise argparse.ArgumentTypeError(f"grid sides must be positive, got {text!r}")
    return h, w


def _keep_ratio(text: str) -> float:
    r = float(text)
    if not 0.0 < r <= 1.0:
        raise argparse.ArgumentTypeError(f"must be in (0, 1], got {text}")
    return r


def _positive(text: str) -> int:
    v = int(text)
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text}")
    return v


def _add_load_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("weights", help="ReconPruner weight file (.safetensors)")
    p.add_argument("tokens", help="tokens: [n_tokens, hidden_size] float32 or float16 .npy array")
    p.add_argument("--grid", type=_grid, metavar="HxW", help="token grid of the frame (needed for rope = mrope)")
    p.add_argument("--threads", type=int, default=0, metavar="N", help="worker threads (default 0 = every core)")
    p.add_argument("--compute", choices=("f32", "bf16", "int8"), default="f32",
                   help="compute precision (default f32; bf16 needs AVX512_BF16, int8 AVX512-VNNI; both keep the top-K, not every score bit)")
    p.add_argument("--max-tokens", type=_positive, metavar="N",
                   help="capacity of the pruner handle (default: the number of tokens given)")


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog=PROG, description=DESCRIPTION, epilog=EPILOG,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--version", action="store_true", help="print the package and library versions and exit")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("inspect", help="check a weight file with the runtime; print its config and tensors",
                       description="Load a weight file with the runtime (every check of the loader runs) and print "
                                   "its config, parameter count and tensors.")
    p.add_argument("weights", help="ReconPruner weight file (.safetensors)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")

    p = sub.add_parser("score", help="score every token of a frame; write float32 scores (.npy)",
                       description="Score every token of a frame (higher = more foreground) and write the scores "
                                   "as a float32 [n_tokens] .npy array.")
    _add_load_options(p)
    p.add_argument("--out", required=True, help="output: scores, float32 [n_tokens] .npy")

    p = sub.add_parser("prune", help="keep the top-K tokens; write their indices (and rows) as .npy",
                       description="Keep the K highest-scoring tokens (or the K another --policy selects): write "
                                   "their indices (int64, ascending, so the original token order is kept) and "
                                   "optionally the kept rows.")
    _add_load_options(p)
    keep = p.add_mutually_exclusive_group(required=True)
    keep.add_argument("-k", type=_positive, metavar="K", help="number of tokens to keep")
    keep.add_argument("--keep-ratio", type=_keep_ratio, metavar="R",
                      help="share of tokens to keep, in (0, 1]: K = floor(R * n_tokens), at least 1 "
                           "(pruning 25/50/75 %% is R = 0.75/0.5/0.25)")
    p.add_argument("--out", required=True, help="output: kept indices, int64 [K] ascending .npy")
    p.add_argument("--kept", help="also write the kept token rows, [K, hidden_size] .npy in the input's dtype")
    p.add_argument("--policy", default="reconpruner", type=str.lower,
                   choices=[pol.name.lower() for pol in Policy],
                   help="selection policy (default reconpruner: this pruner's scores); dart and cdpruner are "
                        "the pruners TensorRT-Edge-LLM and OpenVINO GenAI ship")
    p.add_argument("--aux", metavar="NPY",
                   help="per-token host values, float [n_tokens] .npy: importance for attention/vispruner, "
                        "relevance to the instruction for cdpruner")
    p.add_argument("--pivot-rows", metavar="NPY",
                   help="dart: host pivot rows (e.g. text embeddings), [m, hidden_size] .npy")
    p.add_argument("--theta", type=float, default=0.0, metavar="T",
                   help="cdpruner: relevance weighting theta in (0, 1] (default 0 = the library's 1)")
    return ap


def _load_tokens(path: str) -> np.ndarray:
    try:
        tokens = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise UsageError(f"cannot read tokens {path}: {e}") from None
    if tokens.ndim != 2:
        raise UsageError(f"tokens {path}: expected a 2-D [n_tokens, hidden_size] array, got shape {tokens.shape}")
    return tokens


def _open(args: argparse.Namespace, n_tokens: int) -> Pruner:
    pruner = Pruner(args.weights, max_tokens=args.max_tokens or n_tokens, num_threads=args.threads, compute=args.compute)
    if pruner.rope == "mrope" and args.grid is None:
        pruner.close()
        raise UsageError(f"{args.weights} uses rope = mrope: {GRID_HINT}")
    return pruner


def _save(path: str, array: np.ndarray) -> None:
    try:
        with open(path, "wb") as f:  # np.save(path) would append ".npy" to any other name
            np.save(f, array)
    except OSError as e:
        raise UsageError(f"cannot write {path}: {e}") from None


def _inspect(args: argparse.Namespace) -> int:
    with Pruner(args.weights, max_tokens=1, num_threads=1) as p:  # the runtime's loader judges the file
        config, parameters = p.config, p.parameter_count
    header = schema.read_header(args.weights)
    meta = header.pop("__metadata__", {}) or {}
    tensors = [{"name": k, "dtype": v["dtype"], "shape": v["shape"]} for k, v in header.items()]
    tensors.sort(key=lambda t: schema.TENSOR_NAMES.index(t["name"]) if t["name"] in schema.TENSOR_NAMES else 99)
    extra = {k: v for k, v in meta.items() if k not in schema.DEFAULTS and k not in ("format", "format_version")}
    if args.json:
        print(json.dumps({"file": args.weights, "config": config, "parameters": parameters,
                          "metadata": extra, "tensors": tensors}))
        return 0
    print(f"file:       {args.weights}")
    print(f"format:     {meta.get('format')} {meta.get('format_version')}")
    for key, value in config.items():
        print(f"  {key} = {','.join(map(str, value)) if isinstance(value, list) else value}")
    for key, value in extra.items():
        print(f"  {key} = {value}  (not read by the runtime)")
    print(f"parameters: {parameters} ({parameters / 1e6:.2f} M)")
    dtypes: Dict[str, int] = {}
    for t in tensors:
        dtypes[t["dtype"]] = dtypes.get(t["dtype"], 0) + int(np.prod(t["shape"], dtype=np.int64))
    print("dtypes:     " + ", ".join(f"{k} {v}" for k, v in sorted(dtypes.items())))
    for t in tensors:
        print(f"  {t['name']:<32} {t['dtype']:<5} {t['shape']}")
    return 0


def _score(args: argparse.Namespace) -> int:
    tokens = _load_tokens(args.tokens)
    with _open(args, len(tokens)) as p:
        scores = p.score(tokens, grid=args.grid)
    _save(args.out, scores)
    print(f"wrote {args.out}: {len(scores)} scores, from {scores.min():.4g} to {scores.max():.4g}")
    return 0


def _prune(args: argparse.Namespace) -> int:
    tokens = _load_tokens(args.tokens)
    with _open(args, len(tokens)) as p:
        if args.policy == "reconpruner" and args.aux is None:
            indices, kept = p.prune(tokens, k=args.k, ratio=args.keep_ratio, grid=args.grid)
        else:
            k = args.k if args.k is not None else keep_count(len(tokens), args.keep_ratio)
            aux = np.load(args.aux, allow_pickle=False) if args.aux else None
            rows = _load_tokens(args.pivot_rows) if args.pivot_rows else None
            extra = {"relevance": aux} if args.policy == "cdpruner" else {"aux": aux}
            indices = p.select(tokens, k, policy=args.policy, grid=args.grid, relevance_theta=args.theta,
                               pivot_rows=rows, **extra)
            kept = tokens[indices]
    _save(args.out, np.asarray(indices, dtype=np.int64))
    if args.kept:
        _save(args.kept, np.asarray(kept))
    print(f"kept {len(indices)} of {len(tokens)} tokens; wrote {args.out}" + (f" and {args.kept}" if args.kept else ""))
    return 0


def _version() -> str:
    try:
        return f"{PROG} {__version__}; library {library_version()} at {library_path()}"
    except FastdrivePrunerError as e:
        return f"{PROG} {__version__}; library not loaded: {str(e).splitlines()[0]}"


COMMANDS = {"inspect": _inspect, "score": _score, "prune": _prune}


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = parser()
    args = ap.parse_args(argv)
    if args.version:
        print(_version())
        return 0
    if args.command is None:
        ap.print_help()
        return 2
    try:
        return COMMANDS[args.command](args)
    except UsageError as e:
        print(f"{PROG} {args.command}: error: {e}", file=sys.stderr)
        return 2
    except (FastdrivePrunerError, OSError, ValueError) as e:
        print(f"{PROG} {args.command}: error: {e}", file=sys.stderr)
        return 1

