"""Summarise training/scripts/ablation.sh: test-split recall per variant and the gradient-norm
measurements from each run's metrics.jsonl, as a Markdown table.

    python ablation_summary.py OUT VARIANT...
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path


def _records(run: Path) -> list[dict]:
    return [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines() if x.strip()]


def _fmt(xs: list[float]) -> str:
    return f"{statistics.mean(xs):.3f} ± {statistics.pstdev(xs):.3f}"


def main(out: Path, variants: list[str]) -> str:
    rows = ["| variant | recall@50% test, mean ± std | per seed | prec@50% | recall@75% | mask rate (end) "
            "| max abs S (end) | anchor/recon grad norm on the pruner (median) | cos(recon, anchor) (median) |",
            "|---|---|---|---|---|---|---|---|---|"]
    tables = {}
    for v in variants:
        seeds = [json.loads((out / f"{v}.s{s}.test.json").read_text()) for s in (0, 1, 2)]
        tables[v] = seeds
        rec50 = [t["reconpruner"]["0.5"][0] for t in seeds]
        prec50 = [t["reconpruner"]["0.5"][1] for t in seeds]
        rec75 = [t["reconpruner"]["0.75"][0] for t in seeds]
        recs = [_records(out / "runs" / f"{v}_s{s}") for s in (0, 1, 2)]
        last = [[r for r in rs if "loss" in r][-1] for rs in recs]
        ratios = [r["grad_norm_anchor"] / r["grad_norm_recon"] for rs in recs for r in rs
                  if r.get("grad_norm_recon", 0) > 0 and "grad_norm_anchor" in r]
        coses = [r["grad_cos_recon_anchor"] for rs in recs for r in rs if "grad_cos_recon_anchor" in r]
        rows.append(
            f"| {v} | {_fmt(rec50)} | " + " / ".join(f"{x:.3f}" for x in rec50)
            + f" | {_fmt(prec50)} | {_fmt(rec75)} | "
            + " / ".join(f"{r['mask_rate']:.2f}" for r in last) + " | "
            + " / ".join(f"{r['score_absmax']:.2g}" for r in last) + " | "
            + (f"{statistics.median(ratios):.3g} (n={len(ratios)})" if ratios else "- (no anchor)") + " | "
            + (f"{statistics.median(coses):+.2f}" if coses else "-") + " |")
    base = tables[variants[0]][0]
    rows.append("")
    rows.append("Baselines on the same test frames, recall@50%: " + ", ".join(
        f"{m} {base[m]['0.5'][0]:.3f}" for m in ("divprune", "uniform", "random", "norm", "oracle")))
    return "\n".join(rows)


if __name__ == "__main__":
    print(main(Path(sys.argv[1]), sys.argv[2:]))
