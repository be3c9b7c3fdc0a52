"""FC-DenseNet, "The One Hundred Layers Tiramisu" (Jégou et al., CVPRW 2017; specs/tiramisu.md).

Follows the official Theano/Lasagne code (`SimJeg/FC-DenseNet`) block for block (spec §1):
a linear 3x3 first conv; dense blocks of BN-ReLU-conv3x3-dropout layers whose outputs are
concatenated; transitions down (BN-ReLU-conv1x1-dropout-maxpool) and up (a 3x3 stride-2
transposed conv without padding, centre-cropped to the skip). On the way up only the *new* maps
of the previous dense block are upsampled; the last up-block's whole stack feeds the 1x1
classifier. The network returns class logits (no softmax) so the loss can use log-softmax.

The centre crop also makes any input size of at least 2^5 = 32 valid: a pooled side
h = floor(s / 2) upsamples to 2h + 1 >= s. Depth counts the conv and deconv layers: 56, 67 and
103 of them.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class BatchNorm(nn.BatchNorm2d):
    """BatchNorm2d with Lasagne's epsilon (1e-4) that can also normalise with the current
    batch's statistics in eval mode: the official code never uses the running averages
    (`batch_norm_use_averages=False`, spec §4). Eval then leaves the running averages alone."""

    def __init__(self, channels: int, batch_stats_at_eval: bool = False) -> None:
        super().__init__(channels, eps=1e-4)
        self.batch_stats_at_eval = batch_stats_at_eval

    def forward(self, x: Tensor) -> Tensor:
        if self.training or not self.batch_stats_at_eval:
            return super().forward(x)
        return F.batch_norm(x, None, None, self.weight, self.bias, True, 0.0, self.eps)


class DenseLayer(nn.Sequential):
    """BN -> ReLU -> 3x3 conv (growth_rate maps, with bias) -> dropout."""

    def __init__(self, in_channels: int, growth_rate: int, dropout: float) -> None:
        super().__init__(
            BatchNorm(in_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(in_channels, growth_rate, 3, padding=1),
            nn.Dropout(dropout),
        )


class DenseBlock(nn.Module):
    """`n_layers` dense layers, each seeing the input and every earlier layer's maps.

    Returns the input with the new maps appended, or only the new maps (`new_only`): what the
    upsampling path passes on, so feature counts do not explode (spec §1, key rule).
    """

    def __init__(
        self, in_channels: int, growth_rate: int, n_layers: int, dropout: float, new_only: bool
    ) -> None:
        super().__init__()
        self.new_only = new_only
        self.layers = nn.ModuleList(
            DenseLayer(in_channels + i * growth_rate, growth_rate, dropout) for i in range(n_layers)
        )
        self.out_channels = (0 if new_only else in_channels) + n_layers * growth_rate

    def forward(self, x: Tensor) -> Tensor:
        new = []
        for layer in self.layers:
            new.append(layer(x))
            x = torch.cat([x, new[-1]], dim=1)
        return torch.cat(new, dim=1) if self.new_only else x


class TransitionDown(nn.Sequential):
    """BN -> ReLU -> 1x1 conv (no compression) -> dropout -> 2x2 max-pool."""

    def __init__(self, channels: int, dropout: float) -> None:
        super().__init__(
            BatchNorm(channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 1),
            nn.Dropout(dropout),
            nn.MaxPool2d(2),
        )


class TransitionUp(nn.Module):
    """3x3 stride-2 transposed conv (Lasagne `crop='valid'`: 2h + 1), centre-cropped to the
    skip's size, then concatenated with the skip."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.deconv = nn.ConvTranspose2d(channels, channels, 3, stride=2, padding=0)

    def forward(self, x: Tensor, skip: Tensor) -> Tensor:
        return torch.cat([center_crop(self.deconv(x), skip.shape[-2:]), skip], dim=1)


def center_crop(x: Tensor, size: Sequence[int]) -> Tensor:
    """The centre (h, w) window of (B, C, H, W)."""
    h, w = size
    top, left = (x.shape[-2] - h) // 2, (x.shape[-1] - w) // 2
    return x[..., top : top + h, left : left + w]


