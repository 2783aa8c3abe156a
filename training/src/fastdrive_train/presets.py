"""Named settings of the objective and decoder: `paper` (FastDriveVLA as written) and `recipe` (shipped).

A preset fixes what the objective *is*; scale (width, decoder depth, lr, steps, batch) stays the
caller's. The paper's own scale is `configs/full-qwen2.5-vl-3b.json`.
"""

from __future__ import annotations

from typing import Any

PRESETS: dict[str, dict[str, Any]] = {
    # Eq. 3-8 taken literally: threshold the raw score S at 0, straight-through mask, the zeroed
    # token sets straight into the decoder layers, a plain feed-forward head, L = 0.5·L_fore +
    # 0.5·L_back with L_x = 0.2·(1 − SSIM) + 0.8·MSE; no warm-up, no anchor.
    "paper": {
        "decoder_input": "zero",
        "decoder_head": "linear",
        "decoder_warmup": 0,
        "anchor_until": 0,
        "objective": {"score_norm": "none", "alpha": 0.5, "lam": 0.2, "recon_weight": 1.0, "anchor_weight": 0.0},
    },
    # What the shipped model was trained with (training/README.md): standardised threshold, affine
    # decoder input, sigmoid head, 100-step label-free decoder warm-up, polarity anchor (margin 2)
    # throughout. These are also TrainConfig's defaults.
    "recipe": {
        "decoder_input": "affine",
        "decoder_head": "sigmoid",
        "decoder_warmup": 100,
        "anchor_until": 0,
        "objective": {"score_norm": "standardize", "alpha": 0.5, "lam": 0.2, "recon_weight": 1.0,
                      "anchor_weight": 1.0, "anchor_margin": 2.0},
    },
}


def apply_preset(base: dict[str, Any], name: str) -> dict[str, Any]:
    """`base` (TrainConfig fields) with the preset's fields set; objective keys merged."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; one of {', '.join(PRESETS)}")
    out = dict(base)
    for key, value in PRESETS[name].items():
        out[key] = {**out.get(key, {}), **value} if key == "objective" else value
    return out
