"""convert-nuscenes on a hand-built nuScenes tree: boxes land where pinhole geometry puts them."""

import json

import numpy as np
import pytest
from PIL import Image

from fastdrive_train.cli import main
from fastdrive_train.data.manifest import ManifestDataset
from fastdrive_train.data.nuscenes import box_corners, convex_hull, quaternion_matrix

F, CX, CY, W, H = 80.0, 80.0, 45.0, 160, 90
# nuScenes' CAM_FRONT mounting: camera z (forward) = ego x, camera x (right) = -ego y, camera y (down) = -ego z.
CAM_FRONT = [0.5, -0.5, 0.5, -0.5]


def _write_tree(root, ego_yaw_deg=0.0):
    """One sample, one front camera 1.5 m above the ego origin, three annotations."""
    half = np.radians(ego_yaw_deg) / 2
    ego_rot = [float(np.cos(half)), 0.0, 0.0, float(np.sin(half))]
    ego_t = [100.0, 200.0, 0.0]
    R = quaternion_matrix(ego_rot)

    def world(p_ego):  # an ego-frame point in the global frame
        return (R @ np.asarray(p_ego) + np.asarray(ego_t)).tolist()

    tables = {
        "sensor": [{"token": "s_cam", "channel": "CAM_FRONT", "modality": "camera"},
                   {"token": "s_lidar", "channel": "LIDAR_TOP", "modality": "lidar"}],
        "calibrated_sensor": [
            {"token": "cs_cam", "sensor_token": "s_cam", "translation": [0.0, 0.0, 1.5], "rotation": CAM_FRONT,
             "camera_intrinsic": [[F, 0, CX], [0, F, CY], [0, 0, 1]]},
            {"token": "cs_lidar", "sensor_token": "s_lidar", "translation": [0, 0, 1.8], "rotation": [1, 0, 0, 0],
             "camera_intrinsic": []}],
        "ego_pose": [{"token": "pose", "translation": ego_t, "rotation": ego_rot}],
        "category": [{"token": "c_car", "name": "vehicle.car"}, {"token": "c_tree", "name": "static_object.bicycle_rack"},
                     {"token": "c_ped", "name": "human.pedestrian.adult"}],
        "instance": [{"token": "i_car", "category_token": "c_car"}, {"token": "i_rack", "category_token": "c_tree"},
                     {"token": "i_ped", "category_token": "c_ped"}],
        "sample_annotation": [
            # A 2 × 4 × 2 m car 10 m ahead, centred on the camera's axis (ego z = 1.5 m).
            {"token": "a1", "sample_token": "smp", "instance_token": "i_car", "translation": world([10.0, 0.0, 1.5]),
             "size": [2.0, 4.0, 2.0], "rotation": ego_rot},
            # Not foreground: a bicycle rack right in front.
            {"token": "a2", "sample_token": "smp", "instance_token": "i_rack", "translation": world([5.0, 3.0, 1.5]),
             "size": [1.0, 1.0, 1.0], "rotation": ego_rot},
            # A pedestrian behind the camera: never drawn.
            {"token": "a3", "sample_token": "smp", "instance_token": "i_ped", "translation": world([-8.0, 0.0, 1.5]),
             "size": [1.0, 1.0, 2.0], "rotation": ego_rot}],
        "sample_data": [
            {"token": "sd_cam", "sample_token": "smp", "ego_pose_token": "pose", "calibrated_sensor_token": "cs_cam",
             "filename": "samples/CAM_FRONT/frame.jpg", "width": W, "height": H, "is_key_frame": True},
            {"token": "sd_sweep", "sample_token": "smp", "ego_pose_token": "pose", "calibrated_sensor_token": "cs_cam",
             "filename": "sweeps/CAM_FRONT/frame.jpg", "width": W, "height": H, "is_key_frame": False},
            {"token": "sd_lidar", "sample_token": "smp", "ego_pose_token": "pose", "calibrated_sensor_token": "cs_lidar",
             "filename": "samples/LIDAR_TOP/x.pcd.bin", "width": 0, "height": 0, "is_key_frame": True}],
    }
    (root / "v1.0-mini").mkdir(parents=True)
    for name, rows in tables.items():
        (root / "v1.0-mini" / f"{name}.json").write_text(json.dumps(rows))
    (root / "samples/CAM_FRONT").mkdir(parents=True)
    Image.new("RGB", (W, H), (90, 90, 90)).save(root / "samples/CAM_FRONT/frame.jpg")


