"""Clip evaluation and the one-frame-delay fix."""

import pytest
import torch

from mattebench.methods.clips import ClipEvaluator
from mattebench.metrics import DtSSD, MattingMetrics
from mattebench.postprocess import OneFrameDelay, one_frame_delay_fix


def frames(values):
    return [torch.full((1, 1, 2, 2), v) for v in values]


def test_ofd_replaces_a_single_frame_spike_only():
    prev, spike, following = frames([0.2, 0.9, 0.25])
    torch.testing.assert_close(one_frame_delay_fix(prev, spike, following), (prev + following) / 2)
    ramp = frames([0.2, 0.5, 0.8])  # steady motion: neighbours disagree, nothing is fixed
    torch.testing.assert_close(one_frame_delay_fix(*ramp), ramp[1])


def test_streaming_ofd_delays_by_one_and_keeps_the_ends():
    delay = OneFrameDelay()
    shown = []
    for n, alpha in enumerate(frames([0.2, 0.9, 0.2, 0.2])):
        shown += [a.flatten()[0].item() for a, _ in delay.push(alpha, n)]
        assert len(shown) == max(n, 0)  # frame n-1 is shown once frame n arrives
    shown += [a.flatten()[0].item() for a, _ in delay.flush()]
    assert shown == pytest.approx([0.2, 0.2, 0.2, 0.2])


def clip_batch(clip, indices, size=4):
    n = len(indices)
    return {
        "image": torch.rand(n, 3, size, size),
        "alpha": torch.zeros(n, 1, size, size),
        "trimap": torch.full((n, 1, size, size), 0.5),
        "prev_alpha": torch.ones(n, 1, size, size),  # ground truth that must NOT be used
        "meta": [{"source": "s", "clip": clip, "index": i} for i in indices],
    }


def test_temporal_methods_get_their_own_previous_prediction():
    seen = []

    def predict(frame):
        seen.append(frame["prev_alpha"].flatten()[0].item())
        return {"alpha": (frame["prev_alpha"] + 0.1).clamp(0, 1)}

    evaluator = ClipEvaluator(MattingMetrics(regions="unknown"), DtSSD(), temporal=True)
    evaluator.step(clip_batch("a", [0, 1, 2]), predict)
    evaluator.step(clip_batch("b", [7, 8]), predict)
    evaluator.finish()
    assert seen == pytest.approx([0.0, 0.1, 0.2, 0.0, 0.1])  # reset at the new clip
    # per clip: frames change by 0.1 each step while the GT is constant
    assert evaluator.dtssd.compute().item() == pytest.approx(((0 + 10 + 10) / 3 + 5) / 2)


def test_frames_must_come_in_order():
    evaluator = ClipEvaluator(MattingMetrics(regions="unknown"), DtSSD(), temporal=False)
    predict = lambda frame: {"alpha": frame["alpha"]}  # noqa: E731
    evaluator.step(clip_batch("a", [0, 1]), predict)
    with pytest.raises(ValueError, match="in order"):
        evaluator.step(clip_batch("a", [3]), predict)
