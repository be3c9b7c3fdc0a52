"""Hand-computed cases: small mattes whose errors can be worked out on paper."""

import numpy as np
import pytest
import torch

from mattebench.metrics import MAD, MSE, SAD, ConnectivityError, GradientError
from mattebench.metrics import functional as F
from tests import mattes


def t4(array) -> torch.Tensor:
    return torch.as_tensor(np.asarray(array))[None, None]


UNKNOWN = t4(np.full((2, 2), 0.5))


def test_sad_mse_mad_on_a_2x2_matte():
    pred, target = t4([[0.5, 1.0], [0.0, 0.25]]), t4([[0.0, 1.0], [0.0, 1.0]])
    # |errors| = 0.5, 0, 0, 0.75
    assert F.sad(pred, target, UNKNOWN).item() == pytest.approx(1.25 / 1000)
    assert F.mse(pred, target, UNKNOWN).item() == pytest.approx((0.25 + 0.5625) / 4)
    assert F.mad(pred, target, UNKNOWN).item() == pytest.approx(1.25 / 4)


def test_known_pixels_are_not_scored_with_a_trimap():
    pred, target = t4([[0.5, 1.0], [0.0, 0.25]]), t4([[0.0, 1.0], [0.0, 1.0]])
    trimap = t4([[0.5, 1.0], [0.0, 0.0]])  # only the 0.5 error is in the unknown region
    assert F.sad(pred, target, trimap).item() == pytest.approx(0.5 / 1000)
    assert F.mse(pred, target, trimap).item() == pytest.approx(0.25)
    assert F.sad(pred, target, trimap, region="image").item() == pytest.approx(1.25 / 1000)


def test_uint8_inputs_are_divided_by_255():
    pred, target = t4(np.array([[51, 255]], np.uint8)), t4(np.array([[0, 255]], np.uint8))
    assert F.sad(pred, target).item() == pytest.approx(0.2 / 1000)


def test_mmagic_unit_test_fixture():
    """mmagic's unit-test values (specs/metrics.md §2.3), and the DIM values of the same case."""
    pred, target, trimap = (t4(x) for x in mattes.mmagic_fixture())
    expected = {
        "mmagic": {"sad": 0.768, "mse": 3.0, "grad": 0.0028887, "conn": 0.256},
        "dim": {"sad": 0.256, "mse": 1.0, "grad": 0.0028887, "conn": 0.256},
    }
    for convention, values in expected.items():
        metrics = {
            "sad": SAD(convention=convention),
            "mse": MSE(convention=convention),
            "grad": GradientError(convention=convention),
            "conn": ConnectivityError(convention=convention),
        }
        for name, metric in metrics.items():
            metric.update(pred, target, trimap)
            assert metric.compute().item() == pytest.approx(values[name], rel=1e-4), (
                convention,
                name,
            )


def test_values_are_averaged_over_images_not_pixels():
    target = torch.zeros(2, 1, 2, 2)
    pred = target.clone()
    pred[0, 0, 0, 0] = 1.0  # image 0: SAD 1/1000, image 1: 0
    metric = SAD()
    metric.update(pred[:1], target[:1])
    metric.update(pred[1:], target[1:])
    assert metric.compute().item() == pytest.approx(0.5 / 1000)


def test_conn_empty_intersection_assigns_the_previous_threshold():
    """specs §5.4: all-unknown, GT 1, pred 0 -> every level is 0, each pixel errs by 1 (0.4 for
    20x20); the IndexNet/GFM variant that skips the threshold would give 0."""
    target, pred = torch.ones(1, 1, 20, 20), torch.zeros(1, 1, 20, 20)
    assert F.connectivity_error(pred, target).item() == pytest.approx(0.4)


