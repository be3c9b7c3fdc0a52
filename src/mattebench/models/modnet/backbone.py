"""MODNet's MobileNetV2 encoder (official `src/models/backbones/{mobilenetv2,wrapper}.py`,
adapted there from thuyngch/Human-Segmentation-PyTorch; spec §1.2).

Written out rather than taken from torchvision or timm because the released checkpoints use this
layout: `model.features.0` (conv-BN-ReLU6 stem, stride 2), `model.features.1..17` (inverted
residuals, `conv.{0,1,3,4}` for expansion 1 and `conv.{0,1,3,4,6,7}` for expansion 6),
`model.features.18` (1x1 conv to 1280 + BN + ReLU6). Width 1.0, ReLU6, BatchNorm eps 1e-5, no
classifier.
"""

from __future__ import annotations

from torch import Tensor, nn

# (expansion t, out channels c, repeats n, first stride s), official `interverted_residual_setting`
INVERTED_RESIDUAL_SETTING = [
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
]
STEM_CHANNELS = 32
LAST_CHANNELS = 1280
# Output of features[i] for i in ENC_INDICES = enc2x, enc4x, enc8x, enc16x, enc32x.
ENC_INDICES = (1, 3, 6, 13, 18)
ENC_CHANNELS = [16, 24, 32, 96, 1280]


def conv_bn_relu6(inp: int, oup: int, kernel_size: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(inp, oup, kernel_size, stride, kernel_size // 2, bias=False),
        nn.BatchNorm2d(oup),
        nn.ReLU6(inplace=True),
    )


class InvertedResidual(nn.Module):
    """MobileNetV2 block: [1x1 expand ->] 3x3 depthwise -> 1x1 linear projection, with a residual
    connection iff stride 1 and in == out."""

    def __init__(self, inp: int, oup: int, stride: int, expansion: int):
        super().__init__()
        assert stride in (1, 2)
        hidden = round(inp * expansion)
        self.use_res_connect = stride == 1 and inp == oup
        depthwise = [
            nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU6(inplace=True),
        ]
        project = [nn.Conv2d(hidden, oup, 1, 1, 0, bias=False), nn.BatchNorm2d(oup)]
        expand = []
        if expansion != 1:
            expand = [
                nn.Conv2d(inp, hidden, 1, 1, 0, bias=False),
                nn.BatchNorm2d(hidden),
                nn.ReLU6(inplace=True),
            ]
        self.conv = nn.Sequential(*expand, *depthwise, *project)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


class MobileNetV2(nn.Module):
    """The official `MobileNetV2(in_channels, alpha=1.0, expansion=6, num_classes=None)`:
    `features` only."""

    def __init__(self, in_channels: int = 3):
        super().__init__()
        features: list[nn.Module] = [conv_bn_relu6(in_channels, STEM_CHANNELS, 3, 2)]
        channels = STEM_CHANNELS
        for t, c, n, s in INVERTED_RESIDUAL_SETTING:
            for i in range(n):
                features.append(InvertedResidual(channels, c, s if i == 0 else 1, expansion=t))
                channels = c
        features.append(conv_bn_relu6(channels, LAST_CHANNELS, 1, 1))
        self.features = nn.Sequential(*features)

    def forward(self, x: Tensor) -> Tensor:
        return self.features(x)


class MobileNetV2Backbone(nn.Module):
    """The official `MobileNetV2Backbone`: returns [enc2x, enc4x, enc8x, enc16x, enc32x] with
    `enc_channels` [16, 24, 32, 96, 1280] at strides 1/2 ... 1/32 (enc8x and enc16x are computed
    but unused by MODNet). `in_channels` widens only the stem conv `model.features.0.0`."""

    def __init__(self, in_channels: int = 3):
        super().__init__()
        self.in_channels = in_channels
        self.enc_channels = list(ENC_CHANNELS)
        self.model = MobileNetV2(in_channels)

    def forward(self, x: Tensor) -> list[Tensor]:
        encs = []
        for i, layer in enumerate(self.model.features):
            x = layer(x)
            if i in ENC_INDICES:
                encs.append(x)
        return encs
