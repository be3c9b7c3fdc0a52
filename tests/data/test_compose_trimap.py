"""The compositing formula and the BGMv2 test-protocol trimap."""

import cv2
import numpy as np
import pytest
import torch

from mattebench.data import composite, trimap_from_alpha
from mattebench.data.compose import cast_shadow


def test_composite_is_alpha_blend():
    g = torch.Generator().manual_seed(0)
    fgr, bgr = torch.rand(2, 3, 5, 7, generator=g), torch.rand(2, 3, 5, 7, generator=g)
    pha = torch.rand(2, 1, 5, 7, generator=g)
    expected = pha * fgr + (1 - pha) * bgr
    torch.testing.assert_close(composite(fgr, pha, bgr), expected)
    torch.testing.assert_close(composite(fgr, torch.ones_like(pha), bgr), fgr)
    torch.testing.assert_close(composite(fgr, torch.zeros_like(pha), bgr), bgr)
    a = np.float32([[0.25]])
    assert composite(np.float32([[1.0]]), a, np.float32([[0.0]]))[0, 0] == 0.25


def test_shadow_darkens_only_and_stays_in_range():
    bgr = torch.full((1, 3, 64, 64), 0.5)
    shadow = torch.zeros(1, 1, 64, 64)
    shadow[..., 20:40, 20:40] = 0.3
    out = cast_shadow(bgr, shadow, 9)
    assert (out <= bgr).all() and out.min() >= 0.2 - 1e-6
    assert out[..., 30, 30].allclose(torch.tensor(0.2)) and out[..., 0, 0].allclose(bgr[..., 0, 0])


def step(width: int = 60, edge: int = 30, ramp: int = 0) -> np.ndarray:
    """An 8-row alpha: 0 left of `edge`, 1 right of it, with a linear ramp of `ramp` px."""
    x = np.arange(width, dtype=np.float32)
    row = np.clip((x - edge + 1) / (ramp + 1), 0, 1)
    return np.repeat(row[None], 8, axis=0)


def test_a_hard_edge_gets_an_unknown_band_of_two_times_iterations():
    trimap = trimap_from_alpha(step())
    assert trimap.dtype == np.float32 and set(np.unique(trimap)) == {0.0, 0.5, 1.0}
    row = trimap[4]
    assert (row[:20] == 0).all() and (row[20:40] == 0.5).all() and (row[40:] == 1).all()


def test_thresholds_and_a_soft_ramp_widen_the_band():
    alpha = step(ramp=9)  # alpha 0.1, 0.2, ..., 0.9 at columns 30..38, 1 from 39
    assert trimap_from_alpha(alpha, iterations=0)[4, 29:40].tolist() == [0] + [0.5] * 9 + [1]
    row = trimap_from_alpha(alpha)[4]
    unknown = np.flatnonzero(row == 0.5)
    assert unknown.min() == 20 and unknown.max() == 48  # the ramp plus 10 px each side
    # 0.06 and 0.96 are inclusive: exact values count as known before erosion
    assert trimap_from_alpha(np.float32([[0.06, 0.5, 0.96]]), iterations=0).tolist() == [
        [0, 0.5, 1]
    ]


def test_uint8_alpha_and_a_thin_strand():
    alpha = np.zeros((41, 41), np.uint8)
    cv2.line(alpha, (5, 20), (35, 20), 128, 1)  # one semi-transparent hair
    trimap = trimap_from_alpha(alpha)
    np.testing.assert_array_equal(trimap, trimap_from_alpha(alpha.astype(np.float32) / 255))
    assert (trimap == 1).sum() == 0
    assert trimap[20, 20] == 0.5 and trimap[10, 20] == 0.5 and trimap[9, 20] == 0  # 10 px away
    assert trimap[20, 0] == 0.5 and trimap[0, 0] == 0  # 5 px beyond its end; a corner


@pytest.mark.parametrize("radius", [5, 25])
def test_small_foreground_regions_erode_away(radius):
    alpha = np.zeros((81, 81), np.uint8)
    cv2.circle(alpha, (40, 40), radius, 255, -1)
    assert ((trimap_from_alpha(alpha) == 1).sum() > 0) == (radius > 10)
