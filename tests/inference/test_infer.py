"""infer.py end to end on tiny inputs: images, folders and videos; plates, temporal feedback,
OFD, resuming, and the errors for bad input."""

from __future__ import annotations

import json
import logging

import cv2
import numpy as np
import pytest
import torch

from mattebench.errors import UserError
from mattebench.inference import io
from mattebench.inference.guides import Guide
from mattebench.inference.load import load_method
from mattebench.inference.task import infer
from mattebench.methods.modnet import MODNet
from tests.inference.conftest import SIZE, write_video

BGMV2 = ("model=bgmv2", "model.net.backbone=mobilenetv2")


def run(config, *overrides):
    return infer(config(*overrides, "device=cpu", "allow_random_weights=true"))


def test_image_gives_alpha_foreground_and_composite(config, inputs, tmp_path):
    folder = run(config, "model=modnet", f"input={inputs['image']}", f"output={tmp_path / 'out'}")
    for kind in ("alpha", "fgr", "composite"):
        image = cv2.imread(str(folder.frame_path(kind, "image")), cv2.IMREAD_UNCHANGED)
        assert image.shape[:2] == (SIZE, SIZE)
    assert json.loads((folder.root / "progress.json").read_text())["complete"]


def test_temporal_modnet_video_feeds_its_own_alpha_and_writes_videos(
    config, inputs, tmp_path, monkeypatch
):
    seen, given = [], []
    infer_frame = MODNet.infer

    def spy(self, batch, previous=None):
        seen.append(previous)
        pred = infer_frame(self, batch, previous)
        given.append(pred["alpha"].clone())
        return pred

    monkeypatch.setattr(MODNet, "infer", spy)
    out = tmp_path / "out"
    run(config, "model=modnet_temporal", f"input={inputs['video']}", f"output={out}", "ofd=true")
    assert len(seen) == 3
    assert seen[0] is None  # the first frame has no previous alpha: the method feeds zeros
    for previous, fed in zip(given, seen[1:], strict=False):
        torch.testing.assert_close(fed, previous.clamp(0, 1))
    assert all(io.FrameSource(out / f"{k}.mp4").count == 3 for k in ("alpha", "composite"))
    assert not (out / "alpha").exists()  # frames deleted after encoding (keep_frames=false)


def test_bgmv2_plate_of_another_size_is_resized_with_a_warning(config, inputs, tmp_path, caplog):
    out = tmp_path / "out"
    with caplog.at_level(logging.WARNING):
        folder = run(
            config, *BGMV2, f"input={inputs['folder']}", f"bgr={inputs['plate_small']}",
            f"output={out}", "batch_size=2", "background=blur",
        )  # fmt: skip
    assert "resizing" in caplog.text
    assert sorted(p.name for p in (out / "composite").iterdir()) == ["f0.png", "f1.png", "f2.png"]
    assert folder.frame_path("fgr", "f2").is_file()


def test_bgmv2_without_a_plate_says_how_to_give_one(config, inputs, tmp_path):
    with pytest.raises(ValueError, match="bgr=<image, folder or video>"):
        run(config, *BGMV2, f"input={inputs['image']}", f"output={tmp_path / 'out'}")


def test_unfinished_job_resumes_and_skips_done_frames(config, inputs, tmp_path, monkeypatch):
    out = tmp_path / "out"
    common = ("model=modnet", f"input={inputs['folder']}", f"output={out}")
    run(config, *common)
    record = json.loads((out / "progress.json").read_text())
    (out / "progress.json").write_text(json.dumps({**record, "complete": False}))
    (out / "alpha" / "f1.png").unlink()  # as if killed while writing frame f1
    calls = []
    predict = MODNet.predict
    monkeypatch.setattr(MODNet, "predict", lambda self, b: calls.append(1) or predict(self, b))
    run(config, *common)
    assert len(calls) == 1 and (out / "alpha" / "f1.png").is_file()


