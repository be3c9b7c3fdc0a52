"""MODNet's three branches (official `src/models/modnet.py`, "MODNet Branches"; spec §1.4-§1.6).

Unlike the official `LRBranch`, ours does not hold the backbone (MODNet registers it once and
passes `enc32x` in); the official state dict's duplicate `lr_branch.backbone.*` copy is handled by
`checkpoint.py`. `img` here is the image only (`img_channels` channels, RGB in [-1, 1]), never a
previous-alpha channel. All resampling is bilinear with align_corners=False, as in the official.
Where the official code concatenates feature maps for a convolution, the branches pass the parts
(`ConcatStack`, `Conv2dIBNormRelu`): the same values without the concatenated copy, and parts
whose channel counts suit the CPU's blocked layouts (compiled MODNet at 512x512 on 2 cores went from
1.50x to 1.71x the official code's speed, ONNX Runtime from 1.61x to 1.88x:
`python -m benchmarks.vs_official --modnet <checkout> --runtimes compile onnx`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mattebench.models.modnet.blocks import ConcatStack, Conv2dIBNormRelu, SEBlock


def resize(x: Tensor, scale_factor: float) -> Tensor:
    return F.interpolate(x, scale_factor=scale_factor, mode="bilinear", align_corners=False)


class LRBranch(nn.Module):
    """Semantic estimation at low resolution: SE(enc32x) -> up -> 5x5 conv (1/16) -> up -> 5x5
    conv = lr8x (32 ch, 1/8); the semantic head is a stride-2 3x3 conv -> sigmoid (1/16)."""

    def __init__(self, enc_channels: list[int]):
        super().__init__()
        self.se_block = SEBlock(enc_channels[4], enc_channels[4], reduction=4)
        self.conv_lr16x = Conv2dIBNormRelu(enc_channels[4], enc_channels[3], 5, padding=2)
        self.conv_lr8x = Conv2dIBNormRelu(enc_channels[3], enc_channels[2], 5, padding=2)
        self.conv_lr = Conv2dIBNormRelu(
            enc_channels[2], 1, 3, stride=2, padding=1, with_ibn=False, with_relu=False
        )

    def forward(self, enc32x: Tensor, inference: bool) -> tuple[Tensor | None, Tensor]:
        enc32x = self.se_block(enc32x)
        lr16x = self.conv_lr16x(resize(enc32x, 2))
        lr8x = self.conv_lr8x(resize(lr16x, 2))
        pred_semantic = None if inference else torch.sigmoid(self.conv_lr(lr8x))
        return pred_semantic, lr8x


class HRBranch(nn.Module):
    """Boundary detail at high resolution from enc2x, enc4x, the image and lr8x; returns the
    detail prediction (training only, full resolution) and hr2x (hr_channels, 1/2)."""

    def __init__(self, hr_channels: int, enc_channels: list[int], img_channels: int = 3):
        super().__init__()
        hr, im = hr_channels, img_channels
        self.tohr_enc2x = Conv2dIBNormRelu(enc_channels[0], hr, 1)
        self.conv_enc2x = Conv2dIBNormRelu(hr + im, hr, 3, stride=2, padding=1)
        self.tohr_enc4x = Conv2dIBNormRelu(enc_channels[1], hr, 1)
        self.conv_enc4x = Conv2dIBNormRelu(2 * hr, 2 * hr, 3, padding=1)
        self.conv_hr4x = ConcatStack(
            Conv2dIBNormRelu(3 * hr + im, 2 * hr, 3, padding=1),
            Conv2dIBNormRelu(2 * hr, 2 * hr, 3, padding=1),
            Conv2dIBNormRelu(2 * hr, hr, 3, padding=1),
        )
        self.conv_hr2x = ConcatStack(
            Conv2dIBNormRelu(2 * hr, 2 * hr, 3, padding=1),
            Conv2dIBNormRelu(2 * hr, hr, 3, padding=1),
            Conv2dIBNormRelu(hr, hr, 3, padding=1),
            Conv2dIBNormRelu(hr, hr, 3, padding=1),
        )
        self.conv_hr = ConcatStack(
            Conv2dIBNormRelu(hr + im, hr, 3, padding=1),
            Conv2dIBNormRelu(hr, 1, 1, with_ibn=False, with_relu=False),
        )

    def forward(
        self, img: Tensor, enc2x: Tensor, enc4x: Tensor, lr8x: Tensor, inference: bool
    ) -> tuple[Tensor | None, Tensor]:
        img2x = resize(img, 1 / 2)
        img4x = resize(img, 1 / 4)

        enc2x = self.tohr_enc2x(enc2x)
        hr4x = self.conv_enc2x(img2x, enc2x)
        enc4x = self.tohr_enc4x(enc4x)
        hr4x = self.conv_enc4x(hr4x, enc4x)

        lr4x = resize(lr8x, 2)
        hr4x = self.conv_hr4x(hr4x, lr4x, img4x)
        hr2x = self.conv_hr2x(resize(hr4x, 2), enc2x)

        pred_detail = None
        if not inference:
            hr = self.conv_hr(resize(hr2x, 2), img)
            pred_detail = torch.sigmoid(hr)
        return pred_detail, hr2x


class FusionBranch(nn.Module):
    """Fuses lr8x and hr2x with the image into the full-resolution matte (sigmoid)."""

    def __init__(self, hr_channels: int, enc_channels: list[int], img_channels: int = 3):
        super().__init__()
        hr = hr_channels
        self.conv_lr4x = Conv2dIBNormRelu(enc_channels[2], hr, 5, padding=2)
        self.conv_f2x = Conv2dIBNormRelu(2 * hr, hr, 3, padding=1)
        self.conv_f = ConcatStack(
            Conv2dIBNormRelu(hr + img_channels, int(hr / 2), 3, padding=1),
            Conv2dIBNormRelu(int(hr / 2), 1, 1, with_ibn=False, with_relu=False),
        )

    def forward(self, img: Tensor, lr8x: Tensor, hr2x: Tensor) -> Tensor:
        lr4x = self.conv_lr4x(resize(lr8x, 2))
        lr2x = resize(lr4x, 2)
        f2x = self.conv_f2x(lr2x, hr2x)
        f = self.conv_f(resize(f2x, 2), img)
        return torch.sigmoid(f)
