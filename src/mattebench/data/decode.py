"""Image decoding: the one place where files become arrays, for every entry point.

Datasets (`sources`), inference inputs and guides (`inference.io`), and the evaluator of
prediction folders (`evaluate`) all read through here, so a file means the same everywhere:

- `IMAGE_EXTENSIONS`: the image files any folder of images may hold.
- `read_image`: colour as uint8 RGB (EXIF orientation ignored; optionally decoded at reduced
  size, `decode_at_least`); `read_unit_image`: the same as float RGB in [0, 1] with 16-bit
  precision kept (inference).
- `read_matte`: a single-channel matte under **the RGBA rule**: an image with an alpha channel
  that is not entirely opaque is a cut-out, and its *alpha channel* is the matte (PhotoMatte85,
  and what editors and most matting tools export); otherwise the matte is the gray level of its
  colour channels, which must be equal (a grayscale matte saved as RGB, or as RGBA with an
  opaque alpha channel). A colour image with an opaque or no alpha channel is not a matte and
  is refused. `read_alpha` gives it as uint8, `read_trimap` as {0, 0.5, 1}
  (`mattebench.data.trimap.quantise_trimap`), `read_rgba` splits a cut-out.
- 16-bit files map 65535 to 1 (to uint8: divided by 257 and rounded, so 8-bit values stored as
  16 bit come back exactly).

Errors name the file: `CorruptImageError` (cannot be decoded), `ImageFormatError` (decoded,
but not what was asked for, e.g. a colour image as a matte).
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from mattebench.data.trimap import quantise_trimap

#: File extensions read as images (any case), everywhere.
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


class CorruptImageError(OSError):
    """An image or video frame that cannot be decoded; the message names the file."""


class ImageFormatError(ValueError):
    """A decodable image that is not what the caller asked for (a colour matte, no alpha)."""


class DuplicateImageError(ValueError):
    """Two images in one folder share a name without extension: either could be the one meant."""


def is_image(path: str | Path) -> bool:
    """Whether the file is an image by name: one of `IMAGE_EXTENSIONS` (any case), and not
    hidden (`.DS_Store`, macOS `._x.png` resource forks)."""
    name = Path(path).name
    return not name.startswith(".") and name.lower().endswith(IMAGE_EXTENSIONS)


def list_images(folder: Path, recursive: bool = False) -> list[Path]:
    """Image files (`is_image`) under `folder`, sorted by path."""
    pattern = "**/*" if recursive else "*"
    return sorted(p for p in folder.glob(pattern) if is_image(p) and p.is_file())


def image_names(folder: Path) -> dict[str, str]:
    """Name without extension -> file name of the images directly in `folder`, sorted (one
    directory scan, no per-file stat: dataset folders hold tens of thousands of frames).
    Two images with one name raise `DuplicateImageError` naming both."""
    names: dict[str, str] = {}
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if is_image(entry.name) and entry.is_file():
            stem = entry.name.rsplit(".", 1)[0]
            if stem in names:
                raise DuplicateImageError(
                    f"{folder} holds two images named {stem!r}: {names[stem]}, {entry.name}"
                )
            names[stem] = entry.name
    return names


def read_image(path: str | Path, gray: bool = False) -> np.ndarray:
    """Decode an image file to uint8 RGB (H,W,3) or gray (H,W); undecodable files raise.

    EXIF orientation is ignored, as PIL does in BGMv2's `dataset/images.py`: a rotated JPEG
    foreground must stay aligned with its PNG alpha.
    """
    data = _file_bytes(path)
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


def _file_bytes(path: str | Path) -> np.ndarray:
    """The file's bytes; unreadable files and truncated JPEGs raise `CorruptImageError`."""
    try:
        data = np.fromfile(path, np.uint8)
    except OSError as error:
        raise CorruptImageError(f"cannot read image {path}: {error}") from error
    if _is_jpeg(data) and not _has_jpeg_end(data):
        raise CorruptImageError(f"truncated JPEG (no end-of-image marker): {path}")
    return data


def decode(path: str | Path) -> np.ndarray:
    """The file as stored (OpenCV order: BGR(A) or gray, 8/16-bit or float); errors name it."""
    data = _file_bytes(path)
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if image is None:
        raise CorruptImageError(f"cannot decode image {path}")
    return image


def to_unit(image: np.ndarray, path: str | Path = "image") -> np.ndarray:
    """uint8 / 255, uint16 / 65535, float checked to lie in [0, 1]; float32 or float64 out."""
    if image.dtype == np.uint8:
        return image.astype(np.float32) / 255
    if image.dtype == np.uint16:
        return image.astype(np.float64) / 65535
    if image.dtype.kind == "f":
        if not np.isfinite(image).all() or image.min() < 0 or image.max() > 1:
            raise ImageFormatError(f"{path}: float values must be finite and lie in [0, 1]")
        return image
    raise ImageFormatError(f"{path}: unsupported pixel type {image.dtype}; use 8 or 16-bit")


def to_uint8(image: np.ndarray, path: str | Path = "image") -> np.ndarray:
    """An 8-bit copy: 16-bit divided by 257 and rounded, float scaled by 255 and rounded."""
    if image.dtype == np.uint8:
        return image
    if image.dtype == np.uint16:
        return np.round(image.astype(np.float64) / 257).astype(np.uint8)
    return np.round(to_unit(image, path) * 255).astype(np.uint8)


def read_unit_image(path: str | Path) -> np.ndarray:
    """RGB float32 H,W,3 in [0, 1], 8- or 16-bit, gray or colour; an alpha channel is dropped."""
    image = decode(path)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    rgb = cv2.cvtColor(np.ascontiguousarray(image[..., :3]), cv2.COLOR_BGR2RGB)
    return to_unit(rgb, path).astype(np.float32)


def read_matte(path: str | Path) -> np.ndarray:
    """One H,W matte as stored (uint8, uint16 or float), chosen by the RGBA rule (module doc)."""
    image = decode(path)
    if image.ndim == 2:
        return image
    if image.shape[2] == 4:
        alpha = image[..., 3]
        opaque = 1.0 if image.dtype.kind == "f" else np.iinfo(image.dtype).max
        if (alpha != opaque).any():
            return np.ascontiguousarray(alpha)
    colour = image[..., :3] if image.shape[2] >= 3 else image[..., :1]
    if not (colour == colour[..., :1]).all():
        raise ImageFormatError(
            f"{path} is not a matte: a colour image (its channels differ) without a "
            "transparent alpha channel; save the matte as a grayscale image"
        )
    return np.ascontiguousarray(colour[..., 0])


def read_alpha(path: str | Path) -> np.ndarray:
    """An alpha matte as H,W uint8 (`read_matte`, 16-bit and float scaled to 8 bits)."""
    return to_uint8(read_matte(path), path)


def read_trimap(path: str | Path) -> np.ndarray:
    """A trimap file as float32 {0, 0.5, 1}: `read_matte`, then the one trimap rule."""
    return quantise_trimap(to_unit(read_matte(path), path)).astype(np.float32)


def read_rgba(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """(fgr H,W,3 uint8 RGB, pha H,W uint8) of an RGBA cut-out; 16-bit is divided by 257."""
    image = decode(path)
    if image.ndim != 3 or image.shape[2] != 4:
        channels = 1 if image.ndim == 2 else image.shape[2]
        raise ImageFormatError(f"expected an RGBA image, got {channels} channel(s): {path}")
    image = to_uint8(image, path)
    fgr = cv2.cvtColor(np.ascontiguousarray(image[..., :3]), cv2.COLOR_BGR2RGB)
    return fgr, np.ascontiguousarray(image[..., 3])
