"""Synthetic scenes: the mask is exactly the visible foreground geometry, and the data look right."""

import numpy as np
import pytest

from fastdrive_train.data.synthetic import make_scene, render, scene_shapes

FG = {"road", "vehicle", "pedestrian", "sign", "barrier"}
BG = {"sky", "building", "ground", "vegetation"}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mask_matches_drawn_objects(seed):
    rng = np.random.default_rng(seed)
    shapes = scene_shapes(rng, 96)
    ids = np.asarray(render(shapes, 96, "ids"))
    mask = np.asarray(render(shapes, 96, "mask")) > 127
    image = np.asarray(render(shapes, 96, "image"))
    assert (ids >= 0).all(), "every pixel is painted"
    fg_flag = np.array([s.foreground for s in shapes])
    # The mask is foreground exactly where the topmost shape is a foreground one ...
    assert np.array_equal(mask, fg_flag[ids])
    # ... and the image shows that shape's colour there (noise off).
    colors = np.array([s.color for s in shapes])
    assert np.array_equal(image, colors[ids])
    for s in shapes:
        assert s.foreground == (s.label in FG) and (s.label in FG | BG)


def test_scene_statistics_and_determinism():
    fractions = []
    for seed in range(20):
        image, mask = make_scene(seed, 224)
        assert image.mode == "RGB" and mask.mode == "L" and image.size == mask.size == (224, 224)
        tok = (np.asarray(mask) > 127).reshape(14, 16, 14, 16).mean(axis=(1, 3)) > 0.5
        fractions.append(tok.mean())
    assert 0.2 < np.mean(fractions) < 0.45
    a, b = make_scene(5), make_scene(5)
    assert np.array_equal(np.asarray(a[0]), np.asarray(b[0]))


def test_colour_alone_does_not_separate():
    # Mean colour of fg and bg primitives overlaps: a colour threshold cannot split them.
    fg, bg = [], []
    for seed in range(30):
        for s in scene_shapes(np.random.default_rng(seed), 224):
            (fg if s.foreground else bg).append(s.color)
    fg, bg = np.array(fg, float), np.array(bg, float)
    for c in range(3):
        lo, hi = np.percentile(fg[:, c], [10, 90])
        inside = ((bg[:, c] > lo) & (bg[:, c] < hi)).mean()
        assert inside > 0.5
