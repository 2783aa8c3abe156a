"""Planning scenes: synthetic driving frames whose short-horizon plan is a function of what is drawn.

A scene is first a `SceneContent` in world coordinates (metres; x to the right of the ego car,
z ahead of it, a pinhole camera 1.5 m above the road), then a list of `Shape`s painted by the
default generator's `render`, so image, foreground mask and plan all come from one description.
The plan is computed from the content alone (`plan_of`), never from the random draw:

- lateral: the ego lane's centre x at 10, 20 and 30 m ahead (the road's heading and curvature);
- speed: the cruise speed of the surroundings (urban 8 m/s, rural 14 m/s — told apart only by
  background: buildings against trees and fields), capped so the 3-s horizon ends 4 m short of
  whatever is in the ego lane, and 0 when stopping;
- stop: something in the ego lane closer than STOP_DISTANCE (a pedestrian stepping out, a car
  braking hard), or a red or amber traffic light (lamps have states: one lit, two dark).

Whether an obstacle is a pedestrian or a vehicle does not enter the plan: a linear probe on the
frozen encoder's tokens at the object tells the two apart only 68 % of the time (77 % with the
surrounding tokens), against 99 % for a lamp's state, so a "stop for pedestrians" label was mostly
unlearnable noise for any planner on these tokens.

The obstacles' ground footprints go with every scene for a collision-style metric. The draw is
balanced: the ego lane is blocked (lead vehicle or pedestrian) in about half the scenes, and about
40 % of scenes are stops. The default scenes of `data.synthetic` are untouched.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ..data.synthetic import Shape, _greyish, _jitter, _rand_color, barrier, building, render, sky, tree

CAMERA_HEIGHT = 1.5  # m
FOCAL = 200.0  # px at 224 px; scaled with the image size
LANE_WIDTH = 3.5  # m
LOOKAHEAD = (10.0, 20.0, 30.0)  # m: where the lateral plan is read
HORIZON_S = (1.0, 2.0, 3.0)  # s: trajectory points
GAP = 4.0  # m kept to a lead vehicle at the end of the horizon
EGO_HALF_WIDTH = 0.9  # m
CRUISE = {"urban": 8.0, "rural": 14.0}  # m/s
VEHICLE_W, VEHICLE_L, VEHICLE_H = 1.8, 4.5, 1.5
PED_W, PED_H = 0.6, 1.75
STOP_LIGHTS = ("red", "amber")
STOP_DISTANCE = 10.0  # m: an obstacle in the ego lane nearer than this means stop
OUTPUTS = ("lat10", "lat20", "lat30", "speed")  # regressed plan outputs, in this order


@dataclass(frozen=True)
class Obstacle:
    """A vehicle or pedestrian standing on the ground: centre x, nearest z (m)."""

    kind: str  # "vehicle" | "pedestrian"
    x: float
    z: float
    color: tuple[int, int, int] = (128, 128, 128)

    @property
    def half_width(self) -> float:
        return (VEHICLE_W if self.kind == "vehicle" else PED_W) / 2

    @property
    def length(self) -> float:
        return VEHICLE_L if self.kind == "vehicle" else PED_W


@dataclass(frozen=True)
class Light:
    x: float
    z: float
    state: str  # "red" | "amber" | "green"


@dataclass(frozen=True)
class SceneContent:
    """Everything the plan depends on (and the appearance draws that it does not)."""

    heading: float  # ego lane centre x(z) = heading·z + curvature·z²/2
    curvature: float
    n_lanes: int
    ego_lane: int  # 0 = leftmost
    environment: str  # "urban" | "rural"
    horizon: float  # fraction of the image height
    obstacles: tuple[Obstacle, ...] = ()
    lights: tuple[Light, ...] = ()
    style_seed: int = 0  # colours, buildings, trees, signs: appearance only
    props: tuple = field(default=(), compare=False)  # (kind, x, z) roadside signs/barriers: no effect on the plan

    def lane_centre(self, z: np.ndarray | float) -> np.ndarray | float:
        return self.heading * z + 0.5 * self.curvature * np.square(z)

    def road_edges(self, z: np.ndarray | float) -> tuple:
        c = self.lane_centre(z)
        return c - (self.ego_lane + 0.5) * LANE_WIDTH, c + (self.n_lanes - self.ego_lane - 0.5) * LANE_WIDTH

    def in_ego_lane(self, o: Obstacle) -> bool:
        return abs(o.x - float(self.lane_centre(o.z))) < LANE_WIDTH / 2 + o.half_width - 0.3


@dataclass(frozen=True)
class Plan:
    lateral: tuple[float, float, float]  # m at LOOKAHEAD
    speed: float  # m/s
    stop: bool

    def vector(self) -> np.ndarray:
        return np.array([*self.lateral, self.speed], dtype=np.float32)


def plan_of(c: SceneContent) -> Plan:
    """The ground-truth plan: a function of the scene content only."""
    lateral = tuple(float(c.lane_centre(z)) for z in LOOKAHEAD)
    lead = [o.z for o in c.obstacles if c.in_ego_lane(o)]
    stop = any(z < STOP_DISTANCE for z in lead) or any(li.state in STOP_LIGHTS for li in c.lights)
    speed = CRUISE[c.environment]
    if stop:
        speed = 0.0
    elif lead:
        speed = float(np.clip((min(lead) - GAP) / HORIZON_S[-1], 0.0, speed))
    return Plan(lateral, speed, stop)  # type: ignore[arg-type]


def trajectory(lateral: np.ndarray, speed: np.ndarray, times=HORIZON_S) -> np.ndarray:
    """(..., 3 lateral), (...) speed → (..., T, 2) points (x, z) at `times`, along the lane centre
    that the lateral values define: x(z) = a·z + b·z² fitted through the origin (exact for a plan
    made by `plan_of`)."""
    z_look = np.asarray(LOOKAHEAD)
    basis = np.stack([z_look, z_look**2], axis=1)  # (3, 2)
    coef = np.linalg.lstsq(basis, np.moveaxis(np.asarray(lateral, dtype=np.float64), -1, 0).reshape(3, -1), rcond=None)[0]
    coef = coef.reshape(2, *np.shape(lateral)[:-1])
    z = np.asarray(speed, dtype=np.float64)[..., None] * np.asarray(times)  # (..., T)
    x = coef[0][..., None] * z + coef[1][..., None] * z**2
    return np.stack([x, z], axis=-1)


def footprints(c: SceneContent) -> np.ndarray:
    """(M, 4) obstacle boxes on the ground: x_min, x_max, z_min, z_max (m)."""
    return np.array([(o.x - o.half_width, o.x + o.half_width, o.z, o.z + o.length) for o in c.obstacles],
                    dtype=np.float32).reshape(-1, 4)


def stop_line(c: SceneContent) -> float:
    """z of the nearest red/amber light's stop line (m), or +inf when no light says stop."""
    zs = [li.z - 2.0 for li in c.lights if li.state in STOP_LIGHTS]
    return float(min(zs)) if zs else float("inf")


