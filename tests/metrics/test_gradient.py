"""The Gaussian-derivative kernel and both of its implementations."""

import numpy as np
import torch

from mattebench.metrics.gradient import (
    gaussian_derivative_factors,
    gradient_magnitude,
    kornia_gradient_magnitude,
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


def test_opencv_and_kornia_paths_agree():
    x = torch.rand(3, 1, 37, 53, dtype=torch.float64)
    smooth, deriv = gaussian_derivative_factors(1.4)
    torch.testing.assert_close(
        gradient_magnitude(x), kornia_gradient_magnitude(x, smooth, deriv), rtol=1e-12, atol=1e-14
    )
