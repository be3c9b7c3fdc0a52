"""Point and line lights: brighten where the light is, nothing elsewhere, never darken."""

import math

import pytest
import torch

from mattebench.data import BatchAugment
from mattebench.data.lighting import LightingAugment, bump


def grey(n: int = 4, h: int = 64, w: int = 96) -> torch.Tensor:
    return torch.full((n, 3, h, w), 0.4)


def one_light(point_p: float) -> LightingAugment:
    return LightingAugment(p=1.0, max_lights=1, point_p=point_p, intensity=(0.3, 0.3), tint=0.0)


def test_point_light_brightens_near_its_centre_only():
    light = one_light(point_p=1.0)
    image = grey()
    params = light.draw(len(image), 64, 96, torch.Generator().manual_seed(0))
    out = light.light_map(image, torch.Generator().manual_seed(0)) + image
    y, x = torch.meshgrid(torch.arange(64.0), torch.arange(96.0), indexing="ij")
    for i in range(len(image)):
        cx, cy, r = params["cx"][i, 0], params["cy"][i, 0], params["radius"][i, 0] * 64
        d = torch.sqrt((x - cx) ** 2 + (y - cy) ** 2)
        near, far = d < 0.3 * r, d > r
        assert near.any() and far.any()
        assert (out[i, :, near] > image[i, :, near] + 0.1).all()
        torch.testing.assert_close(out[i, :, far], image[i, :, far])


def test_line_light_brightens_a_band_along_its_line():
    light = one_light(point_p=0.0)
    image = grey()
    params = light.draw(len(image), 64, 96, torch.Generator().manual_seed(1))
    out = light.light_map(image, torch.Generator().manual_seed(1)) + image
    y, x = torch.meshgrid(torch.arange(64.0), torch.arange(96.0), indexing="ij")
    for i in range(len(image)):
        cx, cy, a = params["cx"][i, 0], params["cy"][i, 0], params["angle"][i, 0]
        half = params["width"][i, 0] * 64
        d = ((x - cx) * -math.sin(a) + (y - cy) * math.cos(a)).abs()
        near, far = d < 0.3 * half, d > half
        assert near.sum() > 20 and far.any()  # a band, through the image
        assert (out[i, :, near] > image[i, :, near] + 0.1).all()
        torch.testing.assert_close(out[i, :, far], image[i, :, far])


@pytest.mark.parametrize("seed", range(5))
def test_never_darkens_and_stays_in_range(seed):
    image = torch.rand(6, 3, 48, 48, generator=torch.Generator().manual_seed(seed))
    out = LightingAugment(p=1.0, max_lights=3)(image, torch.Generator().manual_seed(seed))
    assert (out >= image).all()
    assert out.max() <= 1 and out.min() >= 0
    assert (out > image).any()


def test_p_zero_is_identity_and_draws_nothing():
    image, generator = torch.rand(3, 3, 32, 32), torch.Generator().manual_seed(0)
    state = generator.get_state()
    assert LightingAugment(p=0.0)(image, generator) is image
    assert torch.equal(generator.get_state(), state)


def test_p_selects_samples():
    image = torch.full((400, 3, 8, 8), 0.2)
    out = LightingAugment(p=0.25, radius=(5, 5))(image, torch.Generator().manual_seed(0))
    lit = (out != image).flatten(1).any(1).float().mean()
    assert 0.18 < lit < 0.32


def test_deterministic_with_a_seed():
    image = torch.rand(4, 3, 40, 40)
    light = LightingAugment(p=0.7, max_lights=3)
    a = light(image, torch.Generator().manual_seed(5))
    b = light(image, torch.Generator().manual_seed(5))
    c = light(image, torch.Generator().manual_seed(6))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_bump_profile():
    d = torch.tensor([0.0, 0.5, 1.0, 2.0, -0.5])
    torch.testing.assert_close(bump(d), torch.tensor([1.0, 0.5625, 0.0, 0.0, 0.5625]))


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


def test_batch_augment_lighting_brightens_the_composite_only():
    off = {"shadow_p": 0.0, "noise_p": 0.0, "jitter_p": 0.0, "misalign_p": 0.0}
    dark = BatchAugment(crop_scale=(1.0, 1.0), seed=0, **off)(batch())
    lit = BatchAugment(crop_scale=(1.0, 1.0), seed=0, lighting_p=1.0, **off)(batch())
    assert (lit["image"] >= dark["image"]).all() and (lit["image"] > dark["image"]).any()
    for key in ("alpha", "fgr", "bgr"):
        assert torch.equal(lit[key], dark[key])