@pytest.mark.parametrize("yaw", [0.0, 37.0])
def test_box_silhouette_matches_pinhole_geometry(tmp_path, yaw):
    _write_tree(tmp_path / "nuscenes", ego_yaw_deg=yaw)
    assert main(["convert-nuscenes", "--dataroot", str(tmp_path / "nuscenes"), "--out", str(tmp_path / "fg")]) == 0
    lines = (tmp_path / "fg/manifest.jsonl").read_text().splitlines()
    assert len(lines) == 1  # the key-frame camera image only: no sweep, no lidar
    entry = json.loads(lines[0])
    mask = np.asarray(Image.open(tmp_path / "fg" / entry["mask"])) > 127
    ys, xs = np.nonzero(mask)
    # The car's near face is 8 m away and ±1 m wide/high: u, v within f·1/8 = 10 px of the centre.
    assert abs(xs.min() - (CX - 10)) <= 1 and abs(xs.max() - (CX + 10)) <= 1
    assert abs(ys.min() - (CY - 10)) <= 1 and abs(ys.max() - (CY + 10)) <= 1
    # Nothing else: the rack is not foreground, the pedestrian is behind the camera.
    assert mask.sum() == pytest.approx(21 * 21, rel=0.1)
    # The manifest is readable by the trainer's reader (mask size = image size, image RGB).
    item = ManifestDataset(tmp_path / "fg/manifest.jsonl")[0]
    assert item["image"].shape == (3, H, W) and item["mask"].shape == (1, H, W)


def test_box_straddling_the_camera_is_clipped_not_dropped():
    # A wall 4 m wide from 2 m behind to 6 m ahead of the camera, in camera coordinates.
    corners = box_corners([0.0, 0.0, 2.0], [2.0, 8.0, 4.0], [1.0, 0.0, 0.0, 0.0])  # x along length
    cam = np.vstack([corners[1], corners[2], corners[0]])  # ego->camera axes: x right, y down, z forward
    from fastdrive_train.data.nuscenes import silhouette

    hull = silhouette(cam, np.array([[F, 0, CX], [0, F, CY], [0, 0, 1]]))
    assert hull is not None and np.isfinite(hull).all()
    # At the 0.1 m near plane the ±1 m sides project to u = cx ± 800: wider than the image.
    assert hull[:, 0].min() == pytest.approx(CX - 800, rel=1e-6) and hull[:, 0].max() == pytest.approx(CX + 800, rel=1e-6)


def test_convex_hull_and_quaternion():
    pts = np.array([[0, 0], [2, 0], [2, 2], [0, 2], [1, 1], [1, 0]])
    assert sorted(map(tuple, convex_hull(pts).tolist())) == [(0, 0), (0, 2), (2, 0), (2, 2)]
    q = np.radians(90) / 2
    assert np.allclose(quaternion_matrix([np.cos(q), 0, 0, np.sin(q)]) @ [1, 0, 0], [0, 1, 0])
    assert np.allclose(quaternion_matrix(CAM_FRONT) @ [0, 0, 1], [1, 0, 0])  # camera forward = ego forward


def test_missing_table_is_named(tmp_path, capsys):
    (tmp_path / "v1.0-mini").mkdir()
    assert main(["convert-nuscenes", "--dataroot", str(tmp_path), "--out", str(tmp_path / "fg")]) == 1
    err = capsys.readouterr().err
    assert "sensor.json" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
