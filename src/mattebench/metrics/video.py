"""dtSSD over clips streamed frame by frame (Erofeev et al. 2015, as RVM evaluates it).

A clip's score is the mean over its frames of `sqrt(mean_x(((p_t - p_{t-1}) - (g_t - g_{t-1}))^2))
x 100`, frame 0 counting as 0 (RVM `evaluate_lr.py`); the dataset's score is the mean over clips.
The metric keeps the last frame of each clip it is currently receiving, so a test loop can feed
frames (or chunks of frames) in order, one batch at a time, without holding whole clips.

>>> import torch
>>> metric = DtSSD()
>>> target = torch.zeros(3, 1, 4, 4)
>>> preds = torch.stack([torch.zeros(1, 4, 4), torch.full((1, 4, 4), 0.1), torch.zeros(1, 4, 4)])
>>> metric.update(preds, target, clip_ids="clip-a")
>>> metric.compute()  # frames score 0, 10, 10 -> mean 6.67
tensor(6.6667, dtype=torch.float64)
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Sequence
from typing import Any, ClassVar

import torch
from torch import Tensor
from torchmetrics import Metric
from torchmetrics.utilities import rank_zero_warn

from mattebench.metrics.functional import dtssd_pair
from mattebench.metrics.inputs import prepare


class DtSSD(Metric):
    """Temporal coherence error of video mattes (lower is better).

    `update(preds, target, clip_ids)` takes frames N,1,H,W in temporal order, with `clip_ids`
    naming the clip of each frame (a sequence of N ids, or one id for all N), or chunks
    B,T,1,H,W with one id per row. A clip's frames must arrive in consecutive updates: a clip
    that reappears after an update without it is an error rather than a silently broken
    frame pair. Without `clip_ids`, each update holds complete clips of its own.

    Under DDP each process must receive whole clips (shard the test set by clip, not by frame).

    Args:
        scale: multiplier of the per-frame value; RVM reports dtSSD x 1e2.
    """

    is_differentiable: ClassVar[bool] = False
    higher_is_better: ClassVar[bool] = False
    full_state_update: ClassVar[bool] = False

    clip_sums: Tensor
    clip_frames: Tensor

    def __init__(self, scale: float = 100.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scale = scale
        # One entry per clip seen: the sum of its per-frame values and its frame count.
        self.add_state("clip_sums", torch.zeros(0, dtype=torch.float64), dist_reduce_fx="cat")
        self.add_state("clip_frames", torch.zeros(0, dtype=torch.long), dist_reduce_fx="cat")
        self._open: dict[Hashable, tuple[int, Tensor, Tensor]] = {}
        self._finished: set[Hashable] = set()
        self._anonymous = itertools.count()

    def update(
        self,
        preds: Tensor,
        target: Tensor,
        clip_ids: Hashable | Sequence[Hashable] | None = None,
    ) -> None:
        if preds.shape != target.shape:
            raise ValueError(
                f"preds and target must have the same shape, got {tuple(preds.shape)} "
                f"and {tuple(target.shape)}."
            )
        if preds.ndim == 5:  # B,T,1,H,W: one clip per row
            ids = self._row_ids(clip_ids, preds.shape[0])
            frame_ids = [clip for clip in ids for _ in range(preds.shape[1])]
            preds, target = preds.flatten(0, 1), target.flatten(0, 1)
        else:
            frame_ids = self._frame_ids(clip_ids, preds.shape[0] if preds.ndim else 0)
        batch = prepare(preds, target, region="image")

        seen_now = set(frame_ids)
        for clip in list(self._open):
            if clip not in seen_now:
                self._finished.add(clip)
                del self._open[clip]
        for clip, pred, gt in zip(frame_ids, batch.pred, batch.target, strict=True):
            self._add_frame(clip, pred[None], gt[None])

    def compute(self) -> Tensor:
        if len(self.clip_frames) == 0:
            rank_zero_warn("DtSSD: no frame was given; returning NaN.")
            return torch.tensor(float("nan"), dtype=torch.float64)
        return (self.clip_sums / self.clip_frames).mean() * self.scale

    def reset(self) -> None:
        super().reset()
        self._open = {}
        self._finished = set()

    def _add_frame(self, clip: Hashable, pred: Tensor, gt: Tensor) -> None:
        if clip in self._finished:
            raise ValueError(
                f"DtSSD: clip {clip!r} continues after updates without it; feed each clip's "
                "frames in consecutive updates (or give the new clip another id)."
            )
        if clip not in self._open:
            index = len(self.clip_sums)
            zero = torch.zeros(1, dtype=self.clip_sums.dtype, device=self.clip_sums.device)
            self.clip_sums = torch.cat([self.clip_sums, zero])  # frame 0 scores 0
            self.clip_frames = torch.cat(
                [self.clip_frames, torch.ones_like(zero, dtype=torch.long)]
            )
        else:
            index, prev_pred, prev_gt = self._open[clip]
            if prev_pred.shape != pred.shape:
                raise ValueError(
                    f"DtSSD: clip {clip!r} changed frame size from {tuple(prev_pred.shape[-2:])} "
                    f"to {tuple(pred.shape[-2:])}."
                )
            value = dtssd_pair(pred, prev_pred, gt, prev_gt)[0]
            self.clip_sums[index] += value.to(self.clip_sums.device)
            self.clip_frames[index] += 1
        self._open[clip] = (index, pred, gt)

    def _new_anonymous_id(self) -> str:
        return f"<clip {next(self._anonymous)}>"

    def _row_ids(self, clip_ids: Any, rows: int) -> list[Hashable]:
        if clip_ids is None:
            return [self._new_anonymous_id() for _ in range(rows)]
        ids = [clip_ids] if isinstance(clip_ids, (str, int)) else list(clip_ids)
        if len(ids) != rows:
            raise ValueError(
                f"DtSSD: B,T,1,H,W input needs {rows} clip ids (one per row), got {len(ids)}."
            )
        return ids

    def _frame_ids(self, clip_ids: Any, frames: int) -> list[Hashable]:
        if clip_ids is None:
            clip_ids = self._new_anonymous_id()
        if isinstance(clip_ids, (str, int)):
            return [clip_ids] * frames
        ids = list(clip_ids)
        if len(ids) != frames:
            raise ValueError(f"DtSSD: {frames} frames need {frames} clip ids, got {len(ids)}.")
        return ids