def collides(lateral: np.ndarray, speed: float, boxes: np.ndarray, stop_z: float, step: float = 0.5) -> bool:
    """Does the 3-s path (the ego's front, ±EGO_HALF_WIDTH) enter an obstacle's footprint or pass a
    stop line? The path is sampled every `step` metres from the ego's position."""
    reach = max(float(speed), 0.0) * HORIZON_S[-1]
    if reach <= 0:
        return False
    if reach > stop_z:
        return True
    if len(boxes) == 0:
        return False
    zs = np.arange(step, reach + 1e-9, step)
    zs = np.append(zs, reach)
    x = trajectory(np.asarray(lateral)[None], np.array([1.0]), times=zs)[0, :, 0]  # speed 1: z = time
    hit_x = (x[:, None] + EGO_HALF_WIDTH > boxes[None, :, 0]) & (x[:, None] - EGO_HALF_WIDTH < boxes[None, :, 1])
    hit_z = (zs[:, None] >= boxes[None, :, 2]) & (zs[:, None] <= boxes[None, :, 3])
    return bool((hit_x & hit_z).any())


# ----------------------------------------------------------------------------- random content


def sample_content(rng: np.random.Generator) -> SceneContent:
    """A random scene, balanced: lead vehicle in the ego lane p = 0.4, pedestrian in it p = 0.25,
    a traffic light p = 0.55 (red 45 %, amber 10 %, green 45 %), urban or rural 50/50. Lights stand
    where the camera sees their lamps (in frame, 11-22 m ahead)."""
    n_lanes = int(rng.integers(2, 4))
    base = SceneContent(
        heading=float(rng.uniform(-0.06, 0.06)), curvature=float(rng.uniform(-0.003, 0.003)), n_lanes=n_lanes,
        ego_lane=int(rng.integers(0, n_lanes)), environment=("urban" if rng.random() < 0.5 else "rural"),
        horizon=float(rng.uniform(0.40, 0.50)), style_seed=int(rng.integers(0, 2**31)),
    )
    obstacles: list[Obstacle] = []

    def lane_x(lane: int, z: float, jitter: float) -> float:
        return float(base.lane_centre(z)) + (lane - base.ego_lane) * LANE_WIDTH + float(rng.uniform(-jitter, jitter))

    if rng.random() < 0.4:  # lead vehicle
        z = float(rng.uniform(8, 45))
        obstacles.append(Obstacle("vehicle", lane_x(base.ego_lane, z, 0.4), z, _rand_color(rng)))
    others = [lane for lane in range(n_lanes) if lane != base.ego_lane]
    for _ in range(int(rng.integers(0, 4))):  # traffic in the other lanes
        z = float(rng.uniform(6, 60))
        obstacles.append(Obstacle("vehicle", lane_x(int(rng.choice(others)), z, 0.4), z, _rand_color(rng)))
    if rng.random() < 0.25:  # pedestrian crossing in the ego lane
        z = float(rng.uniform(5, 14))
        obstacles.append(Obstacle("pedestrian", lane_x(base.ego_lane, z, 1.2), z, _rand_color(rng)))
    if rng.random() < 0.3:  # pedestrian on another lane: no stop
        z = float(rng.uniform(5, 16))
        obstacles.append(Obstacle("pedestrian", lane_x(int(rng.choice(others)), z, 1.0), z, _rand_color(rng)))
    for _ in range(int(rng.integers(0, 4))):  # pedestrians on the verge
        z = float(rng.uniform(5, 40))
        left, right = base.road_edges(z)
        x = float(left - rng.uniform(0.6, 3.0)) if rng.random() < 0.5 else float(right + rng.uniform(0.6, 3.0))
        obstacles.append(Obstacle("pedestrian", x, z, _rand_color(rng)))
    lights = []
    if rng.random() < 0.55:
        z = float(rng.uniform(11, 22))
        left, right = base.road_edges(z)
        reach = 0.5 * z - 0.8  # the housing stays inside the image's side edges
        x = float(min(right + 0.8, reach)) if rng.random() < 0.6 else float(max(left - 0.8, -reach))
        u = rng.random()
        lights.append(Light(x, z, "red" if u < 0.45 else "amber" if u < 0.55 else "green"))
    props = []
    for _ in range(int(rng.integers(0, 3))):
        z = float(rng.uniform(8, 40))
        left, right = base.road_edges(z)
        x = float(left - rng.uniform(0.5, 2.0)) if rng.random() < 0.5 else float(right + rng.uniform(0.5, 2.0))
        props.append(("sign" if rng.random() < 0.6 else "barrier", x, z))
    return replace(base, obstacles=tuple(obstacles), lights=tuple(lights), props=tuple(props))


