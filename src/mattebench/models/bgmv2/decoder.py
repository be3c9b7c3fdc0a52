"""BGMv2 decoder (official `model/decoder.py`): CBR128 - CBR64 - CBR48 - C37 (paper Fig. 3).

Each step upsamples bilinearly (align_corners=False) to the exact size of the next skip, not by a
fixed factor of 2, so inputs whose size is not a multiple of 16 work as in the official code.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class Decoder(nn.Module):
    """Fuses ASPP output (1/16) with skips x3 (1/8), x2 (1/4), x1 (1/2) and the input x0 (1/1).

    Args:
        channels: [ASPP output, then the outputs of conv1..conv4], e.g. [256, 128, 64, 48, 37].
        feature_channels: channels of the skips (x3, x2, x1, x0), from the encoder.
    """

    def __init__(self, channels: Sequence[int], feature_channels: Sequence[int]) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(
            feature_channels[0] + channels[0], channels[1], 3, padding=1, bias=False
        )
        self.bn1 = nn.BatchNorm2d(channels[1])
        self.conv2 = nn.Conv2d(
            feature_channels[1] + channels[1], channels[2], 3, padding=1, bias=False
        )
        self.bn2 = nn.BatchNorm2d(channels[2])
        self.conv3 = nn.Conv2d(
            feature_channels[2] + channels[2], channels[3], 3, padding=1, bias=False
        )
        self.bn3 = nn.BatchNorm2d(channels[3])
        # The output layer keeps its bias and has no normalisation or activation.
        self.conv4 = nn.Conv2d(feature_channels[3] + channels[3], channels[4], 3, padding=1)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x4: Tensor, x3: Tensor, x2: Tensor, x1: Tensor, x0: Tensor) -> Tensor:
        x = self.relu(self.bn1(self.conv1(upsample_concat(x4, x3))))
        x = self.relu(self.bn2(self.conv2(upsample_concat(x, x2))))
        x = self.relu(self.bn3(self.conv3(upsample_concat(x, x1))))
        return self.conv4(upsample_concat(x, x0))


def upsample_concat(x: Tensor, skip: Tensor) -> Tensor:
    """`x` resized to `skip`'s height and width, concatenated before it along channels."""
    x = F.interpolate(x, size=skip.shape[2:], mode="bilinear", align_corners=False)
    return torch.cat([x, skip], dim=1)
