"""Foreground colour for methods that predict only alpha, so that foreground metrics and
composites exist for every row of a comparison.

pymatting's multi-level estimator (Germer et al., "Fast Multi-Level Foreground Estimation",
ICPR 2020) solves for F (and B) given the image and alpha in linear time; it is the estimator
pymatting's own examples pair with every alpha solver. pymatting is imported on first use: its
numba kernels load from the on-disk cache (compiled once, about a minute, on a fresh install).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from mattebench.methods.base import Batch, Prediction


def estimate_foreground(image: Tensor, alpha: Tensor, **kwargs: Any) -> Tensor:
    """Foreground colour (B,3,H,W in [0,1]) of `image` (B,3,H,W) under `alpha` (B,1,H,W);
    `kwargs` go to `pymatting.estimate_foreground_ml` (regularization, n_big_iterations, ...)."""
    from pymatting import estimate_foreground_ml

    foregrounds = [
        estimate_foreground_ml(_hwc(i), _hwc(a)[..., 0], **kwargs)
        for i, a in zip(image, alpha, strict=True)
    ]
    fgr = torch.from_numpy(np.stack(foregrounds)).permute(0, 3, 1, 2)
    return fgr.to(image.device, image.dtype).clamp(0, 1)


def add_foreground(batch: Batch, prediction: Prediction, **kwargs: Any) -> Prediction:
    """`prediction` with `fgr` estimated from the batch's image and the predicted alpha, unless
    the method predicts its own foreground."""
    if "fgr" in prediction:
        return prediction
    alpha = prediction["alpha"].detach().float().clamp(0, 1)
    return {**prediction, "fgr": estimate_foreground(batch["image"].float(), alpha, **kwargs)}


def _hwc(x: Tensor) -> np.ndarray:
    return x.detach().permute(1, 2, 0).cpu().double().numpy()
