"""Training trimaps from alpha (MODNet's, and DIM's for HDMatt): known regions agree with alpha."""

import numpy as np
import pytest

from mattebench.data.trimap import dim_trimap, modnet_kernel, modnet_trimap


def soft_disc(size: int, seed: int = 0) -> np.ndarray:
    """A disc with a soft 6%-of-size edge and some noisy semi-transparent blobs (hair)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size] / size
    d = np.hypot(x - 0.5, y - 0.55)
    alpha = np.clip((0.3 - d) / 0.06, 0, 1)
    hair = (np.abs(d - 0.33) < 0.02) & (rng.random((size, size)) < 0.5)
    alpha[hair] = rng.uniform(0.05, 0.6, hair.sum())
    return alpha.astype(np.float32)


@pytest.mark.parametrize("size", [128, 256, 512])
@pytest.mark.parametrize("seed", range(3))
def test_band_contains_every_fractional_alpha_and_known_regions_agree(size, seed):
    alpha = soft_disc(size, seed)
    trimap = modnet_trimap(alpha, np.random.default_rng(seed))
    assert set(np.unique(trimap)) == {0.0, 0.5, 1.0}
    fractional = (alpha > 0) & (alpha < 0.9)
    assert (trimap[fractional] == 0.5).all()
    assert (alpha[trimap == 0] == 0).all()
    assert (alpha[trimap == 1] >= 0.9).all()


@pytest.mark.parametrize("seed", range(5))
def test_with_high_one_every_fractional_pixel_is_unknown(seed):
    rng = np.random.default_rng(seed)
    alpha = np.zeros((96, 96), np.float32)
    alpha[20:80, 20:80] = 1
    alpha[rng.random(alpha.shape) < 0.05] = rng.uniform(0.01, 0.99)
    trimap = modnet_trimap(alpha, rng, high=1.0)
    assert (trimap[(alpha > 0) & (alpha < 1)] == 0.5).all()
    assert (alpha[trimap == 0] == 0).all() and (alpha[trimap == 1] == 1).all()


def band_width(trimap: np.ndarray, row: int) -> int:
    return int((trimap[row] == 0.5).sum())


def test_kernel_scales_with_resolution():
    # the spec's 20-40 px at 512, 10-20 at 256, 40-80 at 1024
    for size, (lo, hi) in {256: (10, 20), 512: (20, 40), 1024: (40, 80)}.items():
        ks = {modnet_kernel(size, np.random.default_rng(s)) for s in range(200)}
        assert min(ks) >= lo and max(ks) <= hi and len(ks) > 5
    # the same draw gives a band twice as wide at twice the resolution (a hard step edge)
    bands = []
    for size in (256, 512):
        alpha = np.zeros((size, size), np.float32)
        alpha[:, size // 2 :] = 1
        bands.append(band_width(modnet_trimap(alpha, np.random.default_rng(0)), size // 2))
    assert abs(bands[1] - 2 * bands[0]) <= 2


def test_explicit_kernel_and_uint8_input():
    alpha = np.zeros((64, 64), np.uint8)
    alpha[:, 32:] = 255
    trimap = modnet_trimap(alpha, kernel=9)
    assert band_width(trimap, 10) in (8, 9, 10)
    np.testing.assert_array_equal(trimap, modnet_trimap(alpha.astype(np.float32) / 255, kernel=9))


def test_deterministic_with_a_seed():
    alpha = soft_disc(200)
    a = modnet_trimap(alpha, np.random.default_rng(7))
    b = modnet_trimap(alpha, np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)


def test_dim_trimap_band_around_the_soft_edge():
    alpha = np.zeros((20, 20), np.float32)
    alpha[:, 10:] = 1
    alpha[:, 9] = 0.5
    trimap = dim_trimap(alpha, kernel=5)  # a 5x5 square: 2 px each side of the fractional column
    assert trimap[10].tolist() == [0] * 7 + [0.5] * 5 + [1] * 8
    np.testing.assert_array_equal(trimap, dim_trimap((alpha * 255).astype(np.uint8), kernel=5))
    assert dim_trimap(alpha, kernel=4).tolist() == trimap.tolist()  # even sides round up to odd


def test_dim_trimap_kernel_is_drawn_from_the_range():
    alpha = np.zeros((64, 64), np.float32)
    alpha[:, 32:] = 1
    widths = {band_width(dim_trimap(alpha, np.random.default_rng(s)), 0) for s in range(400)}
    # side 2*(k//2)+1 for k in 1..30: bands of 0..30 px, every even width from 0 to 30
    assert widths == set(range(0, 31, 2))
