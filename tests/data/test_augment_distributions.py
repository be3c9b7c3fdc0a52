"""The per-sample recipes draw from the distributions their sources specify.

Many draws from the pipelines the data configs declare (`conf/data/sample_augment/`) are set
beside draws from the specification: torchvision's own `RandomAffine.get_params` and
`ColorJitter.get_params` (which BGMv2's `dataset/augmentation.py` calls), PIL's uniform box-blur
radius, the stated probabilities (specs/bgmv2.md §2.4), MODNet's 384–768 rescale and 512 crop
(specs/modnet.md §2.2) and HDMatt's DIM crop sizes (specs/hdmatt.md §3). Two-sample
Kolmogorov–Smirnov and binomial tests at fixed seeds: deterministic, and a wrong range, rate or
shape of distribution fails them.
"""

from __future__ import annotations

import albumentations as A
import numpy as np
import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.utils import instantiate
from scipy import stats
from torchvision import transforms as T

from mattebench.data import PerSampleAugment, bgmv2_augment
from mattebench.data.transforms import seed_pipeline
from mattebench.models.hdmatt.crops import crop_size
from tests.platform.conftest import CONF_DIR

SIZE = 32
SOURCE = (108, 192)  # an HD frame's aspect (h, w), small so that thousands of draws are quick
N = 2000


def recipe(*overrides: str) -> PerSampleAugment:
    """The `sample_augment` the Hydra configs build (with `data.size` = SIZE)."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        cfg = compose("train", overrides=[*overrides, f"data.size={SIZE}"])
    GlobalHydra.instance().clear()
    return instantiate(cfg.data.sample_augment)


def applied(pipeline, n: int = N, **data) -> list[dict[str, dict]]:
    """The parameters of the transforms each of `n` calls applied, by transform class name."""
    pipeline.save_applied_params = True
    draws = []
    for seed in range(n):
        seed_pipeline(pipeline, seed)
        out = pipeline(**data)
        draws.append({name: params for name, params in out["applied_transforms"]})
    return draws


def foreground(pipeline, n: int = N) -> list[dict[str, dict]]:
    image = np.full((*SOURCE, 3), 128, np.uint8)
    return applied(pipeline, n, image=image, mask=image[..., 0].copy())


def assert_same_distribution(ours, theirs, name: str) -> None:
    result = stats.ks_2samp(ours, theirs)
    assert result.pvalue > 1e-3, f"{name}: KS p = {result.pvalue:.2g}"


def assert_rate(hits: int, n: int, p: float, name: str) -> None:
    result = stats.binomtest(hits, n, p)
    assert result.pvalue > 1e-3, f"{name}: {hits}/{n} vs p = {p} (binomial p = {result.pvalue:.2g})"


def official_affine(scale: tuple[float, float], n: int = N) -> dict[str, np.ndarray]:
    """torchvision `RandomAffine.get_params` as BGMv2's `PairRandomAffineAndResize` calls it."""
    torch.manual_seed(0)
    h, w = SOURCE
    factor = max(SIZE / w, SIZE / h)
    draws = [
        T.RandomAffine.get_params(
            [-5.0, 5.0], [0.1 * factor] * 2, [s * factor for s in scale], [-5.0, 5.0], [w, h]
        )
        for _ in range(n)
    ]
    return {
        "angle": np.array([d[0] for d in draws]),
        "dx": np.array([d[1][0] for d in draws]),
        "dy": np.array([d[1][1] for d in draws]),
        "scale": np.array([d[2] / factor for d in draws]),
        "shear": np.array([d[3][0] for d in draws]),
    }


@pytest.fixture(scope="module")
def bgmv2() -> PerSampleAugment:
    return recipe("data=videomatte_sample", "model=bgmv2")


@pytest.mark.parametrize(("job", "scale"), [("foreground", (0.4, 1.0)), ("background", (1.0, 2.0))])
def test_bgmv2_affine_matches_torchvision_random_affine(bgmv2, job, scale):
    draws = foreground(bgmv2.pipelines[job])
    ours = [d["AffineAndResize"]["affine"] for d in draws]
    official = official_affine(scale)
    for key, values in official.items():
        assert_same_distribution([o[key] for o in ours], values, f"{job} {key}")
    assert all(float(o["dx"]).is_integer() for o in ours)  # torchvision rounds the shift


def test_bgmv2_flip_blur_sharpen_rates_and_blur_radius(bgmv2):
    for job in ("foreground", "background"):
        draws = foreground(bgmv2.pipelines[job])
        assert_rate(sum("HorizontalFlip" in d for d in draws), N, 0.5, f"{job} flip")
        assert_rate(sum("BoxBlur" in d for d in draws), N, 0.1, f"{job} blur")
        assert_rate(sum("Sharpen" in d for d in draws), N, 0.1, f"{job} sharpen")
        radii = [d["BoxBlur"]["radius"] for d in draws if "BoxBlur" in d]
        counts = np.bincount(radii, minlength=6)
        assert len(counts) == 6  # PIL BoxBlur(random.choice(range(6)))
        assert stats.chisquare(counts).pvalue > 1e-3


