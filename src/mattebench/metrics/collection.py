"""`MattingMetrics`: the one metric collection every method is evaluated with.

Names are stable so dashboards and reports line up across methods: `sad`, `mse`, `grad`,
`conn`, `mad` when one region is scored, and `sad_unknown`, `sad_image`, ... when several are.
`iou` is the foreground IoU of the mask (alpha > 0.5) over the whole image, always named `iou`:
it scores a segmentation, not a region of a matte, so it has no region suffix.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import Tensor
from torchmetrics import MetricCollection
from torchmetrics.classification import BinaryJaccardIndex

from mattebench.metrics.image import MAD, MSE, SAD, ConnectivityError, GradientError, MattingMetric
from mattebench.metrics.inputs import Convention, MattingBatch, get_convention, prepare

METRICS: dict[str, type[MattingMetric]] = {
    "sad": SAD,
    "mse": MSE,
    "grad": GradientError,
    "conn": ConnectivityError,
    "mad": MAD,
}


class MattingMetrics(MetricCollection):
    """SAD, MSE, Grad, Conn and MAD for each requested region, and the whole-image IoU, updated
    together.

    Args:
        regions: which regions to score ("unknown", "image", "mask"; see `prepare`).
        metrics: which of `METRICS` to include; MAD is left out under conventions without it.
        iou: also score `iou`, the foreground IoU of prediction > 0.5 against target > 0.5 over
            the whole image, intersections and unions summed over all images (the segmentation
            metric of specs/tiramisu.md §4); 1 when both masks are empty everywhere.
        convention, force_known, empty_region: passed to every metric (see `MattingMetric`).
        prefix, postfix: as in `MetricCollection`, e.g. ``prefix="test/"``.

    >>> import torch
    >>> metrics = MattingMetrics(regions=("unknown", "image"), prefix="test/")
    >>> target = torch.zeros(1, 1, 8, 8)
    >>> trimap = torch.zeros(1, 1, 8, 8); trimap[..., 2:6, 2:6] = 0.5
    >>> metrics.update(torch.full_like(target, 0.25), target, trimap=trimap)
    >>> {k: round(v.item(), 4) for k, v in metrics.compute().items() if "sad" in k}
    {'test/sad_image': 0.016, 'test/sad_unknown': 0.004}
    """

    def __init__(
        self,
        regions: Sequence[str] = ("unknown",),
        metrics: Sequence[str] = tuple(METRICS),
        convention: str | Convention = "dim",
        force_known: bool | None = None,
        empty_region: str = "zero",
        iou: bool = True,
        **kwargs: Any,
    ) -> None:
        if isinstance(regions, str):
            regions = (regions,)
        unknown_names = sorted(set(metrics) - set(METRICS))
        if unknown_names:
            raise ValueError(f"Unknown metric(s) {unknown_names}; choose from {list(METRICS)}.")
        if not get_convention(convention).has_mad:
            metrics = [name for name in metrics if name != "mad"]
        members = {}
        for region in regions:
            for name in metrics:
                key = name if len(regions) == 1 else f"{name}_{region}"
                members[key] = METRICS[name](
                    convention=convention,
                    region=region,
                    force_known=force_known,
                    empty_region=empty_region,
                )
        if iou:
            members["iou"] = BinaryJaccardIndex(zero_division=1.0, validate_args=False)
        # Each metric owns a different definition: no compute groups to merge.
        super().__init__(members, compute_groups=False, **kwargs)

    def update(
        self,
        preds: Tensor,
        target: Tensor,
        trimap: Tensor | None = None,
        mask: Tensor | None = None,
    ) -> None:
        """Validate and convert the inputs once per region, then update every metric with them."""
        prepared: dict[str, MattingBatch] = {}
        for metric in self.values(copy_state=False):
            if isinstance(metric, BinaryJaccardIndex):
                # the raw prediction, validated and in [0, 1] (uint8 divided by 255)
                unit = prepare(preds, target, convention="dim", region="image")
                metric.update((unit.pred > 0.5).int(), (unit.target > 0.5).int())
                continue
            if metric.region not in prepared:
                prepared[metric.region] = prepare(
                    preds, target, trimap, mask,
                    convention=metric.convention, region=metric.region,
                    force_known=metric.force_known,
                )  # fmt: skip
            metric.update(prepared[metric.region])
