"""The training loop: AdamW + warm-up/cosine, checkpoints with resume, metrics JSONL, DDP, AMP."""

from __future__ import annotations

import contextlib
import json
import math
import random
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, DistributedSampler
from tqdm import tqdm

from .checkpoint import read_checkpoint, restore_rng, rng_state, save_checkpoint
from .config import PrunerConfig
from .data.manifest import ManifestDataset
from .decoder import DECODER_HEADS, DECODER_INPUTS
from .distributed import DistInfo, all_gather_objects, all_mean, cleanup, init_distributed
from .encoders import PatchEncoder, QwenVisionEncoder, VisionEncoder
from .evaluate import recall_at
from .model import ReconModel
from .objective import SCORE_NORMS, ObjectiveConfig, decoder_warmup_split
from .pruner import ReconPruner
from .qwen_checkpoint import load_decoder_layer, pruner_config_from_checkpoint, pruner_from_checkpoint


@dataclass
class TrainConfig:
    """Everything a run depends on; stored in each checkpoint so `export`/`eval` need no flags.

    The defaults are the shipped recipe (training/README.md); `presets.PRESETS["paper"]` is the
    paper's objective as written.
    """

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
    # Decoder input: "affine" (recipe: in_proj(M~·V)) or "zero" (paper: M~·V straight in).
    decoder_input: str = "affine"
    # Decoder head: "sigmoid" (recipe: output in [0, 1]) or "linear" (paper: the FFN's output as is).
    decoder_head: str = "sigmoid"
    # With init_from: "checkpoint" copies checkpoint layers decoder_init_layer, +1, ... into the
    # decoder's layers (the paper's decoder is Qwen2.5-VL-3B layers); "fresh" leaves them random.
    decoder_init: str = "checkpoint"
    decoder_init_layer: int | None = None  # None: the layers right after init_layer
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
    # At each logged step after the warm-up, also log the norms of the reconstruction's and the
    # anchor's gradients on the pruner's weights (two extra backward passes on those steps).
    log_grad_parts: bool = True
    eval_every: int = 0  # 0 = only at the end
    ckpt_every: int = 200
    resume: bool = True
    progress: bool = True
    cache_data: bool = True

    def decoder_first_layer(self) -> int:
        """The checkpoint layer copied into decoder layer 0 (with init_from and decoder_init=checkpoint)."""
        return self.init_layer + 1 if self.decoder_init_layer is None else self.decoder_init_layer

    def validate(self) -> None:
        """Refuse settings that cannot run or would silently not do what they say (ValueError)."""
        obj = ObjectiveConfig(**self.objective)
        unit = 28 if self.encoder == "qwen" else self.patch  # pixels per token side (Qwen: 14-px patches merged 2×2)
        checks = [
            (self.steps >= 1, f"steps must be >= 1, got {self.steps}"),
            (self.batch_size >= 1, f"batch_size must be >= 1, got {self.batch_size}"),
            (self.lr > 0 and math.isfinite(self.lr), f"lr must be a positive number, got {self.lr}"),
            (self.weight_decay >= 0, f"weight_decay must be >= 0, got {self.weight_decay}"),
            (self.warmup_steps >= 0, f"warmup_steps must be >= 0, got {self.warmup_steps}"),
            (self.decoder_warmup >= 0, f"decoder_warmup must be >= 0, got {self.decoder_warmup}"),
            (self.decoder_warmup < self.steps,
             f"decoder_warmup ({self.decoder_warmup}) >= steps ({self.steps}): only the decoder would train "
             "and the exported pruner would be untrained"),
            (self.anchor_until >= 0, f"anchor_until must be >= 0 (0: anchor throughout), got {self.anchor_until}"),
            (not (self.anchor_until > 0 and obj.anchor_weight > 0 and self.anchor_until <= self.decoder_warmup),
             f"anchor_until ({self.anchor_until}) <= decoder_warmup ({self.decoder_warmup}): the anchor is off "
             "during the warm-up anyway, so it would never apply; use anchor_weight 0 for no anchor, or a "
             "step after the warm-up"),
            (self.stop_at is None or self.stop_at >= 1, f"stop_at must be >= 1, got {self.stop_at}"),
            (self.grad_clip > 0, f"grad_clip must be > 0, got {self.grad_clip}"),
            (self.decoder_layers >= 1, f"decoder_layers must be >= 1, got {self.decoder_layers}"),
            (self.decoder_input in DECODER_INPUTS, f"decoder_input must be one of {DECODER_INPUTS}, got {self.decoder_input!r}"),
            (self.decoder_head in DECODER_HEADS, f"decoder_head must be one of {DECODER_HEADS}, got {self.decoder_head!r}"),
            (self.decoder_init in ("checkpoint", "fresh"), f"decoder_init must be checkpoint or fresh, got {self.decoder_init!r}"),
            (self.init_layer >= 0, f"init_layer must be >= 0, got {self.init_layer}"),
            (self.decoder_init_layer is None or self.decoder_init_layer >= 0,
             f"decoder_init_layer must be >= 0, got {self.decoder_init_layer}"),
            (self.encoder in ("patch", "qwen"), f"encoder must be patch or qwen, got {self.encoder!r}"),
            (self.patch >= 1, f"patch must be >= 1, got {self.patch}"),
            (self.image_size is None or (self.image_size >= unit and self.image_size % unit == 0),
             f"image_size ({self.image_size}) must be a positive multiple of the patch ({unit} px for the "
             f"{self.encoder} encoder)"),
            (self.amp in ("none", "bf16", "fp16"), f"amp must be none, bf16 or fp16, got {self.amp!r}"),
            (self.log_every >= 1, f"log_every must be >= 1, got {self.log_every}"),
            (self.eval_every >= 0, f"eval_every must be >= 0, got {self.eval_every}"),
            (self.ckpt_every >= 1, f"ckpt_every must be >= 1, got {self.ckpt_every}"),
            (obj.score_norm in SCORE_NORMS, f"score_norm must be one of {SCORE_NORMS}, got {obj.score_norm!r}"),
            (0.0 <= obj.alpha <= 1.0, f"alpha must be in [0, 1], got {obj.alpha}"),
            (0.0 <= obj.lam <= 1.0, f"lam must be in [0, 1], got {obj.lam}"),
            (obj.anchor_weight >= 0, f"anchor_weight must be >= 0, got {obj.anchor_weight}"),
            (obj.recon_weight >= 0, f"recon_weight must be >= 0, got {obj.recon_weight}"),
            (obj.recon_weight > 0 or obj.anchor_weight > 0, "recon_weight and anchor_weight are both 0: nothing to train"),
            (obj.ssim_win >= 3 and obj.ssim_win % 2 == 1, f"ssim_win must be odd and >= 3, got {obj.ssim_win}"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)
        if not self.init_from:
            PrunerConfig.from_dict(self.pruner)  # its own checks (heads × head_dim = hidden, ...)


# Fields that fix the model's tensors or the tokens it is trained on: a resumed run must keep them.
RESUME_FIXED = ("decoder_layers", "decoder_input", "decoder_head", "encoder", "encoder_path", "encoder_seed", "patch",
                "image_size")
# Fields a resumed run may change without a word (bookkeeping, or the documented `--steps` continuation).
RESUME_FREE = ("out_dir", "steps", "stop_at", "resume", "progress", "log_every", "log_grad_parts", "eval_every",
               "ckpt_every", "val_manifest", "device", "cache_data")


def planned_pruner_config(cfg: TrainConfig) -> PrunerConfig:
    """The PrunerConfig `build_pruner` will produce (a Qwen checkpoint's shape when init_from is set)."""
    if cfg.init_from:
        modes = {k: cfg.pruner[k] for k in ("rope", "attention") if k in cfg.pruner}
        return pruner_config_from_checkpoint(cfg.init_from, **modes)
    return PrunerConfig.from_dict(cfg.pruner)


def check_resume(cfg: TrainConfig, state: dict[str, Any], path: Path) -> list[str]:
    """Refuse (ValueError) to resume `state` under a config that changes the model's shape or
    inputs; return the names of other fields that differ (the caller warns about them)."""
    old = {**asdict(TrainConfig(train_manifest="", out_dir="")), **state.get("train_config", {})}
    new = asdict(cfg)
    wrong = [f"{k}: checkpoint {old[k]!r}, now {new[k]!r}" for k in RESUME_FIXED if old[k] != new[k]]
    planned = planned_pruner_config(cfg)
    if planned.to_dict() != PrunerConfig.from_dict(state["pruner_config"]).to_dict():
        wrong.append(f"pruner: checkpoint {state['pruner_config']}, now {planned.to_dict()}")
    if wrong:
        raise ValueError(f"{path} was trained with other shape settings; resuming would not fit it "
                         f"({'; '.join(wrong)}). Use the original flags, another --out, or --no-resume")
    return [k for k in new if k not in RESUME_FIXED and k not in RESUME_FREE and old.get(k) != new[k]]


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


def derived_seed(*parts: int) -> int:
    """A 32-bit seed from integers (run seed, rank, step, ...): distinct tuples, independent streams."""
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1)[0])


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


