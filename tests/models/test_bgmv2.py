"""BGMv2 against the facts of the official code (specs/bgmv2.md §1.8-§1.10).

The official classes cannot be imported here, so the official side is represented by numbers and
key names measured from them (spec §1.8, §1.9) and by their torchvision building blocks: the
official encoders subclass torchvision's ResNet / MobileNetV2 and use torchvision's ASPP.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
import torchvision
from torch import nn
from torchvision.models.segmentation.deeplabv3 import ASPP as TorchvisionASPP

from mattebench.models.bgmv2 import (
    MattingBase,
    MattingRefine,
    load_official_weights,
    to_official_state_dict,
)
from mattebench.models.bgmv2.aspp import ASPP
from mattebench.models.bgmv2.refiner import (
    Refiner,
    crop_patch,
    replace_patch,
    upsampled_context,
)

BACKBONES = ["resnet50", "resnet101", "mobilenetv2"]

# spec §1.8: parameters of the official classes (= paper Table 4 for MattingRefine).
PARAMETERS = {
    "resnet50": (40_232_259, 40_247_703, [23_517_440, 15_535_104, 1_179_715, 15_444]),
    "resnet101": (59_224_387, 59_239_831, [42_509_568, 15_535_104, 1_179_715, 15_444]),
    "mobilenetv2": (4_991_395, 5_006_839, [1_812_576, 2_706_432, 472_387, 15_444]),
}

# spec §1.9: official state-dict sizes incl. num_batches_tracked (base, refine, refine backbone).
KEY_COUNTS = {
    "resnet50": (374, 394, 318),
    "resnet101": (680, 700, 624),
    "mobilenetv2": (362, 382, 306),
}

# spec §1.9: representative official keys and shapes; C = ASPP input channels.
COMMON_KEYS = {
    "aspp.convs.0.1.running_var": (256,),
    "aspp.convs.1.1.weight": (256,),
    "aspp.convs.4.2.num_batches_tracked": (),
    "aspp.project.0.weight": (256, 1280, 1, 1),
    "aspp.project.1.bias": (256,),
    "decoder.conv4.weight": (37, 54, 3, 3),
    "decoder.conv4.bias": (37,),
    "decoder.bn1.running_mean": (128,),
    "decoder.bn3.weight": (48,),
    "refiner.conv1.weight": (24, 42, 3, 3),
    "refiner.conv2.weight": (16, 24, 3, 3),
    "refiner.conv3.weight": (12, 22, 3, 3),
    "refiner.conv4.weight": (4, 12, 3, 3),
    "refiner.conv4.bias": (4,),
    "refiner.bn1.weight": (24,),
    "refiner.bn3.running_var": (12,),
}
RESNET_KEYS = {
    "backbone.conv1.weight": (64, 6, 7, 7),
    "backbone.bn1.running_mean": (64,),
    "backbone.layer1.0.conv1.weight": (64, 64, 1, 1),
    "backbone.layer1.0.downsample.0.weight": (256, 64, 1, 1),
    "backbone.layer4.0.conv2.weight": (512, 512, 3, 3),
    "backbone.layer4.2.bn3.weight": (2048,),
    "decoder.conv1.weight": (128, 768, 3, 3),
    "decoder.conv2.weight": (64, 384, 3, 3),
    "decoder.conv3.weight": (48, 128, 3, 3),
}
SPEC_KEYS = {
    "resnet50": {
        **COMMON_KEYS,
        **RESNET_KEYS,
        "aspp.convs.0.0.weight": (256, 2048, 1, 1),
        "aspp.convs.2.0.weight": (256, 2048, 3, 3),
        "aspp.convs.4.1.weight": (256, 2048, 1, 1),
        "backbone.layer3.5.bn3.weight": (1024,),
    },
    "resnet101": {
        **COMMON_KEYS,
        **RESNET_KEYS,
        "aspp.convs.3.0.weight": (256, 2048, 3, 3),
        "backbone.layer3.22.conv3.weight": (1024, 256, 1, 1),
    },
    "mobilenetv2": {
        **COMMON_KEYS,
        "backbone.features.0.0.weight": (32, 6, 3, 3),
        "backbone.features.0.1.weight": (32,),
        "backbone.features.1.conv.0.0.weight": (32, 1, 3, 3),
        "backbone.features.1.conv.1.weight": (16, 32, 1, 1),
        "backbone.features.1.conv.2.running_var": (16,),
        "backbone.features.2.conv.0.0.weight": (96, 16, 1, 1),
        "backbone.features.2.conv.1.0.weight": (96, 1, 3, 3),
        "backbone.features.2.conv.2.weight": (24, 96, 1, 1),
        "backbone.features.17.conv.2.weight": (320, 960, 1, 1),
        "backbone.features.17.conv.3.weight": (320,),
        "aspp.convs.0.0.weight": (256, 320, 1, 1),
        "aspp.convs.1.0.weight": (256, 320, 3, 3),
        "aspp.convs.4.1.weight": (256, 320, 1, 1),
        "decoder.conv1.weight": (128, 288, 3, 3),
        "decoder.conv2.weight": (64, 152, 3, 3),
        "decoder.conv3.weight": (48, 80, 3, 3),
    },
}


def randomize_batchnorm(model: nn.Module, seed: int = 0) -> nn.Module:
    """Random BN affine parameters and running statistics, so loading them is observable."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
    return model


