"""How each published evaluation turns a dataset into test samples (uint8 arrays, ids, clips).

A protocol yields `Built` samples; `build.py` writes them. Each is named after the evaluation
it reproduces (specs/*.md):

- `VideoMatteClips` — RVM's `evaluation/generate_videomatte_with_background_image.py`: sample
  `i` is test clip `i % clips` (mirrored on every other pass), resized to one resolution, over
  one background image (the shuffled list's `i`-th), `frames` consecutive frames from a
  seeded start. Added here, as issue 14 asks: one smooth affine motion of the person over the
  clip (`Motion`, interpolated between two draws; `Motion(0, 0, (1, 1))` is RVM's static one).
- `BGMv2Composites` — BGMv2's image test protocol: every foreground at its own resolution
  over `backgrounds_per_foreground` backgrounds (5 for AIM and Distinctions, 1 for
  PhotoMatte85), fitted as DIM's composition script does (`cover_crop`).
- `Prepared` — sets that carry their own inputs (Composition-1K's official composites and
  trimaps, AIM-500's photos, COCO person photos) are copied at native resolution.

Everywhere: the trimap is the dataset's own, else `trimap_from_alpha` of the stored alpha (the
BGMv2 protocol's thresholds and erosions; one rule); the composite is computed once, from the
stored uint8 fgr/alpha/plate, and stored; every draw comes from the set's own stream
(`Protocol.rng`: seed and name), so validation and test share none; a set with a plate stores
the clean plate as `bgr_clean` and the paper's perturbed one (`PlatePerturbation`, one draw per
clip) as `bgr`.
"""

from __future__ import annotations

import zlib
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, ClassVar, NamedTuple

import cv2
import numpy as np

from mattebench.data.compose import composite, cover_crop
from mattebench.data.trimap import trimap_from_alpha
from mattebench.testsets.plate import PlatePerturbation


class Built(NamedTuple):
    """One test sample: `files` maps a role (image, alpha, fgr, trimap, bgr, bgr_clean) to the
    file's name without extension (ids may hold `/`; a clip's plate is shared by its frames)
    and its uint8 array; `meta` holds `clip` and `index` for clip sets, and where it came from."""

    id: str
    files: dict[str, tuple[str, np.ndarray]]
    meta: dict[str, Any]


@dataclass(frozen=True)
class Motion:
    """Ranges of the two affines a clip's motion goes between (about the frame centre), and
    the `frames` it takes (RVM's 100-frame samples), so its speed is the same in a short clip."""

    degrees: float = 5.0
    translate: float = 0.05
    scale: tuple[float, float] = (0.95, 1.05)
    frames: int = 100

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        return np.array(
            [
                rng.uniform(-self.degrees, self.degrees),
                *rng.uniform(-self.translate, self.translate, size=2),
                rng.uniform(*self.scale),
            ]
        )

    @staticmethod
    def matrix(params: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        angle, tx, ty, scale = params
        h, w = size
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), float(angle), float(scale))
        matrix[:, 2] += (tx * w, ty * h)
        return matrix


class Protocol(ABC):
    """A named test set of one protocol; `settings()` goes into the manifest."""

    protocol: ClassVar[str]

    def __init__(self, name: str, plate: PlatePerturbation | Mapping | None = None) -> None:
        assert name and "/" not in name, f"a test set name is a folder name, got {name!r}"
        self.name = name
        self.plate = (
            plate if isinstance(plate, PlatePerturbation) else PlatePerturbation(**(plate or {}))
        )

    def params(self) -> dict[str, Any]:
        return {"plate": asdict(self.plate)}

    def rng(self, seed: int, *keys: int) -> np.random.Generator:
        """The set's own random stream: `seed`, the set's name and `keys`, so that two sets
        built with one seed (validation and test) share no draw: no background order, start
        frame or plate noise."""
        return np.random.default_rng([seed, zlib.crc32(self.name.encode()), *keys])

    @abstractmethod
    def samples(self, foregrounds, backgrounds, seed: int) -> Iterator[Built]: ...

    def _sample(
        self,
        sample_id: str,
        image: np.ndarray,
        alpha: np.ndarray,
        meta: dict[str, Any],
        rng: np.random.Generator,
        fgr: np.ndarray | None = None,
        trimap: np.ndarray | None = None,
        plate: tuple[str, np.ndarray] | None = None,
    ) -> Built:
        trimap = trimap_from_alpha(alpha) if trimap is None else trimap
        files = {
            "image": (sample_id, image),
            "alpha": (sample_id, alpha),
            "trimap": (sample_id, _trimap_u8(trimap)),
        }
        if fgr is not None:
            files["fgr"] = (sample_id, fgr)
        if plate is not None:
            key, clean = plate
            files["bgr_clean"] = (key, clean)
            files["bgr"] = (key, self.plate(clean, rng))
        return Built(sample_id, files, meta)