def without_objects(c: SceneContent) -> SceneContent:
    """The same road and surroundings with every vehicle, pedestrian, light and prop removed."""
    return replace(c, obstacles=(), lights=(), props=())


# ----------------------------------------------------------------------------- drawing


class _Camera:
    def __init__(self, size: int, horizon: float) -> None:
        self.s = float(size)
        self.f = FOCAL * size / 224.0
        self.yh = horizon * size

    def __call__(self, x, z, height=0.0):
        z = np.maximum(z, 1e-3)
        return self.s / 2 + self.f * np.asarray(x) / z, self.yh + self.f * (CAMERA_HEIGHT - np.asarray(height)) / z


def scene_to_shapes(c: SceneContent, size: int = 224) -> list[Shape]:
    """Back-to-front shapes: background (sky, buildings or trees, ground) then road and objects."""
    rng = np.random.default_rng(c.style_seed)
    cam = _Camera(size, c.horizon)
    s, yh = float(size), cam.yh
    shapes: list[Shape] = []
    sky(shapes, rng, yh, s)
    shapes.append(Shape("rectangle", (0, yh, s, s), _rand_color(rng), False, "ground"))
    if c.environment == "urban":  # a street of buildings with window grids, tall near the sides
        x = rng.uniform(-0.1, 0.0) * s
        while x < s:
            w = rng.uniform(0.08, 0.2) * s
            edge = min(abs(x - s / 2), abs(x + w - s / 2)) / (s / 2)
            h = rng.uniform(0.15, 0.3) * s * (1 + 1.5 * edge)
            building(shapes, rng, (x, yh - h, x + w, yh + 2 + 0.25 * edge * s), yh, s)
            x += w + rng.uniform(0.0, 0.03) * s
    else:  # fields, hills and trees
        for _ in range(int(rng.integers(1, 3))):
            cx, w, h = rng.uniform(0, s), rng.uniform(0.3, 0.7) * s, rng.uniform(0.04, 0.12) * s
            shapes.append(Shape("ellipse", (cx - w, yh - h, cx + w, yh + h), _rand_color(rng), False, "ground"))
        for _ in range(int(rng.integers(4, 9))):
            z = rng.uniform(8, 50)
            left, right = c.road_edges(z)
            tx = left - rng.uniform(2, 12) if rng.random() < 0.5 else right + rng.uniform(2, 12)
            (u, v), (_, top) = cam(tx, z), cam(tx, z, rng.uniform(4, 8))
            tree(shapes, rng, float(u), float(top), float(v), float(top), max(2.0, 0.35 * float(v - top)))

    # Road surface and lane markings (foreground).
    zs = np.geomspace(1.0, 90.0, 40)
    left, right = c.road_edges(zs)
    lu, lv = cam(left, zs)
    ru, rv = cam(right, zs)
    poly = [*zip(lu, lv), *zip(ru[::-1], rv[::-1])]
    shapes.append(Shape("polygon", tuple(float(v) for p in poly for v in p), _greyish(rng), True, "road"))
    lane_color = (235, 235, 235) if rng.random() < 0.6 else (230, 190, 40)
    phase = rng.uniform(0, 9)
    for li in range(1, c.n_lanes):
        for z0 in np.arange(1.5 + phase, 80, 9.0):
            zz = np.array([z0, z0 + 3.0])
            xm = c.lane_centre(zz) + (li - c.ego_lane - 0.5) * LANE_WIDTH
            ul, vl = cam(xm - 0.12, zz)
            ur, _ = cam(xm + 0.12, zz)
            ul, ur = np.minimum(ul, ur - 1.0), np.maximum(ur, ul + 1.0)  # at least 1 px wide
            shapes.append(Shape("polygon", (ul[0], vl[0], ur[0], vl[0], ur[1], vl[1], ul[1], vl[1]), lane_color, True, "road"))

    # Objects far to near so nearer ones occlude.
    items = [(o.z, "obstacle", o) for o in c.obstacles] + [(li.z, "light", li) for li in c.lights]
    items += [(p[2], "prop", p) for p in c.props]
    for _, what, obj in sorted(items, key=lambda t: -t[0]):
        if what == "obstacle":
            shapes.extend(_draw_obstacle(obj, cam, rng))
        elif what == "light":
            shapes.extend(_draw_light(obj, cam, rng))
        else:
            shapes.extend(_draw_prop(obj, cam, rng))
    return shapes


