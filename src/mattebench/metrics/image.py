"""SAD, MSE, Grad, Conn and MAD as torchmetrics `Metric`s: per-image values, averaged over images.

Each class only owns state (a float64 sum and an image count, summed across processes under
DDP); the definitions are the functions in `functional.py`.

>>> import torch
>>> metric = SAD()
>>> target = torch.zeros(2, 1, 8, 8)
>>> metric.update(torch.full_like(target, 0.5), target)
>>> metric.compute()
tensor(0.0320, dtype=torch.float64)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Literal

import torch
from torch import Tensor
from torchmetrics import Metric
from torchmetrics.utilities import rank_zero_warn

from mattebench.metrics import functional as F
from mattebench.metrics.inputs import (
    Convention,
    MattingBatch,
    Region,
    check_options,
    get_convention,
    prepare,
)

EmptyRegion = Literal["zero", "skip", "error"]


class MattingMetric(Metric):
    """Shared state and update of the per-image matting metrics.

    Args:
        convention: ``"dim"`` (official DIM MATLAB code, default) or ``"mmagic"`` (mmagic 1.x).
        region: ``"auto"`` (the trimap's unknown pixels when a trimap is given, else the whole
            image), ``"unknown"``, ``"image"`` or ``"mask"`` (pass ``mask=`` to `update`).
        force_known: set predictions to the trimap's known values before scoring; default is the
            convention's (mmagic: yes, dim: no).
        empty_region: an image with no pixel to score counts as 0 (``"zero"``, mmagic's rule),
            is left out of the average (``"skip"``), or raises (``"error"``).
    """

    is_differentiable: ClassVar[bool] = False
    higher_is_better: ClassVar[bool] = False
    full_state_update: ClassVar[bool] = False
    per_image: ClassVar[Callable[[MattingBatch], Tensor]]

    total: Tensor
    count: Tensor
    #: The per-image values of the latest update (for per-sample tables), not a metric state.
    last_values: Tensor | None = None

    def __init__(
        self,
        convention: str | Convention = "dim",
        region: Region = "auto",
        force_known: bool | None = None,
        empty_region: EmptyRegion = "zero",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        check_options(convention, region, force_known)
        if empty_region not in ("zero", "skip", "error"):
            raise ValueError(
                f"empty_region must be 'zero', 'skip' or 'error', got {empty_region!r}."
            )
        self.convention = convention
        self.region = region
        self.force_known = force_known
        self.empty_region = empty_region
        self.add_state("total", torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("count", torch.tensor(0, dtype=torch.long), dist_reduce_fx="sum")

    def update(
        self,
        preds: Tensor | MattingBatch,
        target: Tensor | None = None,
        trimap: Tensor | None = None,
        mask: Tensor | None = None,
    ) -> None:
        """Score a batch: `preds`, `target` (and `trimap`, `mask`) are N,1,H,W.

        `preds` may instead be a `MattingBatch` prepared with this metric's options, so that
        `MattingMetrics` validates and converts the inputs once per region, not once per metric.
        """
        if isinstance(preds, MattingBatch):
            batch = preds
        else:
            batch = prepare(
                preds, target, trimap, mask,
                convention=self.convention, region=self.region, force_known=self.force_known,
            )  # fmt: skip
        values = type(self).per_image(batch)
        self.last_values = values.detach()
        keep = self._images_to_keep(batch)
        self.total += values[keep].sum().to(self.total.device)
        self.count += keep.sum().to(self.count.device)

    def compute(self) -> Tensor:
        if self.count == 0:
            rank_zero_warn(
                f"{type(self).__name__}: no image was scored (no update, or every evaluation "
                "region was empty and skipped); returning NaN.",
            )
        return self.total / self.count

    def _images_to_keep(self, batch: MattingBatch) -> Tensor:
        empty = batch.region_size == 0
        if self.empty_region == "zero" or not empty.any():
            return torch.ones_like(empty)
        if self.empty_region == "error":
            raise ValueError(
                f"{type(self).__name__}: image(s) {empty.nonzero().flatten().tolist()} of the "
                "batch have no pixel to score (e.g. a trimap without unknown pixels); use "
                "empty_region='zero' or 'skip' to accept them."
            )
        return ~empty


class SAD(MattingMetric):
    """Sum of absolute differences, / 1000 (DIM `compute_sad_loss.m`)."""

    per_image = staticmethod(F.sad_per_image)


class MSE(MattingMetric):
    """Mean squared error over the region, unscaled (DIM `compute_mse_loss.m`)."""

    per_image = staticmethod(F.mse_per_image)


class MAD(MattingMetric):
    """Mean absolute difference over the region, unscaled (RVM reports it x1e3)."""

    per_image = staticmethod(F.mad_per_image)

    def __init__(self, convention: str | Convention = "dim", **kwargs: Any) -> None:
        if not get_convention(convention).has_mad:
            raise ValueError(f"convention={convention!r} defines no MAD; use convention='dim'.")
        super().__init__(convention=convention, **kwargs)


class GradientError(MattingMetric):
    """Gradient error, / 1000 (DIM `compute_gradient_loss.m`, sigma 1.4)."""

    per_image = staticmethod(F.gradient_error_per_image)


class ConnectivityError(MattingMetric):
    """Connectivity error, / 1000 (DIM `compute_connectivity_error.m`, theta 0.15, p 1)."""

    per_image = staticmethod(F.connectivity_error_per_image)
