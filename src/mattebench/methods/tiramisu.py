"""Tiramisu (FC-DenseNet, Jégou et al. 2017) as a person / background segmenter: the
segmentation baseline of the comparison (specs/tiramisu.md §6, greenScreen.ai's use of it).

Training follows the official recipe (spec §4): 2-class softmax cross-entropy averaged over the
pixels that are not ignored, RMSprop, exponential LR decay per epoch, L2 weight decay on the
conv / deconv weights and BN scales only. The target is the batch's person `mask` when the data
has one (COCO person) and alpha > 0.5 otherwise (matting data). Its prediction is the person
probability (or the hard mask) as `alpha`, scored by the shared matting metrics and IoU.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import torch.nn.functional as F
from torch import Tensor, nn

from mattebench.methods.base import Batch, MattingMethod, Prediction
from mattebench.methods.policy import InferencePolicy, working_size
from mattebench.models.tiramisu import FCDenseNet

OUTPUTS = ("soft", "hard")


class Tiramisu(MattingMethod):
    """Args:
    net: a 2-class `mattebench.models.tiramisu.FCDenseNet` (class 1 = person).
    output: "soft" predicts alpha = the person probability, "hard" the mask probability > 0.5.
    weight_decay: PyTorch weight decay of conv / deconv weights and BN scales; 2e-4 equals the
        official loss term 1e-4 * sum(w^2) over Lasagne's regularizable parameters. Biases and
        BN shifts are not decayed.
    ignore_index: the label of pixels left out of the loss (as CamVid's void class).
    ignore_band: (low, high) or None; with it, training pixels whose alpha lies strictly
        between low and high get `ignore_index`: on matting data, the soft boundary that alpha
        > 0.5 would force into one class is not trained on. Binary masks (COCO) have no such
        pixels. None trains every pixel.
    pad_multiple: the input is padded (reflect, or replicate where the image is too small) to
        a multiple of this and the logits cropped back, so each max-pool halves exactly;
        1 runs at the native size as the official test did (the centre crops of the
        transitions up accept any size).
    max_side: evaluation working size: images whose longer side exceeds it are segmented
        downscaled and the probability resized back (its full-resolution fine-tuning ran on
        360x480 CamVid frames); None = native.
    **kwargs: `MattingMethod` arguments (optimizer, scheduler, lr, ...).
    """

    required_keys: ClassVar[tuple[str, ...]] = ("image", "alpha")
    segmentation: ClassVar[bool] = True

    def __init__(
        self,
        net: FCDenseNet,
        output: str = "soft",
        weight_decay: float = 2e-4,
        ignore_index: int = 255,
        ignore_band: Sequence[float] | None = None,
        pad_multiple: int = 32,
        max_side: int | None = 512,
        **kwargs: Any,
    ) -> None:
        super().__init__(net=net, **kwargs)
        if output not in OUTPUTS:
            raise ValueError(f"output must be one of {OUTPUTS}, got {output!r}.")
        if net.classifier.out_channels != 2:
            raise ValueError(
                f"Tiramisu segments person / background: the net needs n_classes=2, got "
                f"{net.classifier.out_channels}."
            )
        if ignore_band is not None and not (
            len(ignore_band) == 2 and 0 <= ignore_band[0] < ignore_band[1] <= 1
        ):
            raise ValueError(
                f"ignore_band must be (low, high) with 0 <= low < high <= 1, or null; got "
                f"{ignore_band}."
            )
        if ignore_index in (0, 1):
            raise ValueError(f"ignore_index must not be a class (0 or 1), got {ignore_index}.")
        if pad_multiple < 1:
            raise ValueError(f"pad_multiple must be >= 1, got {pad_multiple}.")
        self.output, self.weight_decay = output, weight_decay
        self.ignore_index, self.ignore_band = ignore_index, ignore_band
        self.pad_multiple, self.max_side = pad_multiple, max_side

    def inference_policy(self) -> InferencePolicy:
        return InferencePolicy(size=working_size(self.max_side))

    def logits(self, image: Tensor) -> Tensor:
        """Class logits (B, 2, H, W) of an image (B, 3, H, W) in [0, 1], at any size."""
        h, w = image.shape[-2:]
        pad_h, pad_w = -h % self.pad_multiple, -w % self.pad_multiple
        if pad_h or pad_w:
            mode = "reflect" if pad_h < h and pad_w < w else "replicate"
            image = F.pad(image, (0, pad_w, 0, pad_h), mode=mode)
        return self.net(image)[..., :h, :w]

    def predict(self, batch: Batch) -> Prediction:
        person = self.logits(batch["image"]).softmax(dim=1)[:, 1:]
        return {"alpha": (person > 0.5).to(person.dtype) if self.output == "hard" else person}

    def target(self, batch: Batch) -> Tensor:
        """Labels (B, H, W): 1 person, 0 background, `ignore_index` in the ignored band."""
        label = batch["mask"] > 0.5 if "mask" in batch else batch["alpha"] > 0.5
        label = label[:, 0].long()
        if self.ignore_band is not None:
            low, high = self.ignore_band
            alpha = batch["alpha"][:, 0]
            label = label.masked_fill((alpha > low) & (alpha < high), self.ignore_index)
        return label

    def training_loss(self, batch: Batch) -> dict[str, Tensor]:
        logits, target = self.logits(batch["image"]), self.target(batch)
        if not (target != self.ignore_index).any():
            # every pixel ignored: cross-entropy's mean would be 0/0 = NaN
            return {"loss": logits.sum() * 0.0}
        return {"loss": F.cross_entropy(logits, target, ignore_index=self.ignore_index)}

    def parameter_groups(self) -> list[dict[str, Any]]:
        """Lasagne's regularizable parameters (conv / deconv weights, BN scales) with weight
        decay, biases and BN shifts without; both at the one learning rate `lr`."""
        if not isinstance(self.lr, int | float):
            raise ValueError(f"Tiramisu takes one learning rate, got lr={self.lr}.")
        decay, no_decay = [], []
        for module in self.net.modules():
            if isinstance(module, nn.Conv2d | nn.ConvTranspose2d | nn.BatchNorm2d):
                decay.append(module.weight)
                no_decay.append(module.bias)
        return [
            {"params": decay, "lr": float(self.lr), "weight_decay": self.weight_decay},
            {"params": no_decay, "lr": float(self.lr), "weight_decay": 0.0},
        ]
