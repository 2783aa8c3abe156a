"""The planning benchmark's pipeline at toy size (it checks the plumbing, not the numbers): positions
travel with kept tokens, the gate refuses an untrained planner, and the table has every policy ×
ratio with kept counts the ratios ask for."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from fastdrive_train.encoders import PatchEncoder
from fastdrive_train.planning.benchmark import BenchConfig, format_table, plan_metrics, run
from fastdrive_train.planning.planner import Planner, PlannerConfig
from fastdrive_train.planning.policies import SelectPolicy, Selector, default_policies
from fastdrive_train.planning.tokens import cached_scenes

ROOT = Path(__file__).resolve().parents[2]
WEIGHTS = ROOT / "models" / "reconpruner-small.safetensors"


def test_positions_travel_with_tokens():
    torch.manual_seed(0)
    model = Planner(PlannerConfig()).eval()
    tokens = torch.randn(2, 196, 128)
    pos = torch.arange(196).expand(2, 196)
    perm = torch.randperm(196)
    a = model(tokens, pos)
    b = model(tokens[:, perm], pos[:, perm])
    assert torch.allclose(a[0], b[0], atol=1e-5) and torch.allclose(a[1], b[1], atol=1e-5)
    # Dropping tokens is not the same as moving the kept ones to the first positions.
    keep = torch.arange(0, 196, 2)
    c = model(tokens[:, keep], pos[:, keep])[0]
    d = model(tokens[:, keep], pos[:, : len(keep)])[0]
    assert not torch.allclose(c, d, atol=1e-3)


def test_fastv_attention_is_a_distribution_over_kept_tokens():
    model = Planner(PlannerConfig()).eval()
    tokens = np.random.default_rng(0).normal(size=(3, 49, 128)).astype(np.float32)
    y, p, att = model.predict(tokens, np.broadcast_to(np.arange(0, 196, 4), (3, 49)), attention=True)
    assert y.shape == (3, 4) and p.shape == (3,) and att.shape == (3, 49)
    assert np.allclose(att.sum(axis=1), 1.0, atol=1e-5)


@pytest.fixture(scope="module")
def small_sets(tmp_path_factory):
    cache = tmp_path_factory.mktemp("planning")
    enc = PatchEncoder(128, 16, seed=1234)
    return cache, cached_scenes(cache, 24, 5, enc, size=224), enc


def test_cache_is_reused_and_labels_are_consistent(small_sets):
    cache, ts, enc = small_sets
    again = cached_scenes(cache, 24, 5, enc, size=224)
    assert np.array_equal(ts.tokens, again.tokens) and len(list(cache.glob("*.npz"))) == 1
    assert ts.tokens.shape == (24, 196, 128) and ts.fg.shape == (24, 196)
    assert np.all(ts.targets[ts.stop, 3] == 0)
    # A perfect plan scores L2 0, no collision, every stop right.
    m = plan_metrics(ts.targets.copy(), ts.stop.astype(float), ts, ts.targets.var(axis=0))
    assert m["l2"] == pytest.approx(0, abs=1e-5) and m["collision"] == 0 and m["stop_acc"] == 1


def test_selection_runs_through_the_runtime(small_sets):
    _, ts, _ = small_sets
    sel = Selector(WEIGHTS)
    tokens = ts.tokens[:4]
    att = np.random.default_rng(1).random((4, 196))
    for pol in default_policies(WEIGHTS):
        kept = sel.select(pol, tokens, ts.fg[:4], 49, ts.grid, att)
        assert kept.shape == (4, 49)
        assert all(len(set(r)) == 49 and np.all(np.diff(r) > 0) for r in kept), pol.name
    # ReconPruner's row keeps the runtime's own top-K of its scores.
    from fastdrive_pruner import Pruner

    p = Pruner(str(WEIGHTS))
    scores = p.score(tokens[0].astype(np.float32), grid=ts.grid)
    assert np.array_equal(sel.select(SelectPolicy("r", "reconpruner", weights=str(WEIGHTS)), tokens[:1], ts.fg[:1], 49, ts.grid)[0],
                          p.topk(scores, 49))


def test_reduced_benchmark_end_to_end(tmp_path, small_sets):
    cache, _, _ = small_sets
    cfg = BenchConfig(cache_dir=str(cache), results_dir=str(tmp_path / "res"), weights=str(WEIGHTS), train_count=32,
                      test_count=24, train_seed=6, test_seed=5, planner_seeds=(0, 1), epochs=1, batch=16, workers=1)
    result = run(cfg, log=lambda m: None)
    assert not result["gate"]["passed"] and result["table"] == {}  # one epoch on 32 scenes cannot pass the gate
    cfg.force = True
    result = run(cfg, log=lambda m: None)
    names = [p.name for p in default_policies(WEIGHTS)]
    assert list(result["table"]) == names
    for name in names:
        assert set(result["table"][name]) == {str(r) for r in cfg.ratios}
        for r, m in result["table"][name].items():
            assert len(m["l2"]) == 2 and all(np.isfinite(m["l2"]))
            if float(r) == 0:
                assert m["relative"] == pytest.approx([100.0, 100.0])
    # The oracle keeps only foreground at 75 % pruning when there are that many foreground tokens.
    saved = json.loads((tmp_path / "res" / "latest.json").read_text())
    assert saved["table"]["oracle"]["0.75"]["fg_recall"][0] > saved["table"]["random"]["0.75"]["fg_recall"][0]
    assert "| 90 % | FastV |" in format_table(saved)
    assert (tmp_path / "res" / "table.md").is_file()


def test_dart_and_cdpruner_rows_are_the_published_rules(small_sets):
    """The DART and CDPruner rows run through the runtime's select and keep what the NumPy
    references of the published rules keep (CDPruner with the recall table's text-free relevance)."""
    from fastdrive_train import baselines

    _, ts, _ = small_sets
    sel = Selector(WEIGHTS)
    rows = {p.name: p for p in default_policies(WEIGHTS)}
    tokens = ts.tokens[:3]
    for name, ref in (("DART", baselines.dart), ("CDPruner", baselines.cdpruner)):
        for k in (20, 98):
            kept = sel.select(rows[name], tokens, ts.fg[:3], k, ts.grid)
            for i in range(len(tokens)):
                assert np.array_equal(kept[i], ref(tokens[i].astype(np.float32), k)), (name, k, i)


def test_output_weights_weigh_the_loss_and_equal_weights_are_the_plain_recipe(small_sets):
    """All-1 output weights train exactly the planner of the unweighted recipe (so its cached
    planners keep their names); weighting speed trains another one."""
    from fastdrive_train.planning.benchmark import planner_path
    from fastdrive_train.planning.planner import fit

    _, ts, _ = small_sets
    cfg = PlannerConfig(width=16, heads=2)
    plain = fit(ts, cfg, seed=0, epochs=2, batch=8)
    ones = fit(ts, cfg, seed=0, epochs=2, batch=8, output_weights=(1.0, 1.0, 1.0, 1.0))
    speed = fit(ts, cfg, seed=0, epochs=2, batch=8, output_weights=(1.0, 1.0, 1.0, 3.0))
    for (name, a), b, c in zip(plain.state_dict().items(), ones.state_dict().values(), speed.state_dict().values()):
        assert torch.equal(a, b), name
    assert any(not torch.equal(a, c) for a, c in zip(plain.state_dict().values(), speed.state_dict().values()))
    base = BenchConfig()
    assert planner_path(base, 0) != planner_path(BenchConfig(output_weights=(1.0, 1.0, 1.0, 3.0)), 0)