def test_bgmv2_sharpen_is_pils_kernel(bgmv2):
    draws = foreground(bgmv2.pipelines["foreground"], n=200)
    kernel = next(d["Sharpen"]["sharpening_matrix"] for d in draws if "Sharpen" in d)
    pil = np.array([[-2, -2, -2], [-2, 32, -2], [-2, -2, -2]]) / 16  # ImageFilter.SHARPEN
    np.testing.assert_allclose(kernel, pil, atol=1e-6)


def test_bgmv2_jitter_matches_torchvision_color_jitter(bgmv2):
    draws = foreground(bgmv2.pipelines["foreground"])
    ours = [d["ColorJitter"] for d in draws]
    assert len(ours) == N  # always, on the foreground colour
    torch.manual_seed(0)
    ranges = ([0.85, 1.15], [0.85, 1.15], [0.85, 1.15], [-0.05, 0.05])
    official = [T.ColorJitter.get_params(*ranges) for _ in range(N)]
    for i, key in enumerate(("brightness", "contrast", "saturation", "hue"), start=1):
        assert_same_distribution([o[key] for o in ours], [o[i] for o in official], key)
    firsts = np.bincount([o["order"][0] for o in ours], minlength=4)
    assert stats.chisquare(firsts).pvalue > 1e-3  # a uniformly random order, as torchvision's


def test_bgmv2_colour_jitter_leaves_the_alpha_alone(bgmv2):
    """Jitter on the foreground colour only (PairApplyOnlyAtIndices([1], ColorJitter)): the
    alpha comes out the same with the (last) jitter transform and without it."""
    pipeline = bgmv2.pipelines["foreground"]
    assert type(pipeline.transforms[-1]).__name__ == "ColorJitter"
    unjittered = A.Compose(pipeline.transforms[:-1])
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (*SOURCE, 3), dtype=np.uint8)
    alpha = rng.integers(0, 256, SOURCE, dtype=np.uint8)
    for seed in range(20):
        seed_pipeline(pipeline, seed)  # (the two share transforms: seed each before its call)
        a = pipeline(image=image, mask=alpha)
        seed_pipeline(unjittered, seed)
        b = unjittered(image=image, mask=alpha)
        np.testing.assert_array_equal(a["mask"], b["mask"])
        assert not np.array_equal(a["image"], b["image"])


def test_the_python_recipe_is_the_configs_recipe(bgmv2):
    """`bgmv2_augment` (for code without Hydra) builds the pipelines the YAML declares."""
    python = bgmv2_augment(SIZE)
    for key, pipeline in bgmv2.pipelines.items():
        assert repr(python.pipelines[key]) == repr(pipeline), key


def test_modnet_rescales_384_to_768_then_crops_512():
    """specs/modnet.md §2.2 at 512: shorter side uniform in [384, 768], one 512² crop, flip."""
    augment = recipe("data=videomatte_sample", "model=modnet")
    draws = foreground(augment.pipelines["foreground"])
    factors = np.array([d["RandomScale"]["scale"] for d in draws])
    rng = np.random.default_rng(0)
    assert_same_distribution(384 + 384 * (factors - 0.75) / 0.75, rng.uniform(384, 768, N), "side")
    assert "SmallestMaxSize" in draws[0] and "RandomCrop" in draws[0]
    assert_rate(sum("HorizontalFlip" in d for d in draws), N, 0.5, "flip")
    assert not any("BoxBlur" in d or "Sharpen" in d for d in draws)  # blur hurt MODNet
    out = augment(
        np.zeros((*SOURCE, 3), np.uint8),
        np.zeros(SOURCE, np.uint8),
        np.zeros((40, 90, 3), np.uint8),
        SIZE,
        rng,
    )
    assert [x.shape[:2] for x in out] == [(SIZE, SIZE)] * 3


def test_hdmatt_trains_on_dim_crops_with_flips():
    """HDMatt (DIM's recipe, specs/hdmatt.md §3): crops of 320, 480 or 640 alike, then the
    data config's flip at p 0.5."""
    generator = torch.Generator().manual_seed(0)
    sizes = [crop_size((320, 480, 640), 1000, 1200, generator) for _ in range(N)]
    counts = [sizes.count(s) for s in (320, 480, 640)]
    assert sum(counts) == N and stats.chisquare(counts).pvalue > 1e-3
    augment = recipe("data=composition1k_sample", "model=hdmatt")
    draws = foreground(augment.pipelines["foreground"], n=1000)
    assert_rate(sum("HorizontalFlip" in d for d in draws), 1000, 0.5, "flip")
