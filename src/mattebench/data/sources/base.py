"""What every on-disk reader shares: lazy scanning, the item types, image decoding, the errors.

Readers are built from Hydra configs before a `*_sample` dataset may have been generated, so
`__init__` only stores paths; the disk is read by `scan()` (or on first use), and a missing
dataset is an error that says where it should be, what it looks like, where it is published and
which sample config to use instead — never a silent substitution (DESIGN.md, "Data").
"""

from __future__ import annotations

import io
import math
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Generic, NamedTuple, TypeVar

import cv2
import numpy as np
from PIL import Image

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")

#: How many offending names an error lists before it only counts the rest.
MAX_LISTED = 10


class DatasetNotFoundError(FileNotFoundError):
    """A dataset is missing (or empty) where a config points; the message says what to do."""

    def __init__(
        self,
        dataset: str,
        path: str | Path,
        layout: str,
        published: str,
        sample_config: str | None = None,
        detail: str | None = None,
    ) -> None:
        self.dataset, self.path, self.layout = dataset, Path(path), layout
        self.published, self.sample_config = published, sample_config
        lines = [f"{dataset} not found at {path}" + (f" ({detail})" if detail else "") + "."]
        lines.append(f"Expected layout: {layout}")
        lines.append(f"Published at: {published}")
        if sample_config:
            lines.append(
                f"For a small generated copy in the same layout use the `{sample_config}` config "
                f"(e.g. `data={sample_config}`)."
            )
        super().__init__("\n".join(lines))


class DatasetLayoutError(ValueError):
    """A dataset is present but its files do not pair up (fgr vs pha names, frame counts)."""


class CorruptImageError(OSError):
    """An image or video frame that cannot be decoded; the message names the file."""


class Foreground(NamedTuple):
    """One foreground sample as stored: colour, alpha, and where it came from.

    `meta` always holds `source` (the reader's `name`) and `id` (unique within the source).
    """

    fgr: np.ndarray  # H,W,3 uint8 RGB
    pha: np.ndarray  # H,W uint8
    meta: dict[str, Any]


class Background(NamedTuple):
    """One background plate as stored."""

    bgr: np.ndarray  # H,W,3 uint8 RGB
    meta: dict[str, Any]


def read_image(path: str | Path, gray: bool = False) -> np.ndarray:
    """Decode an image file to uint8 RGB (H,W,3) or gray (H,W); undecodable files raise.

    EXIF orientation is ignored, as PIL does in BGMv2's `dataset/images.py`: a rotated JPEG
    foreground must stay aligned with its PNG alpha.
    """
    path = Path(path)
    try:
        data = np.fromfile(path, np.uint8)
    except OSError as error:
        raise CorruptImageError(f"cannot read image {path}: {error}") from error
    if _is_jpeg(data) and not _has_jpeg_end(data):
        raise CorruptImageError(f"truncated JPEG (no end-of-image marker): {path}")
    reduction, jpeg = _reduction(data, _MIN_SIDE.get()), _is_jpeg(data)
    mode = (_REDUCED_GRAY if gray else _REDUCED_RGB)[reduction if jpeg else 1]
    image = cv2.imdecode(data, mode | cv2.IMREAD_IGNORE_ORIENTATION) if data.size else None
    if image is None:
        raise CorruptImageError(f"cannot decode image {path}")
    if reduction > 1 and not jpeg:  # a PNG shrinks to the size a JPEG would decode at
        h, w = image.shape[:2]
        size = (math.ceil(w / reduction), math.ceil(h / reduction))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return image


def _is_jpeg(data: np.ndarray) -> bool:
    return bool(data.size >= 2 and data[0] == 0xFF and data[1] == 0xD8)


#: Within `decode_at_least(n)`: the shortest side the caller needs from each image it reads.
_MIN_SIDE: ContextVar[int | None] = ContextVar("decode_min_side", default=None)
#: OpenCV flags decoding a JPEG at 1/r of its size (libjpeg's DCT scaling: ceil(w/r) x ceil(h/r)).
_REDUCED_RGB = {
    1: cv2.IMREAD_COLOR_RGB,
    2: cv2.IMREAD_REDUCED_COLOR_2 & ~cv2.IMREAD_COLOR | cv2.IMREAD_COLOR_RGB,
    4: cv2.IMREAD_REDUCED_COLOR_4 & ~cv2.IMREAD_COLOR | cv2.IMREAD_COLOR_RGB,
    8: cv2.IMREAD_REDUCED_COLOR_8 & ~cv2.IMREAD_COLOR | cv2.IMREAD_COLOR_RGB,
}
_REDUCED_GRAY = {
    1: cv2.IMREAD_GRAYSCALE,
    2: cv2.IMREAD_REDUCED_GRAYSCALE_2,
    4: cv2.IMREAD_REDUCED_GRAYSCALE_4,
    8: cv2.IMREAD_REDUCED_GRAYSCALE_8,
}


@contextmanager
def decode_at_least(min_side: int | None) -> Iterator[None]:
    """Let `read_image` decode images at 1/2, 1/4 or 1/8 size while their shorter side stays
    at least `min_side` (None: full size).

    A training sample is often much smaller than its source (a 512² crop of a 1920x1080 frame):
    the DCT-scaled decode skips most of the decoder's work and every later pass runs on a
    quarter of the pixels (other formats are decoded whole and area-resized to the same size).
    The caller states the shortest side its augmentation needs without
    enlarging (`PerSampleAugment.min_source_side`); only sources whose images are all read by
    `read_image` opt in (`reduced_decoding = True`), so a colour and its alpha stay the same size.
    """
    token = _MIN_SIDE.set(min_side)
    try:
        yield
    finally:
        _MIN_SIDE.reset(token)


