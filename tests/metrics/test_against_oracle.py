"""Agreement with the NumPy/SciPy transcription of the official codes (tests/oracle.py)."""

import numpy as np
import pytest
import torch

from mattebench.metrics import functional as F
from tests import mattes, oracle

FUNCTIONS = {
    "sad": F.sad,
    "mse": F.mse,
    "mad": F.mad,
    "grad": F.gradient_error,
    "conn": F.connectivity_error,
}

CASES = {
    "portrait": lambda seed: mattes.portrait_case(120, 160, seed),
    "portrait_wide_band": lambda seed: mattes.portrait_case(90, 200, seed, band=25),
    "random": lambda seed: mattes.random_case(40, 56, seed),
    "random_blocky": lambda seed: tuple(
        np.kron(x, np.ones((4, 4), np.uint8)) for x in mattes.random_case(12, 15, seed)
    ),
}


def t4(array) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(array))[None, None]


def assert_close(ours: dict, reference: dict) -> None:
    for name, expected in reference.items():
        assert ours[name] == pytest.approx(expected, rel=1e-6, abs=1e-12), name


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("case", CASES)
def test_dim_convention_matches_the_matlab_transcription(case, seed):
    pred, target, trimap = CASES[case](seed)
    ours = {k: f(t4(pred), t4(target), t4(trimap)).item() for k, f in FUNCTIONS.items()}
    assert_close(ours, oracle.dim_metrics(pred, target, trimap == 128))


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("case", CASES)
def test_mmagic_convention_matches_the_mmagic_transcription(case, seed):
    pred, target, trimap = CASES[case](seed)
    ours = {
        k: f(t4(pred), t4(target), t4(trimap), convention="mmagic").item()
        for k, f in FUNCTIONS.items()
        if k != "mad"
    }
    assert_close(ours, oracle.mmagic_metrics(pred, target, trimap))


def test_mmagic_postprocessing_of_float_predictions_matches():
    """Float predictions outside [0, 1] are clamped, forced to the trimap, rounded half to even."""
    _, target, trimap = mattes.portrait_case(64, 64, seed=5)
    rng = np.random.default_rng(0)
    pred = rng.uniform(-0.1, 1.1, target.shape).astype(np.float32)
    pred[:4, :4] = np.float32(0.5 / 255)  # x255 = 0.5 exactly: rounds to 0 (half to even)
    ours = {
        k: f(t4(pred), t4(target), t4(trimap), convention="mmagic").item()
        for k, f in FUNCTIONS.items()
        if k != "mad"
    }
    assert_close(ours, oracle.mmagic_metrics(pred, target, trimap))


def test_whole_image_region_matches_the_transcription_on_float_mattes():
    rng = np.random.default_rng(7)
    pred, target = rng.random((50, 70)), rng.random((50, 70))
    ours = {k: f(t4(pred), t4(target), region="image").item() for k, f in FUNCTIONS.items()}
    assert_close(ours, oracle.dim_metrics(pred, target, np.ones((50, 70), bool)))


def test_explicit_mask_region():
    pred, target, _ = mattes.portrait_case(60, 80, seed=4)
    mask = np.zeros(target.shape, bool)
    mask[10:50, 20:70] = True
    ours = {
        k: f(t4(pred), t4(target), mask=t4(mask), region="mask").item()
        for k, f in FUNCTIONS.items()
    }
    assert_close(ours, oracle.dim_metrics(pred, target, mask))


def test_batches_give_the_same_per_image_values_as_single_images():
    cases = [mattes.portrait_case(48, 64, seed) for seed in range(3)]
    pred, target, trimap = mattes.stack_cases(cases)
    for name, f in FUNCTIONS.items():
        batched = f(pred, target, trimap)
        single = torch.cat(
            [f(pred[i : i + 1], target[i : i + 1], trimap[i : i + 1]) for i in range(3)]
        )
        torch.testing.assert_close(batched, single, msg=name)


def test_force_known_applies_the_trimap_before_scoring():
    pred, target, trimap = mattes.portrait_case(64, 96, seed=6)
    noisy = np.random.default_rng(1).integers(0, 256, pred.shape, dtype=np.uint8)
    forced = np.where(trimap == 0, 0, np.where(trimap == 255, 255, noisy)).astype(np.uint8)
    for f in FUNCTIONS.values():
        a = f(t4(noisy), t4(target), t4(trimap), force_known=True, region="image")
        b = f(t4(forced), t4(target), t4(trimap), region="image")
        torch.testing.assert_close(a, b)
