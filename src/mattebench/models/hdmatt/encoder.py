"""HDMatt encoder E: ResNet-34 + ASPP, shared by the query patch and the context patches.

ResNet-34 + ASPP is the published summary's encoder (specs/hdmatt.md §5). The trunk is timm's
`resnet34` run stage by stage so that the DIM-style decoder can unpool: the stem max-pool returns
its indices, and every later (strided-convolution) downsampling gets indices from a 2x2 max-pool
of the feature map it reduces (a choice: ResNet has no other pooling layer to take them from).
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import torch.nn.functional as F
from torch import Tensor, nn

from mattebench.models.backbones import create_encoder
from mattebench.models.bgmv2.aspp import ASPP

#: Channels of the ResNet-34 levels: stem (1/2), layer1 (1/4) ... layer4 (1/32).
TRUNK_CHANNELS = (64, 64, 128, 256, 512)


class Features(NamedTuple):
    """What the decoder needs of one encoded batch of patches."""

    deep: Tensor  # ASPP output, 1/32
    skips: tuple[Tensor, ...]  # stem (1/2), layer1 (1/4), layer2 (1/8), layer3 (1/16)
    indices: tuple[Tensor, ...]  # max-pool indices into each skip, same order


class Encoder(nn.Module):
    """Args:
    in_channels: 6 (RGB + one-hot trimap) or 4 (RGB + one-channel trimap).
    atrous_rates: ASPP dilations (DeepLabv3's 6/12/18, a choice).
    weights: a local timm `resnet34` checkpoint (ImageNet), or None.
    """

    stride = 32

    def __init__(
        self,
        in_channels: int = 6,
        atrous_rates: tuple[int, ...] = (6, 12, 18),
        weights: str | Path | None = None,
    ) -> None:
        super().__init__()
        self.trunk = create_encoder("resnet34", in_chans=in_channels, weights=weights)
        self.trunk.maxpool.return_indices = True
        self.aspp = ASPP(TRUNK_CHANNELS[-1], atrous_rates)
        self.out_channels = 256

    def forward(self, x: Tensor, skips: bool = True) -> Features:
        t = self.trunk
        stem = t.act1(t.bn1(t.conv1(x)))
        x, stem_idx = t.maxpool(stem)
        l1 = t.layer1(x)
        l2 = t.layer2(l1)
        l3 = t.layer3(l2)
        deep = self.aspp(t.layer4(l3))
        if not skips:
            return Features(deep, (), ())
        indices = [stem_idx] + [F.max_pool2d(f, 2, return_indices=True)[1] for f in (l1, l2, l3)]
        return Features(deep, (stem, l1, l2, l3), tuple(indices))
