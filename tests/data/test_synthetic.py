"""The generated VideoMatte240K sample: exact layout, determinism, atomic and lazy generation."""

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from mattebench.data.samples import videomatte as synthetic
from mattebench.data.samples.videomatte import ensure_videomatte_sample, generate_videomatte_sample
from mattebench.data.samples.writing import MARKER

SMALL = {"clips": 2, "test_clips": 2, "frames": 3, "size": (64, 96), "backgrounds": 2, "seed": 5}


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_default_sample_has_exactly_the_videomatte_frame_layout(sample_root):
    expected = {MARKER}
    for split, clips in (("train", 7), ("test", 4)):  # train: 4 validation + 3 training actors
        for kind in ("fgr", "pha"):
            expected |= {
                f"{split}/{kind}/{c:04d}/{t:05d}.jpg" for c in range(clips) for t in range(8)
            }
    for folder in ("train", "valid", "test"):
        expected |= {f"Backgrounds/{folder}/{i:04d}.jpg" for i in range(12)}
    # test sets built from this sample by other tests live beside it, under testsets/
    layout = {name for name in files(sample_root) if not name.startswith("testsets/")}
    assert layout == expected
    assert (sample_root / "train/fgr/0000/00000.jpg").is_file()
    assert (sample_root / "test/pha/0003/00007.jpg").is_file()
    fgr = cv2.imread(str(sample_root / "train/fgr/0000/00000.jpg"), cv2.IMREAD_UNCHANGED)
    pha = cv2.imread(str(sample_root / "train/pha/0000/00000.jpg"), cv2.IMREAD_UNCHANGED)
    assert fgr.shape == (288, 384, 3) and fgr.dtype == np.uint8
    assert pha.shape == (288, 384)


def test_alpha_has_soft_edges_and_semi_transparent_strands(sample_root):
    pha = cv2.imread(str(sample_root / "train/pha/0001/00004.jpg"), cv2.IMREAD_GRAYSCALE)
    soft = (pha > 12) & (pha < 243)
    assert soft.mean() > 0.01  # edges and hair, not a binary mask
    assert (pha > 243).mean() > 0.1 and (pha < 12).mean() > 0.3
    assert len(np.unique(pha)) > 100


def test_frames_move_within_a_clip(sample_root):
    first = cv2.imread(str(sample_root / "train/pha/0000/00000.jpg"), cv2.IMREAD_GRAYSCALE)
    last = cv2.imread(str(sample_root / "train/pha/0000/00007.jpg"), cv2.IMREAD_GRAYSCALE)
    assert np.abs(first.astype(int) - last).mean() > 1


def test_generation_is_deterministic(tmp_path):
    a = files(generate_videomatte_sample(tmp_path / "a", **SMALL))
    b = files(generate_videomatte_sample(tmp_path / "b", **SMALL))
    assert a == b
    c = files(generate_videomatte_sample(tmp_path / "c", **{**SMALL, "seed": 6}))
    assert c["train/fgr/0000/00000.jpg"] != a["train/fgr/0000/00000.jpg"]


def test_more_training_clips_leave_the_test_split_as_it_was(tmp_path):
    """The comparison's test sets are built from the test split: more training actors must not
    change a byte of it."""
    few = files(generate_videomatte_sample(tmp_path / "few", **SMALL))
    more = files(generate_videomatte_sample(tmp_path / "more", **{**SMALL, "clips": 4}))
    assert {n for n in more if n.startswith("train/fgr/")} == {
        f"train/fgr/{c:04d}/{t:05d}.jpg" for c in range(4) for t in range(3)
    }
    test_split = {n: data for n, data in few.items() if n.startswith(("test/", "Backgrounds/"))}
    assert test_split == {
        n: data for n, data in more.items() if n.startswith(("test/", "Backgrounds/"))
    }
    assert all(more[n] == data for n, data in few.items() if n.startswith("train/"))


def test_ensure_generates_once_and_regenerates_when_parameters_change(tmp_path):
    root = tmp_path / "sample"
    ensure_videomatte_sample(root, **SMALL)
    stamp = (root / "train/fgr/0000/00000.jpg").stat().st_mtime_ns
    (root / "untouched").write_text("still here")
    ensure_videomatte_sample(root, **SMALL)
    assert (root / "untouched").is_file()
    assert (root / "train/fgr/0000/00000.jpg").stat().st_mtime_ns == stamp

    ensure_videomatte_sample(root, **{**SMALL, "frames": 2})
    assert not (root / "untouched").exists()
    assert json.loads((root / MARKER).read_text())["frames"] == 2
    assert not (root / "train/fgr/0000/00002.jpg").exists()


def test_an_interrupted_generation_leaves_nothing_that_looks_complete(tmp_path, monkeypatch):
    root = tmp_path / "sample"
    calls = []

    def failing_write_clip(*args):
        calls.append(args)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_write_clip(*args)

    real_write_clip = synthetic._write_clip
    monkeypatch.setattr(synthetic, "_write_clip", failing_write_clip)
    with pytest.raises(KeyboardInterrupt):
        ensure_videomatte_sample(root, **SMALL)
    assert list(tmp_path.iterdir()) == []  # no root, no partial folder left behind

    monkeypatch.setattr(synthetic, "_write_clip", real_write_clip)
    ensure_videomatte_sample(root, **SMALL)
    assert (root / MARKER).is_file()


def test_a_folder_it_did_not_write_is_never_overwritten(tmp_path):
    root = tmp_path / "videomatte"
    (root / "train").mkdir(parents=True)
    with pytest.raises(FileExistsError, match="not a generated sample"):
        ensure_videomatte_sample(root, **SMALL)
    assert (root / "train").is_dir()


def test_configs_saved_before_the_samples_package_still_resolve():
    """Run configs written before the generators moved to `data.samples` name them under
    `data.sources`; the old names still resolve to the same functions."""
    from hydra.utils import get_method

    from mattebench.data import samples

    for name in samples.__all__:
        assert get_method(f"mattebench.data.sources.{name}") is getattr(samples, name)
    with pytest.raises(ImportError, match="ensure_nothing"):
        get_method("mattebench.data.sources.ensure_nothing")
