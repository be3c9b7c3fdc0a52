"""Reduced-size decoding: a training read decodes no larger than its augmentation needs."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from mattebench.data.decode import decode_at_least, read_image


def write(path: Path, image: np.ndarray) -> Path:
    assert cv2.imwrite(str(path), image)
    return path


@pytest.fixture
def frame(tmp_path: Path) -> np.ndarray:
    y, x = np.mgrid[0:270, 0:480]
    return np.dstack([x * 255 // 479, y * 255 // 269, (x + y) % 256]).astype(np.uint8)


@pytest.mark.parametrize(
    ("min_side", "shape"),
    [(None, (270, 480)), (270, (270, 480)), (135, (135, 240)), (100, (135, 240)), (34, (34, 60))],
)
def test_jpegs_decode_at_the_largest_reduction_that_keeps_min_side(
    tmp_path, frame, min_side, shape
):
    jpeg = write(tmp_path / "f.jpg", frame)
    with decode_at_least(min_side):
        rgb, gray = read_image(jpeg), read_image(jpeg, gray=True)
    assert rgb.shape == (*shape, 3) and gray.shape == shape
    full = cv2.resize(read_image(jpeg), shape[::-1], interpolation=cv2.INTER_AREA)
    assert np.abs(rgb.astype(int) - full).mean() < 3  # the same picture, smaller
    assert read_image(jpeg).shape == (270, 480, 3)  # outside the context: full size


def test_a_png_shrinks_to_the_size_its_jpeg_partner_decodes_at(tmp_path, frame):
    """A JPEG colour with a PNG alpha must stay pixel-aligned."""
    frame = frame[:269, :479]  # odd sizes: libjpeg rounds the reduced size up
    jpeg, png = write(tmp_path / "g.jpg", frame), write(tmp_path / "b.png", frame[..., 0])
    with decode_at_least(60):
        assert read_image(jpeg).shape[:2] == read_image(png, gray=True).shape == (68, 120)


def test_training_items_read_videomatte_frames_reduced(tmp_path, monkeypatch):
    from mattebench.data import CompositionDataset, bgmv2_augment
    from mattebench.data.samples import generate_videomatte_sample
    from mattebench.data.sources import BackgroundFolder, VideoMatteFrames

    root = generate_videomatte_sample(tmp_path / "vm", clips=1, frames=2, size=(288, 384))
    frames = VideoMatteFrames(root, "train").scan()
    backgrounds = BackgroundFolder(root / "Backgrounds" / "train").scan()
    seen = []
    original = VideoMatteFrames.__getitem__

    def spy(self, i):
        item = original(self, i)
        seen.append(item.pha.shape)
        return item

    monkeypatch.setattr(VideoMatteFrames, "__getitem__", spy)
    data = CompositionDataset(frames, backgrounds, bgmv2_augment(64), 64)
    assert data[0]["alpha"].shape == (1, 64, 64)
    assert seen == [(72, 96)]  # 1/4 of 288x384: the short side 72 is still >= 64
