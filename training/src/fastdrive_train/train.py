"""The training loop: AdamW + warm-up/cosine, checkpoints with resume, metrics JSONL, DDP, AMP."""

from __future__ import annotations

import contextlib
import json
import math
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, DistributedSampler
from tqdm import tqdm

from .checkpoint import load_checkpoint, save_checkpoint
from .config import PrunerConfig
from .data.manifest import ManifestDataset
from .distributed import DistInfo, all_mean, cleanup, init_distributed
from .encoders import PatchEncoder, QwenVisionEncoder, VisionEncoder
from .evaluate import recall_at
from .model import ReconModel
from .objective import ObjectiveConfig
from .pruner import ReconPruner
from .qwen_checkpoint import pruner_from_checkpoint


@dataclass
class TrainConfig:
    """Everything a run depends on; stored in each checkpoint so `export`/`eval` need no flags."""

    train_manifest: str
    out_dir: str
    val_manifest: str | None = None
    image_size: int | None = None  # resize square; None = as stored
    # Frozen encoder: "patch" (synthetic, deterministic) or "qwen" (vision tower from encoder_path).
    encoder: str = "patch"
    encoder_path: str | None = None
    encoder_seed: int = 1234
    patch: int = 16
    # Pruner shape (ignored when init_from gives a Qwen checkpoint: its layer shape wins).
    pruner: dict[str, Any] = field(default_factory=lambda: PrunerConfig.small(128).to_dict())
    init_from: str | None = None
    init_layer: int = 0
    decoder_layers: int = 6
    objective: dict[str, Any] = field(default_factory=lambda: asdict(ObjectiveConfig()))
    # Optimisation.
    steps: int = 1000
    stop_at: int | None = None  # checkpoint and stop at this step, keeping the `steps` schedule (time-boxed jobs)
    batch_size: int = 8  # per process
    lr: float = 1e-3
    weight_decay: float = 0.01
    warmup_steps: int = 50
    decoder_warmup: int = 100  # steps training only the decoder on random token splits
    anchor_until: int = 0  # from this step on, no polarity anchor: reconstruction alone (0: anchor throughout)
    grad_clip: float = 1.0
    seed: int = 0
    amp: str = "none"  # none | bf16 | fp16
    device: str = "auto"
    # Bookkeeping.
    log_every: int = 10
    eval_every: int = 0  # 0 = only at the end
    ckpt_every: int = 200
    resume: bool = True
    progress: bool = True
    cache_data: bool = True


def lr_factor(step: int, total: int, warmup: int) -> float:
    """Linear warm-up then cosine decay to zero."""
    if step < warmup:
        return (step + 1) / warmup
    t = (step - warmup) / max(1, total - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, t)))


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def build_encoder(cfg: TrainConfig) -> VisionEncoder:
    if cfg.encoder == "patch":
        dim = int(cfg.pruner.get("hidden_size", 128))
        return PatchEncoder(dim=dim, patch=cfg.patch, seed=cfg.encoder_seed)
    if cfg.encoder == "qwen":
        if not cfg.encoder_path:
            raise ValueError("--encoder qwen needs --encoder-path (a local Qwen2.5-VL checkpoint dir)")
        return QwenVisionEncoder.from_pretrained(cfg.encoder_path)
    raise ValueError(f"unknown encoder {cfg.encoder!r}")


def build_pruner(cfg: TrainConfig) -> ReconPruner:
    if cfg.init_from:
        modes = {k: cfg.pruner[k] for k in ("rope", "attention") if k in cfg.pruner}
        return pruner_from_checkpoint(cfg.init_from, cfg.init_layer, **modes)
    return ReconPruner(PrunerConfig.from_dict(cfg.pruner))


def _autocast(amp: str, device: torch.device) -> contextlib.AbstractContextManager:
    if amp == "none":
        return contextlib.nullcontext()
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}[amp]
    return torch.autocast(device_type=device.type, dtype=dtype)


class MetricsLog:
    """Append-only JSONL metrics file (rank 0 only); appending keeps a resumed run's history."""

    def __init__(self, path: Path, enabled: bool) -> None:
        self.path, self.enabled = path, enabled

    def write(self, record: dict[str, Any]) -> None:
        if self.enabled:
            with self.path.open("a") as f:
                f.write(json.dumps(record) + "\n")


def train(cfg: TrainConfig) -> dict[str, Any]:
    """Run (or resume) training; returns the final metrics. Under torchrun each process calls this."""
    info = init_distributed(cfg.device)
    try:
        return _train(cfg, info)
    finally:
        cleanup()