def build_model(cfg: TrainConfig, pruner: ReconPruner, patch: int) -> ReconModel:
    """Pruner + decoder; with init_from and decoder_init=checkpoint the decoder's layers are
    checkpoint layers decoder_first_layer(), +1, ... (in_proj and head stay fresh)."""
    model = ReconModel(pruner, cfg.decoder_layers, patch, ObjectiveConfig(**cfg.objective),
                       decoder_input=cfg.decoder_input, decoder_head=cfg.decoder_head)
    if cfg.init_from and cfg.decoder_init == "checkpoint":
        first = cfg.decoder_first_layer()
        for j, layer in enumerate(model.decoder.layers):
            tensors = load_decoder_layer(cfg.init_from, first + j)
            layer.load_state_dict({k: v.to(torch.float32) for k, v in tensors.items()}, strict=True)
    return model


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


def grad_parts(pruner: torch.nn.Module, terms: dict[str, torch.Tensor]) -> dict[str, float]:
    """Norms of the reconstruction's and the anchor's gradients on the pruner's weights, and
    their cosine (negative: the two pull against each other). Weighted as in the loss, before
    clipping, this process's batch only; the graph is kept for the real backward."""
    params = [p for p in pruner.parameters() if p.requires_grad]
    flat = {}
    for name in ("recon", "anchor"):
        grads = torch.autograd.grad(terms[name], params, retain_graph=True, allow_unused=True)
        flat[name] = torch.cat([(g if g is not None else torch.zeros_like(p)).float().flatten()
                                for g, p in zip(grads, params)])
    r, a = flat["recon"], flat["anchor"]
    nr, na = float(r.norm()), float(a.norm())
    cos = float(r @ a) / (nr * na) if nr > 0 and na > 0 else 0.0
    return {"grad_norm_recon": nr, "grad_norm_anchor": na, "grad_cos_recon_anchor": cos}