def inputs(
    b: int = 2, h: int = 64, w: int = 96, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    src = torch.rand(b, 3, h, w, generator=g)
    bgr = (src + 0.3 * torch.rand(b, 3, h, w, generator=g)).clamp(0, 1)
    return src, bgr


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def torchvision_reference_encoder(backbone: str) -> tuple[nn.Module, callable]:
    """The official encoders (`model/resnet.py`, `model/mobilenet.py`) rebuilt from torchvision;
    returns the module (official key names without `backbone.`) and its feature function."""
    if backbone == "mobilenetv2":
        net = torchvision.models.mobilenet_v2()
        net.features[0][0] = nn.Conv2d(6, 32, 3, 2, 1, bias=False)
        net.features = net.features[:-1]
        net.features[14].conv[1][0].stride = (1, 1)
        for feature in net.features[15:]:
            feature.conv[1][0].dilation = (2, 2)
            feature.conv[1][0].padding = (2, 2)
        del net.classifier

        def features(x):
            taps = []
            for i, layer in enumerate(net.features):
                x = layer(x)
                if i in (1, 3, 6, 17):
                    taps.append(x)
            return taps[::-1]

        return net, features

    net = getattr(torchvision.models, backbone)(replace_stride_with_dilation=[False, False, True])
    net.conv1 = nn.Conv2d(6, 64, 7, 2, 3, bias=False)
    del net.avgpool, net.fc

    def features(x):
        x1 = net.relu(net.bn1(net.conv1(x)))
        x2 = net.layer1(net.maxpool(x1))
        x3 = net.layer2(x2)
        x4 = net.layer4(net.layer3(x3))
        return [x4, x3, x2, x1]

    return net, features


# --- 1. parameter counts (spec §1.8) ---------------------------------------------------------


@pytest.mark.parametrize("backbone", BACKBONES)
def test_parameter_counts(backbone):
    base_total, refine_total, split = PARAMETERS[backbone]
    base, refine = MattingBase(backbone), MattingRefine(backbone)
    assert n_params(base) == base_total
    assert n_params(refine) == refine_total
    parts = [refine.backbone, refine.aspp, refine.decoder, refine.refiner]
    assert [n_params(m) for m in parts] == split


def test_refiner_layer_parameters():
    refiner = Refiner()
    counts = {name: n_params(m) for name, m in refiner.named_children() if n_params(m)}
    assert counts == {
        "conv1": 9072,
        "bn1": 48,
        "conv2": 3456,
        "bn2": 32,
        "conv3": 2376,
        "bn3": 24,
        "conv4": 436,
    }


# --- 2. official key layout and loading (spec §1.9) -------------------------------------------


@pytest.mark.parametrize("backbone", BACKBONES)
def test_official_key_layout(backbone):
    base_keys, refine_keys, backbone_keys = KEY_COUNTS[backbone]
    official = to_official_state_dict(MattingRefine(backbone))
    assert len(official) == refine_keys
    assert len(to_official_state_dict(MattingBase(backbone))) == base_keys
    prefixes = [k.split(".")[0] for k in official]
    assert {p: prefixes.count(p) for p in set(prefixes)} == {
        "backbone": backbone_keys,
        "aspp": 36,
        "decoder": 20,
        "refiner": 20,
    }
    shapes = {k: tuple(v.shape) for k, v in official.items()}
    assert {k: shapes.get(k) for k in SPEC_KEYS[backbone]} == SPEC_KEYS[backbone]


@pytest.mark.parametrize("backbone", BACKBONES)
def test_official_backbone_and_aspp_keys_match_torchvision(backbone):
    """Every backbone and ASPP key and shape is what the official torchvision subclasses hold."""
    official = to_official_state_dict(MattingBase(backbone))
    reference, _ = torchvision_reference_encoder(backbone)
    aspp = TorchvisionASPP(320 if backbone == "mobilenetv2" else 2048, [3, 6, 9])
    expected = {f"backbone.{k}": tuple(v.shape) for k, v in reference.state_dict().items()}
    expected |= {f"aspp.{k}": tuple(v.shape) for k, v in aspp.state_dict().items()}
    ours = {k: tuple(v.shape) for k, v in official.items() if k.startswith(("backbone", "aspp"))}
    assert ours == expected


@pytest.mark.parametrize("backbone", BACKBONES)
def test_encoder_matches_torchvision_reference(backbone):
    """With the same weights, our timm encoder computes the official torchvision encoder's
    features, also for sizes that are not multiples of the stride."""
    model = randomize_batchnorm(MattingBase(backbone)).eval()
    reference, features = torchvision_reference_encoder(backbone)
    official = to_official_state_dict(model)
    reference.load_state_dict(
        {k.removeprefix("backbone."): v for k, v in official.items() if k.startswith("backbone.")}
    )
    reference.eval()
    for size in [(64, 96), (50, 70)]:
        x = torch.rand(1, 6, *size)
        with torch.no_grad():
            ours, theirs = model.backbone(x)[:4], features(x)
        for a, b in zip(ours, theirs, strict=True):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("backbone", BACKBONES)
def test_official_state_dict_round_trip(backbone):
    source = randomize_batchnorm(MattingRefine(backbone, refine_mode="thresholding")).eval()
    official = {k: v.clone() for k, v in to_official_state_dict(source).items()}
    target = MattingRefine(backbone, refine_mode="thresholding").eval()
    report = load_official_weights(target, official)
    assert report.loaded == KEY_COUNTS[backbone][1]
    assert not (report.ignored or report.left_at_init or report.missing or report.unexpected)
    src, bgr = inputs()
    with torch.no_grad():
        for a, b in zip(source(src, bgr), target(src, bgr), strict=True):
            assert torch.equal(a, b)


def test_load_lightning_checkpoint_file(tmp_path):
    """`{"state_dict": ...}` with `model.` prefixes, in our own or the official key names."""
    source = randomize_batchnorm(MattingBase("mobilenetv2")).eval()
    for i, state in enumerate([source.state_dict(), to_official_state_dict(source)]):
        wrapped = {f"model.{k}": v for k, v in state.items()} | {"loss.dummy": torch.zeros(1)}
        path = tmp_path / f"epoch={i}.ckpt"
        torch.save({"state_dict": wrapped, "epoch": 3}, path)
        target = MattingBase("mobilenetv2").eval()
        report = load_official_weights(target, path)
        assert report.ignored == ["loss.dummy"]
        src, bgr = inputs()
        with torch.no_grad():
            assert torch.equal(source(src, bgr)[0], target(src, bgr)[0])


def test_load_module_prefixed_state_dict():
    source = MattingRefine("mobilenetv2")
    state = {f"module.{k}": v for k, v in to_official_state_dict(source).items()}
    report = load_official_weights(MattingRefine("mobilenetv2"), state)
    assert report.loaded == 382


def test_strict_load_names_missing_and_unexpected_keys():
    official = to_official_state_dict(MattingRefine("resnet50"))
    with pytest.raises(
        RuntimeError, match=r"looks like a 'resnet50'.*306 missing keys \(backbone\.layer3\.6\."
    ):
        load_official_weights(MattingRefine("resnet101"), official)
    official = to_official_state_dict(MattingRefine("mobilenetv2"))
    with pytest.raises(RuntimeError, match=r"unexpected keys \(backbone\.features\.0\.0\.weight"):
        load_official_weights(MattingRefine("resnet50"), official)


def test_strict_load_names_shape_mismatches():
    official = to_official_state_dict(MattingRefine("resnet50"))
    official["decoder.conv4.bias"] = torch.zeros(4)
    with pytest.raises(RuntimeError, match=r"1 shape mismatches \(decoder\.conv4\.bias"):
        load_official_weights(MattingRefine("resnet50"), official)
    model = MattingRefine("resnet50")
    report = load_official_weights(model, official, strict=False)
    assert report.loaded == 393
    assert report.mismatched == ["decoder.conv4.bias: checkpoint (4,), model (37,)"]


# --- 4. base <-> refine checkpoints --------------------------------------------------------


def test_refine_checkpoint_into_base():
    """The released refine weights drive MattingBase (official inference scripts, `strict=False`):
    MattingBase on the downsampled input reproduces MattingRefine's coarse outputs."""
    refine = randomize_batchnorm(MattingRefine("mobilenetv2")).eval()
    base = MattingBase("mobilenetv2").eval()
    report = load_official_weights(base, to_official_state_dict(refine))
    assert len(report.ignored) == 20
    assert all(k.startswith("refiner.") for k in report.ignored)
    src, bgr = inputs(h=128, w=192)
    with torch.no_grad():
        _, _, pha_sm, fgr_sm, err_sm, _ = refine(src, bgr)
        small = [
            F.interpolate(x, scale_factor=0.25, mode="bilinear", recompute_scale_factor=True)
            for x in (src, bgr)
        ]
        pha, fgr, err, _ = base(*small)
    assert torch.equal(pha, pha_sm)
    assert torch.equal(fgr, fgr_sm)
    assert torch.equal(err, err_sm)


def test_base_checkpoint_into_refine_leaves_refiner_at_init():
    base = randomize_batchnorm(MattingBase("mobilenetv2"))
    refine = MattingRefine("mobilenetv2")
    refiner_before = {k: v.clone() for k, v in refine.refiner.state_dict().items()}
    report = load_official_weights(refine, to_official_state_dict(base))
    assert report.loaded == 362
    assert sorted(report.left_at_init) == sorted(f"refiner.{k}" for k in refiner_before)
    for k, v in refine.refiner.state_dict().items():
        assert torch.equal(v, refiner_before[k])
    assert torch.equal(refine.decoder.conv4.weight, base.decoder.conv4.weight)


# --- 3. shapes and behaviours (spec §1.10) -------------------------------------------------


def test_refine_output_shapes():
    model = MattingRefine("mobilenetv2").eval()
    with torch.no_grad():
        outputs = model(*inputs(1, 256, 384))
    assert [tuple(t.shape) for t in outputs] == [
        (1, 1, 256, 384),
        (1, 3, 256, 384),
        (1, 1, 64, 96),
        (1, 3, 64, 96),
        (1, 1, 64, 96),
        (1, 1, 64, 96),
    ]


def test_refine_output_shapes_hd():
    """Spec §1.10's measured case (about 2 s on CPU)."""
    model = MattingRefine("mobilenetv2").eval()
    with torch.no_grad():
        outputs = model(*inputs(2, 1080, 1920))
    assert [tuple(t.shape) for t in outputs] == [
        (2, 1, 1080, 1920),
        (2, 3, 1080, 1920),
        (2, 1, 270, 480),
        (2, 3, 270, 480),
        (2, 1, 270, 480),
        (2, 1, 270, 480),
    ]


@pytest.mark.parametrize(
    ("backbone", "kernel_size", "scale"),
    [
        ("resnet50", 3, 0.25),
        ("resnet50", 1, 0.25),
        ("mobilenetv2", 3, 0.25),
        ("mobilenetv2", 1, 0.25),
        ("mobilenetv2", 3, 0.125),
    ],
)
def test_full_equals_thresholding_everywhere(backbone, kernel_size, scale):
    """Spec §1.10: in eval mode, `full` and `thresholding` with threshold -1 (every patch) give
    the same pha and fgr. Identical where the patches crop the upsampled context map (kernel 1,
    backbone_scale 1/8); with kernel 3 at 1/4 they upsample 5x5 coarse windows instead
    (`upsampled_context`), which rounds differently from the whole-map interpolation of `full`:
    equal to float rounding (measured max |diff| 1.2e-7)."""
    full = MattingRefine(
        backbone, backbone_scale=scale, refine_mode="full", refine_kernel_size=kernel_size
    )
    randomize_batchnorm(full).eval()
    patches = MattingRefine(
        backbone,
        backbone_scale=scale,
        refine_mode="thresholding",
        refine_threshold=-1,
        refine_kernel_size=kernel_size,
    ).eval()
    patches.load_state_dict(full.state_dict())
    src, bgr = inputs()
    with torch.no_grad():
        a, b = full(src, bgr), patches(src, bgr)
    if kernel_size == 3 and scale == 0.25:
        torch.testing.assert_close(b[0], a[0], rtol=0, atol=1e-6)
        torch.testing.assert_close(b[1], a[1], rtol=0, atol=1e-6)
    else:
        assert torch.equal(a[0], b[0])
        assert torch.equal(a[1], b[1])
    assert torch.equal(a[5], b[5])
    assert a[5].sum() == 2 * 16 * 24


@pytest.mark.parametrize(("height", "width"), [(8, 12), (17, 23), (3, 5), (1, 2)])
def test_upsampled_context_is_the_crop_of_the_upsampled_map(height, width):
    """The 5x5-window upsampling against its definition, the official crop of the whole map
    upsampled to twice its size, at every patch (so at every edge and corner): equal to float
    rounding, exactly zero in the crop's padding, the layout of the map."""
    x = torch.randn(2, 36, height, width, generator=torch.Generator().manual_seed(0))
    b, r, c = torch.meshgrid(
        torch.arange(2), torch.arange(height), torch.arange(width), indexing="ij"
    )
    idx = (b.flatten(), r.flatten(), c.flatten())
    up = F.interpolate(x, (2 * height, 2 * width), mode="bilinear", align_corners=False)
    expected = crop_patch(up, idx, 2, 3)
    got = upsampled_context(x, idx)
    assert got.shape == expected.shape == (2 * height * width, 36, 8, 8)
    assert got.is_contiguous()
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-6)
    assert torch.equal(got == 0, expected == 0)
    x_nhwc = x.contiguous(memory_format=torch.channels_last)
    got_nhwc = upsampled_context(x_nhwc, idx)
    assert got_nhwc.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(got_nhwc, got)


