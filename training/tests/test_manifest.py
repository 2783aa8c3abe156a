"""Manifest reader: formats, and clear errors (or skip-and-count) for bad entries."""

import json

import pytest
import torch
from PIL import Image

from fastdrive_train.data.manifest import ManifestDataset, ManifestError, token_labels


def _write(tmp_path, entries, name="manifest.jsonl"):
    p = tmp_path / name
    p.write_text("".join(json.dumps(e) + "\n" for e in entries))
    return p


def _pair(tmp_path, stem, size=(32, 32), mode="RGB", mask_size=None):
    Image.new(mode, size).save(tmp_path / f"{stem}.png")
    Image.new("L", mask_size or size, 255).save(tmp_path / f"{stem}_m.png")
    return {"image": f"{stem}.png", "mask": f"{stem}_m.png"}


def test_reads_generated_dataset(tiny_data):
    ds = ManifestDataset(tiny_data)
    item = ds[0]
    assert item["image"].shape == (3, 64, 64) and item["image"].dtype == torch.float32
    assert item["mask"].shape == (1, 64, 64) and set(item["mask"].unique().tolist()) <= {0.0, 1.0}
    assert 0.0 <= float(item["image"].min()) and float(item["image"].max()) <= 1.0


def test_csv_manifest(tmp_path):
    e = _pair(tmp_path, "a")
    p = tmp_path / "m.csv"
    p.write_text(f"image,mask\n{e['image']},{e['mask']}\n")
    assert len(ManifestDataset(p)) == 1


def test_missing_image_names_file(tmp_path):
    p = _write(tmp_path, [{"image": "nope.png", "mask": "nope_m.png"}])
    with pytest.raises(ManifestError, match="nope.png: image file not found"):
        ManifestDataset(p)


def test_wrong_mask_size_names_file(tmp_path):
    p = _write(tmp_path, [_pair(tmp_path, "a", mask_size=(16, 32))])
    with pytest.raises(ManifestError, match=r"a_m\.png: mask size 16x32 != image size 32x32"):
        ManifestDataset(p)


def test_non_rgb_image_names_file(tmp_path):
    p = _write(tmp_path, [_pair(tmp_path, "gray", mode="L")])
    with pytest.raises(ManifestError, match=r"gray\.png: image is L, expected RGB"):
        ManifestDataset(p)


def test_skip_bad_counts(tmp_path):
    good = _pair(tmp_path, "ok")
    p = _write(tmp_path, [good, {"image": "x.png", "mask": "y.png"}, _pair(tmp_path, "g", mode="L"), good])
    ds = ManifestDataset(p, skip_bad=True)
    assert len(ds) == 2 and len(ds.skipped) == 2
    assert [line for line, _ in ds.skipped.skipped] == [2, 3]


def test_malformed_line(tmp_path):
    p = tmp_path / "m.jsonl"
    p.write_text('{"image": "a.png"}\n')
    with pytest.raises(ManifestError, match=r"m\.jsonl:1"):
        ManifestDataset(p)


def test_token_labels_majority():
    mask = torch.zeros(1, 1, 4, 4)
    mask[0, 0, :2, :2] = 1  # token 0 fully fg
    mask[0, 0, 0, 2:] = 1  # token 1 half fg: not a majority
    assert token_labels(mask, 2).tolist() == [[1.0, 0.0, 0.0, 0.0]]
