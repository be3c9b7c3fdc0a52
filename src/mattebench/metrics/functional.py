"""Per-image matting errors: the functional core shared by the metric classes and the CLI.

Definitions follow the official Deep Image Matting MATLAB evaluation code (specs/metrics.md §1)
and, with ``convention="mmagic"``, mmagic 1.x (§2). Every function returns one value per image,
shape (N,), in the published units: SAD, Grad and Conn divided by 1000, MSE and MAD unscaled.
An image whose evaluation region is empty scores 0 (sums over nothing; MSE and MAD follow
mmagic's `0 if N_U == 0`); the metric classes let you skip or reject such images instead.

>>> import torch
>>> target = torch.zeros(1, 1, 4, 4)
>>> preds = target.clone(); preds[0, 0, 0, :2] = 0.5
>>> sad(preds, target)
tensor([0.0010], dtype=torch.float64)
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from mattebench.metrics.connectivity import connectivity_error_sum
from mattebench.metrics.cpu import map_images
from mattebench.metrics.gradient import gradient_error_sums
from mattebench.metrics.inputs import MattingBatch, prepare


def sad_per_image(batch: MattingBatch) -> Tensor:
    """Sum of absolute differences / 1000 (mmagic: summed over the whole image)."""
    return (
        _error_sums(batch, squared=False, whole_image=batch.convention.whole_image_error_sums)
        / 1000
    )


def mse_per_image(batch: MattingBatch) -> Tensor:
    """Mean squared error over the region (mmagic: whole-image sum / #unknown pixels)."""
    numerator = _error_sums(
        batch, squared=True, whole_image=batch.convention.whole_image_error_sums
    )
    return _divide_or_zero(numerator, batch.region_size)


def mad_per_image(batch: MattingBatch) -> Tensor:
    """Mean absolute difference over the region (RVM reports it x1e3 on whole frames)."""
    if not batch.convention.has_mad:
        raise ValueError(f"convention={batch.convention.name!r} defines no MAD; use 'dim'.")
    return _divide_or_zero(_error_sums(batch, squared=False, whole_image=False), batch.region_size)


def gradient_error_per_image(batch: MattingBatch) -> Tensor:
    """Sum over the region of the squared difference of gradient magnitudes / 1000.

    Both mattes are min-max normalised first (MATLAB `mat2gray`, `cv2.normalize`), then
    filtered with the sigma=1.4 Gaussian-derivative kernel (see `gradient.py`).
    """
    return gradient_error_sums(batch.pred, batch.target, batch.region) / 1000


def connectivity_error_per_image(batch: MattingBatch) -> Tensor:
    """Sum over the region of |phi(pred) - phi(target)| / 1000, with theta 0.15 and p = 1.

    The labelling runs on CPU (OpenCV) whatever the inputs' device.
    """
    thresholds = batch.convention.conn_thresholds()
    preds = batch.pred.detach().cpu().numpy()[:, 0]
    targets = batch.target.detach().cpu().numpy()[:, 0]
    regions = batch.region.detach().cpu().numpy()[:, 0]

    def one_image(n: int) -> float:
        region = regions[n]
        return connectivity_error_sum(
            preds[n], targets[n],
            None if region.all() else region,  # the whole image needs no mask
            thresholds, column_major_ties=batch.convention.column_major_ties,
        )  # fmt: skip

    errors = torch.tensor(map_images(one_image, len(preds)), dtype=torch.float64)
    return (errors / 1000).to(batch.pred.device)


def _error_sums(batch: MattingBatch, *, squared: bool, whole_image: bool) -> Tensor:
    """Per image, the sum of |pred - target| (or its square) over the region, or over every
    pixel with `whole_image`. On CPU in NumPy (PyTorch's intra-op threads would wake and spin
    for each of these one-pass steps); the region multiplies the error rather than selecting
    from it, so a ragged region costs no branches."""
    region = None if whole_image else batch.region
    if batch.pred.device.type == "cpu":
        error = np.subtract(batch.pred.numpy(), batch.target.numpy())
        if squared:
            np.square(error, out=error)
        else:
            np.abs(error, out=error)
        if region is not None:
            np.multiply(error, region.numpy(), out=error)
        return torch.from_numpy(error.sum(axis=(1, 2, 3)))
    error = torch.sub(batch.pred, batch.target)
    error = error.square_() if squared else error.abs_()
    if region is not None:
        error = error.masked_fill_(~region, 0.0)
    return error.sum(dim=(1, 2, 3))


def _divide_or_zero(numerator: Tensor, count: Tensor) -> Tensor:
    return torch.where(count > 0, numerator / count.clamp(min=1), torch.zeros_like(numerator))


def sad(
    preds: Tensor,
    target: Tensor,
    trimap: Tensor | None = None,
    mask: Tensor | None = None,
    **options,
) -> Tensor:
    """Per-image SAD / 1000. Options (`convention`, `region`, `force_known`): see `prepare`."""
    return sad_per_image(prepare(preds, target, trimap, mask, **options))


def mse(
    preds: Tensor,
    target: Tensor,
    trimap: Tensor | None = None,
    mask: Tensor | None = None,
    **options,
) -> Tensor:
    """Per-image MSE. Options (`convention`, `region`, `force_known`): see `prepare`."""
    return mse_per_image(prepare(preds, target, trimap, mask, **options))


def mad(
    preds: Tensor,
    target: Tensor,
    trimap: Tensor | None = None,
    mask: Tensor | None = None,
    **options,
) -> Tensor:
    """Per-image MAD. Options (`convention`, `region`, `force_known`): see `prepare`."""
    return mad_per_image(prepare(preds, target, trimap, mask, **options))


def gradient_error(
    preds: Tensor,
    target: Tensor,
    trimap: Tensor | None = None,
    mask: Tensor | None = None,
    **options,
) -> Tensor:
    """Per-image Grad / 1000. Options (`convention`, `region`, `force_known`): see `prepare`."""
    return gradient_error_per_image(prepare(preds, target, trimap, mask, **options))


def connectivity_error(
    preds: Tensor,
    target: Tensor,
    trimap: Tensor | None = None,
    mask: Tensor | None = None,
    **options,
) -> Tensor:
    """Per-image Conn / 1000. Options (`convention`, `region`, `force_known`): see `prepare`."""
    return connectivity_error_per_image(prepare(preds, target, trimap, mask, **options))


def dtssd_pair(pred: Tensor, prev_pred: Tensor, target: Tensor, prev_target: Tensor) -> Tensor:
    """dtSSD of frame t against frame t-1 as RVM computes it (whole frame, x100 applied by
    the caller): `sqrt(mean(((p_t - p_{t-1}) - (g_t - g_{t-1}))^2))`, one value per N."""
    change = (pred - prev_pred) - (target - prev_target)
    return change.pow(2).mean(dim=(1, 2, 3)).sqrt()


def dtssd(preds: Tensor, target: Tensor, scale: float = 100.0) -> Tensor:
    """dtSSD of one clip, T,1,H,W (Erofeev et al. 2015, RVM `evaluate_lr.py`).

    Frame 0 scores 0 and counts in the clip's mean over frames, as in RVM.
    """
    batch = prepare(preds, target, region="image")
    if len(batch.pred) < 2:
        return torch.zeros((), dtype=torch.float64, device=batch.pred.device)
    per_frame = dtssd_pair(batch.pred[1:], batch.pred[:-1], batch.target[1:], batch.target[:-1])
    return per_frame.sum() / len(batch.pred) * scale
