"""Readers: the VideoMatte240K frame and video layouts, background folders, and their errors."""

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from mattebench.data.sources import (
    BackgroundFolder,
    CorruptImageError,
    DatasetLayoutError,
    DatasetNotFoundError,
    VideoMatteFrames,
    VideoMatteVideos,
    read_image,
)


@pytest.fixture
def sample_copy(sample_root: Path, tmp_path: Path) -> Path:
    """A writable copy of the train split, for tests that break it."""
    shutil.copytree(sample_root / "train", tmp_path / "vm" / "train")
    return tmp_path / "vm"


def test_frames_reader_reads_the_sample(sample_root):
    source = VideoMatteFrames(sample_root, "train")
    assert len(source) == 7 * 8  # 4 validation and 3 training clips
    fgr, pha, meta = source[9]
    assert fgr.shape == (288, 384, 3) and fgr.dtype == np.uint8
    assert pha.shape == (288, 384) and pha.dtype == np.uint8
    assert meta == {
        "source": "videomatte240k/train",
        "id": "0001/00001",
        "clip": "0001",
        "frame": "00001",
    }
    stored = cv2.imread(str(sample_root / "train/fgr/0001/00001.jpg"))
    np.testing.assert_array_equal(fgr, stored[..., ::-1])  # RGB


def test_frames_are_grouped_by_clip_in_frame_order(sample_root):
    source = VideoMatteFrames(sample_root, "test")
    assert list(source.by_clip) == ["0000", "0001", "0002", "0003"]
    frames = [source[i].meta["frame"] for i in source.by_clip["0002"]]
    assert frames == [f"{t:05d}" for t in range(8)]


def test_clips_are_selected_by_name_or_by_yaml_integer(sample_root):
    only = VideoMatteFrames(sample_root, "train", clips=[1, "0003"])
    assert list(only.by_clip) == ["0001", "0003"] and len(only) == 16
    without = VideoMatteFrames(sample_root, "train", exclude_clips=["0000", 2])
    assert list(without.by_clip) == ["0001", "0003", "0004", "0005", "0006"]
    with pytest.raises(DatasetLayoutError, match="0042"):
        VideoMatteFrames(sample_root, "train", clips=[42]).scan()


def test_a_missing_dataset_is_found_out_on_scan_with_a_helpful_message(tmp_path):
    root = tmp_path / "VideoMatte240K_JPEG_SD"
    source = VideoMatteFrames(root, "train", sample_config="videomatte_sample")  # no disk access
    with pytest.raises(DatasetNotFoundError) as error:
        len(source)
    message = str(error.value)
    assert isinstance(error.value, FileNotFoundError)
    assert str(root / "train" / "fgr") in message
    assert "train/fgr/0000/00000.jpg" in message  # the expected layout
    assert "grail.cs.washington.edu" in message  # where it is published
    assert "videomatte_sample" in message


def test_a_frame_without_its_partner_is_an_error_naming_it(sample_copy):
    (sample_copy / "train/pha/0001/00002.jpg").unlink()
    (sample_copy / "train/fgr/0003/00005.jpg").unlink()
    with pytest.raises(DatasetLayoutError) as error:
        VideoMatteFrames(sample_copy, "train").scan()
    assert "0001/00002 (fgr only)" in str(error.value)
    assert "0003/00005 (pha only)" in str(error.value)


def test_a_clip_without_its_partner_is_an_error_naming_it(sample_copy):
    shutil.rmtree(sample_copy / "train/pha/0002")
    with pytest.raises(DatasetLayoutError, match=r"only in fgr: \[0002\]"):
        VideoMatteFrames(sample_copy, "train").scan()


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_a_corrupt_image_is_an_error_naming_the_file(sample_copy, damage):
    path = sample_copy / "train/fgr/0000/00003.jpg"
    data = path.read_bytes()
    data = {"garbage": b"not a jpeg" * 10, "truncated": data[: len(data) // 2], "empty": b""}
    path.write_bytes(data[damage])
    source = VideoMatteFrames(sample_copy, "train")
    source[2]  # neighbours still read
    with pytest.raises(CorruptImageError, match=str(path)):
        source[3]


def test_read_image_ignores_exif_orientation_like_pil(tmp_path):
    rgb = np.zeros((4, 6, 3), np.uint8)
    rgb[0, 0] = (255, 0, 0)
    cv2.imwrite(str(tmp_path / "x.png"), rgb[..., ::-1])
    image = read_image(tmp_path / "x.png")
    np.testing.assert_array_equal(image, rgb)
    assert read_image(tmp_path / "x.png", gray=True).shape == (4, 6)


def write_video(path: Path, values: list[int], size=(48, 64)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, size[::-1])
    assert writer.isOpened()
    for v in values:
        writer.write(np.full((*size, 3), v, np.uint8))
    writer.release()


@pytest.fixture
def videos(tmp_path: Path) -> Path:
    """Two clips of flat frames whose brightness encodes the frame index."""
    for clip, n in (("0000", 5), ("0001", 3)):
        write_video(tmp_path / f"train/fgr/{clip}.mp4", [20 + 40 * t for t in range(n)])
        write_video(tmp_path / f"train/pha/{clip}.mp4", [250 - 40 * t for t in range(n)])
    return tmp_path


def test_video_reader_seeks_to_any_frame(videos):
    source = VideoMatteVideos(videos, "train")
    assert len(source) == 8
    assert source.by_clip == {"0000": range(0, 5), "0001": range(5, 8)}
    for i in (3, 0, 1, 2, 7, 4, 5):  # random access, then sequential reads
        clip, t = ("0000", i) if i < 5 else ("0001", i - 5)
        fgr, pha, meta = source[i]
        assert meta["clip"] == clip and meta["frame"] == f"{t:05d}"
        assert fgr.shape == (48, 64, 3) and pha.shape == (48, 64)
        assert abs(fgr.mean() - (20 + 40 * t)) < 6
        assert abs(pha.mean() - (250 - 40 * t)) < 6


def test_video_reader_survives_pickling_for_workers(videos):
    import pickle

    source = VideoMatteVideos(videos, "train")
    source[1]
    clone = pickle.loads(pickle.dumps(source))
    np.testing.assert_array_equal(clone[1].fgr, source[1].fgr)


def test_video_frame_counts_must_match(videos):
    write_video(videos / "train/pha/0001.mp4", [0, 0])
    with pytest.raises(DatasetLayoutError, match=r"0001 \(fgr 3 frames, pha 2\)"):
        VideoMatteVideos(videos, "train").scan()


def test_video_reader_missing_root(tmp_path):
    source = VideoMatteVideos(tmp_path / "nowhere", "test", sample_config="videomatte_sample")
    with pytest.raises(DatasetNotFoundError, match=r"train/fgr/0000\.mp4"):
        source.scan()


def test_background_folder_reads_any_tree_sorted(tmp_path):
    for name in ("b/2.png", "a.JPG", "b/1.jpeg", "c/d/0.jpg"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(tmp_path / name), np.zeros((8, 10, 3), np.uint8))
    (tmp_path / "notes.txt").write_text("not an image")
    source = BackgroundFolder(tmp_path)
    assert [source[i].meta["id"] for i in range(len(source))] == [
        "a.JPG",
        "b/1.jpeg",
        "b/2.png",
        "c/d/0.jpg",
    ]
    assert source[0].bgr.shape == (8, 10, 3)


def test_an_empty_background_folder_is_not_found(tmp_path):
    with pytest.raises(DatasetNotFoundError, match=r"no \.jpg/\.jpeg/\.png images"):
        BackgroundFolder(tmp_path, sample_config="videomatte_sample").scan()
