"""Per-frame side inputs: a background plate (plate-based methods) and a trimap (trimap-based ones).

A guide is a `FrameSource` too: one still image serves every frame, a folder or a video gives
frame i to input frame i. A guide of another size than the input is resized, with one warning.
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

from mattebench.data.trimap import quantise_trimap, trimap_from_alpha
from mattebench.inference.io import FrameSource

log = logging.getLogger(__name__)


class Guide:
    """Frame i of a plate (`kind="bgr"`, H,W,3) or a trimap (`kind="trimap"`, H,W in {0, .5, 1})."""

    def __init__(self, path: str | Path, kind: str, from_mask: bool = False, band: int = 10):
        self.source = FrameSource(path, what=kind, matte=kind == "trimap")
        self.kind, self.from_mask, self.band = kind, from_mask, band
        self._frames = self.source.frames()
        self._index = -1
        self._current: np.ndarray | None = None
        self._warned = False

    def check_length(self, frames: int) -> None:
        if not self.source.single and len(self.source) < frames:
            raise ValueError(
                f"{self.kind}={self.source.path} has {len(self.source)} frames but the input has "
                f"{frames}; give one still image or at least as many frames as the input."
            )

    def at(self, index: int, size: tuple[int, int]) -> np.ndarray:
        """The guide for input frame `index` (frames are asked for in increasing order), resized
        to `size` = (width, height)."""
        target = 0 if self.source.single else index
        while self._index < target:
            frame = next(self._frames, None)
            if frame is None:
                raise ValueError(f"{self.kind}={self.source.path} ended before frame {index}.")
            self._index += 1
            if self._index == target:
                self._current = self._prepare(frame.rgb)
        return self._resized(self._current, size)

    def _prepare(self, rgb: np.ndarray) -> np.ndarray:
        if self.kind == "bgr":
            return rgb
        grey = rgb if rgb.ndim == 2 else rgb.mean(axis=2)  # a matte file, or a video frame
        if self.from_mask:
            return trimap_from_alpha((grey >= 0.5).astype(np.float32), iterations=self.band)
        return quantise_trimap(grey)

    def _resized(self, image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        if image.shape[1::-1] == size:
            return image
        if not self._warned:
            log.warning(
                "%s %s is %dx%d but the input is %dx%d: resizing it (for a plate, a resized "
                "plate is a worse match; shoot it at the input's resolution).",
                self.kind, self.source.path, *image.shape[1::-1], *size,
            )  # fmt: skip
            self._warned = True
        nearest = self.kind == "trimap"
        return cv2.resize(
            image, size, interpolation=cv2.INTER_NEAREST if nearest else cv2.INTER_AREA
        )