def test_conn_06_threshold_differs_between_matlab_and_mmagic():
    """specs §5.1: alpha 153/255 = 0.6 passes MATLAB's 0.6 but not np.arange's 0.6000000000000001.
    pred 153, GT 255, 4x4 unknown: MATLAB levels 0.6 -> |1 - 0.6| per pixel; mmagic levels 0.5
    -> |1 - 0.5| per pixel."""
    pred, target = t4(np.full((4, 4), 153, np.uint8)), t4(np.full((4, 4), 255, np.uint8))
    trimap = t4(np.full((4, 4), 128, np.uint8))
    assert F.connectivity_error(pred, target, trimap).item() == pytest.approx(16 * 0.4 / 1000)
    mmagic = F.connectivity_error(pred, target, trimap, convention="mmagic").item()
    assert mmagic == pytest.approx(16 * 0.5 / 1000)


def test_conn_ties_follow_the_scan_order_of_each_convention():
    """Two 2-pixel components: A (top right, alpha 148) comes first row-major (OpenCV, mmagic),
    B (bottom left, alpha 89) first column-major (MATLAB bwconncomp). The chosen component keeps
    its pixels to a higher level l, which turns their error from g - p into g - l:
    row-major   : A chosen (l 0.5), B not (l 0) -> 2 (1 - 0.5) + 2 (1 - 89/255)
    column-major: B chosen (l 0.3), A not (l 0) -> 2 (1 - 0.3) + 2 (1 - 148/255)"""
    pred = np.zeros((4, 4), np.uint8)
    pred[0, 2:] = 148
    pred[2:, 0] = 89
    target = np.where(pred > 0, 255, 0).astype(np.uint8)
    trimap = t4(np.full((4, 4), 128, np.uint8))
    column_major = F.connectivity_error(t4(pred), t4(target), trimap, convention="dim")
    row_major = F.connectivity_error(t4(pred), t4(target), trimap, convention="mmagic")
    assert column_major.item() == pytest.approx((2 * 0.7 + 2 * (1 - 148 / 255)) / 1000)
    assert row_major.item() == pytest.approx((2 * 0.5 + 2 * (1 - 89 / 255)) / 1000)


def test_grad_of_a_constant_image_is_zero():
    flat = torch.full((1, 1, 16, 16), 0.3)
    assert F.gradient_error(flat, torch.full_like(flat, 0.7)).item() == 0.0


def test_grad_ignores_a_global_offset_and_scale_because_of_min_max_normalisation():
    ramp = torch.linspace(0, 1, 32, dtype=torch.float64).repeat(32, 1)[None, None]
    assert F.gradient_error(ramp * 0.5 + 0.25, ramp).item() == pytest.approx(0.0, abs=1e-20)
    assert F.gradient_error(ramp.flip(-1), ramp).item() == pytest.approx(0.0, abs=1e-20)


def test_identical_mattes_score_zero_everywhere():
    _, target, trimap = (t4(x) for x in mattes.portrait_case(48, 64, seed=3))
    for metric in (SAD(), MSE(), GradientError(), ConnectivityError(), MAD()):
        metric.update(target, target, trimap)
        assert metric.compute().item() == 0.0


def test_empty_region_policies():
    target = torch.zeros(2, 1, 4, 4)
    pred = torch.ones_like(target)
    trimap = torch.zeros_like(target)
    trimap[0, 0, :2] = 0.5  # image 1 has no unknown pixel
    zero, skip = MSE(empty_region="zero"), MSE(empty_region="skip")
    zero.update(pred, target, trimap)
    skip.update(pred, target, trimap)
    assert zero.compute().item() == pytest.approx(0.5)  # (1 + 0) / 2, as mmagic
    assert skip.compute().item() == pytest.approx(1.0)
    with pytest.raises(ValueError, match=r"image\(s\) \[1\]"):
        MSE(empty_region="error").update(pred, target, trimap)


def test_compute_without_updates_warns_and_returns_nan():
    with pytest.warns(UserWarning):
        assert torch.isnan(SAD().compute())
