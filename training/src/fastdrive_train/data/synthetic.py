"""Synthetic driving scenes with exact foreground masks, written in the nuScenes-FG manifest layout."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

Color = tuple[int, int, int]


@dataclass(frozen=True)
class Shape:
    """One flat-coloured primitive. Scenes are painted back to front from a list of these, so the
    image, the foreground mask and an id map all come from the same geometry and cannot disagree."""

    kind: str  # "polygon" | "rectangle" | "ellipse"
    xy: tuple[float, ...]
    color: Color
    foreground: bool
    label: str


def _rand_color(rng: np.random.Generator, lo: int = 20, hi: int = 235) -> Color:
    """Any colour: every class draws from the same distribution, so colour alone says nothing."""
    return tuple(int(c) for c in rng.integers(lo, hi, size=3))  # type: ignore[return-value]


def _greyish(rng: np.random.Generator) -> Color:
    """A grey with a random tint (asphalt, concrete, overcast sky all overlap here)."""
    g = int(rng.integers(50, 200))
    return tuple(int(np.clip(g + t, 0, 255)) for t in rng.integers(-25, 26, size=3))  # type: ignore[return-value]


def _jitter(c: Color, rng: np.random.Generator, amount: int = 30) -> Color:
    return tuple(int(np.clip(v + rng.integers(-amount, amount + 1), 0, 255)) for v in c)  # type: ignore[return-value]


# Background and object pieces shared by every scene generator (the planning scenes draw with
# these too), each appending its shapes back to front and drawing its colours from `rng`.


def sky(shapes: list[Shape], rng: np.random.Generator, horizon: float, s: float) -> Color:
    """Sky above `horizon` as a vertical gradient in six bands, from a random (possibly grey or warm)
    colour; returns the top colour (clouds are tinted from it)."""
    sky_top, sky_bottom = (_greyish(rng) if rng.random() < 0.4 else _rand_color(rng)), _rand_color(rng)
    bands = 6
    for b in range(bands):
        t = b / (bands - 1)
        c = tuple(int(sky_top[i] * (1 - t) + sky_bottom[i] * t) for i in range(3))
        y0, y1 = horizon * b / bands, horizon * (b + 1) / bands
        shapes.append(Shape("rectangle", (0, y0, s, y1 + 1), c, False, "sky"))  # type: ignore[arg-type]
    return sky_top


def building(shapes: list[Shape], rng: np.random.Generator, box: tuple[float, float, float, float], windows_end: float,
             s: float) -> None:
    """A wall (x0, y0, x1, y1) with a grid of windows from its top down to row `windows_end`."""
    x0, y0, x1, y1 = box
    wall = _greyish(rng) if rng.random() < 0.5 else _rand_color(rng)
    shapes.append(Shape("rectangle", box, wall, False, "building"))
    win = _rand_color(rng)
    step = max(4.0, 0.035 * s)
    for wy in np.arange(y0 + step * 0.5, windows_end - step * 0.5, step):
        for wx in np.arange(x0 + step * 0.4, x1 - step * 0.6, step):
            shapes.append(Shape("rectangle", (wx, wy, wx + step * 0.5, wy + step * 0.5), win, False, "building"))


def tree(shapes: list[Shape], rng: np.random.Generator, x: float, trunk_top: float, trunk_bottom: float,
         canopy_y: float, r: float) -> None:
    """A trunk at column x and a canopy of three overlapping discs of radius r centred near canopy_y."""
    shapes.append(Shape("rectangle", (x - r * 0.15, trunk_top, x + r * 0.15, trunk_bottom), _rand_color(rng, 20, 120), False, "vegetation"))
    canopy = _rand_color(rng)
    for _ in range(3):
        ox, oy = rng.uniform(-0.6, 0.6) * r, rng.uniform(-0.4, 0.4) * r
        shapes.append(Shape("ellipse", (x + ox - r, canopy_y + oy - r, x + ox + r, canopy_y + oy + r), _jitter(canopy, rng), False, "vegetation"))


def barrier(shapes: list[Shape], rng: np.random.Generator, box: tuple[float, float, float, float], stripes: int) -> None:
    """A barrier filling box (x0, y0, x1, y1) with vertical stripes in two alternating colours."""
    x0, y0, x1, y1 = box
    a, b = _rand_color(rng), _rand_color(rng)
    w = x1 - x0
    for k in range(stripes):
        shapes.append(Shape("rectangle", (x0 + k * w / stripes, y0, x0 + (k + 1) * w / stripes, y1), a if k % 2 else b, True, "barrier"))


def scene_shapes(rng: np.random.Generator, size: int) -> list[Shape]:
    """A random scene as a back-to-front list of shapes (size×size pixels)."""
    s = float(size)
    shapes: list[Shape] = []
    horizon = s * rng.uniform(0.40, 0.55)

    sky_top = sky(shapes, rng, horizon, s)
    for _ in range(rng.integers(0, 3)):  # clouds
        cx, cy, r = rng.uniform(0, s), rng.uniform(0, horizon * 0.6), rng.uniform(0.04, 0.1) * s
        shapes.append(Shape("ellipse", (cx - 2 * r, cy - r, cx + 2 * r, cy + r), _jitter(sky_top, rng, 60), False, "sky"))

    # Buildings along the horizon, with window grids.
    x = rng.uniform(-0.1, 0.05) * s
    while x < s:
        w, h = rng.uniform(0.08, 0.22) * s, rng.uniform(0.1, 0.35) * s
        building(shapes, rng, (x, horizon - h, x + w, horizon + 2), horizon, s)
        x += w + rng.uniform(0.0, 0.08) * s

    # Ground beside the road (background: "everything else").
    shapes.append(Shape("rectangle", (0, horizon, s, s), _rand_color(rng), False, "ground"))

    # Road: a trapezoid from a vanishing area near the horizon to the bottom edge, with lanes.
    cx = s * rng.uniform(0.35, 0.65)
    top_w, bot_w = s * rng.uniform(0.08, 0.25), s * rng.uniform(0.7, 1.2)
    bot_cx = s * rng.uniform(0.4, 0.6)
    road = (cx - top_w / 2, horizon, cx + top_w / 2, horizon, bot_cx + bot_w / 2, s, bot_cx - bot_w / 2, s)
    shapes.append(Shape("polygon", road, _greyish(rng), True, "road"))
    lane_color = (235, 235, 235) if rng.random() < 0.6 else (230, 190, 40)
    n_lanes = int(rng.integers(1, 4))
    for li in range(1, n_lanes + 1):
        f = li / (n_lanes + 1)
        xt, xb = cx - top_w / 2 + f * top_w, bot_cx - bot_w / 2 + f * bot_w
        for d in np.linspace(0, 1, 7)[:-1]:  # dashes, wider near the camera
            t0, t1 = d + 0.02, d + 0.1
            ya, yb = horizon + t0 * (s - horizon), horizon + t1 * (s - horizon)
            xa, xb2 = xt + t0 * (xb - xt), xt + t1 * (xb - xt)
            hw = 0.5 + 3.0 * t1 * s / 224
            shapes.append(Shape("polygon", (xa - hw, ya, xa + hw, ya, xb2 + hw, yb, xb2 - hw, yb), lane_color, True, "road"))

    # Vegetation (background) on both sides: trunks and canopies.
    for _ in range(rng.integers(1, 5)):
        side = rng.choice([-1, 1])
        tx = (cx - top_w - rng.uniform(0.05, 0.4) * s) if side < 0 else (cx + top_w + rng.uniform(0.05, 0.4) * s)
        base = horizon + rng.uniform(0.0, 0.15) * s
        r = rng.uniform(0.04, 0.1) * s
        tree(shapes, rng, tx, base - 2 * r, base, base - 3 * r, r)

    # Foreground objects, sorted far to near so nearer ones occlude.
    objects = []
    for _ in range(rng.integers(2, 6)):
        objects.append(("vehicle", rng.uniform(0.15, 1.0)))
    for _ in range(rng.integers(0, 4)):
        objects.append(("pedestrian", rng.uniform(0.1, 1.0)))
    for _ in range(rng.integers(0, 3)):
        objects.append(("sign", rng.uniform(0.1, 0.9)))
    for _ in range(rng.integers(0, 3)):
        objects.append(("barrier", rng.uniform(0.2, 1.0)))
    objects.sort(key=lambda o: o[1])
    for kind, depth in objects:
        y = horizon + depth * (s - horizon)  # object's ground contact line
        scale = 0.15 + 0.85 * depth
        road_l = cx - top_w / 2 + depth * ((bot_cx - bot_w / 2) - (cx - top_w / 2))
        road_r = cx + top_w / 2 + depth * ((bot_cx + bot_w / 2) - (cx + top_w / 2))
        shapes.extend(_object(kind, rng, y, scale * s, road_l, road_r, s))
    return shapes


def _object(kind: str, rng: np.random.Generator, y: float, scale: float, road_l: float, road_r: float, s: float) -> list[Shape]:
    """Primitives of one foreground object standing at row y with apparent size `scale` pixels."""
    out: list[Shape] = []
    if kind == "vehicle":
        w, h = scale * rng.uniform(0.25, 0.4), scale * rng.uniform(0.15, 0.25)
        x = rng.uniform(road_l, max(road_l + 1, road_r - w))
        body = _rand_color(rng)
        out.append(Shape("rectangle", (x, y - h, x + w, y - 0.15 * h), body, True, "vehicle"))
        out.append(Shape("rectangle", (x + 0.15 * w, y - 1.5 * h, x + 0.85 * w, y - h), _jitter(body, rng, 20), True, "vehicle"))
        out.append(Shape("rectangle", (x + 0.2 * w, y - 1.4 * h, x + 0.8 * w, y - 1.05 * h), _rand_color(rng, 10, 90), True, "vehicle"))
        r = 0.12 * w
        for wx in (x + 0.2 * w, x + 0.8 * w):
            out.append(Shape("ellipse", (wx - r, y - 0.3 * h - r, wx + r, y - 0.3 * h + r), (25, 25, 25), True, "vehicle"))
    elif kind == "pedestrian":
        h = scale * rng.uniform(0.18, 0.28)
        x = rng.uniform(road_l - 0.1 * s, road_r + 0.1 * s)
        w = 0.28 * h
        out.append(Shape("rectangle", (x - w / 2, y - 0.8 * h, x + w / 2, y - 0.4 * h), _rand_color(rng), True, "pedestrian"))
        out.append(Shape("rectangle", (x - w / 2, y - 0.4 * h, x + w / 2, y), _rand_color(rng), True, "pedestrian"))
        hr = 0.11 * h
        out.append(Shape("ellipse", (x - hr, y - h, x + hr, y - 0.8 * h), _rand_color(rng, 60, 230), True, "pedestrian"))
    elif kind == "sign":
        h = scale * rng.uniform(0.3, 0.45)
        x = road_l - rng.uniform(0.0, 0.08) * s if rng.random() < 0.5 else road_r + rng.uniform(0.0, 0.08) * s
        pw = max(1.5, 0.03 * h)
        out.append(Shape("rectangle", (x - pw, y - h, x + pw, y), _greyish(rng), True, "sign"))
        r = 0.15 * h
        plate = _rand_color(rng)
        if rng.random() < 0.3:  # traffic light: box with three lamps
            out.append(Shape("rectangle", (x - r * 0.6, y - h - 2.4 * r, x + r * 0.6, y - h), (30, 30, 30), True, "sign"))
            for k, c in enumerate(((220, 30, 30), (230, 200, 30), (30, 200, 60))):
                cy = y - h - 2.0 * r + k * 0.75 * r
                out.append(Shape("ellipse", (x - 0.35 * r, cy - 0.3 * r, x + 0.35 * r, cy + 0.3 * r), c, True, "sign"))
        elif rng.random() < 0.5:
            out.append(Shape("ellipse", (x - r, y - h - r, x + r, y - h + r), plate, True, "sign"))
        else:
            out.append(Shape("polygon", (x - r, y - h + r * 0.6, x + r, y - h + r * 0.6, x, y - h - r * 1.2), plate, True, "sign"))
    elif kind == "barrier":
        w, h = scale * rng.uniform(0.3, 0.5), scale * rng.uniform(0.06, 0.1)
        x = rng.uniform(road_l - 0.1 * w, max(road_l, road_r - w))
        barrier(out, rng, (x, y - h, x + w, y), 6)
    return out


def render(shapes: list[Shape], size: int, mode: str = "image") -> Image.Image:
    """Paint shapes back to front: `image` (RGB), `mask` (L, 255 = foreground) or `ids` (I, shape index)."""
    if mode == "image":
        canvas = Image.new("RGB", (size, size), (0, 0, 0))
    elif mode == "mask":
        canvas = Image.new("L", (size, size), 0)
    elif mode == "ids":
        canvas = Image.new("I", (size, size), -1)
    else:
        raise ValueError(mode)
    draw = ImageDraw.Draw(canvas)
    for i, sh in enumerate(shapes):
        fill = sh.color if mode == "image" else (255 if sh.foreground else 0) if mode == "mask" else i
        if sh.kind == "polygon":
            draw.polygon(list(sh.xy), fill=fill)
        elif sh.kind == "rectangle":
            x0, y0, x1, y1 = sh.xy
            draw.rectangle((min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)), fill=fill)
        else:
            draw.ellipse(sh.xy, fill=fill)
    return canvas


def make_scene(seed: int, size: int = 224, noise: float = 6.0) -> tuple[Image.Image, Image.Image]:
    """(RGB image, L mask) for one scene; `noise` is the std of per-pixel sensor noise (0..255)."""
    rng = np.random.default_rng(seed)
    shapes = scene_shapes(rng, size)
    image = render(shapes, size, "image")
    mask = render(shapes, size, "mask")
    if noise > 0:
        arr = np.asarray(image, dtype=np.float32) + rng.normal(0, noise, size=(size, size, 3))
        image = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")
    return image, mask


def write_dataset(out_dir: str | Path, count: int, seed: int = 0, size: int = 224) -> Path:
    """Write `count` scenes as images/NNNNNN.png + masks/NNNNNN.png + manifest.jsonl; returns the manifest."""
    out = Path(out_dir)
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / "masks").mkdir(parents=True, exist_ok=True)
    manifest = out / "manifest.jsonl"
    with manifest.open("w") as f:
        for i in range(count):
            image, mask = make_scene(seed * 1_000_003 + i, size)
            name = f"{i:06d}.png"
            image.save(out / "images" / name)
            mask.save(out / "masks" / name)
            f.write(json.dumps({"image": f"images/{name}", "mask": f"masks/{name}"}) + "\n")
    return manifest
