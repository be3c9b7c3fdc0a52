"""MODNet (Ke et al., AAAI 2022), faithful to the official `src/models/modnet.py` (spec §1).

Trimap-free portrait matting by objective decomposition: a low-resolution branch predicts the
semantics (1/16), a high-resolution branch the boundary details, and a fusion branch the matte.
The released code uses an SE block in the LR branch (not the paper's e-ASPP).

>>> import torch
>>> model = MODNet().eval()
>>> img = torch.rand(1, 3, 64, 96) * 2 - 1
>>> [tuple(t.shape) for t in model(img)]
[(1, 1, 4, 6), (1, 1, 64, 96), (1, 1, 64, 96)]
>>> model(img, inference=True)[:2]
(None, None)
"""

from __future__ import annotations

from torch import Tensor, nn

from mattebench.models.modnet.backbone import MobileNetV2Backbone
from mattebench.models.modnet.branches import FusionBranch, HRBranch, LRBranch


class MODNet(nn.Module):
    """MODNet with the MobileNetV2 backbone.

    Args:
        in_channels: image channels (3 = RGB normalised to [-1, 1] with mean = std = 0.5, as in
            all official demos). They feed the backbone and the HR/fusion image concatenations.
        hr_channels: width of the HR and fusion branches (official 32).
        prev_alpha: temporal variant; the input gets one more channel, the previous frame's alpha
            (in [0, 1]; zeros for the first frame). Design: only the backbone's stem conv
            (`backbone.model.features.0.0`, (32, in_channels + 1, 3, 3)) sees it; the HR and
            fusion branches concatenate the image channels only. So every official weight except
            that conv loads unchanged, and `load_official_weights` fills the extra input slice of
            a 3-channel checkpoint with zeros: the loaded temporal model then gives exactly the
            3-channel model's output whatever the previous alpha (empty or not) until trained.
            (The official `MODNet(in_channels=4)` widens only the stem and then fails in the HR
            branch, which hard-codes 3 image channels; spec §1.9.)

    Forward: img (B, C, H, W), H and W multiples of 32 as in the official code (else a concat size
    mismatch; use `mattebench.models.modnet.inference.predict_any_size` for other sizes) ->
    (pred_semantic (B, 1, H/16, W/16), pred_detail (B, 1, H, W), pred_matte (B, 1, H, W)), all
    probabilities (sigmoid inside the model). With `inference=True` the semantic and detail heads
    are skipped: (None, None, pred_matte).

    Submodules `backbone`, `lr_branch`, `hr_branch`, `f_branch` as in the official state dict,
    but the backbone is registered once (the official also registers it as
    `lr_branch.backbone`); load released weights with `checkpoint.load_official_weights`.
    """

    def __init__(self, in_channels: int = 3, hr_channels: int = 32, prev_alpha: bool = False):
        super().__init__()
        assert in_channels >= 1 and hr_channels >= 2
        self.in_channels = in_channels
        self.hr_channels = hr_channels
        self.prev_alpha = prev_alpha
        self.input_channels = in_channels + int(prev_alpha)

        self.backbone = MobileNetV2Backbone(self.input_channels)
        enc_channels = self.backbone.enc_channels
        self.lr_branch = LRBranch(enc_channels)
        self.hr_branch = HRBranch(hr_channels, enc_channels, in_channels)
        self.f_branch = FusionBranch(hr_channels, enc_channels, in_channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Official init: kaiming_uniform_(fan_in, relu) on every conv (backbone included), conv
        bias 0, norm weight 1 / bias 0; the SE linears keep PyTorch's default init."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_uniform_(m.weight, a=0, mode="fan_in", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.BatchNorm2d | nn.InstanceNorm2d) and m.weight is not None:
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def forward(
        self, img: Tensor, inference: bool = False
    ) -> tuple[Tensor | None, Tensor | None, Tensor]:
        assert img.shape[1] == self.input_channels, (
            f"expected {self.input_channels} input channels, got {img.shape[1]}"
        )
        enc2x, enc4x, _, _, enc32x = self.backbone(img)
        image = img[:, : self.in_channels]  # never the previous alpha
        pred_semantic, lr8x = self.lr_branch(enc32x, inference)
        pred_detail, hr2x = self.hr_branch(image, enc2x, enc4x, lr8x, inference)
        pred_matte = self.f_branch(image, lr8x, hr2x)
        return pred_semantic, pred_detail, pred_matte

    def freeze_norm(self) -> None:
        """Puts every BatchNorm/InstanceNorm in eval mode (official; used by SOC adaptation)."""
        for m in self.modules():
            if isinstance(m, nn.BatchNorm2d | nn.InstanceNorm2d):
                m.eval()
