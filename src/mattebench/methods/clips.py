"""Clip evaluation shared by every method: frames in order, per-frame metrics and dtSSD.

Temporal methods get their *own* previous prediction as `prev_alpha` (zeros on a clip's first
frame), never the ground truth; with `ofd`, the one-frame-delay fix is applied to the shown
sequence before scoring. Non-temporal methods run frame by frame, so flicker is comparable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from mattebench.methods.records import SampleRecords
from mattebench.metrics import DtSSD, MattingMetrics
from mattebench.postprocess import OneFrameDelay

Frame = dict[str, Any]


class ClipEvaluator:
    def __init__(
        self,
        metrics: MattingMetrics,
        dtssd: DtSSD,
        temporal: bool,
        ofd: bool = False,
        records: SampleRecords | None = None,
    ) -> None:
        self.metrics, self.dtssd, self.temporal, self.ofd = metrics, dtssd, temporal, ofd
        self.records = records
        self.clip: str | None = None
        self.last_index = -1
        self.previous: Tensor | None = None
        self.delay: OneFrameDelay | None = None

    def step(self, batch: dict[str, Any], predict: Callable[[Frame], dict[str, Tensor]]) -> None:
        """Feed the frames of a batch, in order."""
        for n, meta in enumerate(batch["meta"]):
            frame = {k: v[n : n + 1] for k, v in batch.items() if isinstance(v, Tensor)}
            frame["meta"] = [meta]
            self._start_if_new(meta)
            if self.temporal:
                frame["prev_alpha"] = (
                    torch.zeros_like(frame["alpha"]) if self.previous is None else self.previous
                )
            alpha = predict(frame)["alpha"].detach().float().clamp(0, 1)
            self.previous = alpha
            ready = self.delay.push(alpha, frame) if self.delay else [(alpha, frame)]
            self._score(ready)

    def finish(self) -> None:
        """End of the test epoch: flush the last clip's delayed frame."""
        if self.delay:
            self._score(self.delay.flush())
        self.clip, self.last_index, self.previous = None, -1, None

    def _start_if_new(self, meta: dict[str, Any]) -> None:
        if "clip" not in meta:
            raise ValueError(
                "clip evaluation needs video frames (items with a `clip` in their meta, e.g. "
                "data=videomatte or videomatte_sample); this data has none."
            )
        clip, index = f"{meta.get('source')}/{meta['clip']}", meta["index"]
        if clip != self.clip:
            self.finish()
            self.clip = clip
            self.delay = OneFrameDelay() if self.ofd else None
        elif index != self.last_index + 1:
            raise ValueError(
                f"clip evaluation needs every frame of {clip} in order, got item {index} after "
                f"{self.last_index}; set data.test_samples=null (and an unshuffled test loader)."
            )
        self.last_index = index

    def _score(self, frames: list[tuple[Tensor, Frame]]) -> None:
        for alpha, frame in frames:
            self.metrics.update(alpha, frame["alpha"].float(), trimap=frame["trimap"].float())
            if self.records is not None:
                self.records.add(frame, alpha, self.metrics)
            self.dtssd.update(alpha, frame["alpha"].float(), clip_ids=self.clip)
