"""The incremental connectivity levels (labelling inside the previous Omega's box, falling back
to the whole crop) against the oracle's ten independent whole-image labellings."""

import numpy as np
import pytest
import torch

from mattebench.metrics import functional as F
from tests import oracle


def t4(array) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(array))[None, None]


def conn_both(pred: np.ndarray, target: np.ndarray) -> tuple[float, float]:
    region = np.ones(pred.shape, bool)
    ours = F.connectivity_error(t4(pred), t4(target), region="image").item()
    return ours, oracle.dim_conn(pred, target, region)


def test_largest_component_moving_outside_the_previous_omega():
    """At t_1 the wide faint block A is largest; at t_2 the small opaque block B is: Omega_2
    lies outside Omega_1, so every pixel of A leaves at t_2 (the fallback labelling)."""
    alpha = np.zeros((40, 60), np.uint8)
    alpha[2:30, 2:30] = 40  # A: 784 px at 0.157, above t_1 only
    alpha[5:10, 40:55] = 255  # B: 75 px, above every threshold
    pred = alpha.copy()
    pred[20:25, 5:10] = 0  # a hole in A: pred and target differ
    ours, expected = conn_both(pred, alpha)
    assert ours == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert expected > 0


def test_inner_component_as_large_as_an_outer_one_needs_the_whole_crop():
    """Inside Omega_1 the part left at t_3 (100 px) ties with a separate component that was
    never the largest: the tie is decided on the whole crop in scan order, as the oracle does."""
    alpha = np.zeros((50, 50), np.uint8)
    alpha[0:30, 0:30] = 60  # Omega_1 (900 px, 0.235) ...
    alpha[0:10, 0:10] = 200  # ... holding 100 px that stay until t_7
    alpha[40:50, 40:50] = 200  # a separate 100-px component, smaller than Omega_1 at t_1
    pred = alpha.copy()
    pred[2, 2] = 120
    ours, expected = conn_both(pred, alpha)
    assert ours == pytest.approx(expected, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("seed", range(12))
def test_random_nested_plateaus_match_the_oracle(seed):
    """Blobs of several opacities inside each other, with noise: many components per threshold,
    Omegas that shrink, split and move."""
    rng = np.random.default_rng(seed)
    size = (48, 64)
    alpha = np.zeros(size)
    for _ in range(12):
        r, c = rng.integers(0, size[0]), rng.integers(0, size[1])
        h, w = rng.integers(3, 30, 2)
        alpha[r : r + h, c : c + w] = np.maximum(alpha[r : r + h, c : c + w], rng.uniform())
    target = np.round(alpha * 255).astype(np.uint8)
    noise = rng.integers(-40, 41, size)
    pred = np.clip(target.astype(int) + noise * (rng.random(size) < 0.2), 0, 255).astype(np.uint8)
    ours, expected = conn_both(pred, target)
    assert ours == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_distance_of_exactly_theta_is_penalised():
    """phi penalises d >= 0.15, not d > 0.15: a pixel exactly 0.15 above its level counts (the
    threshold is applied as `d > nextafter(0.15, -inf)`, which must be the same test)."""
    target = np.zeros((8, 8))
    target[2:6, 2:6] = 0.6  # Omega at t_1..t_6: level 1 there, 0 elsewhere
    pred = target.copy()
    pred[0, 0] = 0.15  # level 0: d = 0.15 exactly, phi = 0.85
    pred[0, 1] = np.nextafter(0.15, 0.0)  # just below theta: phi = 1, no error
    ours, expected = conn_both(pred, target)
    assert ours == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert expected == pytest.approx(0.15 / 1000, rel=1e-12)


def test_more_components_than_16_bit_labels_hold():
    """A dotted intersection with over 65,535 components: the labelling falls back from
    16-bit to 32-bit labels and the sizes from a histogram to a bincount."""
    alpha = np.zeros((520, 520), np.uint8)
    alpha[::2, ::2] = 200  # 67,600 isolated pixels
    alpha[100:140, 100:140] = 230  # one larger block: the largest component
    pred = alpha.copy()
    pred[1::4, ::2] = 100  # joins some dots in pred only: pred and target differ
    ours, expected = conn_both(pred, alpha)
    assert ours == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert expected > 0