def _train(cfg: TrainConfig, info: DistInfo) -> dict[str, Any]:
    out = Path(cfg.out_dir)
    if info.is_main:
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.json").write_text(json.dumps(asdict(cfg), indent=2))
    seed_everything(cfg.seed)  # same seed on every rank: identical init (DDP also broadcasts)

    encoder = build_encoder(cfg).to(info.device)
    pruner = build_pruner(cfg)
    if pruner.cfg.hidden_size != encoder.dim:
        raise ValueError(f"pruner hidden_size {pruner.cfg.hidden_size} != encoder token dim {encoder.dim}")
    model = ReconModel(pruner, cfg.decoder_layers, encoder.patch, ObjectiveConfig(**cfg.objective)).to(info.device)
    optim = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(optim, lambda s: lr_factor(s, cfg.steps, cfg.warmup_steps))
    scaler = torch.amp.GradScaler(enabled=cfg.amp == "fp16" and info.device.type == "cuda")

    step = 0
    last = out / "last.pt"
    if cfg.resume and last.is_file():
        state = load_checkpoint(last)
        model.load_state_dict(state["model"])
        optim.load_state_dict(state["optim"])
        sched.load_state_dict(state["sched"])
        step = state["step"]

    # The anchor-only ablation leaves the decoder unused; DDP must be told or it waits for its grads.
    unused = model.obj.recon_weight == 0
    ddp_model: torch.nn.Module = DDP(model, find_unused_parameters=unused) if info.world > 1 else model

    data = ManifestDataset(cfg.train_manifest, size=cfg.image_size, skip_bad=False, cache=cfg.cache_data)
    val = ManifestDataset(cfg.val_manifest, size=cfg.image_size, cache=True) if cfg.val_manifest else None
    # DistributedSampler even for one process: the same seed then gives the same global order,
    # which is what makes N processes × batch B step-equal to one process × batch N·B.
    sampler = DistributedSampler(data, num_replicas=info.world, rank=info.rank, shuffle=True, seed=cfg.seed, drop_last=True)
    per_epoch = len(sampler) // cfg.batch_size
    if per_epoch == 0:
        raise ValueError(f"dataset of {len(data)} images is smaller than one global batch")

    log = MetricsLog(out / "metrics.jsonl", info.is_main)
    bar = tqdm(total=cfg.steps, initial=step, disable=not (cfg.progress and info.is_main), desc="train")
    t0 = time.time()
    stats: dict[str, float] = {}
    model.train()
    while step < cfg.steps:
        epoch, skip = divmod(step, per_epoch)
        sampler.set_epoch(epoch)
        order = list(sampler)[skip * cfg.batch_size :]  # resume mid-epoch where we stopped
        loader = DataLoader(data, batch_size=cfg.batch_size, sampler=order, drop_last=True)
        for batch in loader:
            image = batch["image"].to(info.device)
            mask = batch["mask"].to(info.device)
            tokens, grid = encoder(image)
            with _autocast(cfg.amp, info.device):
                anchor = cfg.anchor_until <= 0 or step < cfg.anchor_until
                loss, stats = ddp_model(tokens, grid, image, mask, step < cfg.decoder_warmup, anchor)
            optim.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.unscale_(optim)
            gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            scaler.step(optim)
            scaler.update()
            sched.step()
            step += 1
            bar.update(1)
            if step % cfg.log_every == 0 or step == cfg.steps:
                rec = {"step": step, "epoch": epoch, "lr": sched.get_last_lr()[0], "loss": all_mean(float(loss.detach()), info),
                       "grad_norm": float(gnorm), "time": round(time.time() - t0, 2)}
                rec.update({k: all_mean(v, info) for k, v in stats.items()})
                log.write(rec)
                bar.set_postfix(loss=f"{rec['loss']:.4f}", mask=f"{rec['mask_rate']:.2f}")
            if val is not None and cfg.eval_every and step % cfg.eval_every == 0 and info.is_main:
                log.write({"step": step, "val_recall50": recall_at(model.pruner, encoder, val, device=str(info.device))})
            stopping = step >= cfg.steps or (cfg.stop_at is not None and step >= cfg.stop_at)
            if info.is_main and (step % cfg.ckpt_every == 0 or stopping):
                save_checkpoint(last, _state(model, optim, sched, step, cfg))
            if stopping:
                break
        if cfg.stop_at is not None and step >= cfg.stop_at:
            break
    bar.close()
    result: dict[str, Any] = {"step": step, **stats}
    if val is not None and info.is_main:
        result["val_recall50"] = recall_at(model.pruner, encoder, val, device=str(info.device))
        log.write({"step": step, "final": True, "val_recall50": result["val_recall50"]})
    return result


def _state(model: ReconModel, optim: torch.optim.Optimizer, sched: Any, step: int, cfg: TrainConfig) -> dict[str, Any]:
    return {
        "model": model.state_dict(),
        "pruner": model.pruner.state_dict(),
        "pruner_config": model.pruner.cfg.to_dict(),
        "optim": optim.state_dict(),
        "sched": sched.state_dict(),
        "step": step,
        "train_config": asdict(cfg),
    }
