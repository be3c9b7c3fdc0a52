"""MODNet building blocks (official `src/models/modnet.py`, "MODNet Basic Modules"; spec §1.3).

Module and attribute names are the official ones, so state-dict keys match: a
`Conv2dIBNormRelu` holds `layers.0` (conv), `layers.1.bnorm.*` (the BatchNorm half of IBNorm)
and an SEBlock holds `fc.0` / `fc.2` (bias-free linears).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class IBNorm(nn.Module):
    """Instance-batch normalisation: BatchNorm on the first `int(C/2)` channels, InstanceNorm on
    the rest, concatenated in that order.

    The BatchNorm half is affine with running statistics; the InstanceNorm half is not affine and
    keeps no running statistics, so it normalises with per-instance statistics in eval mode too.
    The official code makes each half `.contiguous()` first; the values are the same without, and
    in a channels-last network that copy converted every half to NCHW and back (compiled MODNet
    at 512x512 on 2 CPU cores: 261-263 ms with it, 244-247 ms without).
    """

    def __init__(self, in_channels: int):
        super().__init__()
        self.bnorm_channels = int(in_channels / 2)
        self.inorm_channels = in_channels - self.bnorm_channels
        self.bnorm = nn.BatchNorm2d(self.bnorm_channels, affine=True)
        self.inorm = nn.InstanceNorm2d(self.inorm_channels, affine=False)

    def forward(self, x: Tensor) -> Tensor:
        bn_x = self.bnorm(x[:, : self.bnorm_channels])
        in_x = self.inorm(x[:, self.bnorm_channels :])
        return torch.cat((bn_x, in_x), 1)


class Conv2dIBNormRelu(nn.Module):
    """Conv2d (with bias) -> IBNorm -> ReLU; the norm and the ReLU can be left out (heads)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        padding: int = 0,
        dilation: int = 1,
        groups: int = 1,
        bias: bool = True,
        with_ibn: bool = True,
        with_relu: bool = True,
    ):
        super().__init__()
        layers: list[nn.Module] = [
            nn.Conv2d(
                in_channels,
                out_channels,
                kernel_size,
                stride=stride,
                padding=padding,
                dilation=dilation,
                groups=groups,
                bias=bias,
            )
        ]
        if with_ibn:
            layers.append(IBNorm(out_channels))
        if with_relu:
            layers.append(nn.ReLU(inplace=True))
        self.layers = nn.Sequential(*layers)

    def forward(self, *parts: Tensor) -> Tensor:
        """The block on `torch.cat(parts, 1)`, without the concatenated copy: the convolution is
        linear in its input channels, so it is the sum of each part's convolution with its slice
        of the weight (the same values to float rounding)."""
        if len(parts) == 1:
            return self.layers(parts[0])
        conv = self.layers[0]
        weights = conv.weight.split([part.shape[1] for part in parts], dim=1)
        x = conv._conv_forward(parts[0], weights[0], conv.bias)
        for part, weight in zip(parts[1:], weights[1:], strict=True):
            x = x + conv._conv_forward(part, weight, None)
        return self.layers[1:](x)


class ConcatStack(nn.Sequential):
    """`nn.Sequential` whose first block takes the parts of a channel concatenation."""

    def forward(self, *parts: Tensor) -> Tensor:
        x = self[0](*parts)
        for block in self[1:]:
            x = block(x)
        return x


class SEBlock(nn.Module):
    """Squeeze-and-excitation (Hu et al. 2018): global average pool -> Linear(C, C/r) -> ReLU ->
    Linear(C/r, out) -> sigmoid -> channel-wise scale. The released code uses it in the LR branch
    instead of the paper's e-ASPP (MODNet issue #189)."""

    def __init__(self, in_channels: int, out_channels: int, reduction: int = 1):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(
            nn.Linear(in_channels, int(in_channels // reduction), bias=False),
            nn.ReLU(inplace=True),
            nn.Linear(int(in_channels // reduction), out_channels, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, x: Tensor) -> Tensor:
        b, c, _, _ = x.shape
        w = self.fc(self.pool(x).view(b, c)).view(b, c, 1, 1)
        return x * w.expand_as(x)