@pytest.mark.parametrize(("sample_pixels", "prevent"), [(16 * 50, True), (16 * 500, True)])
def test_sampling_refines_min_k_and_nonzero_error(sample_pixels, prevent):
    """`sampling` refines min(k, #(err > 0)) patches per image, k = sample_pixels // 16."""
    model = randomize_batchnorm(
        MattingRefine("mobilenetv2", refine_sample_pixels=sample_pixels)
    ).eval()
    src, bgr = inputs(2, 128, 192)
    with torch.no_grad():
        *_, err_sm, ref_sm = model(src, bgr)
    err = F.interpolate(err_sm, size=ref_sm.shape[2:], mode="bilinear", align_corners=False)
    nonzero = err.gt(0).flatten(1).sum(1)
    expected = torch.clamp(nonzero, max=sample_pixels // 16)
    assert torch.equal(ref_sm.flatten(1).sum(1).long(), expected)


def test_sampling_selects_largest_errors_and_clamps_k():
    err = torch.zeros(2, 1, 4, 6)
    err[0].view(-1)[:10] = torch.linspace(0.1, 1.0, 10)  # 10 non-zero
    err[1].view(-1)[:] = torch.linspace(0.01, 1.0, 24)  # all 24 non-zero
    ref = Refiner("sampling", sample_pixels=16 * 5).select_refinement_regions(err)
    assert ref.sum((1, 2, 3)).tolist() == [5, 5]
    assert torch.equal(ref[0].view(-1)[5:10], torch.ones(5))  # the five largest
    # k = 100 exceeds the 24 patches: clamped instead of the official topk error (#172).
    ref = Refiner("sampling", sample_pixels=16 * 100).select_refinement_regions(err)
    assert ref.sum((1, 2, 3)).tolist() == [10, 24]
    ref = Refiner("sampling", 16 * 100, prevent_oversampling=False).select_refinement_regions(err)
    assert ref.sum((1, 2, 3)).tolist() == [24, 24]


@pytest.mark.parametrize(
    ("sample_pixels", "prevent", "dropped"),
    [(16 * 50, True, False), (16 * 32 * 48, True, True), (16 * 32 * 48, False, False)],
)
def test_static_patch_selection_equals_nonzero(sample_pixels, prevent, dropped):
    """The inference path without `nonzero` (all top-k patches refined, the dropped ones written
    back unchanged) gives exactly the official path's outputs, with patches dropped or not."""
    torch.manual_seed(0)  # random weights: about 2/3 of the 32 x 48 patches have a non-zero error
    model = randomize_batchnorm(
        MattingRefine(
            "mobilenetv2", refine_sample_pixels=sample_pixels, refine_prevent_oversampling=prevent
        )
    ).eval()
    src, bgr = inputs(2, 128, 192)
    with torch.no_grad():
        static = model(src, bgr)
        model.refiner.static_patches = False
        official = model(src, bgr)
    ref_sm = official[-1]
    assert ref_sm.sum() > 0
    # dropped: some of the top k have error exactly 0 and are not written back
    assert (ref_sm.flatten(1).sum(1) < sample_pixels // 16).all() == dropped
    for ours, theirs in zip(static, official, strict=True):
        assert torch.equal(ours, theirs)


@pytest.mark.parametrize("training", [False, True])
def test_patch_chunks_do_not_change_the_outputs(training):
    """The first stage runs in chunks of `patch_chunk` patches (memory, module doc): the same
    pha and fgr as in one batch, in training too (the batch norm sees all patches at once)."""
    refiner = randomize_batchnorm(Refiner("thresholding", threshold=-1)).train(training)
    g = torch.Generator().manual_seed(0)
    src, bgr = inputs()  # 2 x 16 x 24 = 768 patches
    coarse = [torch.rand(2, c, 16, 24, generator=g) for c in (1, 3, 1, 32)]  # pha fgr err hid
    outputs = {}
    for chunk in (100, 768, 10_000):
        refiner.patch_chunk = chunk
        with torch.no_grad():
            outputs[chunk] = refiner(src, bgr, *coarse)
    for chunk in (100, 768):
        for ours, whole in zip(outputs[chunk], outputs[10_000], strict=True):
            assert torch.equal(ours, whole)


def test_sampling_refine_in_patch_chunks_exports_to_onnx(tmp_path):
    """More patches than `patch_chunk` (HD: 5,000 in runs of 2,048) through an ONNX export and
    ONNX Runtime: the PyTorch outputs (`split(size)` exported run lengths past the axis' end)."""
    onnxruntime = pytest.importorskip("onnxruntime")
    model = randomize_batchnorm(
        MattingRefine(
            "mobilenetv2", refine_sample_pixels=16 * 300, refine_prevent_oversampling=False
        )
    ).eval()
    model.refiner.patch_chunk = 128  # 300 patches: runs of 128, 128, 44
    src, bgr = inputs(1, 128, 192)
    path = tmp_path / "refine.onnx"
    with torch.no_grad():
        expected = model(src, bgr)
        torch.onnx.export(model, (src, bgr), str(path), dynamo=False, opset_version=17)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [arg.name for arg in session.get_inputs()]
    outputs = session.run(None, dict(zip(names, (src.numpy(), bgr.numpy()), strict=True)))
    assert expected[5].sum() == 300
    for theirs, ours in zip(outputs, expected, strict=True):
        torch.testing.assert_close(torch.from_numpy(theirs), ours, rtol=0, atol=1e-5)


def test_static_patch_selection_with_every_error_zero():
    """All top-k errors zero: nothing refined, as the official early return."""
    refiner = Refiner("sampling", sample_pixels=16 * 8).eval()
    src, bgr = inputs(1, 32, 48)
    pha, fgr = torch.rand(1, 1, 8, 12), torch.rand(1, 3, 8, 12)
    err, hid = torch.zeros(1, 1, 8, 12), torch.rand(1, 32, 8, 12)
    with torch.no_grad():
        static = refiner(src, bgr, pha, fgr, err, hid)
        refiner.static_patches = False
        official = refiner(src, bgr, pha, fgr, err, hid)
    assert static[2].sum() == 0
    for ours, theirs in zip(static, official, strict=True):
        assert torch.equal(ours, theirs)


def test_replace_patch_takes_the_outputs_dtype():
    """Under 16-mixed (`trainer=gpu`) the refined patches come from a half-precision convolution
    and the upsampled outputs are fp32 on CUDA: index_put needs one dtype (it raised there)."""
    x = torch.zeros(2, 3, 8, 12)
    patches = torch.rand(2, 3, 4, 4).to(torch.float16)
    idx = (torch.tensor([0, 1]), torch.tensor([1, 0]), torch.tensor([2, 0]))
    out = replace_patch(x, patches, idx)
    assert out.dtype == torch.float32
    assert torch.equal(out[0, :, 4:8, 8:12], patches[0].float())
    assert torch.equal(out[1, :, 0:4, 0:4], patches[1].float())
    assert out.sum() == patches.float().sum()


def test_sampling_on_input_smaller_than_sample_pixels():
    model = MattingRefine("mobilenetv2", refine_prevent_oversampling=False).eval()
    with torch.no_grad():
        *_, ref_sm = model(*inputs(1, 64, 96))  # 6,144 px < 80,000
    assert ref_sm.sum() == 16 * 24


@pytest.mark.parametrize("backbone", ["resnet50", "mobilenetv2"])
def test_batch_size_one_trains(backbone):
    """Official #123: the ASPP pooling BN raised on batch 1 in training mode."""
    src, bgr = inputs(1)
    refine = MattingRefine(backbone, refine_prevent_oversampling=False)
    for model in (MattingBase(backbone), refine):
        model.train()
        outputs = model(src, bgr)
        sum(t.mean() for t in outputs[:4]).backward()
        assert model.aspp.convs[4][1].weight.grad is not None
        assert all(p.grad is not None for p in model.parameters())


def test_pooling_batchnorm_uses_running_stats_for_one_sample():
    aspp = randomize_batchnorm(ASPP(8)).train()
    bn = aspp.convs[4][2]
    before = bn.running_mean.clone()
    aspp(torch.rand(1, 8, 5, 5))
    assert torch.equal(bn.running_mean, before)  # evaluated, not updated
    aspp(torch.rand(2, 8, 5, 5))
    assert not torch.equal(bn.running_mean, before)  # an ordinary BatchNorm2d otherwise
    keys = list(aspp.state_dict())
    assert keys == list(TorchvisionASPP(8, [3, 6, 9]).state_dict())


def test_base_accepts_sizes_not_multiple_of_stride():
    model = MattingBase("resnet50").eval()
    with torch.no_grad():
        pha, fgr, _, hid = model(*inputs(1, 50, 70))
    assert pha.shape == (1, 1, 50, 70)
    assert fgr.shape == (1, 3, 50, 70)
    assert hid.shape == (1, 32, 50, 70)


def test_no_refinement_when_nothing_selected():
    model = MattingRefine("mobilenetv2", refine_mode="thresholding", refine_threshold=2).eval()
    with torch.no_grad():
        pha, _, pha_sm, *_, ref_sm = model(*inputs(1))
    assert ref_sm.sum() == 0
    up = F.interpolate(pha_sm, size=pha.shape[2:], mode="bilinear", align_corners=False)
    assert torch.equal(pha, up)


def test_invalid_arguments_say_what_to_do():
    model = MattingRefine("mobilenetv2")
    src, bgr = inputs(1)
    with pytest.raises(ValueError, match="same shape"):
        model(src, bgr[:, :, :60])
    with pytest.raises(ValueError, match=r"divisible by 4.*e\.g\. to 60x96"):
        model(src[:, :, :62], bgr[:, :, :62])
    with pytest.raises(ValueError, match=r"backbone_scale must be in \(0, 1/2\]"):
        MattingRefine("mobilenetv2", backbone_scale=0.75)
    with pytest.raises(ValueError, match="backbone must be one of"):
        MattingBase("resnet18")
    with pytest.raises(ValueError, match="refine mode"):
        MattingRefine("mobilenetv2", refine_mode="topk")
    with pytest.raises(ValueError, match="kernel size"):
        MattingRefine("mobilenetv2", refine_kernel_size=5)
