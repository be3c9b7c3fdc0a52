"""`prev_alpha` and training trimaps in the datamodule's items."""

import numpy as np
import torch

from mattebench.data import CompositionDataset, bgmv2_augment
from mattebench.data.decode import decode_at_least
from mattebench.data.temporal import PreviousAlpha
from mattebench.data.trimap import modnet_trimap


def dataset(sources, **kwargs) -> CompositionDataset:
    foregrounds, backgrounds = sources["train"], sources["train_backgrounds"]
    foregrounds.scan()
    backgrounds.scan()
    return CompositionDataset(
        foregrounds, backgrounds, bgmv2_augment(64), 64, seed=5, fixed=True, **kwargs
    )


def test_prev_alpha_is_the_previous_frame_under_the_same_geometry(sources):
    data = dataset(sources, prev_alpha=PreviousAlpha(empty_p=0.0, warp_p=0.0))
    clip = next(iter(data.foregrounds.by_clip.values()))
    i = clip[3]
    item = data[i]
    with decode_at_least(data.augment.min_source_side("foreground")):  # as training reads
        prev = data.foregrounds[i - 1]
    replay = np.random.default_rng([5, i])  # the fixed per-sample generator of item i,
    replay.integers(len(data.backgrounds))  # after its draw of a background
    expected = data.augment.foreground(prev.fgr, prev.pha, 64, replay)[1]
    torch.testing.assert_close(item["prev_alpha"][0], torch.from_numpy(expected))
    assert not torch.equal(item["prev_alpha"], item["alpha"])  # the figure moves


def test_clip_starts_get_zeros(sources):
    """No previous frame, no previous alpha (specs/modnet.md §5.1), even unperturbed."""
    data = dataset(sources, prev_alpha=PreviousAlpha(empty_p=0.0, warp_p=1.0))
    for clip in data.foregrounds.by_clip.values():
        first, second = data[clip[0]], data[clip[1]]
        assert first["prev_alpha"].shape == first["alpha"].shape
        assert first["prev_alpha"].abs().sum() == 0
        assert second["prev_alpha"].sum() > 0  # a real previous frame, warped


def test_empty_p_one_gives_zeros_everywhere(sources):
    data = dataset(sources, prev_alpha=PreviousAlpha(empty_p=1.0, warp_p=1.0))
    assert len(data) > 8
    for k in range(len(data)):
        item = data[k]
        assert item["alpha"].sum() > 0 and item["prev_alpha"].abs().sum() == 0


def test_image_sources_synthesise_a_prev_alpha_near_the_current_one(sources):
    """A source without clips has no frames: the previous alpha is the current one moved a
    little (Google's "learn to propagate" case)."""
    data = dataset(sources, prev_alpha=PreviousAlpha(empty_p=0.0, warp_p=0.0))
    data.foregrounds = list(data.foregrounds)  # the same frames, without `by_clip`
    first = data[0]
    overlap = (first["prev_alpha"] * first["alpha"]).sum() / first["alpha"].sum()
    assert 0.5 < overlap.item() < 1.0  # near the current alpha (a small affine), not equal


def test_modnet_training_trimaps(sources):
    item = dataset(sources, train_trimap=modnet_trimap)[0]  # the recipe MODNet declares
    assert set(torch.unique(item["trimap"]).tolist()) <= {0.0, 0.5, 1.0}
    fractional = (item["alpha"] > 0) & (item["alpha"] < 0.9)  # alpha >= 0.9 is foreground
    assert (item["trimap"][fractional] == 0.5).all()
    assert "prev_alpha" not in item