class FCDenseNet(nn.Module):
    """FC-DenseNet: per-pixel class logits (B, n_classes, H, W) of an image (B, C, H, W).

    Args:
        in_channels: input channels.
        n_classes: output classes (2 for person / background).
        growth_rate: k, the maps each dense layer adds.
        down_blocks: layers per dense block on the way down (one transition down after each).
        bottleneck: layers of the bottleneck dense block.
        up_blocks: layers per dense block on the way up (one transition up before each).
        first_conv: filters of the first 3x3 conv.
        dropout: dropout after every conv but the first and the classifier.
        batch_stats_at_eval: normalise with batch statistics in eval mode as the official
            code does (its test batches hold 10 images); False uses the running averages, the
            PyTorch convention, which also works for single images.
    """

    def __init__(
        self,
        in_channels: int = 3,
        n_classes: int = 2,
        growth_rate: int = 16,
        down_blocks: Sequence[int] = (4, 5, 7, 10, 12),
        bottleneck: int = 15,
        up_blocks: Sequence[int] = (12, 10, 7, 5, 4),
        first_conv: int = 48,
        dropout: float = 0.2,
        batch_stats_at_eval: bool = False,
    ) -> None:
        super().__init__()
        if len(down_blocks) != len(up_blocks):
            raise ValueError(
                f"down_blocks {list(down_blocks)} and up_blocks {list(up_blocks)} must have the "
                "same length: every transition down needs its transition up."
            )
        self.first_conv = nn.Conv2d(in_channels, first_conv, 3, padding=1)
        channels, skips = first_conv, []
        self.down, self.pool = nn.ModuleList(), nn.ModuleList()
        for n in down_blocks:
            self.down.append(DenseBlock(channels, growth_rate, n, dropout, new_only=False))
            channels = self.down[-1].out_channels
            skips.append(channels)
            self.pool.append(TransitionDown(channels, dropout))
        self.bottleneck = DenseBlock(channels, growth_rate, bottleneck, dropout, new_only=True)
        new = self.bottleneck.out_channels
        self.unpool, self.up = nn.ModuleList(), nn.ModuleList()
        for i, (n, skip) in enumerate(zip(up_blocks, reversed(skips), strict=True)):
            last = i == len(up_blocks) - 1
            self.unpool.append(TransitionUp(new))
            self.up.append(DenseBlock(new + skip, growth_rate, n, dropout, new_only=not last))
            new = self.up[-1].out_channels
        self.classifier = nn.Conv2d(new, n_classes, 1)
        for m in self.modules():
            if isinstance(m, BatchNorm):
                m.batch_stats_at_eval = batch_stats_at_eval
            if isinstance(m, nn.Conv2d | nn.ConvTranspose2d):
                # Lasagne HeUniform(gain='relu'): U(+-sqrt(6 / fan_in)); zero biases.
                nn.init.kaiming_uniform_(m.weight, nonlinearity="relu")
                nn.init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor:
        smallest = 2 ** len(self.pool)
        if min(x.shape[-2:]) < smallest:
            raise ValueError(
                f"FC-DenseNet halves the input {len(self.pool)} times: it needs sides of at "
                f"least {smallest}, got {tuple(x.shape[-2:])}; pad the input."
            )
        x = self.first_conv(x)
        skips = []
        for block, pool in zip(self.down, self.pool, strict=True):
            x = block(x)
            skips.append(x)
            x = pool(x)
        x = self.bottleneck(x)
        for unpool, block in zip(self.unpool, self.up, strict=True):
            x = block(unpool(x, skips.pop()))
        return self.classifier(x)


def fc_densenet56(**kwargs) -> FCDenseNet:
    """FC-DenseNet56: k = 12, 4 layers per block (1,375,058 parameters with 2 classes)."""
    return FCDenseNet(
        growth_rate=12, down_blocks=(4,) * 5, bottleneck=4, up_blocks=(4,) * 5, **kwargs
    )


def fc_densenet67(**kwargs) -> FCDenseNet:
    """FC-DenseNet67: k = 16, 5 layers per block (3,460,642 parameters with 2 classes)."""
    return FCDenseNet(
        growth_rate=16, down_blocks=(5,) * 5, bottleneck=5, up_blocks=(5,) * 5, **kwargs
    )


def fc_densenet103(**kwargs) -> FCDenseNet:
    """FC-DenseNet103: k = 16, blocks 4-5-7-10-12 | 15 | 12-10-7-5-4 (9,319,778 with 2 classes)."""
    return FCDenseNet(
        growth_rate=16,
        down_blocks=(4, 5, 7, 10, 12),
        bottleneck=15,
        up_blocks=(12, 10, 7, 5, 4),
        **kwargs,
    )
