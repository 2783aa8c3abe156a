"""Planning scenes: the plan is a function of the drawn content, objects change it, the draw is
balanced, the ground-truth plan never collides, and what decides the plan is visible in the image."""

from dataclasses import replace

import numpy as np
import pytest

from fastdrive_train.data.synthetic import render
from fastdrive_train.planning.scenes import (
    CRUISE, LAMP_COLORS, LAMP_HEIGHT, LOOKAHEAD, Light, Obstacle, _Camera, collides, footprints, make_planning_scene, plan_of,
    sample_content, scene_to_shapes, stop_line, trajectory, without_objects,
)


def _contents(n, seed=0):
    rng = np.random.default_rng(seed)
    return [sample_content(rng) for _ in range(n)]


def test_plan_depends_on_content_only():
    c = _contents(1, seed=3)[0]
    a = make_planning_scene(1, content=c)
    b = make_planning_scene(2, content=c)  # another noise draw of the same content
    assert a.plan == b.plan == plan_of(c)
    assert not np.array_equal(a.image, b.image)
    # Appearance alone (colours, buildings, trees) never changes the plan.
    assert plan_of(replace(c, style_seed=c.style_seed + 1)) == plan_of(c)


def test_lateral_plan_follows_the_road():
    c = replace(_contents(1, seed=4)[0], heading=0.02, curvature=0.002)
    lat = plan_of(c).lateral
    assert lat == pytest.approx([0.02 * z + 0.001 * z * z for z in LOOKAHEAD])
    traj = trajectory(np.array(lat), np.array(5.0))
    assert traj[:, 1] == pytest.approx([5.0, 10.0, 15.0])
    assert traj[:, 0] == pytest.approx([0.02 * z + 0.001 * z * z for z in (5.0, 10.0, 15.0)])


def test_objects_decide_the_plan():
    base = without_objects(replace(_contents(1, seed=5)[0], environment="rural"))
    free = plan_of(base)
    assert not free.stop and free.speed == CRUISE["rural"]
    x20 = float(base.lane_centre(20.0))
    lead = plan_of(replace(base, obstacles=(Obstacle("vehicle", x20, 20.0),)))
    assert not lead.stop and lead.speed == pytest.approx((20.0 - 4.0) / 3.0)
    # Whatever is in the ego lane: far away it slows the car by its distance, near it means stop.
    ped = plan_of(replace(base, obstacles=(Obstacle("pedestrian", x20, 20.0),)))
    assert not ped.stop and ped.speed == lead.speed
    x8 = float(base.lane_centre(8.0))
    for kind in ("pedestrian", "vehicle"):
        near = plan_of(replace(base, obstacles=(Obstacle(kind, x8, 8.0),)))
        assert near.stop and near.speed == 0
    beside = plan_of(replace(base, obstacles=(Obstacle("pedestrian", x20 + 3.5, 20.0), Obstacle("vehicle", x20 - 3.5, 20.0))))
    assert beside == free  # traffic in other lanes does not matter
    for state, stops in (("red", True), ("amber", True), ("green", False)):
        assert plan_of(replace(base, lights=(Light(x20 + 6, 20.0, state),))).stop is stops
    # The background decides the cruise speed.
    assert plan_of(replace(base, environment="urban")).speed == CRUISE["urban"]
    # On random scenes: every stop or slowdown goes away when the objects are removed.
    changed = 0
    for c in _contents(200, seed=6):
        p, q = plan_of(c), plan_of(without_objects(c))
        assert not q.stop and q.speed == CRUISE[c.environment] and q.lateral == p.lateral
        changed += p != q
    assert changed > 100


def test_draw_is_balanced():
    cs = _contents(600, seed=7)
    plans = [plan_of(c) for c in cs]
    stop = np.mean([p.stop for p in plans])
    blocked = np.mean([any(c.in_ego_lane(o) for o in c.obstacles) for c in cs])
    urban = np.mean([c.environment == "urban" for c in cs])
    slowed = np.mean([0 < p.speed < CRUISE[c.environment] for p, c in zip(plans, cs)])
    assert 0.35 < stop < 0.55 and 0.35 < blocked < 0.65 and 0.4 < urban < 0.6 and slowed > 0.15
    lights = [li.state for c in cs for li in c.lights]
    assert 0.35 < np.mean([s == "red" for s in lights]) < 0.55  # lights have states, not "a light is present"
    # Every lamp, lit or not, is inside the image: a light's state is never decided off screen.
    for c in cs:
        cam = _Camera(224, c.horizon)
        for li in c.lights:
            for h in LAMP_HEIGHT.values():
                u, v = cam(li.x, li.z, h)
                assert 0 <= u < 224 and 0 <= v < 224


def test_ground_truth_plan_never_collides_and_running_into_things_does():
    hits = 0
    for c in _contents(300, seed=8):
        p = plan_of(c)
        boxes, stop_z = footprints(c), stop_line(c)
        assert not collides(np.array(p.lateral), p.speed, boxes, stop_z)
        hits += collides(np.array(p.lateral), CRUISE["rural"], boxes, stop_z)
    assert hits > 60  # ignoring the scene (always cruising fast) collides or runs a light often


def test_what_decides_the_plan_is_drawn():
    c = without_objects(_contents(1, seed=9)[0])
    x = float(c.lane_centre(12.0))
    for state in ("red", "green"):
        cc = replace(c, lights=(Light(x + 5.0, 12.0, state),))
        image = np.asarray(render(scene_to_shapes(cc), 224, "image"))
        cam = _Camera(224, cc.horizon)
        u, v = cam(x + 5.0, 12.0, LAMP_HEIGHT["red"])  # the red lamp's centre
        assert tuple(image[int(v), int(u)]) == (LAMP_COLORS["red"] if state == "red" else (45, 45, 45))
    # A pedestrian in the ego lane shows in the foreground mask where the camera puts it.
    cc = replace(c, obstacles=(Obstacle("pedestrian", x, 12.0),))
    scene, empty = make_planning_scene(0, content=cc), make_planning_scene(0, content=c)
    cam = _Camera(224, c.horizon)
    u, v = cam(x, 12.0, 1.0)
    assert not np.array_equal(scene.image, empty.image)
    assert scene.mask[int(v), int(u)]


def test_masks_are_the_foreground_and_background_exists():
    for c in _contents(5, seed=10):
        shapes = scene_to_shapes(c)
        ids = np.asarray(render(shapes, 224, "ids"))
        mask = np.asarray(render(shapes, 224, "mask")) > 127
        assert np.array_equal(mask, np.array([s.foreground for s in shapes])[ids])
        labels = {s.label for s in shapes}
        assert ("building" in labels) == (c.environment == "urban")
        assert 0.2 < mask.mean() < 0.7


def test_generate_planning_writes_a_manifest_the_trainer_reads(tmp_path):
    import json

    from fastdrive_train.cli import main
    from fastdrive_train.data.manifest import ManifestDataset

    assert main(["generate", "--planning", "--out", str(tmp_path), "--count", "3", "--seed", "1", "--size", "64"]) == 0
    lines = [json.loads(x) for x in (tmp_path / "manifest.jsonl").read_text().splitlines()]
    rng = np.random.default_rng(1 * 1_000_003 + 2)
    assert lines[2]["plan"]["speed"] == plan_of(sample_content(rng)).speed
    assert len(ManifestDataset(tmp_path / "manifest.jsonl", size=64)) == 3
