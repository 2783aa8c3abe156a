"""Command line: `python -m fastdrive_train {generate,convert-nuscenes,train,export,eval,demo,plan-bench}`."""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict
from pathlib import Path

import torch

from .config import PrunerConfig
from .objective import ObjectiveConfig


def _add_train(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a ReconPruner (use torchrun for DDP)")
    p.add_argument("--train", required=True, help="training manifest (JSONL or CSV)")
    p.add_argument("--val", help="held-out manifest for recall probes")
    p.add_argument("--out", required=True, help="run directory (checkpoints, metrics.jsonl)")
    p.add_argument("--config", help="JSON file of TrainConfig fields; flags given explicitly override it")
    p.add_argument("--image-size", type=int)
    p.add_argument("--encoder", choices=["patch", "qwen"])
    p.add_argument("--encoder-path")
    p.add_argument("--patch", type=int)
    p.add_argument("--hidden", type=int, help="pruner/decoder width (= encoder dim) for a fresh small config")
    p.add_argument("--rope", choices=["none", "1d", "mrope"])
    p.add_argument("--attention", choices=["bidirectional", "causal"])
    p.add_argument("--init-from", help="local Qwen2.5-VL checkpoint dir to initialise the PrunerLayer from")
    p.add_argument("--init-layer", type=int)
    p.add_argument("--decoder-layers", type=int)
    p.add_argument("--score-norm", choices=["none", "standardize"])
    p.add_argument("--alpha", type=float, help="fg-branch weight; 1.0 = fg-only ablation")
    p.add_argument("--lam", type=float)
    p.add_argument("--anchor-weight", type=float, help="polarity anchor weight (0 = paper's objective)")
    p.add_argument("--anchor-margin", type=float)
    p.add_argument("--recon-weight", type=float, help="0 = anchor-only ablation")
    p.add_argument("--steps", type=int)
    p.add_argument("--batch-size", type=int, help="per process")
    p.add_argument("--lr", type=float)
    p.add_argument("--warmup-steps", type=int)
    p.add_argument("--decoder-warmup", type=int, help="steps of label-free decoder warm-up on random splits")
    p.add_argument("--anchor-until", type=int, help="step from which the polarity anchor is off (0: never)")
    p.add_argument("--seed", type=int)
    p.add_argument("--amp", choices=["none", "bf16", "fp16"])
    p.add_argument("--device")
    p.add_argument("--eval-every", type=int)
    p.add_argument("--ckpt-every", type=int)
    p.add_argument("--log-every", type=int)
    p.add_argument("--no-resume", action="store_true")
    p.add_argument("--no-progress", action="store_true")


def _train_config(a: argparse.Namespace):
    from .train import TrainConfig

    base: dict = json.loads(Path(a.config).read_text()) if a.config else {}
    base = {k: v for k, v in base.items() if not k.startswith("_")}  # "_comment" etc.
    base.update(train_manifest=a.train, out_dir=a.out)
    if a.val:
        base["val_manifest"] = a.val
    simple = {"image_size": a.image_size, "encoder": a.encoder, "encoder_path": a.encoder_path, "patch": a.patch,
              "init_from": a.init_from, "init_layer": a.init_layer, "decoder_layers": a.decoder_layers,
              "steps": a.steps, "batch_size": a.batch_size, "lr": a.lr, "warmup_steps": a.warmup_steps, "decoder_warmup": a.decoder_warmup,
              "anchor_until": a.anchor_until,
              "seed": a.seed, "amp": a.amp, "device": a.device, "eval_every": a.eval_every,
              "ckpt_every": a.ckpt_every, "log_every": a.log_every}
    base.update({k: v for k, v in simple.items() if v is not None})
    pruner = base.get("pruner") or PrunerConfig.small(a.hidden or 128).to_dict()
    if a.hidden:
        pruner = PrunerConfig.small(a.hidden).to_dict()
    for key in ("rope", "attention"):
        if getattr(a, key):
            pruner[key] = getattr(a, key)
    base["pruner"] = pruner
    obj = base.get("objective") or asdict(ObjectiveConfig())
    for key in ("score_norm", "alpha", "lam", "anchor_weight", "anchor_margin", "recon_weight"):
        if getattr(a, key) is not None:
            obj[key] = getattr(a, key)
    base["objective"] = obj
    if a.no_resume:
        base["resume"] = False
    if a.no_progress:
        base["progress"] = False
    return TrainConfig(**base)


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
    from .checkpoint import pruner_from_checkpoint
    from .data.manifest import ManifestDataset
    from .evaluate import collect, evaluate, format_table
    from .export import load_exported
    from .train import TrainConfig, build_encoder

    tables = []
    for src in a.checkpoint or a.weights:
        if a.checkpoint:
            state = torch.load(src, map_location="cpu", weights_only=False)
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

    from . import baselines
    from .data.synthetic import make_scene
    from .encoders import PatchEncoder
    from .evaluate import evaluate, format_table
    from .export import load_exported
    from .overlay import kept_overlay, mask_panel, side_by_side

    pruner = load_exported(a.weights)
    enc = PatchEncoder(dim=pruner.cfg.hidden_size, patch=a.patch, seed=a.encoder_seed)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    items = []
    for f in range(a.frames):
        image, mask = make_scene(a.seed * 1_000_003 + f, a.size)
        img = np.asarray(image)
        fg_pix = (np.asarray(mask) > 127).astype(np.float32)
        x = torch.from_numpy(img.copy()).permute(2, 0, 1)[None].float() / 255.0
        with torch.no_grad():
            tokens, grid = enc(x)
            scores = pruner(tokens, grid)[0].numpy()
        tok = tokens[0].numpy()
        fg = fg_pix.reshape(grid[0], a.patch, grid[1], a.patch).mean(axis=(1, 3)).reshape(-1) > 0.5
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


def _name_file(text: str) -> tuple[str, str]:
    name, sep, path = text.partition("=")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"expected NAME=FILE, got {text!r}")
    return name, path