class VideoMatteClips(Protocol):
    """RVM's VideoMatte240K evaluation clips (module docstring), plus one smooth motion.

    Args:
        name: the set's name (its folder), e.g. `videomatte240k_512x288`.
        resolution: (height, width) of every frame, e.g. (288, 512) or (1080, 1920); None keeps
            the source's frame size.
        frames: frames per sample (RVM: 100) from a seeded start; None: the whole clip.
        repeats: samples per test clip (RVM: 25 samples of 5 clips = 5).
        motion: a `Motion` or its keyword arguments.
    """

    protocol = "rvm-videomatte"

    def __init__(
        self,
        name: str,
        resolution: Sequence[int] | None = None,
        frames: int | None = None,
        repeats: int = 1,
        motion: Motion | Mapping | None = None,
        plate: PlatePerturbation | Mapping | None = None,
    ) -> None:
        super().__init__(name, plate)
        self.resolution = tuple(int(s) for s in resolution) if resolution else None
        assert self.resolution is None or len(self.resolution) == 2, "resolution is (H, W)"
        self.frames, self.repeats = frames, int(repeats)
        self.motion = motion if isinstance(motion, Motion) else Motion(**(motion or {}))

    def params(self) -> dict[str, Any]:
        return {
            **super().params(),
            "resolution": self.resolution,
            "frames": self.frames,
            "repeats": self.repeats,
            "motion": asdict(self.motion),
        }

    def samples(self, foregrounds, backgrounds, seed: int) -> Iterator[Built]:
        clips = list(getattr(foregrounds, "by_clip", None) or {})
        if not clips:
            raise ValueError(
                f"{self.protocol} test set {self.name!r} needs a source of video clips "
                f"(VideoMatteFrames/VideoMatteVideos), got {type(foregrounds).__name__}"
            )
        order = self.rng(seed, 0).permutation(len(backgrounds))
        for i in range(len(clips) * self.repeats):
            clip = clips[i % len(clips)]
            frames = foregrounds.by_clip[clip]
            rng = self.rng(seed, 1, i)
            count = len(frames) if self.frames is None else min(self.frames, len(frames))
            start = frames.start + int(rng.integers(len(frames) - count + 1))
            bg = backgrounds[int(order[i % len(order)])]
            size = self.resolution or foregrounds[start].pha.shape[:2]
            plate = _resize(bg.bgr, size)
            moves = self.motion.draw(rng), self.motion.draw(rng)
            name = f"{i:04d}"
            for t in range(count):
                fg = foregrounds[start + t]
                fgr, pha = _resize(fg.fgr, size), _resize(fg.pha, size)
                if (i // len(clips)) % 2:  # RVM mirrors every other pass over the clips
                    fgr, pha = fgr[:, ::-1], pha[:, ::-1]
                ratio = min(t / self.motion.frames, 1.0)
                warp = Motion.matrix((1 - ratio) * moves[0] + ratio * moves[1], size)
                fgr, pha = _warp(fgr, warp), _warp(pha, warp)
                meta = {
                    "clip": name,
                    "index": t,
                    "source": fg.meta["source"],
                    "source_id": fg.meta["id"],
                    "unit": clip,  # the source clip: a clip's repeats are not independent
                    "background": bg.meta.get("id"),
                }
                yield self._sample(
                    f"{name}/{t:04d}", _composite(fgr, pha, plate), pha, meta,
                    self.rng(seed, 2, i), fgr=fgr, plate=(name, plate),
                )  # fmt: skip


class BGMv2Composites(Protocol):
    """BGMv2's image test protocol: each foreground at native size over k backgrounds.

    Args:
        name: the set's name, e.g. `photomatte85`.
        backgrounds_per_foreground: 5 (AIM, Distinctions-646) or 1 (PhotoMatte85).
    """

    protocol = "bgmv2-images"

    def __init__(
        self,
        name: str,
        backgrounds_per_foreground: int = 5,
        plate: PlatePerturbation | Mapping | None = None,
    ) -> None:
        super().__init__(name, plate)
        assert backgrounds_per_foreground >= 1, "backgrounds_per_foreground must be >= 1"
        self.per_foreground = int(backgrounds_per_foreground)

    def params(self) -> dict[str, Any]:
        return {**super().params(), "backgrounds_per_foreground": self.per_foreground}

    def samples(self, foregrounds, backgrounds, seed: int) -> Iterator[Built]:
        if backgrounds is None or len(backgrounds) == 0:
            raise ValueError(f"{self.protocol} test set {self.name!r} needs a background folder")
        order = self.rng(seed, 0).permutation(len(backgrounds))
        for f in range(len(foregrounds)):
            fg = foregrounds[f]
            if fg.fgr is None:
                raise ValueError(
                    f"{fg.meta['source']} item {fg.meta['id']} has no foreground colour to "
                    f"composite; use the Prepared protocol for natural images"
                )
            for j in range(self.per_foreground):
                k = f * self.per_foreground + j
                bg = backgrounds[int(order[k % len(order)])]
                plate = cover_crop(bg.bgr, fg.pha.shape)
                sample_id = f"{fg.meta['id']}_{j}"
                meta = {
                    "source": fg.meta["source"],
                    "source_id": fg.meta["id"],
                    "unit": str(fg.meta["id"]),  # the foreground, over k backgrounds
                    "background": bg.meta.get("id"),
                }
                yield self._sample(
                    sample_id, _composite(fg.fgr, fg.pha, plate), fg.pha, meta,
                    self.rng(seed, 2, k), fgr=fg.fgr, plate=(sample_id, plate),
                )  # fmt: skip


class Prepared(Protocol):
    """Sets that carry their own inputs, copied at native resolution: the image (or the
    composite of fgr over the item's own background), the dataset's trimap if it has one,
    fgr and the plate where the dataset gives them."""

    protocol = "prepared"

    def samples(self, foregrounds, backgrounds, seed: int) -> Iterator[Built]:
        for k in range(len(foregrounds)):
            item = foregrounds[k]
            image, bgr = getattr(item, "image", None), getattr(item, "bgr", None)
            if image is None:
                if item.fgr is None or bgr is None:
                    raise ValueError(
                        f"{item.meta['source']} item {item.meta['id']} has neither an image nor "
                        "a foreground and background to composite"
                    )
                image = _composite(item.fgr, item.pha, bgr)
            meta = {"source": item.meta["source"], "source_id": item.meta["id"]}
            meta["unit"] = str(item.meta.get("foreground", item.meta["id"]))  # C-1K: 20 per fg
            trimap = getattr(item, "trimap", None)
            sample_id = str(item.meta["id"])
            plate = (sample_id, bgr) if bgr is not None else None
            yield self._sample(
                sample_id, image, item.pha, meta, self.rng(seed, 2, k),
                fgr=item.fgr, trimap=trimap, plate=plate,
            )  # fmt: skip


def default_protocol(source, name: str) -> Protocol:
    """The protocol a source's evaluation follows when a config names none: clips for video
    sources, the source's own inputs for self-contained ones, one background otherwise."""
    if getattr(source, "by_clip", None):
        return VideoMatteClips(name)
    if getattr(source, "self_contained", False):
        return Prepared(name)
    return BGMv2Composites(name, backgrounds_per_foreground=1)


def _composite(fgr: np.ndarray, pha: np.ndarray, bgr: np.ndarray) -> np.ndarray:
    """The stored composite: `composite` of the stored uint8 layers, rounded to uint8."""
    unit = [x.astype(np.float32) / 255 for x in (fgr, pha[..., None], bgr)]
    return np.round(composite(*unit) * 255).astype(np.uint8)


def _trimap_u8(trimap: np.ndarray) -> np.ndarray:
    """{0, 0.5, 1} (or already {0, 128, 255}) -> uint8 {0, 128, 255}."""
    if trimap.dtype == np.uint8:
        return trimap
    return np.select([trimap >= 1, trimap > 0], [255, 128], 0).astype(np.uint8)


def _resize(image: np.ndarray, size: Sequence[int]) -> np.ndarray:
    """To (h, w): area when shrinking, bilinear when growing (PIL's antialiased bilinear in RVM)."""
    h, w = int(size[0]), int(size[1])
    if image.shape[:2] == (h, w):
        return image
    shrink = h * w < image.shape[0] * image.shape[1]
    return cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


def _warp(image: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    return cv2.warpAffine(
        np.ascontiguousarray(image), matrix, (w, h), flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT, borderValue=0,
    )  # fmt: skip
