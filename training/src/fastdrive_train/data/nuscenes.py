"""Convert a nuScenes release (the devkit's `v1.0-*` tables) into the manifest layout.

For every key-frame camera image, the 3-D boxes of the foreground categories are projected into
the image the way nuscenes-devkit does (`NuScenes.get_sample_data` + `view_points`): box corners
from the global frame to the ego frame at the image's timestamp, then to the camera, then through
the intrinsics. Each box's silhouette (the convex hull of its corners, clipped at the camera's
near plane) is filled into a one-channel mask written as `masks/<sample_data token>.png`, and a
manifest line points at the original JPEG in the dataroot.

What this mask is, and is not: boxes cover vehicles, pedestrians, barriers and traffic cones
(the default prefixes), as silhouettes of their boxes, so slightly larger than the objects.
nuScenes has no image-space annotation of roads, lanes, signs or traffic lights, which the paper's
nuScenes-FG masks (Grounded-SAM) include; add those from a segmenter or the map expansion's
`drivable_area` if the foreground should contain them. Only the JSON tables are read (no devkit,
no map API), so the conversion needs nothing beyond NumPy and Pillow.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

DEFAULT_CATEGORIES = ("vehicle.", "human.pedestrian.", "movable_object.barrier", "movable_object.trafficcone")
NEAR = 0.1  # metres in front of the camera: the devkit's `box_in_image` threshold


def quaternion_matrix(q: list[float]) -> np.ndarray:
    """Rotation matrix of a unit quaternion given as nuScenes stores it, [w, x, y, z]."""
    w, x, y, z = np.asarray(q, dtype=np.float64) / np.linalg.norm(q)
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
        [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
        [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
    ])


def box_corners(translation: list[float], size: list[float], rotation: list[float]) -> np.ndarray:
    """The 8 corners (3, 8) of a nuScenes box: size is [width, length, height], x along the length."""
    w, l, h = size
    x = l / 2 * np.array([1, 1, 1, 1, -1, -1, -1, -1])
    y = w / 2 * np.array([1, -1, -1, 1, 1, -1, -1, 1])
    z = h / 2 * np.array([1, 1, -1, -1, 1, 1, -1, -1])
    return quaternion_matrix(rotation) @ np.vstack([x, y, z]) + np.asarray(translation, dtype=np.float64)[:, None]


# Corner pairs joined by the box's 12 edges (index order of `box_corners`).
EDGES = [(0, 1), (1, 2), (2, 3), (3, 0), (4, 5), (5, 6), (6, 7), (7, 4), (0, 4), (1, 5), (2, 6), (3, 7)]


def silhouette(corners_cam: np.ndarray, intrinsic: np.ndarray) -> np.ndarray | None:
    """Image-plane convex hull (k, 2) of a box given in camera coordinates, or None if it is behind.

    Corners behind the near plane are replaced by where the box's edges cross it, so a box the
    camera is partly inside of still projects to the part in front.
    """
    pts = [corners_cam[:, i] for i in range(8) if corners_cam[2, i] >= NEAR]
    for a, b in EDGES:
        za, zb = corners_cam[2, a], corners_cam[2, b]
        if (za - NEAR) * (zb - NEAR) < 0:
            t = (NEAR - za) / (zb - za)
            pts.append(corners_cam[:, a] + t * (corners_cam[:, b] - corners_cam[:, a]))
    if len(pts) < 3:
        return None
    p = intrinsic @ np.stack(pts, axis=1)
    uv = (p[:2] / p[2:3]).T
    return convex_hull(uv)


def convex_hull(points: np.ndarray) -> np.ndarray:
    """Andrew's monotone chain; counter-clockwise hull of (n, 2) points."""
    pts = sorted(map(tuple, points))
    if len(pts) <= 2:
        return np.array(pts)

    def half(seq):
        out: list[tuple[float, float]] = []
        for p in seq:
            while len(out) >= 2 and ((out[-1][0] - out[-2][0]) * (p[1] - out[-2][1])
                                     - (out[-1][1] - out[-2][1]) * (p[0] - out[-2][0])) <= 0:
                out.pop()
            out.append(p)
        return out

    lower, upper = half(pts), half(reversed(pts))
    return np.array(lower[:-1] + upper[:-1])


def _table(root: Path, name: str) -> list[dict]:
    path = root / f"{name}.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: nuScenes table missing (is --version right?)")
    return json.loads(path.read_text())


def convert(dataroot: str | Path, version: str, out: str | Path,
            categories: tuple[str, ...] = DEFAULT_CATEGORIES, channels: tuple[str, ...] | None = None) -> Path:
    """Write `out/manifest.jsonl` and `out/masks/*.png` for the key-frame camera images of a release.

    `categories`: category-name prefixes that count as foreground. `channels`: camera channels to
    convert (default: every camera). Image paths in the manifest are relative to `out` when the
    two share a filesystem root, absolute otherwise. Returns the manifest path.
    """
    dataroot, out = Path(dataroot), Path(out)
    tables = dataroot / version
    by_token = lambda rows: {r["token"]: r for r in rows}  # noqa: E731
    sensors = by_token(_table(tables, "sensor"))
    calibrated = by_token(_table(tables, "calibrated_sensor"))
    poses = by_token(_table(tables, "ego_pose"))
    category = {r["token"]: r["name"] for r in _table(tables, "category")}
    instance_category = {r["token"]: category[r["category_token"]] for r in _table(tables, "instance")}
    boxes: dict[str, list[dict]] = {}
    for a in _table(tables, "sample_annotation"):
        if instance_category[a["instance_token"]].startswith(tuple(categories)):
            boxes.setdefault(a["sample_token"], []).append(a)

    (out / "masks").mkdir(parents=True, exist_ok=True)
    lines = []
    for sd in _table(tables, "sample_data"):
        cs = calibrated[sd["calibrated_sensor_token"]]
        sensor = sensors[cs["sensor_token"]]
        if not sd.get("is_key_frame") or sensor["modality"] != "camera":
            continue
        if channels is not None and sensor["channel"] not in channels:
            continue
        pose = poses[sd["ego_pose_token"]]
        r_ego, t_ego = quaternion_matrix(pose["rotation"]), np.asarray(pose["translation"], dtype=np.float64)
        r_cam, t_cam = quaternion_matrix(cs["rotation"]), np.asarray(cs["translation"], dtype=np.float64)
        intrinsic = np.asarray(cs["camera_intrinsic"], dtype=np.float64)
        mask = Image.new("L", (int(sd["width"]), int(sd["height"])), 0)
        draw = ImageDraw.Draw(mask)
        for box in boxes.get(sd["sample_token"], []):
            corners = box_corners(box["translation"], box["size"], box["rotation"])
            corners = r_ego.T @ (corners - t_ego[:, None])   # global -> ego
            corners = r_cam.T @ (corners - t_cam[:, None])   # ego -> camera
            hull = silhouette(corners, intrinsic)
            if hull is not None:
                draw.polygon([tuple(p) for p in hull], fill=255)
        mask_name = f"masks/{sd['token']}.png"
        mask.save(out / mask_name)
        image = (dataroot / sd["filename"]).resolve()
        try:
            image_ref = os.path.relpath(image, out.resolve())
        except ValueError:  # another drive (Windows): keep it absolute
            image_ref = str(image)
        lines.append(json.dumps({"image": image_ref, "mask": mask_name}))
    manifest = out / "manifest.jsonl"
    manifest.write_text("".join(line + "\n" for line in lines))
    return manifest
