"""Point and line lights: the HSV value-channel blend, brighter near the source, darker away."""

import math

import cv2
import numpy as np
import pytest
import torch

from mattebench.data import BatchAugment
from mattebench.data.lighting import LightingAugment, blend_value
from tests.platform.conftest import compose_config

H, W = 64, 96


def grey(n: int = 4, value: float = 0.4) -> torch.Tensor:
    return torch.full((n, 3, H, W), value)


def one_light(point_p: float, floor: float = 0.0) -> LightingAugment:
    return LightingAugment(
        p=1.0,
        max_lights=1,
        point_p=point_p,
        peak=(1.0, 1.0),
        floor=(floor, floor),
        radius=(0.1, 0.15),
        width=(0.05, 0.1),
    )


def lit(light: LightingAugment, image: torch.Tensor, seed: int):
    """(output, the drawn parameters): `forward` draws the samples, then their parameters."""
    generator = torch.Generator().manual_seed(seed)
    torch.rand(len(image), generator=generator)  # forward's choice of samples (all, p = 1)
    params = light.draw(len(image), H, W, generator)
    return light(image, torch.Generator().manual_seed(seed)), params


def point_distance(params: dict, i: int) -> torch.Tensor:
    y, x = torch.meshgrid(torch.arange(float(H)), torch.arange(float(W)), indexing="ij")
    return torch.sqrt((x - params["cx"][i, 0]) ** 2 + (y - params["cy"][i, 0]) ** 2)


def test_point_light_brightens_near_its_source_and_darkens_far_away():
    image = grey()
    out, params = lit(one_light(point_p=1.0, floor=0.0), image, seed=0)
    for i in range(len(image)):
        d, sigma = point_distance(params, i), params["radius"][i, 0] * H
        near, far = d < 0.3 * sigma, d > 4 * sigma
        assert near.any() and far.any()
        assert (out[i, :, near] > image[i, :, near] + 0.05).all()
        t = params["transparency"][i]  # M = floor = 0 far away: V' = t·V
        torch.testing.assert_close(out[i, :, far], t * image[i, :, far], atol=1e-3, rtol=0)


def test_a_floor_above_the_scene_only_brightens():
    image = grey(value=0.3)
    out, _ = lit(LightingAugment(p=1.0, max_lights=3, floor=(0.5, 0.8)), image, seed=3)
    assert (out >= image).all() and (out > image + 0.05).any()


def test_line_light_brightens_a_band_along_its_line():
    image = grey()
    out, params = lit(one_light(point_p=0.0, floor=0.0), image, seed=1)
    y, x = torch.meshgrid(torch.arange(float(H)), torch.arange(float(W)), indexing="ij")
    for i in range(len(image)):
        cx, cy, a = params["cx"][i, 0], params["cy"][i, 0], params["angle"][i, 0]
        sigma = params["width"][i, 0] * H
        d = ((x - cx) * -math.sin(a) + (y - cy) * math.cos(a)).abs()
        near, far = d < 0.3 * sigma, d > 3 * sigma
        assert near.sum() > 20  # a band through the image
        assert (out[i, :, near] > image[i, :, near] + 0.05).all()
        assert (out[i, :, far] < image[i, :, far]).all()


@pytest.mark.parametrize("seed", range(3))
def test_is_opencv_hsv_value_blending(seed):
    """The same mask and t through OpenCV's RGB -> HSV, V blend, HSV -> RGB round trip."""
    g = torch.Generator().manual_seed(seed)
    image = torch.rand(2, 3, 24, 32, generator=g)
    image[0, :, :4] = 0  # black pixels: no hue, become grey
    mask = torch.rand(2, 1, 24, 32, generator=g)
    t = torch.tensor([0.5, 0.85]).view(2, 1, 1, 1)
    ours = blend_value(image, mask, t)
    for i in range(2):
        hsv = cv2.cvtColor(image[i].permute(1, 2, 0).numpy(), cv2.COLOR_RGB2HSV)
        hsv[..., 2] = t[i].item() * hsv[..., 2] + (1 - t[i].item()) * mask[i, 0].numpy()
        expected = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
        np.testing.assert_allclose(ours[i].permute(1, 2, 0).numpy(), expected, atol=1e-5)


