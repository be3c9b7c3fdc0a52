"""Frame-by-frame evaluation (`ClipFeed`) and the one-frame-delay fix."""

import pytest
import torch

from mattebench.methods.clips import ClipFeed
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


def feedback(seen):
    """A temporal stand-in: records the previous alpha it gets and predicts it + 0.1."""

    def infer(frame, previous):
        prev = torch.zeros_like(frame["alpha"]) if previous is None else previous
        seen.append(prev.flatten()[0].item())
        return {"alpha": (prev + 0.1).clamp(0, 1)}

    return infer


def test_temporal_methods_get_their_own_previous_prediction():
    seen = []
    feed = ClipFeed(temporal=True, strict=True)
    scored = feed.step(clip_batch("a", [0, 1, 2]), feedback(seen))
    scored += feed.step(clip_batch("b", [7, 8]), feedback(seen))
    scored += feed.finish()
    assert seen == pytest.approx([0.0, 0.1, 0.2, 0.0, 0.1])  # reset at the new clip
    assert [clip for _, _, clip in scored] == ["s/a"] * 3 + ["s/b"] * 2


def test_strict_clip_evaluation_needs_every_frame_in_order():
    feed = ClipFeed(temporal=False, strict=True)
    infer = lambda frame, previous: {"alpha": frame["alpha"]}  # noqa: E731
    feed.step(clip_batch("a", [0, 1]), infer)
    with pytest.raises(ValueError, match="in order"):
        feed.step(clip_batch("a", [3]), infer)
    with pytest.raises(ValueError, match="clip_eval=false"):
        ClipFeed(temporal=False, strict=True).step({**clip_batch("a", [0]), "meta": [{}]}, infer)


def test_a_gap_or_a_still_image_restarts_the_feedback_without_dtssd():
    seen = []
    feed = ClipFeed(temporal=True, strict=False)
    scored = feed.step(clip_batch("a", [0, 1, 5, 6]), feedback(seen))
    scored += feed.step({**clip_batch("x", [0, 0]), "meta": [{"id": "p"}, {"id": "q"}]},
                        feedback(seen))  # fmt: skip
    assert seen == pytest.approx([0.0, 0.1, 0.0, 0.1, 0.0, 0.0])
    assert all(clip is None for _, _, clip in scored)  # broken sequences get no dtSSD


def test_ofd_is_applied_per_clip_and_flushed_at_the_end():
    values = iter([0.2, 0.9, 0.2, 0.5])
    infer = lambda frame, previous: {"alpha": torch.full_like(frame["alpha"], next(values))}  # noqa: E731
    feed = ClipFeed(temporal=False, strict=True, ofd=True)
    scored = feed.step(clip_batch("a", [0, 1, 2]), infer) + feed.step(clip_batch("b", [0]), infer)
    scored += feed.finish()
    shown = [pred["alpha"].flatten()[0].item() for pred, _, _ in scored]
    assert shown == pytest.approx([0.2, 0.2, 0.2, 0.5])
    assert [clip for _, _, clip in scored] == ["s/a"] * 3 + ["s/b"]
