"""MODNet against the facts of the official code (specs/modnet.md §1).

The official classes cannot be imported here, so the official side is represented by numbers,
key names and shapes measured from them (spec §1.2, §1.8, §1.9) and by the demo resize rule
(spec §1.10).
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from mattebench.models.modnet import (
    MODNet,
    inference_size,
    load_backbone_weights,
    load_official_weights,
    predict_any_size,
    to_official_state_dict,
)
from mattebench.models.modnet.blocks import ConcatStack, Conv2dIBNormRelu, IBNorm

# spec §1.8: trainable parameters of the official MODNet and its parts.
TOTAL_PARAMETERS = 6_487_075
BRANCH_PARAMETERS = {
    "backbone": 2_223_872,
    "lr_branch": 3_968_545,
    "hr_branch": 245_409,
    "f_branch": 49_249,
}
LR_PARTS = {"se_block": 819_200, "conv_lr16x": 3_072_192, "conv_lr8x": 76_864, "conv_lr": 289}
HR_PARTS = {
    "tohr_enc2x": 576,
    "conv_enc2x": 10_144,
    "tohr_enc4x": 832,
    "conv_enc4x": 36_992,
    "conv_hr4x": 112_640,
    "conv_hr2x": 74_048,
    "conv_hr": 10_177,
}
FUSION_PARTS = {"conv_lr4x": 25_664, "conv_f2x": 18_496, "conv_f": 5_089}
INFERENCE_PARAMETERS = 6_476_609  # without conv_lr and conv_hr
BUFFERS = 34_901  # numel of the running stats and num_batches_tracked (single backbone)

# spec §1.9: the official state dict (nn.DataParallel, backbone registered twice).
OFFICIAL_KEY_COUNT = 751
OFFICIAL_BACKBONE_KEYS = 312  # per copy
OFFICIAL_NUM_BATCHES_TRACKED = 121
OFFICIAL_SHAPES = {
    "module.backbone.model.features.0.0.weight": (32, 3, 3, 3),
    "module.backbone.model.features.0.1.weight": (32,),
    "module.backbone.model.features.0.1.running_var": (32,),
    "module.backbone.model.features.0.1.num_batches_tracked": (),
    "module.backbone.model.features.1.conv.0.weight": (32, 1, 3, 3),
    "module.backbone.model.features.1.conv.3.weight": (16, 32, 1, 1),
    "module.backbone.model.features.2.conv.0.weight": (96, 16, 1, 1),
    "module.backbone.model.features.2.conv.3.weight": (96, 1, 3, 3),
    "module.backbone.model.features.2.conv.6.weight": (24, 96, 1, 1),
    "module.backbone.model.features.18.0.weight": (1280, 320, 1, 1),
    "module.lr_branch.backbone.model.features.0.0.weight": (32, 3, 3, 3),
    "module.lr_branch.backbone.model.features.18.0.weight": (1280, 320, 1, 1),
    "module.lr_branch.se_block.fc.0.weight": (320, 1280),
    "module.lr_branch.se_block.fc.2.weight": (1280, 320),
    "module.lr_branch.conv_lr16x.layers.0.weight": (96, 1280, 5, 5),
    "module.lr_branch.conv_lr16x.layers.0.bias": (96,),
    "module.lr_branch.conv_lr16x.layers.1.bnorm.weight": (48,),
    "module.lr_branch.conv_lr16x.layers.1.bnorm.running_mean": (48,),
    "module.lr_branch.conv_lr8x.layers.0.weight": (32, 96, 5, 5),
    "module.lr_branch.conv_lr.layers.0.weight": (1, 32, 3, 3),
    "module.hr_branch.tohr_enc2x.layers.0.weight": (32, 16, 1, 1),
    "module.hr_branch.conv_enc2x.layers.0.weight": (32, 35, 3, 3),
    "module.hr_branch.tohr_enc4x.layers.0.weight": (32, 24, 1, 1),
    "module.hr_branch.conv_enc4x.layers.0.weight": (64, 64, 3, 3),
    "module.hr_branch.conv_hr4x.0.layers.0.weight": (64, 99, 3, 3),
    "module.hr_branch.conv_hr4x.1.layers.0.weight": (64, 64, 3, 3),
    "module.hr_branch.conv_hr4x.2.layers.0.weight": (32, 64, 3, 3),
    "module.hr_branch.conv_hr2x.0.layers.0.weight": (64, 64, 3, 3),
    "module.hr_branch.conv_hr2x.1.layers.0.weight": (32, 64, 3, 3),
    "module.hr_branch.conv_hr2x.2.layers.0.weight": (32, 32, 3, 3),
    "module.hr_branch.conv_hr2x.3.layers.0.weight": (32, 32, 3, 3),
    "module.hr_branch.conv_hr.0.layers.0.weight": (32, 35, 3, 3),
    "module.hr_branch.conv_hr.1.layers.0.weight": (1, 32, 1, 1),
    "module.f_branch.conv_lr4x.layers.0.weight": (32, 32, 5, 5),
    "module.f_branch.conv_f2x.layers.0.weight": (32, 64, 3, 3),
    "module.f_branch.conv_f.0.layers.0.weight": (16, 35, 3, 3),
    "module.f_branch.conv_f.0.layers.1.bnorm.weight": (8,),
    "module.f_branch.conv_f.1.layers.0.weight": (1, 16, 1, 1),
}

# spec §1.2: encoder levels at a 512x512 input -> channels and strides.
ENC_CHANNELS = [16, 24, 32, 96, 1280]
ENC_STRIDES = [2, 4, 8, 16, 32]


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def randomise_norms(model: nn.Module, seed: int = 0) -> nn.Module:
    """Non-trivial BN statistics and affine parameters, so loading and eval mode matter."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                n = m.num_features
                m.running_mean.copy_(torch.rand(n, generator=g) - 0.5)
                m.running_var.copy_(torch.rand(n, generator=g) + 0.5)
                m.weight.copy_(torch.rand(n, generator=g) + 0.5)
                m.bias.copy_(torch.rand(n, generator=g) * 0.2 - 0.1)
    return model


