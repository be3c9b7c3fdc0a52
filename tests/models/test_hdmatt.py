"""HDMatt's modules against specs/hdmatt.md: reference sizes (§4), blending (§3/§5), CPC
sampling and TGNL region masking (§1.4, §5), training crops (§5)."""

from __future__ import annotations

import pytest
import timm
import torch
import torch.nn.functional as F

from mattebench.models.hdmatt import (
    ContextPool,
    CrossPatchContext,
    HDMatt,
    blend_weights,
    border_weights,
    predict_image,
    region_masks,
)
from mattebench.models.hdmatt.crops import crop, reflect_indices
from mattebench.models.hdmatt.stitch import Stitcher, starts

# spec §4, measured with timm: ResNet-34 trunk without fc, DeepLabv3 ASPP 512 -> 256.
TRUNK_PARAMETERS = {"onehot": 21_294_080, "single": 21_287_808}
ASPP_PARAMETERS = 4_131_840
# The whole default network (trunk + ASPP + CPC + decoder), pinned to catch accidental changes.
TOTAL_PARAMETERS = 28_328_865


def count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.fixture(scope="module")
def net() -> HDMatt:
    torch.manual_seed(0)
    return HDMatt().eval()


def test_reference_sizes(net):
    assert count(net.encoder.trunk) == TRUNK_PARAMETERS["onehot"]
    assert count(net.encoder.aspp) == ASPP_PARAMETERS
    assert count(net) == TOTAL_PARAMETERS
    single = HDMatt(trimap_encoding="single")
    assert count(single.encoder.trunk) == TRUNK_PARAMETERS["single"]
    assert (
        count(timm.create_model("resnet34", in_chans=6, num_classes=0))
        == TRUNK_PARAMETERS["onehot"]
    )


def test_shapes_and_range(net):
    image, trimap = torch.rand(2, 3, 64, 96), torch.full((2, 1, 64, 96), 0.5)
    with torch.no_grad():
        shared = net.encode_pool(torch.rand(3, 3, 64, 96), torch.zeros(3, 1, 64, 96))
        assert shared.features.shape == (3, 256, 2, 3) and shared.regions.shape == (3, 3, 2, 3)
        alpha = net(image, trimap, shared)
        per_query = ContextPool(*(t.expand(2, *t.shape) for t in shared))
        torch.testing.assert_close(net(image, trimap, per_query), alpha)
    assert alpha.shape == (2, 1, 64, 96) and alpha.min() >= 0 and alpha.max() <= 1
    with pytest.raises(ValueError, match="multiples of 32"):
        net(torch.rand(1, 3, 48, 64), torch.zeros(1, 1, 48, 64), shared)


def test_region_masks_keep_thin_bands():
    trimap = torch.zeros(1, 1, 64, 64)
    trimap[..., :, 40:] = 1
    trimap[..., :, 38:40] = 0.5  # a 2 px band
    masks = region_masks(trimap, (2, 2))
    assert masks.sum(1).eq(1).all()  # disjoint and covering
    assert masks[0, 0, :, 1].eq(1).all() and masks[0, 2, :, 0].eq(1).all()


# --- blending and stitching -------------------------------------------------------------
def test_blend_weights_ramp_only_at_inner_borders():
    w = blend_weights(0, 48, 64, (100, 112), 16)  # top-right corner patch of the image
    assert w[0, -1] == 1  # image borders do not count
    assert w[0, 0] == pytest.approx(1 / 16) and w[0, 15] == 1 and w[-1, -1] == pytest.approx(1 / 16)
    assert border_weights(64, 16)[0, 32] == pytest.approx(1 / 16)


def stitch(patches: dict, size, patch, margin) -> torch.Tensor:
    stitcher = Stitcher(size, patch, margin)
    for (y, x), alpha in patches.items():
        stitcher.add(alpha, y, x)
    return stitcher.result()


@pytest.mark.parametrize("size", [(64, 64), (100, 173), (150, 97)])
def test_stitching_a_constant_reproduces_it(size):
    grid = [(y, x) for y in starts(size[0], 64, 48) for x in starts(size[1], 64, 48)]
    out = stitch({o: torch.full((64, 64), 0.37) for o in grid}, size, 64, 16)
    torch.testing.assert_close(out, torch.full(size, 0.37), rtol=0, atol=1e-6)


def test_stitching_patches_of_a_known_alpha_reconstructs_it():
    alpha = torch.rand(130, 170)
    grid = [(y, x) for y in starts(130, 64, 40) for x in starts(170, 64, 40)]
    out = stitch({(y, x): alpha[y : y + 64, x : x + 64] for y, x in grid}, (130, 170), 64, 24)
    torch.testing.assert_close(out, alpha, rtol=0, atol=1e-6)


class EchoModel:
    """Predicts the first image channel: the stitched output must be the image, exactly."""

    stride = 32

    def __init__(self) -> None:
        self.queries = 0
        self.excluded: list[torch.Tensor] = []

    def encode_pool(self, image, trimap):
        return ContextPool(image[:, :1, ::32, ::32], region_masks(trimap, (2, 2)))

    def __call__(self, image, trimap, pool, exclude):
        self.queries += len(image)
        self.excluded.append(exclude)
        return image[:, :1]


