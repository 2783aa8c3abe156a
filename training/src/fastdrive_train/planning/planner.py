"""The planner standing in for the VLA: frozen encoder tokens → a small transformer → the plan.

Every token carries the embedding of its ORIGINAL grid position (row + column), the way the VLA's
M-RoPE positions stay with a token when others are dropped; so the planner trained on all tokens
is run unchanged on any kept subset. Learned queries read the tokens by cross-attention; their
attention over the tokens is the planner's own importance (FastV-style).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from .scenes import OUTPUTS
from .tokens import TokenSet


@dataclass(frozen=True)
class PlannerConfig:
    dim: int = 128  # encoder token width
    width: int = 48
    heads: int = 4
    layers: int = 1
    readout: int = 2  # features per token position that the plan head reads
    pooled: int = 32  # features max-pooled over the kept tokens (what is there, wherever it is)
    hidden: int = 64
    grid: tuple[int, int] = (14, 14)
    n_out: int = len(OUTPUTS)


class _Layer(nn.Module):
    """Pre-norm transformer layer over the kept tokens; returns the attention each token receives."""

    def __init__(self, w: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.n1, self.n2 = nn.LayerNorm(w), nn.LayerNorm(w)
        self.qkv, self.o = nn.Linear(w, 3 * w), nn.Linear(w, w)
        self.mlp = nn.Sequential(nn.Linear(w, 2 * w), nn.GELU(), nn.Linear(2 * w, w))

    def forward(self, x: torch.Tensor, attention: bool):
        b, n, w = x.shape
        hd = w // self.heads
        q, k, v = self.qkv(self.n1(x)).view(b, n, 3, self.heads, hd).permute(2, 0, 3, 1, 4)
        if attention:
            a = torch.softmax(q @ k.transpose(-1, -2) / hd**0.5, dim=-1)  # B, H, N, N
            y, received = a @ v, a.mean(dim=(1, 2))  # attention each token receives, over heads and queries
        else:  # the fused kernel: same function, faster
            y, received = nn.functional.scaled_dot_product_attention(q, k, v), None
        x = x + self.o(y.transpose(1, 2).reshape(b, n, w))
        return x + self.mlp(self.n2(x)), received


class Planner(nn.Module):
    """Tokens + original-position embeddings → transformer layer(s) over the kept tokens → a few
    features per token, placed at the token's original grid cell (cells of dropped tokens stay
    zero, as a VLA's dropped tokens are simply absent), plus features max-pooled over the kept
    tokens → MLP head → plan."""

    def __init__(self, cfg: PlannerConfig) -> None:
        super().__init__()
        self.cfg = cfg
        w = cfg.width
        self.inp = nn.Sequential(nn.LayerNorm(cfg.dim), nn.Linear(cfg.dim, w))
        self.row = nn.Parameter(torch.randn(cfg.grid[0], w) * 0.5)
        self.col = nn.Parameter(torch.randn(cfg.grid[1], w) * 0.5)
        self.layers = nn.ModuleList(_Layer(w, cfg.heads) for _ in range(cfg.layers))
        self.out = nn.Sequential(nn.LayerNorm(w), nn.Linear(w, cfg.readout + cfg.pooled))
        cells = cfg.grid[0] * cfg.grid[1]
        self.head = nn.Sequential(nn.Linear(cells * cfg.readout + cfg.pooled, cfg.hidden), nn.GELU(),
                                  nn.Linear(cfg.hidden, cfg.n_out + 1))
        # Plan targets are standardised with the training set's statistics (set by `fit`).
        self.register_buffer("y_mean", torch.zeros(cfg.n_out))
        self.register_buffer("y_std", torch.ones(cfg.n_out))

    def forward(self, tokens: torch.Tensor, positions: torch.Tensor, attention: bool = False):
        """tokens (B, K, D) at original indices positions (B, K) → (standardised outputs (B, n_out),
        stop logit (B,), attention each kept token receives (B, K), averaged over layers, heads and
        queries, or None)."""
        gh, gw = self.cfg.grid
        x = self.inp(tokens) + self.row[positions // gw] + self.col[positions % gw]
        maps = []
        for layer in self.layers:
            x, a = layer(x, attention)
            maps.append(a)
        f = self.out(x)
        f, pooled = f[..., : self.cfg.readout], f[..., self.cfg.readout:].amax(dim=1)
        b, _, r = f.shape
        canvas = f.new_zeros(b, gh * gw, r).scatter(1, positions[..., None].expand(-1, -1, r), f)
        out = self.head(torch.cat([canvas.flatten(1), pooled], dim=1))
        att = torch.stack(maps).mean(0) if attention else None
        return out[:, : self.cfg.n_out], out[:, self.cfg.n_out], att

    @torch.no_grad()
    def predict(self, tokens: np.ndarray, positions: np.ndarray | None = None, batch: int = 256,
                attention: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Plan outputs in their units (n, n_out), stop probability (n,), attention (n, K) or None."""
        self.eval()
        n, k = tokens.shape[:2]
        if positions is None:
            positions = np.broadcast_to(np.arange(k), (n, k))
        outs, stops, atts = [], [], []
        for s in range(0, n, batch):
            t = torch.from_numpy(np.ascontiguousarray(tokens[s:s + batch], dtype=np.float32))
            p = torch.from_numpy(np.ascontiguousarray(positions[s:s + batch], dtype=np.int64))
            y, logit, a = self(t, p, attention)
            outs.append((y * self.y_std + self.y_mean).numpy())
            stops.append(torch.sigmoid(logit).numpy())
            if attention:
                atts.append(a.numpy())
        return np.concatenate(outs), np.concatenate(stops), (np.concatenate(atts) if attention else None)