def _box(cam: _Camera, x0: float, x1: float, z: float, h0: float, h1: float) -> tuple[float, float, float, float]:
    (u0, v0), (u1, v1) = cam(x0, z, h0), cam(x1, z, h1)
    return float(u0), float(v1), float(u1), float(v0)


def _draw_obstacle(o: Obstacle, cam: _Camera, rng: np.random.Generator) -> list[Shape]:
    out: list[Shape] = []
    if o.kind == "vehicle":
        hw = VEHICLE_W / 2
        out.append(Shape("rectangle", _box(cam, o.x - hw, o.x + hw, o.z, 0.25, 0.95), o.color, True, "vehicle"))
        out.append(Shape("rectangle", _box(cam, o.x - 0.7 * hw, o.x + 0.7 * hw, o.z, 0.95, VEHICLE_H), _jitter(o.color, rng, 20), True, "vehicle"))
        out.append(Shape("rectangle", _box(cam, o.x - 0.6 * hw, o.x + 0.6 * hw, o.z, 1.0, 1.4), _rand_color(rng, 10, 90), True, "vehicle"))
        for wx in (o.x - 0.65 * hw, o.x + 0.65 * hw):
            out.append(Shape("ellipse", _box(cam, wx - 0.3, wx + 0.3, o.z, 0.0, 0.55), (25, 25, 25), True, "vehicle"))
        for lx in (o.x - 0.8 * hw, o.x + 0.8 * hw):  # tail lights
            out.append(Shape("rectangle", _box(cam, lx - 0.12, lx + 0.12, o.z, 0.7, 0.85), (200, 40, 30), True, "vehicle"))
    else:
        hw = PED_W / 2
        out.append(Shape("rectangle", _box(cam, o.x - hw, o.x + hw, o.z, 0.0, 0.85), _rand_color(rng), True, "pedestrian"))
        out.append(Shape("rectangle", _box(cam, o.x - hw, o.x + hw, o.z, 0.85, 1.5), o.color, True, "pedestrian"))
        out.append(Shape("ellipse", _box(cam, o.x - 0.6 * hw, o.x + 0.6 * hw, o.z, 1.5, PED_H), _rand_color(rng, 60, 230), True, "pedestrian"))
    return out


