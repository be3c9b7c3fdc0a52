"""BGMv2 (Lin et al., CVPR 2021): background matting with a coarse base net and a patch refiner.

One method for both training stages: `net` is a `MattingBase` (stage 1, `model=bgmv2_base`) or
a `MattingRefine` (stage 2, `model=bgmv2`, usually initialised from a stage-1 checkpoint or an
official release through `init_weights`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import torch

from mattebench.losses import bgmv2 as losses
from mattebench.methods.base import Batch, MattingMethod, Prediction
from mattebench.models.bgmv2 import MattingBase, MattingRefine, load_official_weights


class BGMv2(MattingMethod):
    """Args:
    net: `MattingBase` or `MattingRefine`.
    init_weights: an official release (`pytorch_resnet50.pth`, ...), a stage-1 Lightning
        checkpoint of this module, or None. Loaded once, at construction.
    detach_error_target: refine stage only; see `losses.bgmv2.refine_loss`.
    **kwargs: `MattingMethod` arguments (optimizer, lr per submodule, ...).
    """

    required_keys: ClassVar[tuple[str, ...]] = ("image", "bgr", "alpha", "fgr")

    def __init__(
        self,
        net: MattingBase | MattingRefine,
        init_weights: str | Path | None = None,
        detach_error_target: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(net=net, **kwargs)
        self.detach_error_target = detach_error_target
        if init_weights is not None:
            load_official_weights(self.net, _weights(Path(init_weights)), strict=False)

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


def _weights(path: Path) -> dict[str, torch.Tensor]:
    """An official `.pth` or a Lightning checkpoint (its `state_dict` and `net.` prefix are
    unwrapped by `load_official_weights`)."""
    if not path.is_file():
        raise FileNotFoundError(
            f"init_weights: {path} does not exist. Give an official BGMv2 release "
            "(pytorch_resnet50.pth, ...) or a stage-1 checkpoint (<run>/checkpoints/*.ckpt)."
        )
    return torch.load(path, map_location="cpu", weights_only=False)
