"""BGMv2 augmentations: shared geometry per sample, the official resize semantics, batch ops.

The per-sample distributions against the specification: `test_augment_distributions.py`.
"""

import pickle

import cv2
import numpy as np
import pytest
import torch

from mattebench.data import BatchAugment, bgmv2_augment, composite
from mattebench.data.geometry import affine_matrix
from mattebench.data.transforms import seed_pipeline

NO_FILTERS = {"blur_p": 0.0, "sharpen_p": 0.0}


def square_sample() -> tuple[np.ndarray, np.ndarray]:
    """A blue foreground with a red square off-centre; alpha marks exactly the square."""
    fgr = np.zeros((200, 300, 3), np.uint8)
    fgr[:] = (0, 0, 255)
    pha = np.zeros((200, 300), np.uint8)
    fgr[40:110, 170:250] = (255, 0, 0)
    pha[40:110, 170:250] = 255
    return fgr, pha


@pytest.mark.parametrize("blur", [False, True])
@pytest.mark.parametrize("seed", range(12))
def test_fgr_and_pha_share_geometry(seed, blur):
    fgr, pha = square_sample()
    filters = {"blur_p": 1.0, "sharpen_p": 1.0} if blur else NO_FILTERS
    augment = bgmv2_augment(128, **filters)
    rng = np.random.default_rng(seed)
    out_fgr, out_pha = augment.foreground(fgr, pha, 128, rng)
    assert out_fgr.shape == (128, 128, 3) and out_pha.shape == (128, 128)
    assert out_fgr.dtype == out_pha.dtype == np.float32
    inside, outside = out_pha > 0.99, out_pha < 0.01
    assert inside.sum() > 20  # the square is in view at these seeds
    red, blue = out_fgr[..., 0], out_fgr[..., 2]
    assert (red[inside] > blue[inside] + 0.3).all()
    assert (red[outside] < 0.35).all()  # blue foreground or zero fill, never the square


def test_previous_alpha_gets_the_foregrounds_geometry():
    """`prev_pha` is an extra target of the foreground pipeline: the same warp, flip, filters."""
    fgr, pha = square_sample()
    pipeline = bgmv2_augment(96, blur_p=0.5, sharpen_p=0.5).pipelines["foreground"]
    for seed in range(10):
        seed_pipeline(pipeline, seed)
        out = pipeline(image=fgr, mask=pha, prev_pha=pha.copy())
        np.testing.assert_array_equal(out["prev_pha"], out["mask"])


def test_flips_move_fgr_and_pha_together():
    fgr, pha = square_sample()
    augment = bgmv2_augment(128, flip_p=1.0, **NO_FILTERS, jitter=(0, 0, 0, 0))
    plain = bgmv2_augment(128, flip_p=0.0, **NO_FILTERS, jitter=(0, 0, 0, 0))
    f1, p1 = augment.foreground(fgr, pha, 128, np.random.default_rng(0))
    f0, p0 = plain.foreground(fgr, pha, 128, np.random.default_rng(0))
    np.testing.assert_array_equal(p1, p0[:, ::-1])
    np.testing.assert_array_equal(f1, f0[:, ::-1])


def test_scale_one_is_bgmv2s_resize_and_centre_crop():
    """At scale 1 and no rotation the shorter side fills the crop (`PairRandomAffineAndResize`)."""
    y, x = np.mgrid[0:200, 0:300]
    image = np.stack([x * 255 / 299, y * 255 / 199, (x + y) % 256], -1).astype(np.uint8)
    still = {"degrees": (0, 0), "translate": (0, 0), "shear": (0, 0)}
    plain = {"flip_p": 0.0, "blur_p": 0.0, "sharpen_p": 0.0, "jitter": (0, 0, 0, 0)}
    augment = bgmv2_augment(100, fgr_scale=(1, 1), **still, **plain)
    out, _ = augment.foreground(image, image[..., 0], 100, np.random.default_rng(0))
    expected = cv2.resize(image, (150, 100), interpolation=cv2.INTER_LINEAR)[:, 25:125]
    np.testing.assert_allclose(out[..., :2] * 255, expected[..., :2], atol=1.5)


def test_background_scale_of_at_least_one_covers_the_crop():
    still = {"degrees": (0, 0), "translate": (0, 0), "shear": (0, 0)}
    augment = bgmv2_augment(64, **still, jitter=(0, 0, 0, 0), **NO_FILTERS)
    plate = np.full((90, 400, 3), 128, np.uint8)
    for seed in range(20):  # (rotation and translation may uncover a strip, as in BGMv2)
        out = augment.background(plate, 64, np.random.default_rng(seed))
        assert out.min() > 0.49


def test_per_sample_augment_is_reproducible_and_in_range():
    fgr, pha = square_sample()
    bgr = np.random.default_rng(0).integers(0, 256, (150, 220, 3), dtype=np.uint8)
    augment = bgmv2_augment(96, blur_p=0.5, sharpen_p=0.5)
    a = augment(fgr, pha, bgr, 96, np.random.default_rng(3))
    b = augment(fgr, pha, bgr, 96, np.random.default_rng(3))
    c = augment(fgr, pha, bgr, 96, np.random.default_rng(4))
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
        assert x.dtype == np.float32 and x.min() >= 0 and x.max() <= 1
    assert not np.array_equal(a[2], c[2])


