"""Command line: `python -m fastdrive_train {generate,convert-nuscenes,train,export,eval,demo,plan-bench}`.

Bad arguments end with one line on stderr and a non-zero exit: argparse's usage error (exit 2)
for what can be checked alone, `fastdrive_train CMD: error: ...` (exit 1) for the rest.
FASTDRIVE_TRAIN_TRACEBACK=1 shows the traceback instead (for bug reports).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import stat
import sys
from dataclasses import asdict, fields
from pathlib import Path

from .config import PrunerConfig
from .objective import ObjectiveConfig
from .presets import PRESETS, apply_preset


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (the usage itself is one `--help` away)."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# ---- argument types: each rejects a bad value with a one-line argparse error ---------------------------------------

def _utf8(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise argparse.ArgumentTypeError(f"path {ascii(text)} is not valid UTF-8 (rename it)") from None
    if not text:
        raise argparse.ArgumentTypeError("empty path")
    return text


def path_arg(text: str) -> str:
    """A path to write (or a folder to create): valid UTF-8, not empty."""
    return _utf8(text)


def file_arg(text: str) -> str:
    """An existing regular file. A FIFO, device or folder is refused here: opening a FIFO blocks forever."""
    text = _utf8(text)
    try:
        mode = os.stat(text).st_mode
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"{text}: {exc.strerror}") from None
    if not stat.S_ISREG(mode):
        raise argparse.ArgumentTypeError(f"{text}: not a regular file")
    return text


def dir_arg(text: str) -> str:
    """An existing folder."""
    text = _utf8(text)
    if not os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text}: not a folder")
    return text


def int_arg(lo: int, hi: int | None = None):
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid integer {text!r}") from None
        if v < lo or (hi is not None and v > hi):
            raise argparse.ArgumentTypeError(f"{v} is out of range (must be >= {lo}" + (f" and <= {hi})" if hi is not None else ")"))
        return v
    return parse


def float_arg(lo: float, hi: float | None = None, lo_open: bool = False, hi_open: bool = False):
    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid number {text!r}") from None
        bad = (not math.isfinite(v) or v < lo or (lo_open and v == lo)
               or (hi is not None and (v > hi or (hi_open and v == hi))))
        if bad:
            left, right = "(" if lo_open else "[", ")" if hi_open else "]"
            raise argparse.ArgumentTypeError(f"{text} is out of range {left}{lo}, {hi if hi is not None else 'inf'}{right}")
        return v
    return parse


def _defaults() -> dict:
    from .train import TrainConfig

    d = {f.name: f.default for f in fields(TrainConfig) if not callable(f.default_factory)}  # type: ignore[arg-type]
    d.update(asdict(ObjectiveConfig()))
    d.update(PrunerConfig.small(128).to_dict())
    return d


def _add_train(sub: argparse._SubParsersAction) -> None:
    d = _defaults()
    p = sub.add_parser(
        "train", help="train a ReconPruner (use torchrun for DDP)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="""Train a ReconPruner and its reconstruction decoder.

Settings are layered: TrainConfig defaults (= --preset recipe), then --config FILE, then
--preset, then every flag given explicitly.

