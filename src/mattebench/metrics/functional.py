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

from mattebench.metrics.connectivity import connectivity_levels
from mattebench.metrics.cpu import map_images
from mattebench.metrics.gradient import gradient_error_sums
from mattebench.metrics.inputs import MattingBatch, prepare

#: Rhemann et al. 2009: a pixel is penalised only when it exceeds its level by at least theta.
CONN_THETA = 0.15


def sad_per_image(batch: MattingBatch) -> Tensor:
    """Sum of absolute differences / 1000 (mmagic: summed over the whole image)."""
    error = torch.sub(batch.pred, batch.target).abs_()
    return (
        _region_sum(error, None if batch.convention.whole_image_error_sums else batch.region) / 1000
    )


def mse_per_image(batch: MattingBatch) -> Tensor:
    """Mean squared error over the region (mmagic: whole-image sum / #unknown pixels)."""
    error = torch.sub(batch.pred, batch.target).square_()
    numerator = _region_sum(
        error, None if batch.convention.whole_image_error_sums else batch.region
    )
    return _divide_or_zero(numerator, batch.region_size)


def mad_per_image(batch: MattingBatch) -> Tensor:
    """Mean absolute difference over the region (RVM reports it x1e3 on whole frames)."""
    if not batch.convention.has_mad:
        raise ValueError(f"convention={batch.convention.name!r} defines no MAD; use 'dim'.")
    error = torch.sub(batch.pred, batch.target).abs_()
    return _divide_or_zero(_region_sum(error, batch.region), batch.region_size)


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
        pred, target, region = preds[n], targets[n], regions[n]
        # The whole image (trimap-free evaluation) needs no gathering of the scored pixels.
        scored = None if region.all() else np.flatnonzero(region)
        levels = connectivity_levels(
            pred, target, scored, thresholds, column_major_ties=batch.convention.column_major_ties
        )
        pred, target = (
            (pred.ravel(), target.ravel()) if scored is None
            else (np.take(pred, scored), np.take(target, scored))
        )  # fmt: skip
        phi_target = _phi(target, levels)
        phi_pred = _phi(pred, levels, out=levels)  # the levels are not needed any more
        return float(np.abs(np.subtract(phi_pred, phi_target, out=phi_pred), out=phi_pred).sum())

    errors = torch.tensor(map_images(one_image, len(preds)), dtype=torch.float64)
    return (errors / 1000).to(batch.pred.device)


def _phi(alpha: np.ndarray, levels: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """`1 - d * (d >= theta)`, `d = alpha - levels`, computed in one buffer (wide regions hold
    millions of pixels: fresh temporaries would cost more than the arithmetic)."""
    distance = np.subtract(alpha, levels, out=out)
    np.multiply(distance, distance >= CONN_THETA, out=distance)
    return np.subtract(1.0, distance, out=distance)


def _region_sum(values: Tensor, region: Tensor | None) -> Tensor:
    """Per-image sum of `values` (a temporary, zeroed in place outside the region)."""
    if region is not None:
        values = values.masked_fill_(~region, 0.0)
    return values.sum(dim=(1, 2, 3))


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
