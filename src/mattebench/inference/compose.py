"""New backgrounds for replacing the background: an image, a colour or a blurred copy of the
input (a "portrait mode" look); the composite itself is `data.compose.composite`."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from mattebench.inference.io import read_image

#: Named colours accepted besides `#rrggbb`.
COLOURS = {"green": "#00ff00", "blue": "#0000ff", "white": "#ffffff", "black": "#000000"}


class Background:
    """A background spec: an image path (resized to each frame), a colour (`#00ff00` or a name
    of `COLOURS`), or `blur` / `blur:<sigma>` (the input frame, Gaussian-blurred)."""

    def __init__(self, spec: str) -> None:
        self.spec = spec = str(spec)
        self.blur_sigma: float | None = None
        self.colour: np.ndarray | None = None
        self.image: np.ndarray | None = None
        if spec == "blur" or spec.startswith("blur:"):
            self.blur_sigma = float(spec.partition(":")[2] or 15)
        elif spec.lower() in COLOURS or spec.startswith("#"):
            self.colour = parse_colour(COLOURS.get(spec.lower(), spec))
        elif Path(spec).is_file():
            self.image = read_image(spec)
        else:
            raise ValueError(
                f"background={spec!r} is not an image file, a colour (#rrggbb or one of "
                f"{sorted(COLOURS)}) or blur[:sigma]."
            )

    def behind(self, frame: np.ndarray) -> np.ndarray:
        """The new background for an H,W,3 input frame."""
        if self.blur_sigma is not None:
            return cv2.GaussianBlur(frame, (0, 0), self.blur_sigma)
        if self.colour is not None:
            return np.broadcast_to(self.colour, frame.shape)
        height, width = frame.shape[:2]
        if self.image.shape[:2] != (height, width):
            self.image = cv2.resize(self.image, (width, height), interpolation=cv2.INTER_AREA)
        return self.image


def parse_colour(text: str) -> np.ndarray:
    digits = text.lstrip("#")
    if len(digits) != 6 or any(c not in "0123456789abcdefABCDEF" for c in digits):
        raise ValueError(f"colour {text!r} is not of the form #rrggbb (e.g. #00ff00).")
    return np.array([int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)], np.float32)