def test_hue_and_saturation_are_kept():
    image = torch.rand(3, 3, 32, 32, generator=torch.Generator().manual_seed(2)) * 0.9 + 0.05
    out = LightingAugment(p=1.0, max_lights=2)(image, torch.Generator().manual_seed(2))
    ratio = out / image  # one factor per pixel, the same for R, G and B
    torch.testing.assert_close(ratio, ratio[:, :1].expand_as(ratio), atol=1e-4, rtol=1e-4)
    assert out.max() <= 1 and out.min() >= 0 and not torch.equal(out, image)


def test_bad_ranges_are_refused_with_the_name():
    with pytest.raises(ValueError, match="floor"):
        LightingAugment(floor=(0.2, 1.5))
    with pytest.raises(ValueError, match="max_lights"):
        LightingAugment(max_lights=0)


def test_p_zero_is_identity_and_draws_nothing():
    image, generator = torch.rand(3, 3, 32, 32), torch.Generator().manual_seed(0)
    state = generator.get_state()
    assert LightingAugment(p=0.0)(image, generator) is image
    assert torch.equal(generator.get_state(), state)


def test_p_selects_samples():
    image = torch.full((400, 3, 8, 8), 0.2)
    out = LightingAugment(p=0.25)(image, torch.Generator().manual_seed(0))
    changed = (out != image).flatten(1).any(1).float().mean()
    assert 0.18 < changed < 0.32


def test_deterministic_with_a_seed():
    image = torch.rand(4, 3, 40, 40)
    light = LightingAugment(p=0.7, max_lights=3)
    a = light(image, torch.Generator().manual_seed(5))
    b = light(image, torch.Generator().manual_seed(5))
    c = light(image, torch.Generator().manual_seed(6))
    assert torch.equal(a, b) and not torch.equal(a, c)


def batch(n: int = 4, s: int = 32) -> dict:
    g = torch.Generator().manual_seed(0)
    pha = torch.zeros(n, 1, s, s)
    pha[..., 8:24, 8:24] = 1
    return {
        "fgr": torch.rand(n, 3, s, s, generator=g),
        "alpha": pha,
        "bgr": torch.rand(n, 3, s, s, generator=g),
    }


def test_batch_augment_default_has_no_lighting_and_same_stream():
    plain = BatchAugment(seed=3)
    explicit = BatchAugment(seed=3, lighting_p=0.0, lighting={"max_lights": 4})
    a, b = plain(batch()), explicit(batch())
    for key in a:
        assert torch.equal(a[key], b[key])


def test_batch_augment_lighting_changes_the_composite_only():
    off = {"shadow_p": 0.0, "noise_p": 0.0, "jitter_p": 0.0, "misalign_p": 0.0}
    dark = BatchAugment(crop_scale=(1.0, 1.0), seed=0, **off)(batch())
    lit_batch = BatchAugment(crop_scale=(1.0, 1.0), seed=0, lighting_p=1.0, **off)(batch())
    assert (lit_batch["image"] > dark["image"]).any()
    for key in ("alpha", "fgr", "bgr"):
        assert torch.equal(lit_batch[key], dark[key])


def test_temporal_modnet_recipe_turns_lighting_on(tmp_path):
    cfg = compose_config(tmp_path, ["model=modnet_temporal", "data=videomatte_sample"])
    assert 0 < cfg.data.batch_augment.lighting_p < 1
    cfg = compose_config(tmp_path, ["model=modnet", "data=videomatte_sample"])
    assert cfg.data.batch_augment.lighting_p == 0
