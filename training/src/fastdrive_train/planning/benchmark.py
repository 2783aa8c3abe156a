"""The planning benchmark: FastDriveVLA's Table 1 in miniature.

1. Encode planning scenes with the frozen encoder of the pruner (cached on disk).
2. Train the planner on unpruned tokens, once per planner seed.
3. Gate: on held-out scenes every regressed output must reach R² ≥ 0.7 and the stop head's
   balanced accuracy must beat the majority-class rate by ≥ 15 points, for every seed; no pruning
   table is measured otherwise (a planner that has not learned the plan cannot lose it).
4. For each pruning ratio and policy: keep K tokens (through the runtime's `select`), run the
   same planner on the kept tokens at their original positions, and score the plan.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from .. import baselines
from ..encoders import PatchEncoder
from .planner import Planner, PlannerConfig, fit, load_planner, save_planner
from .policies import Selector, default_policies
from .scenes import OUTPUTS, collides, trajectory
from .tokens import TokenSet, cached_scenes

RATIOS = (0.0, 0.25, 0.5, 0.75, 0.9)
GATE_R2 = 0.7
GATE_STOP_MARGIN = 0.15


@dataclass
class BenchConfig:
    cache_dir: str = ".build/planning"
    results_dir: str = "Benchmarks/planning/results"
    weights: str = "models/reconpruner-small.safetensors"
    extra_pruners: dict[str, str] = field(default_factory=dict)  # row name -> weight file
    train_count: int = 20000
    test_count: int = 2000
    train_seed: int = 11
    test_seed: int = 12
    planner_seeds: tuple[int, ...] = (0, 1, 2)
    epochs: int = 6
    batch: int = 128
    lr: float = 2e-3
    weight_decay: float = 0.05
    # Per-output weights of the planner's MSE (lat10, lat20, lat30, speed); speed is the output
    # that needs the most of the scene and the last to be learned (`plan-bench --speed-weight`).
    output_weights: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0)
    ratios: tuple[float, ...] = RATIOS
    encoder_seed: int = 1234
    dim: int = 128
    patch: int = 16
    workers: int = 2
    force: bool = False  # measure the table even when the gate fails (labelled as such)
    planner: PlannerConfig = field(default_factory=PlannerConfig)


def plan_metrics(y: np.ndarray, stop_prob: np.ndarray, data: TokenSet, var: np.ndarray) -> dict[str, float]:
    """L2 (m, mean over the 1/2/3-s points), collision-style rate, stop accuracy / balanced accuracy,
    and R² per regressed output (against the held-out variance `var`)."""
    stop_pred = stop_prob > 0.5
    speed = np.where(stop_pred, 0.0, np.maximum(y[:, 3], 0.0))
    pred = trajectory(y[:, :3], speed)
    true = trajectory(data.targets[:, :3], data.targets[:, 3])
    l2 = float(np.linalg.norm(pred - true, axis=-1).mean())
    coll = float(np.mean([collides(y[i, :3], speed[i], data.boxes[i][~np.isnan(data.boxes[i, :, 0])], float(data.stop_z[i]))
                          for i in range(len(y))]))
    out = {"l2": l2, "collision": coll, "stop_acc": float((stop_pred == data.stop).mean())}
    pos, neg = data.stop, ~data.stop
    tpr = float(stop_pred[pos].mean()) if pos.any() else 1.0
    tnr = float((~stop_pred[neg]).mean()) if neg.any() else 1.0
    out["stop_bal_acc"] = 0.5 * (tpr + tnr)
    mse = ((y - data.targets) ** 2).mean(axis=0)
    for j, name in enumerate(OUTPUTS):
        out[f"r2_{name}"] = float(1.0 - mse[j] / var[j])
    return out


def survival(m: dict[str, float], m0: dict[str, float]) -> dict[str, float]:
    """Share of the unpruned planner's advantage over the mean predictor that survives, per output:
    R²/R²₀ for regressed outputs (the mean predictor has R² ≈ 0), (bal − ½)/(bal₀ − ½) for stop;
    NaN where the unpruned planner has no advantage to lose."""
    def share(a: float, a0: float) -> float:
        return a / a0 if a0 > 0 else float("nan")

    out = {name: share(m[f"r2_{name}"], m0[f"r2_{name}"]) for name in OUTPUTS}
    out["stop"] = share(m["stop_bal_acc"] - 0.5, m0["stop_bal_acc"] - 0.5)
    return out


def gate(m: dict[str, float], majority: float) -> tuple[bool, list[str]]:
    fails = [f"R² {name} {m[f'r2_{name}']:.3f} < {GATE_R2}" for name in OUTPUTS if m[f"r2_{name}"] < GATE_R2]
    if m["stop_bal_acc"] < majority + GATE_STOP_MARGIN:
        fails.append(f"stop balanced accuracy {m['stop_bal_acc']:.3f} < majority {majority:.3f} + {GATE_STOP_MARGIN}")
    return not fails, fails


def planner_path(cfg: BenchConfig, seed: int) -> Path:
    """Where the planner of `seed` trained by `cfg`'s recipe is cached (any change to the recipe
    or the training scenes gives another file)."""
    recipe = [asdict(cfg.planner), cfg.train_count, cfg.train_seed, cfg.epochs, cfg.batch, cfg.lr, cfg.weight_decay,
              cfg.encoder_seed, cfg.dim, cfg.patch]
    if cfg.output_weights != (1.0,) * len(cfg.output_weights):  # all-1 recipes keep their earlier names
        recipe.append(list(cfg.output_weights))
    recipe = json.dumps(recipe, sort_keys=True)
    tag = hashlib.sha256(recipe.encode()).hexdigest()[:12]
    return Path(cfg.cache_dir) / f"planner-{tag}-seed{seed}.pt"


def _gather(data: TokenSet, kept: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rows = np.arange(len(kept))[:, None]
    return data.tokens[rows, kept], kept


def run(cfg: BenchConfig, log=print) -> dict:
    """The whole benchmark; returns (and writes to results_dir/latest.json) every figure."""
    t0 = time.time()
    torch.manual_seed(0)
    enc = PatchEncoder(dim=cfg.dim, patch=cfg.patch, seed=cfg.encoder_seed)
    cache = Path(cfg.cache_dir)
    train = cached_scenes(cache, cfg.train_count, cfg.train_seed, enc, workers=cfg.workers)
    test = cached_scenes(cache, cfg.test_count, cfg.test_seed, enc, workers=cfg.workers)
    log(f"scenes: {len(train)} train, {len(test)} held-out ({time.time() - t0:.0f} s)")
    var = test.targets.var(axis=0)
    majority = float(max(test.stop.mean(), 1 - test.stop.mean()))

    # The mean predictor: the training set's mean plan and its majority stop decision.
    mean_y = np.broadcast_to(train.targets.mean(axis=0), test.targets.shape)
    mean_stop = np.full(len(test), float(train.stop.mean() > 0.5))
    mean_row = plan_metrics(mean_y, mean_stop, test, var)

    planners: dict[int, Planner] = {}
    for seed in cfg.planner_seeds:
        path = planner_path(cfg, seed)
        if path.is_file():
            planners[seed] = load_planner(path)
        else:
            planners[seed] = fit(train, cfg.planner, seed=seed, epochs=cfg.epochs, batch=cfg.batch, lr=cfg.lr,
                                 weight_decay=cfg.weight_decay, output_weights=cfg.output_weights, log=log)
            save_planner(planners[seed], path)
        log(f"planner seed {seed} ready ({time.time() - t0:.0f} s)")

    unpruned, gate_report, passed = {}, {}, True
    for seed, model in planners.items():
        y, p, _ = model.predict(test.tokens)
        unpruned[seed] = plan_metrics(y, p, test, var)
        ok, fails = gate(unpruned[seed], majority)
        gate_report[seed] = {"passed": ok, "failures": fails, **unpruned[seed]}
        passed &= ok
        log(f"gate seed {seed}: {'PASS' if ok else 'FAIL ' + '; '.join(fails)}  " +
            " ".join(f"{k}={v:.3f}" for k, v in unpruned[seed].items()))
    result: dict = {"config": {**asdict(cfg), "planner": asdict(cfg.planner)}, "majority_stop": majority,
                    "mean_predictor": mean_row, "gate": {"passed": passed, "seeds": gate_report}, "table": {}}
    if not passed and not cfg.force:
        log("gate failed: no pruning table measured")
        _write(cfg, result)
        return result

    selector = Selector(cfg.weights)
    policies = default_policies(cfg.weights, cfg.extra_pruners)
    grid = test.grid
    n_tok = test.tokens.shape[1]
    fixed: dict[tuple[str, float], np.ndarray] = {}
    attention = {seed: m.predict(test.tokens, attention=True)[2] for seed, m in planners.items()}
    table: dict[str, dict[str, dict[str, list[float]]]] = {}
    for pol in policies:
        table[pol.name] = {}
        for ratio in cfg.ratios:
            k = baselines.keep_count(n_tok, 1.0 - ratio)
            per_seed: dict[str, list[float]] = {}
            for seed, model in planners.items():
                if ratio == 0.0:
                    m = unpruned[seed]
                else:
                    if pol.per_planner:
                        kept = selector.select(pol, test.tokens, test.fg, k, grid, attention[seed])
                    else:
                        if (pol.name, ratio) not in fixed:
                            fixed[(pol.name, ratio)] = selector.select(pol, test.tokens, test.fg, k, grid)
                        kept = fixed[(pol.name, ratio)]
                    y, p, _ = model.predict(*_gather(test, kept))
                    m = plan_metrics(y, p, test, var)
                m = {**m, "relative": 100.0 * unpruned[seed]["l2"] / m["l2"],
                     **{f"survival_{k2}": v for k2, v in survival(m, unpruned[seed]).items()}}
                if ratio > 0:
                    m["fg_recall"] = float(np.mean([test.fg[i, kept[i]].sum() / max(1, test.fg[i].sum()) for i in range(len(kept))]))
                for key, v in m.items():
                    per_seed.setdefault(key, []).append(float(v))
            table[pol.name][str(ratio)] = per_seed
        log(f"{pol.name} done ({time.time() - t0:.0f} s)")
    result["table"] = table
    result["seconds"] = time.time() - t0
    _write(cfg, result)
    return result


def _ms(v: list[float], scale: float = 1.0, digits: int = 1) -> str:
    a = np.asarray(v) * scale
    return f"{a.mean():.{digits}f} ± {a.std():.{digits}f}" if len(a) > 1 else f"{a.mean():.{digits}f}"


def format_table(result: dict) -> str:
    """Markdown: one row per (pruning ratio, policy), mean ± std over planner seeds."""
    table = result["table"]
    mr = result["mean_predictor"]
    head = ("| pruned | policy | fg recall | L2 (m) | collision % | stop acc % | relative % | "
            + " | ".join(f"{n} kept %" for n in (*OUTPUTS, "stop")) + " |")
    rows = [head, "|" + "---|" * (7 + len(OUTPUTS) + 1)]
    rows.append(f"| — | mean predictor | — | {mr['l2']:.2f} | {100 * mr['collision']:.1f} | {100 * mr['stop_acc']:.1f} | — |"
                + " 0 |" * (len(OUTPUTS) + 1))
    ratios = sorted({float(r) for d in table.values() for r in d})
    for ratio in ratios:
        names = list(table) if ratio > 0 else list(table)[:1]
        for name in names:
            m = table[name][str(ratio)]
            label = name if ratio > 0 else "unpruned"
            rec = _ms(m["fg_recall"], 100, 0) if "fg_recall" in m else "100"
            rows.append(f"| {int(round(ratio * 100))} % | {label} | {rec} | {_ms(m['l2'], 1, 2)} | {_ms(m['collision'], 100)} | "
                        f"{_ms(m['stop_acc'], 100)} | {_ms(m['relative'])} | "
                        + " | ".join(_ms(m[f"survival_{n}"], 100, 0) for n in (*OUTPUTS, "stop")) + " |")
    g = result["gate"]
    status = "passed" if g["passed"] else "FAILED (table measured anyway: --force)"
    return f"gate {status}; {len(g['seeds'])} planner seed(s)\n\n" + "\n".join(rows)


def plot(result: dict, path: Path) -> Path | None:
    """Relative performance (unpruned L2 / pruned L2) and the speed and stop advantage kept, per policy."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    table = result["table"]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for name, d in table.items():
        ratios = sorted(float(r) for r in d)
        for ax, key in zip(axes, ("relative", "survival_speed", "survival_stop")):
            scale = 1.0 if key == "relative" else 100.0
            mean = [np.mean(d[str(r)][key]) * scale for r in ratios]
            std = [np.std(d[str(r)][key]) * scale for r in ratios]
            style = "-" if name in ("ReconPruner", "oracle") else "--"
            ax.errorbar([100 * r for r in ratios], mean, yerr=std, label=name, linestyle=style, marker="o", ms=3, capsize=2)
    axes[0].set_title("relative performance: unpruned L2 / pruned L2 (%)")
    axes[1].set_title("speed: advantage over the mean kept (%)")
    axes[2].set_title("stop: advantage over chance kept (%)")
    for ax in axes:
        ax.set_xlabel("tokens pruned (%)")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _write(cfg: BenchConfig, result: dict) -> None:
    out = Path(cfg.results_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.json").write_text(json.dumps(result, indent=1))
    if result["table"]:
        (out / "table.md").write_text(format_table(result) + "\n")
        plot(result, out / "relative.png")
