"""Frames through a method in order, one at a time: how temporal methods are evaluated, and how
any method is tested on clips.

A temporal method gets its *own* previous prediction as `prev_alpha` (zeros on a clip's first
frame), never the ground truth the batch may carry. Two modes:

- `strict` (clip evaluation, `model.clip_eval=true`): every frame of every clip in order, or an
  error; frames are returned with their clip id for dtSSD, and with `ofd` the one-frame-delay
  fix is applied to the shown sequence first.
- not strict (validation and test of temporal methods otherwise): a frame that does not follow
  the previous one (a subsampled set, a still image) starts a new sequence with zeros; no clip
  ids are returned, so no dtSSD is computed on broken sequences.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import Tensor

from mattebench.postprocess import OneFrameDelay

Frame = dict[str, Any]
Infer = Callable[[Frame, Tensor | None], dict[str, Tensor]]
#: A prediction ready to score, the frame it belongs to, and its clip id (None: no dtSSD).
Scored = tuple[dict[str, Tensor], Frame, str | None]


class ClipFeed:
    def __init__(self, temporal: bool, strict: bool, ofd: bool = False) -> None:
        if ofd and not strict:
            raise ValueError("the one-frame-delay fix needs clip evaluation (clip_eval=true).")
        self.temporal, self.strict, self.ofd = temporal, strict, ofd
        self.clip: str | None = None
        self.last_index = -1
        self.previous: Tensor | None = None
        self.delay: OneFrameDelay | None = None

    def step(self, batch: dict[str, Any], infer: Infer) -> list[Scored]:
        """Feed the frames of a batch in order; returns the frames ready to be scored."""
        ready: list[Scored] = []
        metas = batch.get("meta") or [{} for _ in batch["image"]]
        for n, meta in enumerate(metas):
            frame = {k: v[n : n + 1] for k, v in batch.items() if isinstance(v, Tensor)}
            frame["meta"] = [meta]
            ready += self._start_if_new(meta)
            pred = infer(frame, self.previous if self.temporal else None)
            alpha = pred["alpha"].detach().float().clamp(0, 1)
            self.previous = alpha
            pred = {**pred, "alpha": alpha}
            if self.delay is not None:
                ready += [({"alpha": a}, f, self.clip) for a, f in self.delay.push(alpha, frame)]
            else:
                ready.append((pred, frame, self.clip if self.strict else None))
        return ready

    def finish(self) -> list[Scored]:
        """End of the epoch: the last clip's delayed frame, and a clean state."""
        ready = [({"alpha": a}, f, self.clip) for a, f in self.delay.flush()] if self.delay else []
        self.clip, self.last_index, self.previous, self.delay = None, -1, None, None
        return ready

    def _start_if_new(self, meta: dict[str, Any]) -> list[Scored]:
        if "clip" not in meta:
            if self.strict:
                raise ValueError(
                    "clip evaluation needs video frames (items with a `clip` in their meta, "
                    "e.g. data=videomatte or videomatte_sample); this data has none: set "
                    "model.clip_eval=false."
                )
            return self.finish()
        source = meta.get("testset", meta.get("source"))
        clip, index = f"{source}/{meta['clip']}", meta["index"]
        if clip == self.clip and index == self.last_index + 1:
            self.last_index = index
            return []
        if clip == self.clip and self.strict:
            raise ValueError(
                f"clip evaluation needs every frame of {clip} in order, got item {index} after "
                f"{self.last_index}; use the whole test set in order (data.test_samples=null)."
            )
        flushed = self.finish()
        self.clip, self.last_index = clip, index
        self.delay = OneFrameDelay() if self.ofd else None
        return flushed
