"""BGMv2 (Lin et al., CVPR 2021): background matting with a coarse base net and a patch refiner.

One method for both training stages: `net` is a `MattingBase` (stage 1, `model=bgmv2_base`) or
a `MattingRefine` (stage 2, `model=bgmv2`, usually initialised from a stage-1 checkpoint or an
official release through `init_weights`).

Training crops and evaluation inputs have sides that are multiples of 4, as the refiner needs
(`input_multiple`). Evaluation runs at full resolution; the refine network's `backbone_scale`
and refined pixels are chosen by the input size (`eval_sizes`, the official HD / 4K settings,
specs/bgmv2.md §1.9 and Table 1). Exported graphs refine as `infer` does, except the
"thresholding" mode, exported as "full" (`prepare_export`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from mattebench.losses import bgmv2 as losses
from mattebench.methods.base import Batch, MattingMethod, Prediction
from mattebench.methods.policy import InferencePolicy
from mattebench.models.bgmv2 import MattingBase, MattingRefine, load_official_weights

#: `eval_sizes` keys -> the attributes of `MattingRefine` they set.
EVAL_SETTINGS = {
    "max_pixels": "max_pixels",
    "backbone_scale": "backbone_scale",
    "sample_pixels": "refiner.sample_pixels",
}


class BGMv2(MattingMethod):
    """Args:
    net: `MattingBase` or `MattingRefine`.
    init_weights: an official release (`pytorch_resnet50.pth`, ...), a stage-1 Lightning
        checkpoint of this module, or None. Loaded once, at construction.
    trust_weights: load an `init_weights` file that holds Python objects besides tensors
        (unpickling those can run code from the file: only for files you trust).
    init_alpha_bias: a starting value for the bias of the decoder's alpha output (None: the
        default initialisation). Not in the paper, whose backbone starts from ImageNet: from
        scratch, the L1 loss of a background-dominated crop drives the pre-clamp alpha below 0
        everywhere, where `clamp` passes no gradient, and the matte stays empty. Starting
        inside (0, 1) keeps every pixel learning; the generated-sample run sets 0.5.
    init_plate_difference: start the backbone's first convolution with 6 of its filters
        computing +-(src - bgr) per colour channel, averaged over the kernel's window (the others
        keep the default initialisation). Not in the paper either: its backbone starts from
        ImageNet features; from scratch a short run otherwise learns the person's look before
        the plate comparison the method is built on. The generated-sample recipe sets it.
    detach_error_target: refine stage only; see `losses.bgmv2.refine_loss`.
    eval_sizes: refine stage only: evaluation settings by input size, the first entry whose
        `max_pixels` (null = any) covers the padded input applies: `backbone_scale` and
        `sample_pixels` (the refiner's pixels in sampling mode). Empty: the net's own.
    **kwargs: `MattingMethod` arguments (optimizer, lr per submodule, ...).
    """

    required_keys: ClassVar[tuple[str, ...]] = ("image", "bgr", "alpha", "fgr")
    #: The coarse pass's error map and, for the refine stage, the patches the refiner re-predicted.
    panel_maps: ClassVar[dict[str, str]] = {"err": "predicted error", "ref": "refined patches"}
    #: The refiner works on 4x4 patches of the full-resolution input (official train_refine.py
    #: crops to multiples of 4).
    input_multiple: ClassVar[int] = 4
    #: HD video and 4K, the paper's two targets (Table 1), and a small size.
    target_sizes: ClassVar[tuple[str, ...]] = ("512x512", "1920x1080", "3840x2160")

    def __init__(
        self,
        net: MattingBase | MattingRefine,
        init_weights: str | Path | None = None,
        trust_weights: bool = False,
        init_alpha_bias: float | None = None,
        init_plate_difference: bool = False,
        detach_error_target: bool = False,
        eval_sizes: Sequence[Mapping[str, Any]] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(net=net, **kwargs)
        self.detach_error_target = detach_error_target
        unknown = {k for entry in eval_sizes for k in entry} - set(EVAL_SETTINGS)
        if unknown:
            raise ValueError(
                f"eval_sizes entries take {sorted(EVAL_SETTINGS)}, got {sorted(unknown)}."
            )
        if eval_sizes and not isinstance(net, MattingRefine):
            raise ValueError("eval_sizes sets the refine network; MattingBase takes none.")
        self.eval_sizes = [dict(entry) for entry in eval_sizes]
        if init_alpha_bias is not None:
            with torch.no_grad():
                self.net.decoder.conv4.bias[0] = init_alpha_bias  # channel 0: alpha
        if init_plate_difference:
            _init_plate_difference(self.net)
        if init_weights is not None:
            path = _existing(Path(init_weights))
            load_official_weights(self.net, path, strict=False, weights_only=not trust_weights)

    def inference_policy(self) -> InferencePolicy:
        settings = [{EVAL_SETTINGS[k]: v for k, v in entry.items()} for entry in self.eval_sizes]
        return InferencePolicy(multiple=self.input_multiple, net_settings=settings)

    def prepare_export(self) -> str | None:
        """ "sampling" exports as it runs (a fixed top-k count, patches cut with one gather);
        "thresholding" picks a data-dependent number of patches (`nonzero`), which a traced
        graph would freeze at the example's count: it is exported in "full" mode, every patch
        refined (specs/bgmv2.md §1.10), the same alpha where all are picked."""
        self.eval()
        if not self.refines or self.net.refiner.mode != "thresholding":
            return None
        self.net.refiner.mode = "full"
        return 'refiner mode "full" instead of "thresholding" (every patch refined)'

    @property
    def refines(self) -> bool:
        return isinstance(self.net, MattingRefine)

    def predict(self, batch: Batch) -> Prediction:
        outputs = self.net(batch["image"], batch["bgr"])
        if self.refines:
            pha, fgr, _, _, err_sm, ref_sm = outputs
            return {"alpha": pha, "fgr": fgr, "err": err_sm, "ref": ref_sm}
        pha, fgr, err, _ = outputs
        return {"alpha": pha, "fgr": fgr, "err": err}

    def training_loss(self, batch: Batch) -> dict[str, torch.Tensor]:
        outputs = self.net(batch["image"], batch["bgr"])
        if self.refines:
            pha, fgr, pha_sm, fgr_sm, err_sm, _ = outputs
            return losses.refine_loss(
                pha, fgr, pha_sm, fgr_sm, err_sm, batch["alpha"], batch["fgr"],
                detach_error_target=self.detach_error_target,
            )  # fmt: skip
        pha, fgr, err, _ = outputs
        return losses.base_loss(pha, fgr, err, batch["alpha"], batch["fgr"])


@torch.no_grad()
def _init_plate_difference(net: nn.Module) -> None:
    """Filters 0-5 of the first convolution (input `cat([src, bgr])`) become the window means of
    src_c - bgr_c and bgr_c - src_c, so the first ReLU already shows where the image leaves the
    plate. A mean, not the centre tap alone: the test protocol's plate noise (std up to 0.15,
    `testsets.plate`) drops by the window's side (3x for 3x3), and the sample run's test IoU
    rose from 0.88 (centre tap) to 0.91 with it (README, "Set up, run, test")."""
    stem = next(m for m in net.backbone.modules() if isinstance(m, nn.Conv2d))
    weight = stem.weight
    if weight.shape[1] != 6 or weight.shape[0] < 6:
        raise ValueError(f"init_plate_difference needs a stem taking src + bgr, got {weight.shape}")
    taps = weight.shape[2] * weight.shape[3]
    weight[:6] = 0
    for c in range(3):
        for sign, out in ((1.0, c), (-1.0, c + 3)):
            weight[out, c], weight[out, c + 3] = sign / taps, -sign / taps


def _existing(path: Path) -> Path:
    """An official `.pth` or a Lightning checkpoint (its `state_dict` and `net.` prefix are
    unwrapped by `load_official_weights`)."""
    if not path.is_file():
        raise FileNotFoundError(
            f"init_weights: {path} does not exist. Give an official BGMv2 release "
            "(pytorch_resnet50.pth, ...) or a stage-1 checkpoint (<run>/checkpoints/*.ckpt)."
        )
    return path
