"""Previous-alpha simulation: empty with its probability, warped, synthesised, reproducible."""

import numpy as np
import pytest

from mattebench.data.temporal import PreviousAlpha, random_warp


def blob(size: int = 96) -> np.ndarray:
    alpha = np.zeros((size, size), np.float32)
    alpha[25:75, 30:65] = 1
    return alpha


def iou(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a > 0.5, b > 0.5
    return (a & b).sum() / (a | b).sum()


def test_empty_probability_is_honoured():
    rng = np.random.default_rng(0)
    alpha = blob()
    perturb = PreviousAlpha(empty_p=0.3, warp_p=0.5)
    outs = [perturb(alpha, alpha, rng) for _ in range(2000)]
    empty = np.mean([not o.any() for o in outs])
    assert abs(empty - 0.3) < 0.04
    assert all(o.shape == alpha.shape and o.dtype == np.float32 for o in outs)


@pytest.mark.parametrize("seed", range(10))
def test_warp_moves_the_mask_but_keeps_its_area(seed):
    alpha = blob()
    warped = random_warp(alpha, np.random.default_rng(seed), scale=(0.95, 1.05))
    assert iou(alpha, warped) < 0.99
    assert abs(warped.sum() / alpha.sum() - 1) < 0.15


def test_warp_p_one_always_warps_the_real_previous_alpha():
    alpha = blob()
    prev = np.roll(alpha, 2, axis=1)
    augment = PreviousAlpha(empty_p=0.0, warp_p=1.0)
    for seed in range(10):
        out = augment(alpha, prev, np.random.default_rng(seed))
        assert iou(prev, out) < 0.98


def test_real_previous_alpha_passes_through_when_not_perturbed():
    alpha, prev = blob(), np.roll(blob(), 3, axis=0)
    out = PreviousAlpha(empty_p=0.0, warp_p=0.0)(alpha, prev, np.random.default_rng(0))
    np.testing.assert_array_equal(out, prev)


@pytest.mark.parametrize("seed", range(10))
def test_synthesised_previous_alpha_is_close_but_not_equal(seed):
    alpha = blob()
    out = PreviousAlpha(empty_p=0.0, warp_p=0.0)(alpha, None, np.random.default_rng(seed))
    assert not np.array_equal(out, alpha)
    assert iou(alpha, out) > 0.8
    assert np.abs(out - alpha).mean() < 0.05


def test_deterministic_with_a_seed():
    alpha = blob()
    augment = PreviousAlpha(empty_p=0.2, warp_p=0.5)
    a = [augment(alpha, None, np.random.default_rng(s)) for s in range(20)]
    b = [augment(alpha, None, np.random.default_rng(s)) for s in range(20)]
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    assert len({x.tobytes() for x in a}) > 10
