"""Foreground recall/precision of kept tokens for ReconPruner and the baselines at several pruning ratios."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Subset

from . import baselines
from .data.manifest import token_labels
from .encoders import VisionEncoder
from .pruner import ReconPruner

PRUNING_RATIOS = (0.25, 0.5, 0.75)
METHODS = ("reconpruner", "divprune", "dart", "cdpruner", "uniform", "random", "norm", "oracle")


@torch.no_grad()
def collect(
    pruner: ReconPruner | None, encoder: VisionEncoder, dataset: Dataset, batch_size: int = 16, device: str = "cpu"
) -> list[tuple[np.ndarray | None, np.ndarray, np.ndarray]]:
    """Per image: (pruner scores or None, tokens (N, D), foreground token labels (N,))."""
    out = []
    for batch in DataLoader(dataset, batch_size=batch_size, shuffle=False, generator=torch.Generator()):
        images = batch["image"].to(device)
        tokens, grid = encoder(images)
        fg = token_labels(batch["mask"].to(device), encoder.patch)
        scores = pruner(tokens, grid).float() if pruner is not None else None
        for i in range(len(images)):
            s = scores[i].cpu().numpy() if scores is not None else None
            out.append((s, tokens[i].float().cpu().numpy(), fg[i].cpu().numpy()))
    return out


def evaluate(
    items: list[tuple[np.ndarray | None, np.ndarray, np.ndarray]],
    ratios: tuple[float, ...] = PRUNING_RATIOS,
    methods: tuple[str, ...] = METHODS,
    seed: int = 0,
) -> dict[str, dict[float, tuple[float, float]]]:
    """{method: {pruning ratio: (mean recall, mean precision)}} over the images."""
    rng = np.random.default_rng(seed)
    acc: dict[str, dict[float, list[tuple[float, float]]]] = defaultdict(lambda: defaultdict(list))
    for scores, tokens, fg in items:
        n = len(fg)
        for p in ratios:
            k = baselines.keep_count(n, 1.0 - p)
            for m in methods:
                if m == "reconpruner":
                    if scores is None:
                        continue
                    kept = baselines.topk(scores, k)
                elif m == "divprune":
                    kept = baselines.divprune(tokens, k)
                elif m == "dart":
                    kept = baselines.dart(tokens, k)
                elif m == "cdpruner":
                    kept = baselines.cdpruner(tokens, k)
                elif m == "uniform":
                    kept = baselines.uniform(n, k)
                elif m == "random":
                    kept = baselines.random_keep(n, k, rng)
                elif m == "norm":
                    kept = baselines.norm(tokens, k)
                elif m == "oracle":
                    kept = baselines.oracle(fg, k)
                else:
                    raise ValueError(f"unknown method {m!r}")
                acc[m][p].append(baselines.recall_precision(kept, fg))
    return {m: {p: tuple(np.mean(v, axis=0)) for p, v in d.items()} for m, d in acc.items()}  # type: ignore[misc]


@torch.no_grad()
def recall_at(pruner: ReconPruner, encoder: VisionEncoder, dataset: Dataset, pruning: float = 0.5, device: str = "cpu",
              rank: int = 0, world: int = 1, batch_size: int = 16) -> float:
    """Mean foreground recall of ReconPruner's kept tokens at one pruning ratio (training-time probe).

    Streamed: one batch of tokens is held at a time, never the whole set's N×D tokens. Under
    DDP every rank calls it with its rank and the world size, scores frames rank, rank + world,
    ... and the sums are all-reduced, so all ranks return the same mean (that of
    `evaluate(collect(...))` over the whole set).
    """
    import torch.distributed as dist

    was_training = pruner.training
    pruner.eval()
    total, count = 0.0, 0
    shard = Subset(dataset, list(range(rank, len(dataset), world)))
    # Own generator: creating a loader iterator must not draw from (and so shift) the training RNG.
    for batch in DataLoader(shard, batch_size=batch_size, shuffle=False, generator=torch.Generator()):
        tokens, grid = encoder(batch["image"].to(device))
        fg = token_labels(batch["mask"].to(device), encoder.patch).cpu().numpy()
        scores = pruner(tokens, grid).float().cpu().numpy()
        for s, f in zip(scores, fg):
            kept = baselines.topk(s, baselines.keep_count(len(s), 1.0 - pruning))
            total += baselines.recall_precision(kept, f)[0]
            count += 1
    pruner.train(was_training)
    if world > 1:
        t = torch.tensor([total, count], dtype=torch.float64)
        dist.all_reduce(t)
        total, count = float(t[0]), int(t[1])
    return total / max(count, 1)


Table = dict[str, dict[float, tuple[float, float]]]


def aggregate(tables: list[Table]) -> dict[str, dict[float, tuple[float, float, float, float]]]:
    """Over runs: {method: {ratio: (recall mean, recall std, precision mean, precision std)}}."""
    out: dict[str, dict[float, tuple[float, float, float, float]]] = {}
    for m in tables[0]:
        out[m] = {}
        for p in tables[0][m]:
            r = np.array([t[m][p][0] for t in tables])
            pr = np.array([t[m][p][1] for t in tables])
            out[m][p] = (float(r.mean()), float(r.std()), float(pr.mean()), float(pr.std()))
    return out


def format_table(tables: list[Table]) -> str:
    """Markdown table, one row per method: recall and precision per pruning ratio, mean ± std over runs."""
    agg = aggregate(tables)
    ratios = sorted(next(iter(agg.values())).keys())
    head = "| method | " + " | ".join(f"recall@{int(p * 100)}% | prec@{int(p * 100)}%" for p in ratios) + " |"
    rows = [head, "|---|" + "---|---|" * len(ratios)]
    for m, d in agg.items():
        cells = [f"{d[p][0]:.3f} ± {d[p][1]:.3f} | {d[p][2]:.3f} ± {d[p][3]:.3f}" for p in ratios]
        rows.append(f"| {m} | " + " | ".join(cells) + " |")
    return f"{len(tables)} run(s)\n" + "\n".join(rows)
