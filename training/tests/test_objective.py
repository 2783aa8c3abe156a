"""The training objective: STE gradients, score normalisation, SSIM, and the fg-only collapse on a toy."""

import numpy as np
import pytest
import torch
from skimage.metrics import structural_similarity

from fastdrive_train.decoder import fold_patches, unfold_image
from fastdrive_train.model import ReconModel
from fastdrive_train.objective import (
    ObjectiveConfig,
    normalise_scores,
    objective,
    polarity_anchor,
    recon_loss,
    ste_mask,
)
from fastdrive_train.pruner import ReconPruner


def test_ste_forward_is_binary_backward_is_identity():
    s = torch.tensor([[-2.0, -0.1, 0.3, 5.0]], requires_grad=True)
    m = ste_mask(s)
    assert m.tolist() == [[0.0, 0.0, 1.0, 1.0]]
    (m * torch.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    assert s.grad.tolist() == [[1.0, 2.0, 3.0, 4.0]]


def test_standardize_keeps_ranking_and_bounds_scale():
    s = torch.randn(3, 50) * 1e6 + 7.0
    z = normalise_scores(s, "standardize")
    assert torch.equal(s.argsort(dim=1), z.argsort(dim=1))
    assert torch.allclose(z.std(dim=1), torch.ones(3), atol=1e-4)
    assert torch.equal(normalise_scores(s, "none"), s)


def test_gradient_reaches_scorer_through_ste(tiny_cfg):
    torch.manual_seed(0)
    model = ReconModel(ReconPruner(tiny_cfg), decoder_layers=1, patch=8, obj=ObjectiveConfig(anchor_weight=0.0))
    tokens = torch.randn(2, 16, tiny_cfg.hidden_size)
    image = torch.rand(2, 3, 32, 32)
    mask = (torch.rand(2, 1, 32, 32) > 0.5).float()
    loss, stats, _ = model(tokens, (4, 4), image, mask)
    loss.backward()
    for name in ("scorer.weight", "query", "layer.self_attn.q_proj.weight"):
        g = dict(model.pruner.named_parameters())[name].grad
        assert g is not None and torch.isfinite(g).all() and g.abs().sum() > 0, name
    assert {"fore", "back", "mask_rate"} <= set(stats)


def test_anchor_only_sees_polarity():
    fg = torch.tensor([[1.0, 1.0, 0.0, 0.0]])
    right = torch.tensor([[1.0, 1.0, -1.0, -1.0]])
    assert polarity_anchor(right, fg, margin=1.0) == 0
    assert polarity_anchor(-right, fg, margin=1.0) == pytest.approx(3.0)
    # An image with no background gives no signal at all.
    assert polarity_anchor(right, torch.ones(1, 4), margin=1.0) == 0


def test_anchor_can_be_switched_off_per_batch(tiny_cfg):
    """`anchor_until`: after the cut-off the loss is the reconstruction alone, with or without masks."""
    torch.manual_seed(0)
    model = ReconModel(ReconPruner(tiny_cfg), decoder_layers=1, patch=8, obj=ObjectiveConfig(anchor_weight=1.0))
    tokens = torch.randn(2, 16, tiny_cfg.hidden_size)
    image = torch.rand(2, 3, 32, 32)
    mask = (torch.rand(2, 1, 32, 32) > 0.5).float()
    with_anchor, stats_on, _ = model(tokens, (4, 4), image, mask)
    without, stats_off, _ = model(tokens, (4, 4), image, mask, anchor=False)
    assert "anchor" in stats_on and "anchor" not in stats_off
    assert stats_on["anchor"] > 0  # a random pruner does not meet a 2σ margin
    assert torch.isclose(with_anchor - without, torch.tensor(stats_on["anchor"]), atol=1e-5)


def test_ssim_matches_scikit_image():
    rng = np.random.default_rng(0)
    a = rng.random((3, 48, 48)).astype(np.float32)
    b = np.clip(a + rng.normal(0, 0.1, a.shape), 0, 1).astype(np.float32)
    ref = structural_similarity(a, b, channel_axis=0, data_range=1.0, gaussian_weights=True, sigma=1.5,
                                use_sample_covariance=False, win_size=11)
    lam = 1.0  # pure SSIM term: loss = 1 - SSIM
    ours = 1.0 - float(recon_loss(torch.from_numpy(a)[None], torch.from_numpy(b)[None], lam))
    assert ours == pytest.approx(ref, abs=2e-3)


def test_fold_unfold_inverse():
    img = torch.rand(2, 3, 32, 48)
    assert torch.equal(fold_patches(unfold_image(img, 8), (4, 6), 8), img)


class _TokenDecoder(torch.nn.Module):
    """A per-token linear decoder: enough to learn to ignore one kind of token."""

    def __init__(self, d: int, patch: int) -> None:
        super().__init__()
        self.lin, self.patch = torch.nn.Linear(d, 3 * patch * patch), patch

    def forward(self, v, grid):
        return fold_patches(torch.sigmoid(self.lin(v)), grid, self.patch)


def _toy_run(alpha: float, score_norm: str, anchor: float, seed: int, steps: int = 150) -> tuple[float, float]:
    """Train a linear scorer + decoder on toy tokens (fg and bg in orthogonal subspaces).

    Returns (share of fg tokens with a positive normalised score, same for bg tokens)."""
    g = torch.Generator().manual_seed(seed)
    b, gh, gw, p, d = 16, 4, 4, 4, 16
    n = gh * gw
    fg = (torch.rand(b, n, generator=g) < 0.4).float()
    u = torch.rand(b, n, d // 2, generator=g) + 0.5
    tokens = torch.cat([u * fg[..., None], u * (1 - fg[..., None])], -1)
    pix = torch.sigmoid(tokens @ (torch.randn(d, 3 * p * p, generator=g) * 0.5))
    image = fold_patches(pix, (gh, gw), p)
    fg_pix = fold_patches(fg[..., None].expand(b, n, 3 * p * p), (gh, gw), p)[:, :1]
    torch.manual_seed(seed)
    scorer, dec = torch.nn.Linear(d, 1), _TokenDecoder(d, p)
    opt = torch.optim.Adam([*scorer.parameters(), *dec.parameters()], lr=0.05)
    cfg = ObjectiveConfig(alpha=alpha, score_norm=score_norm, anchor_weight=anchor, ssim_win=7)
    for _ in range(steps):
        loss, _, _ = objective(scorer(tokens).squeeze(-1), tokens, image, fg_pix, fg, dec, (gh, gw), cfg)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        kept = (normalise_scores(scorer(tokens).squeeze(-1), score_norm) > 0).float()
    return float((kept * fg).sum() / fg.sum()), float((kept * (1 - fg)).sum() / (1 - fg).sum())


def test_fg_only_collapses_to_keeping_everything():
    # The paper's ablation: with only the foreground branch, nothing penalises keeping background.
    fg_kept, bg_kept = _toy_run(alpha=1.0, score_norm="none", anchor=0.0, seed=0)
    assert fg_kept == 1.0 and bg_kept > 0.9


def test_adversarial_with_recipe_separates():
    fg_kept, bg_kept = _toy_run(alpha=0.5, score_norm="standardize", anchor=1.0, seed=0)
    assert fg_kept > 0.9 and bg_kept < 0.1