@pytest.fixture(scope="module")
def model() -> MODNet:
    torch.manual_seed(0)
    return randomise_norms(MODNet()).eval()


def test_parameter_counts(model):
    assert count(model) == TOTAL_PARAMETERS
    assert {name: count(getattr(model, name)) for name in BRANCH_PARAMETERS} == BRANCH_PARAMETERS
    assert {k: count(getattr(model.lr_branch, k)) for k in LR_PARTS} == LR_PARTS
    assert {k: count(getattr(model.hr_branch, k)) for k in HR_PARTS} == HR_PARTS
    assert {k: count(getattr(model.f_branch, k)) for k in FUSION_PARTS} == FUSION_PARTS
    heads = count(model.lr_branch.conv_lr) + count(model.hr_branch.conv_hr)
    assert TOTAL_PARAMETERS - heads == INFERENCE_PARAMETERS
    assert sum(b.numel() for b in model.buffers()) == BUFFERS


def test_backbone_levels(model):
    x = torch.rand(1, 3, 64, 96)
    with torch.no_grad():
        encs = model.backbone(x)
    assert model.backbone.enc_channels == ENC_CHANNELS
    assert [tuple(e.shape) for e in encs] == [
        (1, c, 64 // s, 96 // s) for c, s in zip(ENC_CHANNELS, ENC_STRIDES, strict=True)
    ]
    assert not any(isinstance(m, nn.ReLU) for m in model.backbone.modules())
    assert sum(isinstance(m, nn.ReLU6) for m in model.backbone.modules()) == 1 + 1 + 2 * 16 + 1
    assert all(m.eps == 1e-5 for m in model.backbone.modules() if isinstance(m, nn.BatchNorm2d))


@pytest.mark.parametrize("train", [False, True])
def test_output_shapes(train):
    model = MODNet().train(train)
    x = torch.rand(2, 3, 96, 128) * 2 - 1
    with torch.no_grad():
        semantic, detail, matte = model(x)
        none_s, none_d, matte_inf = model(x, inference=True)
    assert semantic.shape == (2, 1, 6, 8)
    assert detail.shape == matte.shape == (2, 1, 96, 128)
    assert none_s is None and none_d is None and matte_inf.shape == (2, 1, 96, 128)
    for t in (semantic, detail, matte):  # probabilities: sigmoid inside the model
        assert t.min() >= 0 and t.max() <= 1
    if not train:
        torch.testing.assert_close(matte_inf, matte, rtol=0, atol=0)


def test_sizes_not_multiple_of_32_fail_like_the_official():
    with pytest.raises(RuntimeError):
        MODNet().eval()(torch.rand(1, 3, 80, 96), inference=True)


def test_init_is_official():
    model = MODNet()
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            fan_in = m.weight[0].numel()
            assert m.weight.abs().max() <= (6 / fan_in) ** 0.5  # kaiming_uniform, relu gain
            if m.bias is not None:
                assert not m.bias.any()
        if isinstance(m, nn.BatchNorm2d):
            assert (m.weight == 1).all() and not m.bias.any()
    assert not any(isinstance(m, nn.InstanceNorm2d) and m.affine for m in model.modules())


def test_official_key_layout(model):
    official = to_official_state_dict(model)
    assert len(official) == OFFICIAL_KEY_COUNT
    assert sum(k.startswith("module.backbone.") for k in official) == OFFICIAL_BACKBONE_KEYS
    assert sum(k.startswith("module.lr_branch.backbone.") for k in official) == 312
    assert sum(k.endswith("num_batches_tracked") for k in official) == OFFICIAL_NUM_BATCHES_TRACKED
    assert all(k.startswith("module.") for k in official)
    assert not any("inorm" in k for k in official)  # IN is affine=False, no running stats
    assert {k: tuple(official[k].shape) for k in OFFICIAL_SHAPES} == OFFICIAL_SHAPES
    assert len(model.state_dict()) == OFFICIAL_KEY_COUNT - OFFICIAL_BACKBONE_KEYS


def test_official_round_trip(model):
    official = {k: v.clone() for k, v in to_official_state_dict(model).items()}
    torch.manual_seed(1)
    other = MODNet().eval()
    report = load_official_weights(other, official)
    assert report.loaded == len(model.state_dict()) and report.duplicates_dropped == 312
    x = torch.rand(1, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        for a, b in zip(model(x), other(x), strict=True):
            torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_lightning_checkpoint_and_file(model, tmp_path):
    lightning = {"state_dict": {f"net.{k}": v for k, v in model.state_dict().items()}}
    lightning["state_dict"]["loss.blur.weight"] = torch.zeros(1)
    path = tmp_path / "last.ckpt"
    torch.save(lightning, path)
    report = load_official_weights(MODNet(), path)
    assert report.ignored == ["loss.blur.weight"] and report.duplicates_dropped == 0


def test_backbone_only_checkpoint(model):
    backbone = model.backbone.model.state_dict()  # layout of mobilenetv2_human_seg.ckpt
    assert len(backbone) == OFFICIAL_BACKBONE_KEYS and "features.18.1.running_var" in backbone
    other = MODNet()
    load_backbone_weights(other, backbone)
    for key, value in other.backbone.model.state_dict().items():
        assert torch.equal(value, backbone[key])
    with pytest.raises(RuntimeError, match=r"classifier\.weight"):
        load_backbone_weights(other, {**backbone, "classifier.weight": torch.zeros(1)})


def test_load_errors(model):
    official = {k: v.clone() for k, v in to_official_state_dict(model).items()}
    bad = dict(official)
    bad["module.lr_branch.backbone.model.features.3.conv.0.weight"] = torch.zeros(144, 24, 1, 1)
    with pytest.raises(ValueError, match=r"features\.3\.conv\.0\.weight"):
        load_official_weights(MODNet(), bad)

    broken = dict(official)
    del broken["module.f_branch.conv_f.1.layers.0.bias"]
    broken["module.extra.weight"] = torch.zeros(1)
    broken["module.hr_branch.conv_hr.1.layers.0.weight"] = torch.zeros(1, 16, 1, 1)
    with pytest.raises(RuntimeError) as err:
        load_official_weights(MODNet(), broken)
    message = str(err.value)
    assert "f_branch.conv_f.1.layers.0.bias" in message and "extra.weight" in message
    assert "hr_branch.conv_hr.1.layers.0.weight: checkpoint (1, 16, 1, 1)" in message
    report = load_official_weights(MODNet(), broken, strict=False)
    assert report.missing == ["f_branch.conv_f.1.layers.0.bias"]
    assert report.unexpected == ["extra.weight"] and len(report.mismatched) == 1


def test_ibnorm():
    torch.manual_seed(0)
    norm = randomise_norms(IBNorm(5)).eval()
    assert norm.bnorm.num_features == 2 and norm.inorm.num_features == 3
    assert not norm.inorm.affine and not norm.inorm.track_running_stats
    x = torch.randn(2, 5, 4, 6) * 3 + 1
    y = norm(x)
    bn = norm.bnorm
    expected_bn = (x[:, :2] - bn.running_mean.view(1, -1, 1, 1)) / torch.sqrt(
        bn.running_var.view(1, -1, 1, 1) + bn.eps
    ) * bn.weight.view(1, -1, 1, 1) + bn.bias.view(1, -1, 1, 1)
    torch.testing.assert_close(y[:, :2], expected_bn)
    rest = x[:, 2:]
    mean = rest.mean(dim=(2, 3), keepdim=True)
    var = rest.var(dim=(2, 3), keepdim=True, unbiased=False)
    torch.testing.assert_close(y[:, 2:], (rest - mean) / torch.sqrt(var + 1e-5))


def test_ibnorm_normalises_channel_slices_of_a_channels_last_input():
    """The halves are strided slices, not NCHW copies (the official `.contiguous()`, which a
    channels-last compiled network paid for in layout conversions): same values."""
    torch.manual_seed(0)
    norm = randomise_norms(IBNorm(6)).eval()
    x = torch.randn(2, 6, 8, 10) * 3 + 1
    y = norm(x.contiguous(memory_format=torch.channels_last))
    torch.testing.assert_close(y, norm(x))


@pytest.mark.parametrize("stride", [1, 2])
def test_a_block_on_parts_is_the_block_on_their_concatenation(stride):
    """The branches pass the parts of each concatenation (no full-resolution copy): the same
    outputs and gradients as the official `torch.cat` before the block, to float rounding."""
    torch.manual_seed(0)
    stack = ConcatStack(
        randomise_norms(Conv2dIBNormRelu(35, 16, 3, stride=stride, padding=1)),
        Conv2dIBNormRelu(16, 1, 1, with_ibn=False, with_relu=False),
    )
    parts = [torch.randn(2, c, 16, 20, requires_grad=True) for c in (32, 3)]
    for mode in (stack.train, stack.eval):
        mode()
        split = stack(*parts)
        joined = stack(torch.cat(parts, dim=1))
        torch.testing.assert_close(split, joined, rtol=0, atol=1e-5)
        split_grads = torch.autograd.grad(split.square().sum(), [*parts, stack[0].layers[0].weight])
        joined_grads = torch.autograd.grad(
            joined.square().sum(), [*parts, stack[0].layers[0].weight]
        )
        for a, b in zip(split_grads, joined_grads, strict=True):
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_temporal_model_reproduces_the_image_model(model):
    temporal = MODNet(prev_alpha=True).eval()
    assert temporal.backbone.model.features[0][0].weight.shape == (32, 4, 3, 3)
    assert count(temporal) == TOTAL_PARAMETERS + 32 * 9
    report = load_official_weights(temporal, to_official_state_dict(model))
    assert report.widened == ["backbone.model.features.0.0.weight"]
    assert not temporal.backbone.model.features[0][0].weight[:, 3].any()
    rgb = torch.rand(2, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        expected = model(rgb, inference=True)[2]
        for prev in (torch.zeros(2, 1, 64, 64), torch.rand(2, 1, 64, 64)):
            matte = temporal(torch.cat([rgb, prev], dim=1), inference=True)[2]
            # bitwise equal on x86 CPU (0 * alpha adds nothing); tolerance for other conv kernels
            torch.testing.assert_close(matte, expected, rtol=0, atol=1e-6)
    with pytest.raises(RuntimeError, match=r"features\.0\.0\.weight"):  # 4 channels do not fit 3
        load_official_weights(MODNet(), temporal.state_dict())


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((319, 567), (288, 544)),  # spec §1.10 / issue #115 (567x319 W x H)
        ((512, 512), (512, 512)),
        ((1000, 800), (640, 512)),  # min > 512: short side to 512, long = int(1000/800*512)
        ((300, 400), (512, 672)),  # max < 512: short side to 512, long = int(682.67) -> 672
        ((720, 1280), (512, 896)),  # 16:9 video frame, issue #126
        ((500, 700), (480, 672)),  # straddles 512: kept, floored to multiples of 32
    ],
)
def test_inference_size(size, expected):
    assert inference_size(*size) == expected


@pytest.mark.parametrize("ref_size", [512, None])
def test_predict_any_size(model, ref_size):
    img = torch.rand(1, 3, 100, 150) * 2 - 1
    with torch.no_grad():
        matte = predict_any_size(model, img, ref_size=ref_size)
    assert matte.shape == (1, 1, 100, 150)
    assert matte.min() >= 0 and matte.max() <= 1


def test_predict_any_size_keeps_valid_sizes(model):
    img = torch.rand(1, 3, 64, 96) * 2 - 1
    with torch.no_grad():
        direct = model(img, inference=True)[2]
        torch.testing.assert_close(predict_any_size(model, img, ref_size=None), direct)
