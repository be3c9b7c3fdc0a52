"""The Gaussian-derivative kernel and both of its implementations."""

import numpy as np
import torch

from mattebench.metrics.gradient import (
    gaussian_derivative_factors,
    gradient_error_sums_kornia,
    gradient_error_sums_opencv,
)
from tests import oracle

# specs/metrics.md §2.2: the published 1-D factors of the unit-norm 9x9 kernel.
SMOOTH = [
    0.01071565,
    0.0639064,
    0.22881863,
    0.49188051,
    0.63481769,
    0.49188051,
    0.22881863,
    0.0639064,
    0.01071565,
]
DERIVATIVE = [
    0.04329901,
    0.19367122,
    0.46229677,
    0.49688867,
    0,
    -0.49688867,
    -0.46229677,
    -0.19367122,
    -0.04329901,
]


def test_factors_are_the_published_ones():
    smooth, deriv = gaussian_derivative_factors(1.4)
    np.testing.assert_allclose(smooth, SMOOTH, atol=1e-8)
    np.testing.assert_allclose(deriv, DERIVATIVE, atol=1e-8)


def test_factors_rebuild_the_official_9x9_kernel():
    smooth, deriv = gaussian_derivative_factors(1.4)
    np.testing.assert_allclose(np.outer(smooth, deriv), oracle.dim_kernel(1.4), rtol=1e-12)


def regions(shape=(30, 40)) -> torch.Tensor:
    """Scattered pixels, an interior box (the OpenCV path crops), a box on the border, nothing,
    the whole image (no gathering of scored pixels)."""
    scattered = torch.rand(shape) > 0.5
    interior, border, empty = torch.zeros(3, *shape, dtype=torch.bool)
    interior[10:17, 12:20] = True
    border[-5:, :6] = True
    return torch.stack([scattered, interior, border, empty, torch.ones(shape, dtype=bool)])[:, None]


def test_error_sums_agree_on_the_opencv_and_the_kornia_paths():
    region = regions()
    pred, target = torch.rand(2, len(region), 1, 30, 40, dtype=torch.float64)
    target[1] = 0.5  # a constant matte: min-max normalised to zeros on both paths
    pred[::2, :, 0, 0] = 0.0  # minimum exactly 0: the OpenCV path filters without a copy
    torch.testing.assert_close(
        gradient_error_sums_opencv(pred, target, region),
        gradient_error_sums_kornia(pred, target, region),
        rtol=1e-12,
        atol=1e-14,
    )
