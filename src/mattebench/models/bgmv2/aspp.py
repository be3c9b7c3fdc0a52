"""BGMv2 ASPP: torchvision's DeepLabV3 `ASPP(in_channels, [3, 6, 9])`, safe at batch size 1.

Official `model/model.py` uses torchvision's ASPP as is. Its image-pooling branch
(`convs.4` = AdaptiveAvgPool2d(1) -> 1x1 conv -> BN -> ReLU) normalises a 1x1 map, so in training
mode with one sample BatchNorm sees a single value per channel and raises "Expected more than 1
value per channel when training" (official issue #123). That one BN is replaced by
`PoolingBatchNorm2d`, which has the same parameters and buffers (state-dict keys unchanged) but
normalises with its running statistics, without updating them, when a training batch has one
value per channel. With two or more samples it is an ordinary BatchNorm2d.

Note: `nn.SyncBatchNorm.convert_sync_batchnorm` replaces it with a plain SyncBatchNorm, which
fails the same way on a single process with batch size 1 (and works across several processes).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch.nn.functional as F
from torch import Tensor, nn
from torchvision.models.segmentation.deeplabv3 import ASPP as TorchvisionASPP


class PoolingBatchNorm2d(nn.BatchNorm2d):
    """BatchNorm2d that falls back to running statistics when a batch has one value per channel."""

    def forward(self, x: Tensor) -> Tensor:
        if self.training and x.numel() == x.size(1):
            return F.batch_norm(
                x, self.running_mean, self.running_var, self.weight, self.bias, False, 0.0, self.eps
            )
        return super().forward(x)


class ASPP(TorchvisionASPP):
    """Atrous spatial pyramid pooling with 256 output channels and Dropout(0.5) in the projection.

    Branches: 1x1 conv; 3x3 convs with dilation 3, 6, 9; image pooling. Each conv has no bias and
    is followed by BN + ReLU; the pooled branch is upsampled bilinearly (align_corners=False).
    """

    def __init__(self, in_channels: int, atrous_rates: Sequence[int] = (3, 6, 9)) -> None:
        super().__init__(in_channels, list(atrous_rates))
        pooling = self.convs[-1]
        bn = pooling[2]
        pooling[2] = PoolingBatchNorm2d(bn.num_features, eps=bn.eps, momentum=bn.momentum)