def train(cfg: TrainConfig) -> dict[str, Any]:
    """Run (or resume) training; returns the final metrics. Under torchrun each process calls this."""
    info = init_distributed(cfg.device)
    try:
        return _train(cfg, info)
    finally:
        cleanup()


def _train(cfg: TrainConfig, info: DistInfo) -> dict[str, Any]:
    cfg.validate()
    out = Path(cfg.out_dir)
    last = out / "last.pt"
    # Everything that can refuse the run does so before the run directory is touched.
    state = read_checkpoint(last) if cfg.resume and last.is_file() else None
    if state is not None:
        changed = check_resume(cfg, state, last)
        if changed and info.is_main:
            print(f"warning: resuming {last} with changed settings: {', '.join(changed)}", file=sys.stderr)
    data = ManifestDataset(cfg.train_manifest, size=cfg.image_size, skip_bad=False, cache=cfg.cache_data)
    val = ManifestDataset(cfg.val_manifest, size=cfg.image_size, cache=True) if cfg.val_manifest else None
    # DistributedSampler even for one process: the same seed then gives the same global order,
    # which is what makes N processes × batch B step-equal to one process × batch N·B.
    sampler = DistributedSampler(data, num_replicas=info.world, rank=info.rank, shuffle=True, seed=cfg.seed, drop_last=True)
    per_epoch = len(sampler) // cfg.batch_size
    if per_epoch == 0:
        raise ValueError(f"dataset of {len(data)} images is smaller than one global batch "
                         f"({cfg.batch_size} × {info.world} processes)")

    seed_everything(cfg.seed)  # the same on every rank: identical init (DDP also broadcasts rank 0's)
    encoder = build_encoder(cfg).to(info.device)
    if state is not None:  # the checkpoint's weights replace any init: do not read init_from again
        pruner = ReconPruner(PrunerConfig.from_dict(state["pruner_config"]))
        model = build_model(replace(cfg, init_from=None), pruner, encoder.patch)
    else:
        pruner = build_pruner(cfg)
        model = build_model(cfg, pruner, encoder.patch)
    if pruner.cfg.hidden_size != encoder.dim:
        raise ValueError(f"pruner hidden_size {pruner.cfg.hidden_size} != encoder token dim {encoder.dim}")
    model = model.to(info.device)
    optim = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(optim, lambda s: lr_factor(s, cfg.steps, cfg.warmup_steps))
    scaler = torch.amp.GradScaler(enabled=cfg.amp == "fp16" and info.device.type == "cuda")
    if info.is_main:
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.json").write_text(json.dumps(asdict(cfg), indent=2))

    # From here on each rank draws its own random numbers (nothing in the loop uses the global
    # RNG today; a dropout or augmentation added later must not repeat across ranks).
    seed_everything(derived_seed(cfg.seed, info.rank))
    step = 0
    if state is not None:
        model.load_state_dict(state["model"])
        optim.load_state_dict(state["optim"])
        sched.load_state_dict(state["sched"])
        if state.get("scaler"):
            scaler.load_state_dict(state["scaler"])
        step = state["step"]
        restore_rng(state, info.rank)
    del state

    # The anchor-only ablation leaves the decoder unused; DDP must be told or it waits for its grads.
    unused = model.obj.recon_weight == 0
    ddp_model: torch.nn.Module = DDP(model, find_unused_parameters=unused) if info.world > 1 else model

    log = MetricsLog(out / "metrics.jsonl", info.is_main)
    bar = tqdm(total=cfg.steps, initial=step, disable=not (cfg.progress and info.is_main), desc="train")
    t0 = time.time()
    stats: dict[str, float] = {}
    # A private generator for the loaders: creating a DataLoader iterator draws a base seed, and
    # drawing it from the global RNG would make a resumed run (one more loader) diverge.
    loader_rng = torch.Generator().manual_seed(cfg.seed)
    model.train()
    while step < cfg.steps:
        epoch, skip = divmod(step, per_epoch)
        sampler.set_epoch(epoch)
        order = list(sampler)[skip * cfg.batch_size :]  # resume mid-epoch where we stopped
        loader = DataLoader(data, batch_size=cfg.batch_size, sampler=order, drop_last=True, generator=loader_rng)
        for batch in loader:
            image = batch["image"].to(info.device)
            mask = batch["mask"].to(info.device)
            tokens, grid = encoder(image)
            warm = step < cfg.decoder_warmup
            split = (decoder_warmup_split(tokens.shape[:2], derived_seed(cfg.seed, info.rank, step), info.device)
                     if warm else None)
            anchor = cfg.anchor_until <= 0 or step < cfg.anchor_until
            logging = (step + 1) % cfg.log_every == 0 or step + 1 == cfg.steps
            with _autocast(cfg.amp, info.device):
                loss, stats, terms = ddp_model(tokens, grid, image, mask, split, anchor)
            probe = grad_parts(model.pruner, terms) if cfg.log_grad_parts and logging and len(terms) == 2 else {}
            optim.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.unscale_(optim)
            gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            scaler.step(optim)
            scaler.update()
            sched.step()
            step += 1
            bar.update(1)
            if logging:
                rec = {"step": step, "epoch": epoch, "lr": sched.get_last_lr()[0], "loss": all_mean(float(loss.detach()), info),
                       "grad_norm": float(gnorm), "time": round(time.time() - t0, 2)}
                rec.update({k: all_mean(v, info) for k, v in {**stats, **probe}.items()})
                log.write(rec)
                bar.set_postfix(loss=f"{rec['loss']:.4f}", mask=f"{rec['mask_rate']:.2f}")
            if val is not None and cfg.eval_every and step % cfg.eval_every == 0:
                # Every rank evaluates its share of the frames (no rank idles in a collective meanwhile).
                r = recall_at(model.pruner, encoder, val, device=str(info.device), rank=info.rank, world=info.world)
                log.write({"step": step, "val_recall50": r})
            stopping = step >= cfg.steps or (cfg.stop_at is not None and step >= cfg.stop_at)
            if step % cfg.ckpt_every == 0 or stopping:
                rngs = all_gather_objects(rng_state(), info)  # every rank takes part
                if info.is_main:
                    save_checkpoint(last, _state(model, optim, sched, scaler, step, cfg), rngs)
            if stopping:
                break
        if cfg.stop_at is not None and step >= cfg.stop_at:
            break
    bar.close()
    result: dict[str, Any] = {"step": step, **stats}
    if val is not None:
        result["val_recall50"] = recall_at(model.pruner, encoder, val, device=str(info.device), rank=info.rank,
                                           world=info.world)
        log.write({"step": step, "final": True, "val_recall50": result["val_recall50"]})
    return result


def _state(model: ReconModel, optim: torch.optim.Optimizer, sched: Any, scaler: Any, step: int,
           cfg: TrainConfig) -> dict[str, Any]:
    return {
        "model": model.state_dict(),
        "pruner": model.pruner.state_dict(),
        "pruner_config": model.pruner.cfg.to_dict(),
        "optim": optim.state_dict(),
        "sched": sched.state_dict(),
        "scaler": scaler.state_dict() if scaler.is_enabled() else None,
        "step": step,
        "train_config": asdict(cfg),
    }