def _reduction(data: np.ndarray, min_side: int | None) -> int:
    """The largest scale-down (1, 2, 4, 8) keeping the shorter side >= `min_side`."""
    if not min_side or data.size < 2:
        return 1
    try:  # the header only: PIL parses it lazily without decoding
        w, h = Image.open(io.BytesIO(data.tobytes())).size
    except (OSError, SyntaxError, ValueError):
        return 1  # let OpenCV report the broken file
    fits = [r for r in (8, 4, 2) if min(math.ceil(w / r), math.ceil(h / r)) >= min_side]
    return fits[0] if fits else 1


def _has_jpeg_end(data: np.ndarray, window: int = 1024) -> bool:
    """OpenCV decodes a truncated JPEG into a partly grey image; the missing FFD9 tells."""
    tail = data[-window:]
    return bool(np.any((tail[:-1] == 0xFF) & (tail[1:] == 0xD9)))


def list_images(folder: Path, recursive: bool = False) -> list[Path]:
    """Image files (jpg/jpeg/png, any case) under `folder`, sorted by path."""
    pattern = "**/*" if recursive else "*"
    files = (p for p in folder.glob(pattern) if p.suffix.lower() in IMAGE_EXTENSIONS)
    return sorted(p for p in files if p.is_file())


def listed(names: Sequence[str]) -> str:
    """`a, b, c` or `a, b, ... (+N more)`, for error messages."""
    names = sorted(names)
    more = len(names) - MAX_LISTED
    return ", ".join(names[:MAX_LISTED]) + (f", ... (+{more} more)" if more > 0 else "")


Item = TypeVar("Item")


class Source(ABC, Generic[Item]):
    """A dataset on disk, indexed lazily: `scan()` reads the directory tree once.

    Subclasses set `dataset`, `layout` and `published` (used in error messages) and implement
    `_scan()` (returns the index, a list) and `__getitem__`.
    """

    dataset: str = "dataset"
    layout: str = ""
    published: str = ""
    #: Every image of an item is read by `read_image`, so `decode_at_least` may shrink them
    #: alike (a reader that decodes an alpha some other way must leave this False).
    reduced_decoding: bool = False

    #: The parts `part` selects, in the order of `fractions` (two fractions: train and val).
    PARTS = ("train", "val", "test")

    def __init__(
        self,
        root: str | Path,
        sample_config: str | None = None,
        part: str | None = None,
        fractions: Sequence[float] | None = None,
        part_seed: int = 0,
    ) -> None:
        if fractions is not None:
            fractions = tuple(float(f) for f in fractions)
            if len(fractions) not in (2, 3) or min(fractions) < 0 or abs(sum(fractions) - 1) > 1e-6:
                raise ValueError(
                    f"fractions are the train/val(/test) shares and must be 2 or 3 values >= 0 "
                    f"summing to 1, got {list(fractions)}"
                )
        if part is not None:
            if fractions is None:
                raise ValueError(
                    f"part={part!r} needs fractions, the train/val(/test) shares, e.g. [0.95, 0.05]"
                )
            if part not in self.PARTS[: len(fractions)]:
                raise ValueError(
                    f"part must be one of {self.PARTS[: len(fractions)]} (one per fraction) or "
                    f"null, got {part!r}"
                )
        self.root = Path(root)
        self.sample_config = sample_config
        self.part, self.fractions, self.part_seed = part, fractions, int(part_seed)
        self._index: list | None = None

    @property
    def name(self) -> str:
        """Short id written into each item's `meta["source"]`."""
        return self.dataset

    @property
    def part_suffix(self) -> str:
        """`_<part>` where a part is selected (subclasses append it to `name`), else ``."""
        return "" if self.part is None else f"_{self.part}"

    def scan(self) -> Source[Item]:
        """Index the files now (so a missing dataset fails before training); returns self."""
        if self._index is None:
            index = self._scan()
            if self.part is not None:
                index = self.parts(index)[self.part]
                if not index:
                    raise ValueError(
                        f"{self.dataset}: part {self.part!r} of {self.name} is empty (fractions "
                        f"{list(self.fractions)} of its items); give it a larger fraction"
                    )
            self._index = index
        return self

    def parts(self, index: list) -> dict[str, list]:
        """`index` split into the parts (`PARTS`, one per fraction), disjoint and covering it:
        a permutation seeded by `part_seed`, cut at the rounded cumulative `fractions`; each
        part keeps the index's order. This is how a validation set is held out of a training
        set that has none (e.g. 5 % of Composition-1K's train foregrounds), and COCO person's
        70 / 20 / 10 split: the same seed and fractions give the same parts on every machine."""
        order = np.random.default_rng(self.part_seed).permutation(len(index))
        ends = np.round(np.cumsum(self.fractions) * len(index)).astype(int)
        cuts = np.split(order, ends[:-1])
        names = self.PARTS[: len(self.fractions)]
        return {
            name: [index[k] for k in sorted(cut)] for name, cut in zip(names, cuts, strict=True)
        }

    @property
    def index(self) -> list:
        return self.scan()._index  # type: ignore[return-value]

    def __len__(self) -> int:
        return len(self.index)

    @abstractmethod
    def _scan(self) -> list: ...

    @abstractmethod
    def __getitem__(self, i: int) -> Item: ...

    def not_found(self, path: Path, detail: str | None = None) -> DatasetNotFoundError:
        return DatasetNotFoundError(
            self.dataset, path, self.layout, self.published, self.sample_config, detail
        )

    def require_dir(self, path: Path) -> None:
        if not path.is_dir():
            raise self.not_found(path, "not a directory" if path.exists() else "missing")

    def __repr__(self) -> str:
        state = f"{len(self._index)} items" if self._index is not None else "not scanned"
        return f"{type(self).__name__}({str(self.root)!r}, {state})"