What the combinations are:
  --preset paper     the paper's objective as written: raw score S thresholded at 0, STE, the
                     zeroed token sets straight into the decoder (--decoder-input zero), linear
                     head, alpha 0.5, lambda 0.2, no warm-up, no anchor. Scale (width, decoder
                     depth, lr, steps, batch) stays as given.
  --preset recipe    the shipped recipe (the defaults): standardised threshold, affine decoder
                     input, sigmoid head, 100-step label-free decoder warm-up, polarity anchor
                     (weight 1, margin 2) on throughout.
  recipe + --anchor-until T   anchor as a polarity initialiser: on from the warm-up's end to
                     step T, then the reconstruction objective alone (with the recipe's fixes).
  recipe + --anchor-weight 0  reconstruction alone with the recipe's fixes; NOT the paper's
                     objective (threshold, decoder input, head and warm-up stay the recipe's).
  --recon-weight 0   the anchor alone (mask supervision, no reconstruction): an ablation.
  --alpha 1          foreground branch only: the paper's degenerate ablation.""")
    p.add_argument("--train", required=True, type=file_arg, help="training manifest (JSONL or CSV)")
    p.add_argument("--val", type=file_arg, help="held-out manifest for the recall probes (default: none; "
                   "keep it apart from the split the final table is reported on)")
    p.add_argument("--out", required=True, type=path_arg, help="run directory (config.json, last.pt, metrics.jsonl)")
    p.add_argument("--config", type=file_arg, help="JSON file of TrainConfig fields (default: none)")
    p.add_argument("--preset", choices=sorted(PRESETS), help="objective and decoder settings: paper (as written) or "
                   "recipe (shipped); see above (default: the recipe, via the TrainConfig defaults)")
    p.add_argument("--image-size", type=int_arg(1), help="resize frames to this square side, a multiple of the patch "
                   "(default: as stored)")
    p.add_argument("--encoder", choices=["patch", "qwen"], help=f"frozen encoder: patch (synthetic, deterministic) or "
                   f"qwen (Qwen2.5-VL vision tower) (default: {d['encoder']})")
    p.add_argument("--encoder-path", type=dir_arg, help="Qwen2.5-VL checkpoint folder for --encoder qwen (default: none)")
    p.add_argument("--patch", type=int_arg(1), help=f"pixels per token side of the patch encoder (default: {d['patch']})")
    p.add_argument("--hidden", type=int_arg(64), help=f"pruner/decoder width D for a fresh small config, a multiple of "
                   f"64 (= the encoder's token dim) (default: {d['hidden_size']})")
    p.add_argument("--rope", choices=["none", "1d", "mrope"], help=f"RoPE mode of the pruner and decoder (default: {d['rope']})")
    p.add_argument("--attention", choices=["bidirectional", "causal"],
                   help=f"attention of the pruner layer; the decoder is always bidirectional (default: {d['attention']})")
    p.add_argument("--init-from", type=dir_arg, help="local Qwen2.5-VL checkpoint folder: the pruner layer is its layer "
                   "--init-layer and takes its shape; the decoder layers follow --decoder-init (default: none, random init)")
    p.add_argument("--init-layer", type=int_arg(0), help=f"checkpoint layer for the pruner (default: {d['init_layer']})")
    p.add_argument("--decoder-init", choices=["checkpoint", "fresh"], help="with --init-from: checkpoint copies layers "
                   "--decoder-init-layer, +1, ... into the decoder (the paper's decoder is Qwen2.5-VL-3B layers); fresh "
                   f"leaves them random (default: {d['decoder_init']})")
    p.add_argument("--decoder-init-layer", type=int_arg(0), help="first checkpoint layer for the decoder "
                   "(default: --init-layer + 1)")
    p.add_argument("--decoder-layers", type=int_arg(1), help=f"decoder depth (default: {d['decoder_layers']}, the paper's)")
    p.add_argument("--decoder-input", choices=["affine", "zero"], help="what the decoder's first layer sees: affine = "
                   "in_proj(M~·V) (recipe), zero = the zeroed tokens M~·V as they are (paper) "
                   f"(default: {d['decoder_input']})")
    p.add_argument("--decoder-head", choices=["sigmoid", "linear"], help="decoder head output: sigmoid into [0, 1] "
                   f"(recipe) or linear (paper) (default: {d['decoder_head']})")
    p.add_argument("--score-norm", choices=["none", "standardize"], help="threshold the raw S at 0 (none, paper) or the "
                   f"per-image standardised score (standardize, recipe) (default: {d['score_norm']})")
    p.add_argument("--alpha", type=float_arg(0, 1), help=f"foreground-branch weight; 1 = fg-only ablation (default: {d['alpha']})")
    p.add_argument("--lam", type=float_arg(0, 1), help=f"SSIM share lambda in lambda(1-SSIM) + (1-lambda)MSE (default: {d['lam']})")
    p.add_argument("--anchor-weight", type=float_arg(0), help="polarity-anchor weight; 0 = off (with the recipe's other "
                   f"settings that is reconstruction with fixes, not the paper: see above) (default: {d['anchor_weight']})")
    p.add_argument("--anchor-margin", type=float_arg(0), help=f"anchor hinge margin on the fg-bg mean score gap (default: {d['anchor_margin']})")
    p.add_argument("--recon-weight", type=float_arg(0), help=f"reconstruction weight; 0 = anchor-only ablation (default: {d['recon_weight']})")
    p.add_argument("--steps", type=int_arg(1), help=f"optimizer steps; the cosine schedule spans them (default: {d['steps']})")
    p.add_argument("--stop-at", type=int_arg(1), help="checkpoint and stop at this step, keeping the --steps schedule "
                   "(default: run to --steps)")
    p.add_argument("--batch-size", type=int_arg(1), help=f"frames per process per step (default: {d['batch_size']})")
    p.add_argument("--lr", type=float_arg(0, lo_open=True), help=f"peak AdamW learning rate (default: {d['lr']})")
    p.add_argument("--warmup-steps", type=int_arg(0), help=f"linear lr warm-up steps before the cosine decay (default: {d['warmup_steps']})")
    p.add_argument("--decoder-warmup", type=int_arg(0), help="first steps train only the decoder, on random half/half "
                   f"token splits (no labels); must be < --steps (default: {d['decoder_warmup']})")
    p.add_argument("--anchor-until", type=int_arg(0), help="step from which the anchor is off; must be > "
                   f"--decoder-warmup (0: on throughout) (default: {d['anchor_until']})")
    p.add_argument("--seed", type=int_arg(0), help=f"run seed: init, data order; each rank derives its own (default: {d['seed']})")
    p.add_argument("--amp", choices=["none", "bf16", "fp16"], help="autocast for the models (losses stay float32); "
                   f"fp16 only on CUDA, with loss scaling (default: {d['amp']})")
    p.add_argument("--device", help=f"auto, cpu, cuda (default: {d['device']}: cuda when available)")
    p.add_argument("--eval-every", type=int_arg(0), help=f"recall probe on --val every N steps, 0 = at the end only "
                   f"(default: {d['eval_every']})")
    p.add_argument("--ckpt-every", type=int_arg(1), help=f"checkpoint every N steps (default: {d['ckpt_every']})")
    p.add_argument("--log-every", type=int_arg(1), help=f"metrics.jsonl record every N steps (default: {d['log_every']})")
    p.add_argument("--no-grad-parts", action="store_true", help="do not log the reconstruction and anchor gradient "
                   "norms on the pruner (default: logged at each log step after the warm-up; two extra backward passes)")
    p.add_argument("--no-resume", action="store_true", help="start over even if --out holds a checkpoint "
                   "(default: resume from it)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (default: shown)")


def _train_config(a: argparse.Namespace):
    from .train import TrainConfig

    base: dict = {}
    if a.config:
        base = json.loads(Path(a.config).read_text())
        if not isinstance(base, dict):
            raise ValueError(f"{a.config}: expected a JSON object of TrainConfig fields")
        base = {k: v for k, v in base.items() if not k.startswith("_")}  # "_comment" etc.
        known = {f.name for f in fields(TrainConfig)}
        unknown = sorted(set(base) - known)
        if unknown:
            raise ValueError(f"{a.config}: unknown TrainConfig field(s) {', '.join(unknown)}")
    if a.preset:
        base = apply_preset(base, a.preset)
    base.update(train_manifest=a.train, out_dir=a.out)
    if a.val:
        base["val_manifest"] = a.val
    simple = {"image_size": a.image_size, "encoder": a.encoder, "encoder_path": a.encoder_path, "patch": a.patch,
              "init_from": a.init_from, "init_layer": a.init_layer, "decoder_layers": a.decoder_layers,
              "decoder_input": a.decoder_input, "decoder_head": a.decoder_head, "decoder_init": a.decoder_init,
              "decoder_init_layer": a.decoder_init_layer,
              "steps": a.steps, "stop_at": a.stop_at, "batch_size": a.batch_size, "lr": a.lr,
              "warmup_steps": a.warmup_steps, "decoder_warmup": a.decoder_warmup, "anchor_until": a.anchor_until,
              "seed": a.seed, "amp": a.amp, "device": a.device, "eval_every": a.eval_every,
              "ckpt_every": a.ckpt_every, "log_every": a.log_every}
    base.update({k: v for k, v in simple.items() if v is not None})
    if a.hidden and a.hidden % 64:
        raise ValueError(f"--hidden {a.hidden}: must be a multiple of 64 (heads of 64)")
    pruner = base.get("pruner") or PrunerConfig.small(a.hidden or 128).to_dict()
    if a.hidden:
        pruner = PrunerConfig.small(a.hidden).to_dict()
    for key in ("rope", "attention"):
        if getattr(a, key):
            pruner[key] = getattr(a, key)
    base["pruner"] = pruner
    obj = {**asdict(ObjectiveConfig()), **base.get("objective", {})}
    for key in ("score_norm", "alpha", "lam", "anchor_weight", "anchor_margin", "recon_weight"):
        if getattr(a, key) is not None:
            obj[key] = getattr(a, key)
    base["objective"] = obj
    if a.no_resume:
        base["resume"] = False
    if a.no_progress:
        base["progress"] = False
    if a.no_grad_parts:
        base["log_grad_parts"] = False
    cfg = TrainConfig(**base)
    cfg.validate()
    return cfg


def _cmd_train(a: argparse.Namespace) -> int:
    from .train import train

    result = train(_train_config(a))
    if os.environ.get("RANK", "0") == "0":  # under torchrun, one summary line, not one per process
        print(json.dumps(result))
    return 0


def _cmd_generate(a: argparse.Namespace) -> int:
    if a.planning:
        from .planning.scenes import write_planning_dataset as write_dataset
    else:
        from .data.synthetic import write_dataset

    manifest = write_dataset(a.out, a.count, seed=a.seed, size=a.size)
    print(manifest)
    return 0


def _cmd_convert_nuscenes(a: argparse.Namespace) -> int:
    from .data.nuscenes import DEFAULT_CATEGORIES, convert

    categories = tuple(a.categories.split(",")) if a.categories else DEFAULT_CATEGORIES
    channels = tuple(a.channels.split(",")) if a.channels else None
    manifest = convert(a.dataroot, a.version, a.out, categories=categories, channels=channels)
    count = sum(1 for _ in manifest.open())
    print(f"{manifest}: {count} camera images")
    return 0


def _cmd_export(a: argparse.Namespace) -> int:
    from .checkpoint import pruner_from_checkpoint
    from .export import export_pruner

    path = export_pruner(pruner_from_checkpoint(a.checkpoint), a.out, a.dtype)
    print(f"wrote {path} ({path.stat().st_size} bytes)")
    return 0


def _cmd_eval(a: argparse.Namespace) -> int:
    from .checkpoint import pruner_from_checkpoint, read_checkpoint
    from .data.manifest import ManifestDataset
    from .evaluate import collect, evaluate, format_table
    from .export import load_exported
    from .train import TrainConfig, build_encoder

    tables = []
    for src in a.checkpoint or a.weights:
        if a.checkpoint:
            state = read_checkpoint(src)
            tcfg = TrainConfig(**state["train_config"])
            pruner = pruner_from_checkpoint(src)
        else:
            pruner = load_exported(src)
            tcfg = TrainConfig(train_manifest="", out_dir="", pruner=pruner.cfg.to_dict(), encoder=a.encoder,
                               encoder_path=a.encoder_path, patch=a.patch, encoder_seed=a.encoder_seed)
        data = ManifestDataset(a.manifest, size=tcfg.image_size, skip_bad=a.skip_bad, cache=True)
        if len(data.skipped):
            print(f"skipped {len(data.skipped)} bad entries", file=sys.stderr)
        tables.append(evaluate(collect(pruner, build_encoder(tcfg), data), seed=a.seed))
    print(format_table(tables))
    if a.json:
        runs = [{m: {str(p): v for p, v in d.items()} for m, d in t.items()} for t in tables]
        Path(a.json).write_text(json.dumps(runs if len(runs) > 1 else runs[0], indent=1))
    return 0


def _cmd_demo(a: argparse.Namespace) -> int:
    import numpy as np
    import torch

    from . import baselines
    from .data.scene_tokens import encode_scene
    from .encoders import PatchEncoder
    from .evaluate import evaluate, format_table
    from .export import load_exported
    from .overlay import kept_overlay, mask_panel, side_by_side

    if a.size % a.patch:
        raise ValueError(f"--size {a.size} is not a multiple of --patch {a.patch}")
    pruner = load_exported(a.weights)
    enc = PatchEncoder(dim=pruner.cfg.hidden_size, patch=a.patch, seed=a.encoder_seed)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    items = []
    for f in range(a.frames):
        sc = encode_scene(a.seed * 1_000_003 + f, enc, a.size)
        image, img, fg_pix, tok, grid, fg = sc.image, sc.pixels, sc.fg_pixels, sc.tokens, sc.grid, sc.fg
        with torch.no_grad():
            scores = pruner(torch.from_numpy(tok)[None], grid)[0].numpy()
        items.append((scores, tok, fg.astype(np.float64)))
        k = baselines.keep_count(len(scores), 1.0 - a.pruning)
        ours, div = baselines.topk(scores, k), baselines.divprune(tok, k)
        r_ours, r_div = baselines.recall_precision(ours, fg)[0], baselines.recall_precision(div, fg)[0]
        side_by_side([("frame", image), ("foreground (oracle)", mask_panel(img, fg_pix)),
                      (f"ReconPruner recall {r_ours:.2f}", kept_overlay(img, ours, grid, a.patch)),
                      (f"DivPrune recall {r_div:.2f}", kept_overlay(img, div, grid, a.patch))],
                     out / f"frame{f:02d}.png")
    print(format_table([evaluate(items)]))
    print(f"wrote {a.frames} PNGs to {out}")
    return 0


def _cmd_plan_bench(a: argparse.Namespace) -> int:
    from .planning.benchmark import BenchConfig, format_table, run

    torch.set_num_threads(a.threads)
    extra = dict(x.split("=", 1) for x in a.pruner)
    cfg = BenchConfig(cache_dir=a.cache, results_dir=a.results, weights=a.weights, extra_pruners=extra,
                      train_count=a.train_count, test_count=a.test_count, epochs=a.epochs,
                      planner_seeds=tuple(range(a.seeds)), workers=a.workers, force=a.force,
                      output_weights=(1.0, 1.0, 1.0, a.speed_weight))
    result = run(cfg, log=lambda m: print(m, file=sys.stderr, flush=True))
    if result["table"]:
        print(format_table(result))
    return 0 if result["gate"]["passed"] or a.force else 1


def build_parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="fastdrive_train", description=__doc__.split("\n\n")[0],
                                 epilog="Every flag's default is in its help: fastdrive_train CMD --help.")
    sub = ap.add_subparsers(dest="cmd", required=True, metavar="CMD")

    g = sub.add_parser("generate", help="write synthetic driving scenes in the manifest layout")
    g.add_argument("--out", required=True, type=path_arg, help="folder for manifest.jsonl, images/ and masks/ (created)")
    g.add_argument("--count", type=int_arg(1), default=1000, help="number of scenes (default: %(default)s)")
    g.add_argument("--seed", type=int_arg(0, 2**31), default=0, help="scene seed: scene i is seeded seed*1000003+i; "
                   "the documented splits use 1 (train), 2 (validation), 3 (test) (default: %(default)s)")
    g.add_argument("--size", type=int_arg(32, 8192), default=224, help="square side in pixels (default: %(default)s)")
    g.add_argument("--planning", action="store_true",
                   help="planning scenes (curved roads, light states, a plan and obstacle footprints per line; default: the default scenes)")

    n = sub.add_parser("convert-nuscenes", help="nuScenes key-frame camera images + box masks -> manifest")
    n.add_argument("--dataroot", required=True, type=dir_arg, help="folder holding samples/ and the v1.0-* tables")
    n.add_argument("--version", default="v1.0-mini", help="table folder under dataroot (default: %(default)s)")
    n.add_argument("--out", required=True, type=path_arg, help="folder for manifest.jsonl and masks/")
    n.add_argument("--channels", help="comma-separated camera channels (default: all, e.g. CAM_FRONT,CAM_BACK)")
    n.add_argument("--categories", help="comma-separated foreground category prefixes "
                                        "(default: vehicle.,human.pedestrian.,movable_object.barrier,movable_object.trafficcone)")

    _add_train(sub)

    e = sub.add_parser("export", help="write the runtime weight file (docs/weight-file.md)")
    e.add_argument("--checkpoint", required=True, type=file_arg, help="training checkpoint (last.pt)")
    e.add_argument("--out", required=True, type=path_arg, help="weight file to write (atomically; byte-reproducible)")
    e.add_argument("--dtype", choices=["f32", "f16", "bf16"], default="f32", help="stored dtype (default: %(default)s)")

    v = sub.add_parser("eval", help="fg recall/precision vs baselines at 25/50/75 %% pruning")
    src = v.add_mutually_exclusive_group(required=True)
    src.add_argument("--checkpoint", nargs="+", type=file_arg, help="training checkpoint(s); several = mean ± std over runs")
    src.add_argument("--weights", nargs="+", type=file_arg, help="exported weight file(s) (then give the encoder flags)")
    v.add_argument("--manifest", required=True, type=file_arg, help="frames to evaluate (JSONL or CSV manifest)")
    v.add_argument("--encoder", default="patch", choices=["patch", "qwen"], help="with --weights: frozen encoder "
                   "(default: %(default)s; with --checkpoint the run's own)")
    v.add_argument("--encoder-path", type=dir_arg, help="with --weights and --encoder qwen: checkpoint folder (default: none)")
    v.add_argument("--encoder-seed", type=int_arg(0), default=1234, help="with --weights: patch encoder seed (default: %(default)s)")
    v.add_argument("--patch", type=int_arg(1), default=16, help="with --weights: patch encoder patch side (default: %(default)s)")
    v.add_argument("--skip-bad", action="store_true", help="skip and count bad manifest entries (default: stop at the first)")
    v.add_argument("--seed", type=int_arg(0), default=0, help="seed of the random baseline (default: %(default)s)")
    v.add_argument("--json", type=path_arg, help="also write the table as JSON here (default: none)")

    d = sub.add_parser("demo", help="prune synthetic frames with an exported file, write PNG overlays")
    d.add_argument("--weights", required=True, type=file_arg, help="exported weight file")
    d.add_argument("--out", required=True, type=path_arg, help="folder for the PNGs (created)")
    d.add_argument("--frames", type=int_arg(1, 10000), default=4, help="number of frames (default: %(default)s)")
    d.add_argument("--pruning", type=float_arg(0, 1, hi_open=True), default=0.5,
                   help="share of tokens dropped, in [0, 1) (default: %(default)s)")
    d.add_argument("--seed", type=int_arg(0, 2**31), default=99, help="scene seed (training used 1, validation 2, "
                   "test 3) (default: %(default)s)")
    d.add_argument("--size", type=int_arg(32, 8192), default=224, help="frame side, a multiple of --patch (default: %(default)s)")
    d.add_argument("--patch", type=int_arg(1), default=16, help="patch encoder patch side (default: %(default)s)")
    d.add_argument("--encoder-seed", type=int_arg(0), default=1234, help="patch encoder seed (default: %(default)s)")
    b = sub.add_parser("plan-bench", help="planning benchmark: a planner on kept tokens at 0/25/50/75/90 %% pruning")
    b.add_argument("--weights", default="models/reconpruner-small.safetensors", type=file_arg, help="the ReconPruner row's weight file (default: %(default)s)")
    b.add_argument("--pruner", action="append", default=[], metavar="NAME=FILE",
                   help="another ReconPruner row (e.g. anchor-only=runs/anchor/pruner.safetensors); repeatable (default: none)")
    b.add_argument("--cache", type=path_arg, default=".build/planning", help="encoded scenes and trained planners (default: %(default)s)")
    b.add_argument("--results", type=path_arg, default="Benchmarks/planning/results", help="latest.json, table.md, relative.png (default: %(default)s)")
    b.add_argument("--train-count", type=int_arg(1), default=20000, help="planning scenes the planner trains on (default: %(default)s)")
    b.add_argument("--test-count", type=int_arg(1), default=2000, help="held-out planning scenes the table is measured on (default: %(default)s)")
    b.add_argument("--epochs", type=int_arg(1), default=6, help="planner training epochs (default: %(default)s)")
    b.add_argument("--speed-weight", type=float_arg(0), default=1.0,
                   help="weight of the speed output in the planner's loss, the lateral outputs weigh 1 (default: %(default)s)")
    b.add_argument("--seeds", type=int_arg(1), default=3, help="planner seeds 0..N-1 (default: %(default)s)")
    b.add_argument("--workers", type=int_arg(1), default=2, help="processes drawing scenes (default: %(default)s)")
    b.add_argument("--threads", type=int_arg(1), default=2, help="torch threads (default: %(default)s)")
    b.add_argument("--force", action="store_true", help="measure the table even if the planner fails the gate (default: off)")
    return ap


COMMANDS = {"generate": _cmd_generate, "train": _cmd_train, "export": _cmd_export, "eval": _cmd_eval,
            "plan-bench": _cmd_plan_bench,
            "demo": _cmd_demo, "convert-nuscenes": _cmd_convert_nuscenes}


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    if not isinstance(exc, (ValueError, OSError)):  # say what kind of failure it was
        text = f"{type(exc).__name__}: {text}"
    return text if len(text) <= 2000 else text[:2000] + " ..."


def main(argv: list[str] | None = None) -> int:
    a = build_parser().parse_args(argv)
    try:
        return COMMANDS[a.cmd](a)
    except KeyboardInterrupt:
        print(f"fastdrive_train {a.cmd}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 — the CLI's contract: one line, never a traceback
        if os.environ.get("FASTDRIVE_TRAIN_TRACEBACK"):
            raise
        print(f"fastdrive_train {a.cmd}: error: {_one_line(exc)}", file=sys.stderr)
        return 1