def test_existing_output_is_refused_unless_overwrite(config, inputs, tmp_path):
    out = tmp_path / "out"
    common = ("model=modnet", f"input={inputs['image']}", f"output={out}")
    run(config, *common)
    with pytest.raises(FileExistsError, match="overwrite=true"):
        run(config, *common)
    run(config, *common, "overwrite=true")


def test_unreadable_image_is_a_clear_error(config, tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    with pytest.raises(ValueError, match="cannot read"):
        run(config, "model=modnet", f"input={bad}", f"output={tmp_path / 'out'}")


def test_video_without_frames_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match=r"no frames|cannot open"):
        io.FrameSource(write_video(tmp_path / "empty.mp4", 0))


def test_keep_audio_without_ffmpeg_fails_before_any_frame(config, inputs, tmp_path, monkeypatch):
    monkeypatch.setattr(io.shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="needs ffmpeg"):
        run(config, "model=modnet", f"input={inputs['video']}", f"output={tmp_path / 'o'}",
            "keep_audio=true")  # fmt: skip
    assert not (tmp_path / "o").exists()


def test_trimaps_are_quantised_or_grown_from_a_coarse_mask(tmp_path):
    grey = np.zeros((SIZE, SIZE), np.uint8)
    grey[:, 20:40], grey[:, 40:] = 128, 250  # lossy 255
    cv2.imwrite(str(tmp_path / "trimap.png"), grey)
    trimap = Guide(tmp_path / "trimap.png", "trimap").at(0, (SIZE, SIZE))
    assert set(np.unique(trimap)) == {0, 0.5, 1} and trimap[0, 30] == 0.5
    grown = Guide(tmp_path / "trimap.png", "trimap", from_mask=True, band=3).at(5, (32, 32))
    assert grown.shape == (32, 32) and set(np.unique(grown)) == {0, 0.5, 1}


def test_checkpoint_of_ours_loads_strictly(config, tmp_path):
    method = load_method(config("model=modnet", "input=x", "output=y").model)
    torch.save({"state_dict": method.state_dict()}, tmp_path / "last.ckpt")
    loaded = load_method(
        config("model=modnet", "input=x", "output=y").model, tmp_path / "last.ckpt"
    )
    torch.testing.assert_close(loaded.state_dict(), method.state_dict())
    with pytest.raises(RuntimeError, match="does not fit"):
        load_method(
            config("model=modnet_temporal", "input=x", "output=y").model, tmp_path / "last.ckpt"
        )


def test_untrained_network_is_refused_without_allow_random_weights(config, inputs, tmp_path):
    out = tmp_path / "out"
    cfg = config(*BGMV2, f"input={inputs['image']}", f"output={out}", f"bgr={inputs['plate']}")
    with pytest.raises(UserError, match=r"no weights.*allow_random_weights=true"):
        infer(cfg)
    assert not out.exists()


def test_overwrite_never_touches_files_infer_did_not_write(config, inputs, tmp_path):
    out = tmp_path / "out"
    common = (*BGMV2, f"input={inputs['video']}", f"bgr={inputs['plate']}", f"output={out}")
    run(config, *common)
    mine = out / "alpha" / "notes.txt"  # the user's file in an output subfolder
    mine.parent.mkdir()
    mine.write_text("keep me")
    run(config, *common, "overwrite=true")
    assert mine.read_text() == "keep me"
    assert not (out / "alpha" / "000000.png").exists()  # our own frames were still removed
    listed = json.loads((out / "progress.json").read_text())["files"]
    assert "alpha.mp4" in listed and "alpha/notes.txt" not in listed


def test_overwrite_refuses_to_replace_a_file_of_the_users(config, inputs, tmp_path):
    out = tmp_path / "out"
    (out / "alpha").mkdir(parents=True)
    cv2.imwrite(str(out / "alpha" / "image.png"), np.zeros((4, 4), np.uint8))
    common = (*BGMV2, f"input={inputs['image']}", f"bgr={inputs['plate']}", f"output={out}")
    with pytest.raises(FileExistsError, match=r"did not write.*alpha/image\.png"):
        run(config, *common, "overwrite=true")
    assert cv2.imread(str(out / "alpha" / "image.png")).shape[:2] == (4, 4)