LAMP_COLORS = {"red": (235, 30, 30), "amber": (240, 190, 20), "green": (30, 220, 70)}
UNLIT = (45, 45, 45)
LAMP_HEIGHT = {"red": 5.55, "amber": 4.5, "green": 3.45}  # m, lamp centres


def _draw_light(li: Light, cam: _Camera, rng: np.random.Generator) -> list[Shape]:
    """Pole and housing with three lamps, only the state's lamp lit (drawn larger than life so a
    16-px token sees it)."""
    out = [Shape("rectangle", _box(cam, li.x - 0.1, li.x + 0.1, li.z, 0.0, 2.9), _greyish(rng), True, "sign")]
    out.append(Shape("rectangle", _box(cam, li.x - 0.65, li.x + 0.65, li.z, 2.9, 6.1), (25, 25, 25), True, "sign"))
    for k, state in enumerate(("red", "amber", "green")):
        h = LAMP_HEIGHT[state]
        col = LAMP_COLORS[state] if state == li.state else UNLIT
        out.append(Shape("ellipse", _box(cam, li.x - 0.5, li.x + 0.5, li.z, h - 0.5, h + 0.5), col, True, "sign"))
    return out


def _draw_prop(p: tuple, cam: _Camera, rng: np.random.Generator) -> list[Shape]:
    kind, x, z = p
    if kind == "sign":
        out = [Shape("rectangle", _box(cam, x - 0.06, x + 0.06, z, 0.0, 2.2), _greyish(rng), True, "sign")]
        out.append(Shape("ellipse", _box(cam, x - 0.45, x + 0.45, z, 2.0, 2.9), _rand_color(rng), True, "sign"))
        return out
    out = []
    barrier(out, rng, _box(cam, x - 1.0, x + 1.0, z, 0.0, 0.8), 5)
    return out


@dataclass(frozen=True)
class PlanningScene:
    image: np.ndarray  # (S, S, 3) uint8
    mask: np.ndarray  # (S, S) bool, foreground
    content: SceneContent
    plan: Plan


def make_planning_scene(seed: int, size: int = 224, noise: float = 6.0, content: SceneContent | None = None) -> PlanningScene:
    """One planning scene from `seed` (or the given content, drawn with noise from `seed`)."""
    rng = np.random.default_rng(seed)
    c = content if content is not None else sample_content(rng)
    shapes = scene_to_shapes(c, size)
    image = np.asarray(render(shapes, size, "image"), dtype=np.float32)
    mask = np.asarray(render(shapes, size, "mask")) > 127
    if noise > 0:
        image = image + rng.normal(0, noise, size=image.shape)
    return PlanningScene(np.clip(image, 0, 255).astype(np.uint8), mask, c, plan_of(c))


def write_planning_dataset(out_dir, count: int, seed: int = 0, size: int = 224):
    """Like `data.synthetic.write_dataset` (same manifest layout, so the trainer reads it), plus
    each scene's plan and obstacle footprints on its manifest line."""
    import json
    from pathlib import Path

    from PIL import Image

    out = Path(out_dir)
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / "masks").mkdir(parents=True, exist_ok=True)
    manifest = out / "manifest.jsonl"
    with manifest.open("w") as f:
        for i in range(count):
            sc = make_planning_scene(seed * 1_000_003 + i, size)
            name = f"{i:06d}.png"
            Image.fromarray(sc.image, "RGB").save(out / "images" / name)
            Image.fromarray((sc.mask * 255).astype(np.uint8), "L").save(out / "masks" / name)
            p = sc.plan
            f.write(json.dumps({"image": f"images/{name}", "mask": f"masks/{name}",
                                "plan": {"lateral": list(p.lateral), "speed": p.speed, "stop": p.stop},
                                "footprints": footprints(sc.content).tolist(), "stop_line": stop_line(sc.content) if np.isfinite(stop_line(sc.content)) else None}) + "\n")
    return manifest
