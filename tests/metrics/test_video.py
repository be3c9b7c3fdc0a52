"""dtSSD: the RVM definition, streamed frame by frame."""

import numpy as np
import pytest
import torch

from mattebench.metrics import DtSSD
from mattebench.metrics import functional as F
from tests import oracle


def clip(seed: int, frames: int = 6, size: tuple[int, int] = (12, 16)):
    rng = np.random.default_rng(seed)
    target = rng.integers(0, 256, (frames, *size), dtype=np.uint8)
    pred = np.clip(target.astype(int) + rng.integers(-30, 30, target.shape), 0, 255).astype(
        np.uint8
    )
    return torch.from_numpy(pred)[:, None], torch.from_numpy(target)[:, None]


def test_a_hand_computed_clip():
    target = torch.zeros(3, 1, 2, 2)
    pred = torch.tensor([0.0, 0.2, 0.2])[:, None, None, None].expand(3, 1, 2, 2)
    # frame 0: 0; frame 1: sqrt(mean(0.2^2)) x 100 = 20; frame 2: 0 -> mean 20 / 3
    assert F.dtssd(pred, target).item() == pytest.approx(20 / 3)


def test_frames_streamed_one_by_one_equal_the_rvm_transcription():
    clips = [clip(seed) for seed in range(3)]
    metric = DtSSD()
    for name, (pred, target) in zip("abc", clips, strict=True):
        for t in range(len(pred)):
            metric.update(pred[t : t + 1], target[t : t + 1], clip_ids=name)
    expected = np.mean([oracle.rvm_dtssd(p[:, 0].numpy(), g[:, 0].numpy()) for p, g in clips])
    assert metric.compute().item() == pytest.approx(expected, rel=1e-9)


def test_interleaved_clips_in_a_batch_and_chunked_rows():
    (pa, ga), (pb, gb) = clip(0), clip(1)
    expected = np.mean(
        [oracle.rvm_dtssd(p[:, 0].numpy(), g[:, 0].numpy()) for p, g in [(pa, ga), (pb, gb)]]
    )
    interleaved = DtSSD()
    for t in range(len(pa)):  # each batch holds frame t of both clips
        interleaved.update(
            torch.cat([pa[t : t + 1], pb[t : t + 1]]),
            torch.cat([ga[t : t + 1], gb[t : t + 1]]),
            clip_ids=["a", "b"],
        )
    chunked = DtSSD()
    for start in (0, 3):  # B,T,1,H,W chunks of 3 frames
        sl = slice(start, start + 3)
        chunked.update(
            torch.stack([pa[sl], pb[sl]]), torch.stack([ga[sl], gb[sl]]), clip_ids=["a", "b"]
        )
    assert interleaved.compute().item() == pytest.approx(expected, rel=1e-9)
    assert chunked.compute().item() == pytest.approx(expected, rel=1e-9)


def test_a_clip_that_comes_back_is_an_error():
    (pa, ga), (pb, gb) = clip(0), clip(1)
    metric = DtSSD()
    metric.update(pa[:2], ga[:2], clip_ids="a")
    metric.update(pb[:2], gb[:2], clip_ids="b")
    with pytest.raises(ValueError, match="clip 'a' continues"):
        metric.update(pa[2:], ga[2:], clip_ids="a")


def test_reset_forgets_open_clips():
    pred, target = clip(0)
    metric = DtSSD()
    metric.update(pred[:3], target[:3], clip_ids="a")
    metric.reset()
    metric.update(pred[3:], target[3:], clip_ids="a")  # a fresh clip: frame 3 scores 0
    expected = oracle.rvm_dtssd(pred[3:, 0].numpy(), target[3:, 0].numpy())
    assert metric.compute().item() == pytest.approx(expected, rel=1e-9)


def test_clip_id_count_must_match():
    pred, target = clip(0)
    with pytest.raises(ValueError, match="6 frames need 6 clip ids"):
        DtSSD().update(pred, target, clip_ids=["a", "b"])
