"""BGMv2 networks (official `model/model.py`): MattingBase and MattingRefine.

Lin et al., "Real-Time High-Resolution Background Matting", CVPR 2021. The base network
(encoder -> ASPP -> decoder) predicts alpha, a foreground residual, an error map and a 32-channel
hidden state from `cat([src, bgr])`; MattingRefine runs it at `backbone_scale` of the input and
refines the patches with the largest predicted error at full resolution.

Submodules are `backbone`, `aspp`, `decoder` and `refiner`, as in the official state dict, so
per-module learning rates can be set (paper §4.3). `backbone` holds timm modules; load released
weights with `mattebench.models.bgmv2.checkpoint.load_official_weights`.

>>> import torch
>>> model = MattingRefine("mobilenetv2").eval()
>>> src = bgr = torch.rand(1, 3, 64, 96)
>>> [tuple(t.shape) for t in model(src, bgr)]
[(1, 1, 64, 96), (1, 3, 64, 96), (1, 1, 16, 24), (1, 3, 16, 24), (1, 1, 16, 24), (1, 1, 16, 24)]
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mattebench.models.bgmv2.aspp import ASPP
from mattebench.models.bgmv2.decoder import Decoder
from mattebench.models.bgmv2.encoder import Encoder
from mattebench.models.bgmv2.refiner import Refiner

HIDDEN_CHANNELS = 32
OUT_CHANNELS = 1 + 3 + 1 + HIDDEN_CHANNELS  # pha, fgr residual, err, hid


class MattingBase(nn.Module):
    """Coarse matting at the input resolution.

    Args:
        backbone: "resnet50", "resnet101" or "mobilenetv2".
        in_channels: channels of `cat([src, bgr])`.
        backbone_weights: optional local timm-layout checkpoint for the encoder (its first conv is
            adapted to `in_channels` by timm); None initialises randomly.

    Forward: src, bgr (B, 3, H, W) in [0, 1] (bgr = the clean plate of the scene, not a new
    background) -> pha (B, 1, H, W), fgr (B, 3, H, W) = clamp(residual + src), err (B, 1, H, W),
    all in [0, 1], and hid (B, 32, H, W) >= 0.
    """

    def __init__(
        self,
        backbone: str,
        in_channels: int = 6,
        backbone_weights: str | Path | None = None,
    ) -> None:
        super().__init__()
        self.backbone = Encoder(backbone, in_channels, backbone_weights)
        aspp_channels, *skip_channels = self.backbone.channels
        self.aspp = ASPP(aspp_channels, (3, 6, 9))
        self.decoder = Decoder([256, 128, 64, 48, OUT_CHANNELS], skip_channels)

    def predict(self, src: Tensor, bgr: Tensor) -> Tensor:
        """The raw (B, 37, H, W) decoder output for `cat([src, bgr])`."""
        x, *shortcuts = self.backbone(torch.cat([src, bgr], dim=1))
        x = self.aspp(x)
        return self.decoder(x, *shortcuts)

    def forward(self, src: Tensor, bgr: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        x = self.predict(src, bgr)
        pha = x[:, 0:1].clamp(0.0, 1.0)
        fgr = (x[:, 1:4] + src).clamp(0.0, 1.0)
        err = x[:, 4:5].clamp(0.0, 1.0)
        hid = x[:, 5:].relu()
        return pha, fgr, err, hid


class MattingRefine(MattingBase):
    """Base network at `backbone_scale` of the input, then the patch refiner at full resolution.

    Args:
        backbone: "resnet50", "resnet101" or "mobilenetv2".
        backbone_scale: downsampling before the base network, at most 1/2 (HD: 1/4, 4K: 1/8).
        refine_mode: "sampling", "thresholding" or "full" (see `refiner.py`).
        refine_sample_pixels: pixels refined per image in "sampling" mode (16 per patch;
            HD: 80,000, 4K: 320,000).
        refine_threshold: error threshold of "thresholding" mode.
        refine_kernel_size: 3 (released models) or 1.
        refine_prevent_oversampling: skip patches with zero error in "sampling" mode.
        backbone_weights: optional local timm-layout checkpoint for the encoder.

    Forward: src, bgr (B, 3, H, W), H and W divisible by 4 -> pha (B, 1, H, W), fgr (B, 3, H, W),
    pha_sm (B, 1, Hc, Wc), fgr_sm (B, 3, Hc, Wc), err_sm (B, 1, Hc, Wc) at the base resolution
    (Hc = H * backbone_scale), ref_sm (B, 1, H/4, W/4), 1 where a 4x4 patch was refined.
    """

    def __init__(
        self,
        backbone: str,
        backbone_scale: float = 0.25,
        refine_mode: str = "sampling",
        refine_sample_pixels: int = 80_000,
        refine_threshold: float = 0.1,
        refine_kernel_size: int = 3,
        refine_prevent_oversampling: bool = True,
        backbone_weights: str | Path | None = None,
    ) -> None:
        if not 0 < backbone_scale <= 0.5:
            raise ValueError(
                f"backbone_scale must be in (0, 1/2], got {backbone_scale}: the refiner needs "
                "the base network to run at half resolution or less (use 1/4 for HD, 1/8 for 4K)"
            )
        super().__init__(backbone, 6, backbone_weights)
        self.backbone_scale = backbone_scale
        self.refiner = Refiner(
            refine_mode,
            refine_sample_pixels,
            refine_threshold,
            refine_kernel_size,
            refine_prevent_oversampling,
        )

    def forward(
        self, src: Tensor, bgr: Tensor
    ) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]:
        check_inputs(src, bgr)
        src_sm = downsample(src, self.backbone_scale)
        bgr_sm = downsample(bgr, self.backbone_scale)

        x = self.predict(src_sm, bgr_sm)
        pha_sm = x[:, 0:1].clamp(0.0, 1.0)
        fgr_sm = x[:, 1:4]  # residual: the refiner works on residuals
        err_sm = x[:, 4:5].clamp(0.0, 1.0)
        hid_sm = x[:, 5:].relu()

        pha, fgr, ref_sm = self.refiner(src, bgr, pha_sm, fgr_sm, err_sm, hid_sm)

        pha = pha.clamp(0.0, 1.0)
        fgr = (fgr + src).clamp(0.0, 1.0)
        fgr_sm = (fgr_sm + src_sm).clamp(0.0, 1.0)
        return pha, fgr, pha_sm, fgr_sm, err_sm, ref_sm


def downsample(x: Tensor, scale: float) -> Tensor:
    """Bilinear resize by `scale`, with the official call's exact arguments."""
    return F.interpolate(
        x, scale_factor=scale, mode="bilinear", align_corners=False, recompute_scale_factor=True
    )


def check_inputs(src: Tensor, bgr: Tensor) -> None:
    """The official asserts of MattingRefine.forward, as errors that say what to do."""
    if src.shape != bgr.shape:
        raise ValueError(
            f"src {tuple(src.shape)} and bgr {tuple(bgr.shape)} must have the same shape; "
            "resize the background plate to the source frame"
        )
    height, width = src.shape[2:]
    if height % 4 or width % 4:
        raise ValueError(
            f"MattingRefine needs height and width divisible by 4, got {height}x{width}; "
            f"pad or crop src and bgr, e.g. to {height // 4 * 4}x{width // 4 * 4}"
        )
