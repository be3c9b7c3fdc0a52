"""MODNet (Ke et al., AAAI 2022): trimap-free portrait matting, and its temporal variant whose
input is RGB + the previous frame's alpha (the Huawei Cloud portrait-matting write-up).

Training follows the official `supervised_training_iter` (specs/modnet.md §2.1): the network
sees the image normalised to [-1, 1], the loss needs the MODNet training trimap (declared in
`training_trimap`, added to training items by the datamodule) and crops whose sides are
multiples of 32 (`input_multiple`, to which the datamodule rounds its crops). Evaluation applies
the official demo's resize rule (`ref_size`, a declared `InferencePolicy`); `predict` itself pads
any size to a multiple of 32 and crops back, so an exported graph takes any size too.
"""

from __future__ import annotations

import copy
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import torch
from lightning.pytorch.utilities import rank_zero_warn
from torch import Tensor, nn

from mattebench.data.trimap import modnet_trimap
from mattebench.losses.modnet import soc_loss, supervised_loss
from mattebench.methods.base import Batch, MattingMethod, Prediction, TrimapRecipe
from mattebench.methods.policy import InferencePolicy
from mattebench.models import modnet as modnet_models


class MODNet(MattingMethod):
    """Args:
    net: a `mattebench.models.modnet.MODNet` (3 channels, or RGB + previous alpha).
    init_weights: the official `modnet_photographic_portrait_matting.ckpt` / webcam
        checkpoint (also into the temporal net), a Lightning checkpoint of this module, or
        None.
    trust_weights: load an `init_weights` file that holds Python objects besides tensors
        (unpickling those can run code from the file: only for files you trust).
    semantic_scale, detail_scale, matte_scale: the official loss weights (10, 10, 1).
    ref_size: the evaluation resolution: 512 (default) is the official image demo's rule
        (short side to 512 when the image is smaller than 512 or larger than it on both
        sides, sides floored to multiples of 32, area resampling both ways; specs/modnet.md
        §1.10); None runs at the native size, padded to a multiple of 32.
    **kwargs: `MattingMethod` arguments (optimizer, scheduler, lr, ...).
    """

    required_keys: ClassVar[tuple[str, ...]] = ("image", "alpha")
    training_keys: ClassVar[tuple[str, ...]] = ("trimap",)
    #: MODNet's concatenations need sides divisible by 32 (official issues #85, #160).
    input_multiple: ClassVar[int] = 32

    def __init__(
        self,
        net: modnet_models.MODNet,
        init_weights: str | Path | None = None,
        trust_weights: bool = False,
        semantic_scale: float = 10.0,
        detail_scale: float = 10.0,
        matte_scale: float = 1.0,
        ref_size: int | None = 512,
        **kwargs: Any,
    ) -> None:
        super().__init__(net=net, **kwargs)
        self.ref_size = ref_size
        self.scales = {
            "semantic_scale": semantic_scale,
            "detail_scale": detail_scale,
            "matte_scale": matte_scale,
        }
        if net.prev_alpha:
            self.required_keys = (*type(self).required_keys, "prev_alpha")
        if init_weights is not None:
            modnet_models.load_official_weights(
                self.net, Path(init_weights), strict=False, weights_only=not trust_weights
            )

    def inference_policy(self) -> InferencePolicy:
        size = partial(modnet_models.inference_size, ref_size=self.ref_size)
        return InferencePolicy(
            size=None if self.ref_size is None else size, mode="area", multiple=self.input_multiple
        )

    def training_trimap(self) -> TrimapRecipe | None:
        return modnet_trimap

    def network_input(self, batch: Batch) -> Tensor:
        """RGB normalised to [-1, 1] (the official demos' Normalize(0.5, 0.5)), plus the
        previous alpha for the temporal net."""
        image = batch["image"] * 2 - 1
        return torch.cat([image, batch["prev_alpha"]], dim=1) if self.temporal else image

    def predict(self, batch: Batch) -> Prediction:
        matte = modnet_models.predict_any_size(self.net, self.network_input(batch), ref_size=None)
        return {"alpha": matte}

    def training_loss(self, batch: Batch) -> dict[str, Tensor]:
        x = self.network_input(batch)
        semantic, detail, matte = self.net(x, inference=False)
        return supervised_loss(
            semantic, detail, matte, x[:, :3], batch["trimap"], batch["alpha"], **self.scales
        )


class MODNetSOC(MODNet):
    """SOC self-supervised adaptation (`soc_adaptation_iter`, specs/modnet.md §2.3): a
    fine-tuning stage for a trained MODNet on unlabelled frames. Training reads only `image`
    (and `prev_alpha` for the temporal net); labels, if the data has them, are used for
    validation and test only.

    Per the official recipe: a frozen backup copy of the model is taken at the start of every
    epoch (a resumed run takes it at resumption); BatchNorm/InstanceNorm stay in eval mode
    every iteration; Adam lr 1e-5, betas (0.9, 0.99), batch 1, 10 epochs (`model=modnet_soc`).

    Args:
        soc_semantic_scale, soc_detail_scale: the official weights (100, 1).
        **kwargs: `MODNet` arguments; `init_weights` should be the trained model to adapt.
    """

    def __init__(
        self, soc_semantic_scale: float = 100.0, soc_detail_scale: float = 1.0, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.soc_scales = {"semantic_scale": soc_semantic_scale, "detail_scale": soc_detail_scale}
        if kwargs.get("init_weights") is None:
            rank_zero_warn(
                "MODNetSOC adapts a trained MODNet, but model.init_weights is null: starting "
                "from random weights. Set model.init_weights=<checkpoint of a trained MODNet>."
            )
        self.backup: _FrozenCopy | None = None

    def training_inputs(self) -> tuple[str, ...]:
        """Unlabelled frames: the network input only."""
        return ("image", "prev_alpha") if self.temporal else ("image",)

    def training_trimap(self) -> TrimapRecipe | None:
        """None: SOC reads no label, not even a trimap."""
        return None

    def on_train_epoch_start(self) -> None:
        self.backup = _FrozenCopy(self.net)

    def training_loss(self, batch: Batch) -> dict[str, Tensor]:
        if self.backup is None:
            self.backup = _FrozenCopy(self.net)
        self.net.freeze_norm()
        x = self.network_input(batch)
        semantic, detail, matte = self.net(x, inference=False)
        _, backup_detail, backup_matte = self.backup(x)
        return soc_loss(semantic, detail, matte, backup_detail, backup_matte, **self.soc_scales)


class _FrozenCopy:
    """A no-grad, eval-mode copy of a network, deliberately not a submodule: it must stay out
    of the optimiser, the checkpoint and device moves (it is created on the net's device)."""

    def __init__(self, net: nn.Module) -> None:
        self.net = copy.deepcopy(net).eval().requires_grad_(False)

    @torch.no_grad()
    def __call__(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        return self.net(x, inference=False)
