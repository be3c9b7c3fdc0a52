"""DIM/SegNet-style decoder: max-unpool with the encoder's indices, then the encoder's skip.

The summary (specs/hdmatt.md §5) says the decoder upsamples by unpooling and receives the
encoder blocks' outputs as skips; channel widths and the last 1/2 -> 1 step (bilinear, then the
network input concatenated) are choices (`channels`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mattebench.models.hdmatt.encoder import TRUNK_CHANNELS, Features


def conv_bn_relu(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)
    )


class UnpoolStage(nn.Module):
    """Project to the skip's width, unpool with its indices, fuse with the skip."""

    def __init__(self, cin: int, skip: int, cout: int, stem: bool = False) -> None:
        super().__init__()
        self.project = conv_bn_relu(cin, skip)
        self.fuse = conv_bn_relu(2 * skip, cout)
        # The stem max-pool is 3x3/2 with padding 1; the others are 2x2/2.
        self.pool = (3, 2, 1) if stem else (2, 2, 0)

    def forward(self, x: Tensor, skip: Tensor, indices: Tensor) -> Tensor:
        k, s, p = self.pool
        up = F.max_unpool2d(self.project(x), indices, k, s, p, output_size=skip.shape[-2:])
        return self.fuse(torch.cat([up, skip], dim=1))


class Decoder(nn.Module):
    """1/32 context-fused features -> alpha logits at full patch resolution.

    Args:
        in_channels: width of the CPC output.
        input_channels: width of the network input (image + trimap), concatenated at 1/1.
        channels: output widths of the 1/16, 1/8, 1/4, 1/2 and 1/1 stages.
    """

    def __init__(
        self,
        in_channels: int,
        input_channels: int,
        channels: Sequence[int] = (256, 128, 64, 64, 32),
    ) -> None:
        super().__init__()
        skips = TRUNK_CHANNELS[:4][::-1]  # layer3, layer2, layer1, stem
        widths = [in_channels, *channels]
        self.stages = nn.ModuleList(
            UnpoolStage(widths[i], skips[i], widths[i + 1], stem=i == 3) for i in range(4)
        )
        self.refine = conv_bn_relu(widths[4] + input_channels, widths[5])
        self.head = nn.Conv2d(widths[5], 1, 3, padding=1)

    def forward(self, x: Tensor, features: Features, network_input: Tensor) -> Tensor:
        for stage, skip, idx in zip(
            self.stages, features.skips[::-1], features.indices[::-1], strict=True
        ):
            x = stage(x, skip, idx)
        x = F.interpolate(x, size=network_input.shape[-2:], mode="bilinear", align_corners=False)
        return self.head(self.refine(torch.cat([x, network_input], dim=1)))