def fit(data: TokenSet, cfg: PlannerConfig, seed: int = 0, epochs: int = 20, batch: int = 64, lr: float = 1e-3,
        weight_decay: float = 0.01, output_weights: tuple[float, ...] | None = None, log=None) -> Planner:
    """Train on all tokens (never on pruned ones): MSE on standardised outputs (weighted per output
    by `output_weights`, default all 1) + BCE on stop, AdamW with a linear warm-up and cosine decay."""
    torch.manual_seed(seed)
    model = Planner(cfg)
    y = torch.from_numpy(data.targets)
    model.y_mean.copy_(y.mean(0))
    model.y_std.copy_(y.std(0).clamp_min(1e-6))
    ys = (y - model.y_mean) / model.y_std
    stop = torch.from_numpy(data.stop.astype(np.float32))
    weighted = output_weights is not None and any(w != 1.0 for w in output_weights)
    w_out = torch.tensor(output_weights if weighted else [1.0] * cfg.n_out, dtype=torch.float32)
    tokens = torch.from_numpy(data.tokens)  # float16, cast per batch
    n, k = data.tokens.shape[:2]
    positions = torch.arange(k).expand(batch, k)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    steps = epochs * (n // batch)
    warm = max(1, steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / steps))))
    g = torch.Generator().manual_seed(seed)
    model.train()
    for epoch in range(epochs):
        order = torch.randperm(n, generator=g)
        total = 0.0
        for b in range(n // batch):
            idx = order[b * batch:(b + 1) * batch]
            out, logit, _ = model(tokens[idx].float(), positions)
            if weighted:
                mse = ((out - ys[idx]) ** 2 * w_out).mean()
            else:  # the plain recipe's loss, bit for bit (its cached planners stay valid)
                mse = nn.functional.mse_loss(out, ys[idx])
            loss = mse + nn.functional.binary_cross_entropy_with_logits(logit, stop[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach())
        if log is not None:
            log(f"planner seed {seed} epoch {epoch + 1}/{epochs} loss {total / max(1, n // batch):.4f}")
    model.eval()
    return model


def save_planner(model: Planner, path) -> None:
    torch.save({"config": asdict(model.cfg), "state": model.state_dict()}, path)


def load_planner(path) -> Planner:
    blob = torch.load(path, map_location="cpu", weights_only=False)
    cfg = blob["config"]
    cfg["grid"] = tuple(cfg["grid"])
    model = Planner(PlannerConfig(**cfg))
    model.load_state_dict(blob["state"])
    return model.eval()