def test_a_pipeline_of_the_wrong_size_is_a_clear_error():
    fgr, pha = square_sample()
    with pytest.raises(ValueError, match=r"wants 64x64.*size: \$\{data.size\}"):
        bgmv2_augment(96).foreground(fgr, pha, 64, np.random.default_rng(0))


def test_a_missing_pipeline_is_a_clear_error():
    augment = bgmv2_augment(32)
    augment.pipelines["natural"] = None
    with pytest.raises(ValueError, match=r"data\.sample_augment\.natural"):
        augment.natural(*square_sample(), 32, np.random.default_rng(0))


def test_affine_matrix_maps_centre_to_centre_plus_shift():
    m = affine_matrix((10, 20), (5, 5), angle=30, translate=(2, -1), scale=0.5, shear=4)
    assert np.allclose(m @ [10, 20, 1], [7, 4])
    assert np.allclose(affine_matrix((3, 3), (3, 3)), [[1, 0, 0], [0, 1, 0]])


def batch(n: int = 4, size: int = 64, seed: int = 0) -> dict:
    g = torch.Generator().manual_seed(seed)
    alpha = torch.zeros(n, 1, size, size)
    alpha[..., size // 4 : 3 * size // 4, size // 4 : 3 * size // 4] = 1
    trimap = torch.full_like(alpha, 0.5)
    trimap[..., :4, :] = 0
    trimap[..., -4:, :] = 1
    return {
        "fgr": torch.rand(n, 3, size, size, generator=g),
        "alpha": alpha,
        "bgr": torch.rand(n, 3, size, size, generator=g),
        "trimap": trimap,
        "meta": [{"index": i} for i in range(n)],
    }


OFF = {"shadow_p": 0.0, "noise_p": 0.0, "jitter_p": 0.0, "misalign_p": 0.0}


def test_batch_augment_crops_all_keys_alike_and_composites():
    out = BatchAugment(seed=1)(batch())
    h, w = out["image"].shape[-2:]
    assert 32 <= h < 64 and 32 <= w < 64
    for key in ("image", "fgr", "alpha", "bgr", "trimap"):
        assert out[key].shape[-2:] == (h, w) and out[key].dtype == torch.float32
        assert out[key].min() >= 0 and out[key].max() <= 1
    assert set(out["trimap"].unique().tolist()) <= {0.0, 0.5, 1.0}  # labels resized nearest
    assert out["meta"] == batch()["meta"]


def test_without_random_ops_the_image_is_the_plain_composite():
    b = batch()
    out = BatchAugment(crop_scale=(1.0, 1.0), **OFF)(b)
    torch.testing.assert_close(out["image"], composite(b["fgr"], b["alpha"], b["bgr"]))
    torch.testing.assert_close(out["bgr"], b["bgr"])


def test_shadow_darkens_the_composite_but_not_the_plate():
    b = batch()
    out = BatchAugment(crop_scale=(1.0, 1.0), **{**OFF, "shadow_p": 1.0})(b)
    plain = composite(b["fgr"], b["alpha"], b["bgr"])
    torch.testing.assert_close(out["bgr"], b["bgr"])
    assert (out["image"] <= plain + 1e-6).all() and (out["image"] < plain - 1e-3).any()


@pytest.mark.parametrize("op", ["noise_p", "jitter_p", "misalign_p"])
def test_plate_perturbations_leave_the_targets_alone(op):
    b = batch(size=160)  # large enough for a 1-degree turn to move pixels
    out = BatchAugment(crop_scale=(1.0, 1.0), **{**OFF, op: 1.0})(b)
    assert not torch.equal(out["bgr"], b["bgr"])
    for key in ("fgr", "alpha"):
        torch.testing.assert_close(out[key], b[key])
    if op != "noise_p":  # noise also hits the image; jitter and misalignment only the plate
        torch.testing.assert_close(out["image"], composite(b["fgr"], b["alpha"], b["bgr"]))


def test_batch_augment_is_reproducible_from_its_seed():
    a, b, c = BatchAugment(seed=7), BatchAugment(seed=7), BatchAugment(seed=8)
    outs = [aug(batch()) for aug in (a, b, c)]
    torch.testing.assert_close(outs[0]["image"], outs[1]["image"])
    assert outs[0]["image"].shape != outs[2]["image"].shape or not torch.equal(
        outs[0]["image"], outs[2]["image"]
    )
    a.manual_seed(7)
    torch.testing.assert_close(a(batch())["image"], outs[0]["image"])


def test_crop_multiple_for_the_refine_stage():
    for seed in range(5):
        out = BatchAugment(crop_multiple=4, seed=seed, **OFF)(batch(n=2, size=72))
        h, w = out["image"].shape[-2:]
        assert h % 4 == 0 and w % 4 == 0 and 36 <= h < 72 and 36 <= w < 72


def test_batch_augment_pickles_with_its_random_state():
    """Spawned DDP ranks receive the augmenter pickled; it must continue the same draws."""
    augment = BatchAugment(seed=3)
    augment._select(0.5, 4, torch.device("cpu"))  # advance the generator
    copy = pickle.loads(pickle.dumps(augment))
    assert torch.equal(augment.generator.get_state(), copy.generator.get_state())
    assert torch.equal(
        augment._select(0.5, 16, torch.device("cpu")), copy._select(0.5, 16, torch.device("cpu"))
    )
