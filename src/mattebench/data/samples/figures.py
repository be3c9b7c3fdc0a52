"""The drawn content of every generated sample: person-like figures and indoor-like plates.

`Actor` is one clip's figure (head, hair, shoulders, arms, sometimes a translucent prop) moving
on a smooth path, with soft edges and thin semi-transparent hair strands on a textured
foreground; `plate` is a textured indoor-like background of varying size. Both are deterministic
in their generator's seed; `figure` and `seeded_plate` draw one from a seed list.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

_SKIN = np.array(
    [
        [255, 224, 189],
        [234, 192, 134],
        [224, 172, 105],
        [198, 134, 66],
        [141, 85, 36],
        [255, 205, 148],
    ],
    np.float64,
)
_HAIR = np.array(
    [[30, 25, 20], [70, 45, 30], [120, 80, 50], [210, 180, 120], [150, 60, 30], [170, 170, 165]],
    np.float64,
)


@dataclass
class Actor:
    """One clip's figure: fixed looks, a smooth path, hair strands that sway a little."""

    size: tuple[int, int]
    rng_seed: int
    x0: float
    vx: float
    y0: float
    head: float  # head half-height in pixels
    skin: np.ndarray
    hair: np.ndarray
    shirt: tuple[np.ndarray, np.ndarray]
    stripe: tuple[float, float]  # angle, period
    strands: np.ndarray  # (n, 5): angle, start radius, length, bend, opacity
    prop: bool

    @classmethod
    def random(cls, rng: np.random.Generator, size: tuple[int, int]) -> Actor:
        h, w = size
        n = int(rng.integers(70, 130))
        strands = np.stack(
            [
                rng.uniform(np.pi * 1.05, np.pi * 1.95, n),
                rng.uniform(0.85, 1.0, n),
                rng.uniform(0.15, 0.55, n),
                rng.normal(0, 0.25, n),
                rng.uniform(0.25, 0.9, n),
            ],
            axis=1,
        )
        return cls(
            size=(h, w),
            rng_seed=int(rng.integers(2**31)),
            x0=w * rng.uniform(0.3, 0.7),
            vx=w * rng.uniform(-0.01, 0.01),
            y0=h * rng.uniform(0.3, 0.42),
            head=h * rng.uniform(0.11, 0.16),
            skin=_SKIN[rng.integers(len(_SKIN))] + rng.normal(0, 8, 3),
            hair=_HAIR[rng.integers(len(_HAIR))] + rng.normal(0, 8, 3),
            shirt=(rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)),
            stripe=(rng.uniform(0, np.pi), rng.uniform(6, 24)),
            strands=strands,
            prop=bool(rng.random() < 0.5),
        )

    def render(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        """(fgr uint8 H,W,3 RGB, pha uint8 H,W) of frame `t`."""
        h, w = self.size
        rng = np.random.default_rng([self.rng_seed, t])
        cx, cy = self.x0 + self.vx * t, self.y0 + 0.02 * h * np.sin(0.3 * t)
        r = self.head
        head = np.zeros((h, w), np.uint8)
        cv2.ellipse(head, _pt(cx, cy), _pt(0.8 * r, r), 0, 0, 360, 255, -1, cv2.LINE_AA)
        body = np.zeros((h, w), np.uint8)
        top = cy + 1.25 * r
        torso = [
            (cx - 2.4 * r, h + 5),
            (cx - 2.1 * r, top + 0.5 * r),
            (cx - 1.2 * r, top),
            (cx + 1.2 * r, top),
            (cx + 2.1 * r, top + 0.5 * r),
            (cx + 2.4 * r, h + 5),
        ]
        cv2.fillPoly(body, [np.array(torso, np.int32)], 255, cv2.LINE_AA)
        cv2.rectangle(body, _pt(cx - 0.3 * r, cy + 0.5 * r), _pt(cx + 0.3 * r, top + 2), 255, -1)
        swing = 0.4 * np.sin(0.3 * t)
        for side in (-1, 1):  # arms bent at the elbow, leaving a hole beside the torso
            arm = [
                (cx + side * 2.0 * r, top + 0.5 * r),
                (cx + side * 2.9 * r, top + 1.9 * r),
                (cx + side * (2.4 + swing) * r, top + 3.4 * r),
            ]
            arm = np.array([_pt(x, y) for x, y in arm], np.int32)
            cv2.polylines(body, [arm], False, 255, max(2, int(0.5 * r)), cv2.LINE_AA)
        body = np.maximum(body, head)
        alpha = cv2.GaussianBlur(body.astype(np.float32) / 255, (0, 0), 0.8)

        cap = np.zeros((h, w), np.float32)  # hair volume: soft, noisy, partly transparent
        cv2.ellipse(cap, _pt(cx, cy - 0.15 * r), _pt(0.95 * r, 1.05 * r), 0, 180, 360, 1.0, -1)
        grain = cv2.GaussianBlur(rng.random((h, w), np.float32), (0, 0), 1.5)
        cap = cv2.GaussianBlur(cap, (0, 0), 0.12 * r) * np.clip(0.55 + grain, 0, 1)
        strands = np.zeros((h, w), np.uint8)  # OpenCV antialiases 8-bit canvases only
        sway = 0.05 * np.sin(0.5 * t)
        for angle, start, length, bend, opacity in self.strands:
            a = np.linspace(angle, angle + bend + sway, 6)
            radius = r * (start + length * np.linspace(0, 1, 6))
            points = np.stack([cx + 0.85 * radius * np.cos(a), cy + radius * np.sin(a)], 1)
            points = np.round(points).astype(np.int32)
            cv2.polylines(strands, [points], False, round(255 * opacity), 1, cv2.LINE_AA)
        hair = np.maximum(cap, strands.astype(np.float32) / 255)
        alpha = np.maximum(alpha, hair)

        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        angle, period = self.stripe
        phase = ((xx - cx) * np.cos(angle) + (yy - cy) * np.sin(angle)) / period
        stripes = (0.5 + 0.5 * np.sin(2 * np.pi * phase))[..., None]
        shade = np.clip(1.15 - 0.5 * np.hypot(xx - cx, yy - cy) / h, 0.6, 1.2)[..., None]
        fgr = (self.shirt[0] * stripes + self.shirt[1] * (1 - stripes)) * shade
        face = cv2.GaussianBlur(head.astype(np.float32) / 255, (0, 0), 1.0)[..., None]
        fgr = fgr * (1 - face) + self.skin * shade * face
        streaks = 0.75 + 0.5 * grain[..., None]
        fgr = fgr * (1 - hair[..., None]) + self.hair * streaks * hair[..., None]

        if self.prop:  # a translucent disc held at the side: alpha inside the shape
            disc = np.zeros((h, w), np.uint8)
            centre = _pt(cx - 3.8 * r, cy + 2.2 * r + 0.1 * h * np.sin(0.2 * t))
            cv2.circle(disc, centre, int(0.8 * r), 255, -1, cv2.LINE_AA)
            cover = (disc.astype(np.float32) / 255)[..., None]
            fgr = fgr * (1 - cover) + self.shirt[1][::-1] * cover
            alpha = np.maximum(alpha, 0.55 * cover[..., 0])

        fgr = fgr + rng.normal(0, 4, fgr.shape)
        return _u8(fgr), _u8(alpha * 255)


def plate(size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """An indoor-like plate: a gradient wall, furniture boxes, a window, texture and noise."""
    h = int(size[0] * rng.uniform(1.0, 1.5))
    w = int(h * size[1] / size[0] * rng.uniform(0.9, 1.25))
    top, bottom = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    ramp = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    image = np.ascontiguousarray(np.broadcast_to(top * (1 - ramp) + bottom * ramp, (h, w, 3)))
    for _ in range(int(rng.integers(4, 10))):
        x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
        x1, y1 = x0 + int(rng.integers(w // 10, w // 2)), y0 + int(rng.integers(h // 10, h // 2))
        colour = rng.uniform(0, 255, 3).tolist()
        cv2.rectangle(image, (x0, y0), (x1, y1), colour, -1 if rng.random() < 0.7 else 3)
    for _ in range(int(rng.integers(1, 4))):
        centre = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        radius = int(rng.integers(h // 20, h // 6))
        cv2.circle(image, centre, radius, rng.uniform(0, 255, 3).tolist(), -1, cv2.LINE_AA)
    texture = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 2.0)
    image = image * (1 + 0.25 * texture[..., None]) + rng.normal(0, 3, (h, w, 3))
    return _u8(image)


def _pt(x: float, y: float) -> tuple[int, int]:
    return round(float(x)), round(float(y))


def _u8(image: np.ndarray) -> np.ndarray:
    return np.clip(np.round(image), 0, 255).astype(np.uint8)


def figure(size, seed: list[int], t: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(fgr H,W,3, pha H,W) uint8 of a random figure at frame `t`, from a seed list."""
    return Actor.random(np.random.default_rng(seed), tuple(size)).render(t)


def seeded_plate(size, seed: list[int]) -> np.ndarray:
    """A random indoor-like plate (H,W,3 uint8, at least `size`), from a seed list."""
    return plate(tuple(size), np.random.default_rng(seed))