def _cmd_plan_bench(a: argparse.Namespace) -> int:
    from .planning.benchmark import BenchConfig, format_table, run

    torch.set_num_threads(a.threads)
    extra = dict(a.pruner)
    cfg = BenchConfig(cache_dir=a.cache, results_dir=a.results, weights=a.weights, extra_pruners=extra,
                      train_count=a.train_count, test_count=a.test_count, epochs=a.epochs,
                      planner_seeds=tuple(range(a.seeds)), workers=a.workers, force=a.force)
    result = run(cfg, log=lambda m: print(m, file=sys.stderr, flush=True))
    if result["table"]:
        print(format_table(result))
    return 0 if result["gate"]["passed"] or a.force else 1


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="fastdrive_train", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)

    g = sub.add_parser("generate", help="write synthetic driving scenes in the manifest layout")
    g.add_argument("--out", required=True)
    g.add_argument("--count", type=int, default=1000)
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--size", type=int, default=224)
    g.add_argument("--planning", action="store_true",
                   help="planning scenes (curved roads, light states, a plan and obstacle footprints per line)")

    n = sub.add_parser("convert-nuscenes", help="nuScenes key-frame camera images + box masks -> manifest")
    n.add_argument("--dataroot", required=True, help="folder holding samples/ and the v1.0-* tables")
    n.add_argument("--version", default="v1.0-mini", help="table folder under dataroot (default v1.0-mini)")
    n.add_argument("--out", required=True, help="folder for manifest.jsonl and masks/")
    n.add_argument("--channels", help="comma-separated camera channels (default: all, e.g. CAM_FRONT,CAM_BACK)")
    n.add_argument("--categories", help="comma-separated foreground category prefixes "
                                        "(default: vehicle.,human.pedestrian.,movable_object.barrier,movable_object.trafficcone)")

    _add_train(sub)

    e = sub.add_parser("export", help="write the runtime weight file (docs/weight-file.md)")
    e.add_argument("--checkpoint", required=True, help="training checkpoint (last.pt)")
    e.add_argument("--out", required=True)
    e.add_argument("--dtype", choices=["f32", "f16", "bf16"], default="f32")

    v = sub.add_parser("eval", help="fg recall/precision vs baselines at 25/50/75 %% pruning")
    src = v.add_mutually_exclusive_group(required=True)
    src.add_argument("--checkpoint", nargs="+", help="training checkpoint(s); several = mean ± std over runs")
    src.add_argument("--weights", nargs="+", help="exported weight file(s) (then give the encoder flags)")
    v.add_argument("--manifest", required=True)
    v.add_argument("--encoder", default="patch", choices=["patch", "qwen"])
    v.add_argument("--encoder-path")
    v.add_argument("--encoder-seed", type=int, default=1234)
    v.add_argument("--patch", type=int, default=16)
    v.add_argument("--skip-bad", action="store_true", help="skip and count bad manifest entries")
    v.add_argument("--seed", type=int, default=0, help="seed of the random baseline")
    v.add_argument("--json", help="also write the table as JSON here")
    d = sub.add_parser("demo", help="prune synthetic frames with an exported file, write PNG overlays")
    d.add_argument("--weights", required=True)
    d.add_argument("--out", required=True)
    d.add_argument("--frames", type=int, default=4)
    d.add_argument("--pruning", type=float, default=0.5)
    d.add_argument("--seed", type=int, default=99, help="scene seed (training used 1, validation 2)")
    d.add_argument("--size", type=int, default=224)
    d.add_argument("--patch", type=int, default=16)
    d.add_argument("--encoder-seed", type=int, default=1234)
    b = sub.add_parser("plan-bench", help="planning benchmark: a planner on kept tokens at 0/25/50/75/90 %% pruning")
    b.add_argument("--weights", default="models/reconpruner-small.safetensors", help="the ReconPruner row's weight file")
    b.add_argument("--pruner", action="append", default=[], metavar="NAME=FILE", type=_name_file,
                   help="another ReconPruner row (e.g. anchor-only=runs/anchor/pruner.safetensors); repeatable")
    b.add_argument("--cache", default=".build/planning", help="encoded scenes and trained planners")
    b.add_argument("--results", default="Benchmarks/planning/results", help="latest.json, table.md, relative.png")
    b.add_argument("--train-count", type=int, default=6000)
    b.add_argument("--test-count", type=int, default=1500)
    b.add_argument("--epochs", type=int, default=8)
    b.add_argument("--seeds", type=int, default=3, help="planner seeds 0..N-1")
    b.add_argument("--workers", type=int, default=2, help="processes drawing scenes")
    b.add_argument("--threads", type=int, default=2, help="torch threads")
    b.add_argument("--force", action="store_true", help="measure the table even if the planner fails the gate")
    return ap


def main(argv: list[str] | None = None) -> int:
    a = build_parser().parse_args(argv)
    return {"generate": _cmd_generate, "train": _cmd_train, "export": _cmd_export, "eval": _cmd_eval,
            "demo": _cmd_demo, "convert-nuscenes": _cmd_convert_nuscenes, "plan-bench": _cmd_plan_bench}[a.cmd](a)
