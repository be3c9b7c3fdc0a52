"""Running MODNet on any image size (spec §1.1, §1.10).

MODNet needs H and W to be multiples of 32. Two ways around it:
- `ref_size` given (default 512): the official image / ONNX demo rule
  (`demo/image_matting/colab/inference.py`): `inference_size` picks the network size, the input
  is resized there with `mode="area"` and the matte resized back to (H, W) with `mode="area"`.
  This is how the released models were meant to be evaluated.
- `ref_size=None`: keep the native resolution; replicate-pad right/bottom to the next multiple
  of 32 and crop the matte back (no resampling; costlier for large images).
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

MULTIPLE = 32


def inference_size(h: int, w: int, ref_size: int = 512) -> tuple[int, int]:
    """The official demo's network input size (h, w): if max(h, w) < ref_size or
    min(h, w) > ref_size the short side goes to ref_size and the long side to
    int(long / short * ref_size); then each side is floored to a multiple of 32 (which may change
    the aspect ratio, issue #115).

    >>> inference_size(319, 567)
    (288, 544)
    """
    if max(h, w) < ref_size or min(h, w) > ref_size:
        if w >= h:
            h, w = ref_size, int(w / h * ref_size)
        else:
            h, w = int(h / w * ref_size), ref_size
    return h - h % MULTIPLE, w - w % MULTIPLE


def pad_to_multiple(x: Tensor, multiple: int = MULTIPLE) -> tuple[Tensor, tuple[int, int]]:
    """Replicate-pads (B, C, H, W) right and bottom so H and W are multiples of `multiple`;
    returns the padded tensor and the original (H, W) for `crop_to`."""
    h, w = x.shape[-2:]
    pad_h, pad_w = -h % multiple, -w % multiple
    if pad_h or pad_w:
        x = F.pad(x, (0, pad_w, 0, pad_h), mode="replicate")
    return x, (h, w)


def crop_to(x: Tensor, size: tuple[int, int]) -> Tensor:
    """Undoes `pad_to_multiple`."""
    return x[..., : size[0], : size[1]]


def predict_any_size(model: nn.Module, img: Tensor, ref_size: int | None = 512) -> Tensor:
    """The matte (B, 1, H, W) of a normalised input (B, C, H, W) of any size: resized by the
    official rule when `ref_size` is given, else padded to a multiple of 32 and cropped back.
    Runs `model(x, inference=True)`; the caller sets eval mode and no_grad."""
    h, w = img.shape[-2:]
    if ref_size is None:
        x, size = pad_to_multiple(img)
        return crop_to(model(x, inference=True)[2], size)
    size = inference_size(h, w, ref_size)
    x = img if size == (h, w) else F.interpolate(img, size=size, mode="area")
    matte = model(x, inference=True)[2]
    return matte if size == (h, w) else F.interpolate(matte, size=(h, w), mode="area")
