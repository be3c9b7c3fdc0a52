"""BGMv2 encoder: ResNet-50/101 or MobileNetV2 at output stride 16, plus the decoder's skips.

Official `model/resnet.py` and `model/mobilenet.py` subclass torchvision; here the same networks
come from timm (`output_stride=16`), which builds them identically:
- ResNet: layer4 dilated (its first block keeps dilation 1, the rest use 2), as torchvision's
  `replace_stride_with_dilation=[False, False, True]`; x1 is after conv1/bn1/relu, pre-maxpool.
- MobileNetV2 (`mobilenetv2_100`, width 1.0): the last 320->1280 conv is not built,
  `blocks.5.0` (torchvision `features[14]`) gets stride 1 and the depthwise convs after it
  dilation 2 / padding 2; BatchNorm eps 1e-5, momentum 0.1 and ReLU6 as in torchvision.
Only parameter names differ from torchvision; `checkpoint.py` maps them.
The first convolution takes `in_channels` (6 = src + bgr) and is freshly initialised.
"""

from __future__ import annotations

from pathlib import Path

from torch import Tensor, nn

from mattebench.models.backbones import create_encoder

TIMM_NAMES = {"resnet50": "resnet50", "resnet101": "resnet101", "mobilenetv2": "mobilenetv2_100"}

# timm feature levels at strides 2, 4, 8 and 16 (the stride-16 level 3 is skipped, as official).
OUT_INDICES = (0, 1, 2, 4)


class Encoder(nn.Module):
    """Returns `(x4, x3, x2, x1, x0)` at 1/16, 1/8, 1/4, 1/2 and 1/1 (x0 = the input itself).

    `channels` lists their channel counts, e.g. [2048, 512, 256, 64, 6] for ResNet and
    [320, 32, 24, 16, 6] for MobileNetV2, read from timm's `feature_info`.
    """

    def __init__(
        self, backbone: str, in_channels: int = 6, weights: str | Path | None = None
    ) -> None:
        super().__init__()
        if backbone not in TIMM_NAMES:
            raise ValueError(f"backbone must be one of {sorted(TIMM_NAMES)}, got {backbone!r}")
        self.name = backbone
        self.body = create_encoder(
            TIMM_NAMES[backbone],
            in_chans=in_channels,
            output_stride=16,
            out_indices=OUT_INDICES,
            weights=weights,
        )
        reductions = self.body.feature_info.reduction()
        if reductions != [2, 4, 8, 16]:
            raise RuntimeError(f"timm {TIMM_NAMES[backbone]}: unexpected strides {reductions}")
        self.channels = [*reversed(self.body.feature_info.channels()), in_channels]

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
        x1, x2, x3, x4 = self.body(x)
        return x4, x3, x2, x1, x