def test_crop_and_stitch_reconstructs_across_patch_borders_and_skips_known_patches():
    h, w = 200, 230
    image = torch.rand(1, 3, h, w)
    trimap = torch.zeros(1, 1, h, w)
    trimap[..., 80:, :] = 1
    trimap[..., 60:80, :] = 0.5
    model = EchoModel()
    alpha = predict_image(model, image, trimap, patch=64, margin=16, batch=3)
    unknown = trimap == 0.5
    torch.testing.assert_close(alpha[unknown], image[:, :1][unknown], rtol=0, atol=1e-6)
    assert torch.equal(alpha[~unknown], trimap[~unknown])  # known pixels come from the trimap
    rows = [y for y in starts(h, 64, 48) if trimap[..., y : y + 64, :].eq(0.5).any()]
    assert rows == [0, 48]  # the rows at 96 and 136 are known: skipped
    assert model.queries == len(rows) * len(starts(w, 64, 48))
    exclude = torch.cat(model.excluded)  # (queries, cells): the cell holding the centre
    assert exclude.shape[1] == len(starts(h, 64, 64)) * len(starts(w, 64, 64))
    assert torch.isin(exclude.sum(1), torch.tensor([1, 2])).all()  # 2 where the last cells overlap


def test_predict_image_any_size(net):
    for size in [(40, 50), (70, 90)]:
        trimap = torch.full((1, 1, *size), 0.5)
        alpha = predict_image(net, torch.rand(1, 3, *size), trimap, patch=64, margin=16)
        assert alpha.shape == (1, 1, *size) and alpha.min() >= 0 and alpha.max() <= 1


# --- CPC ---------------------------------------------------------------------------------
def identity_cpc(channels: int = 4, top_k: int = 1) -> CrossPatchContext:
    cpc = CrossPatchContext(channels, channels, top_k)
    with torch.no_grad():
        for conv in (cpc.theta, cpc.phi, cpc.delta):
            conv.weight.copy_(torch.eye(channels).view(channels, channels, 1, 1))
            conv.bias.zero_()
    return cpc


def test_context_sampling_picks_the_planted_most_correlated_patch():
    torch.manual_seed(0)
    cpc = identity_cpc(top_k=2)
    query = torch.randn(1, 4, 3, 3)
    regions = torch.zeros(1, 3, 3, 3)
    regions[:, 0, 1] = 1  # the middle row is unknown
    regions[:, 1, 0] = regions[:, 2, 2] = 1
    direction = (query * regions[:, :1]).sum((-2, -1))
    pool = 0.1 * torch.randn(1, 8, 4, 3, 3)
    pool[0, 5] += direction.view(4, 1, 1)  # planted: aligned with the query's U features
    pool[0, 2] += 0.5 * direction.view(4, 1, 1)  # runner-up
    assert cpc.sample(query, regions, pool).tolist() == [[5, 2]]
    # Ranked on correlations, not on the softmax, which saturates to ties for large features.
    assert cpc.scores(query, regions, 1e3 * pool)[0, 2] == 0
    assert cpc.sample(query, regions, 1e3 * pool).tolist() == [[5, 2]]
    exclude = torch.zeros(1, 8, dtype=torch.bool)
    exclude[0, 5] = True
    assert cpc.sample(query, regions, pool, exclude)[0, 0] == 2
    # Features at the query's known positions do not enter the score.
    changed = query.clone()
    changed[:, :, 0] += 100
    torch.testing.assert_close(
        cpc.scores(changed, regions, pool, None), cpc.scores(query, regions, pool, None)
    )


def test_tgnl_attends_only_within_each_region():
    torch.manual_seed(0)
    cpc = identity_cpc()
    query, context = torch.randn(1, 4, 4, 4), torch.randn(1, 2, 4, 4, 4)
    q_regions = region_masks(torch.tensor([0.0, 0.5, 0.5, 1.0]).repeat(4, 1)[None, None], (4, 4))
    c_regions = torch.zeros(1, 2, 3, 4, 4)
    c_regions[:, :, 0, :, 1:3] = 1  # U columns
    c_regions[:, :, 1, :, 3] = 1  # F column
    c_regions[:, :, 2, :, 0] = 1  # B column
    out = cpc.tgnl(query, q_regions, context, c_regions)
    f_u, f_f, f_b = out.split(4, dim=1)
    changed = context.clone()
    changed[..., 3] += 5  # only the context's F features
    f_u2, f_f2, f_b2 = cpc.tgnl(query, q_regions, changed, c_regions).split(4, dim=1)
    torch.testing.assert_close(f_u2, f_u)
    torch.testing.assert_close(f_b2, f_b)
    assert not torch.allclose(f_f2, f_f)
    unknown = q_regions[:, :1].bool().expand_as(out)
    assert out[~unknown].eq(0).all() and out[unknown].abs().gt(0).all()
    # A region that no patch has gives a zero aggregate, not NaN.
    q_no_b = region_masks(torch.tensor([1.0, 0.5, 0.5, 1.0]).repeat(4, 1)[None, None], (4, 4))
    c_no_b = c_regions * torch.tensor([1.0, 1, 0]).view(3, 1, 1)
    no_b = cpc.tgnl(query, q_no_b, context, c_no_b)
    assert no_b.isfinite().all() and no_b[:, 8:].eq(0).all() and no_b[:, 8:].numel()


# --- training crops ------------------------------------------------------------------------
def test_reflective_crops_match_reflect_padding():
    x = torch.rand(2, 7, 9)
    padded = F.pad(x[None], (4, 4, 4, 4), mode="reflect")[0]
    torch.testing.assert_close(crop(x, -4, -4, 17)[:, :15, :17], padded[:, :15, :17])
    assert reflect_indices(-2, 6, 3).tolist() == [2, 1, 0, 1, 2, 1]
