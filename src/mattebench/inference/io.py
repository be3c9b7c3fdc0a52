"""Reading frames from an image, a folder of images or a video, and writing them back.

Every reader yields `Frame`s: a name that orders and identifies the frame's output files, and an
RGB float32 H,W,3 array in [0, 1]. OpenCV does the decoding and encoding (`cv2.VideoCapture`,
`cv2.VideoWriter`); audio is not OpenCV's business, so keeping it needs ffmpeg on PATH.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from mattebench.data.decode import (
    IMAGE_EXTENSIONS,
    CorruptImageError,
    ImageFormatError,
    list_images,
    read_matte,
    read_unit_image,
    to_unit,
)

VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v")


@dataclass(frozen=True)
class Frame:
    name: str
    rgb: np.ndarray


class FrameSource:
    """An image, a folder of images (sorted by name) or a video, as a sequence of frames.

    `matte=True` (trimaps, masks): image files are read as mattes, H,W in [0, 1], under the
    decoding module's RGBA rule (`data.decode.read_matte`), as the datasets read them; a video's
    frames stay RGB (a video has no alpha channel).
    """

    def __init__(self, path: str | Path, what: str = "input", matte: bool = False) -> None:
        self.path = Path(path)
        self.what = what
        self._read = read_matte_image if matte else read_image
        if not self.path.exists():
            raise FileNotFoundError(f"{what}: {self.path} does not exist.")
        self.is_video = self.path.is_file() and self.path.suffix.lower() in VIDEO_SUFFIXES
        if self.is_video:
            self.fps, self.count, self.size = _video_info(self.path, what)
        else:
            self.files = _image_files(self.path, what)
            self.fps, self.count = 0.0, len(self.files)
            self.size = self._read(self.files[0]).shape[1::-1]

    @property
    def single(self) -> bool:
        """One still image: a plate or trimap that serves every frame."""
        return not self.is_video and self.count == 1

    def __len__(self) -> int:
        return self.count

    @property
    def names(self) -> list[str]:
        """Output names of the frames: image stems, or zero-padded video frame indices."""
        if self.is_video:
            return [f"{i:06d}" for i in range(self.count)]
        return [file.stem for file in self.files]

    def frames(self, skip: set[int] = frozenset()) -> Iterator[Frame | None]:
        """Every frame in order; `None` in place of the indices in `skip` (not decoded where the
        format allows, so resuming a long job does not pay for finished frames)."""
        if not self.is_video:
            for i, file in enumerate(self.files):
                yield None if i in skip else Frame(file.stem, self._read(file))
            return
        capture = cv2.VideoCapture(str(self.path))
        try:
            for i in range(self.count):
                if i in skip:
                    ok = capture.grab()
                    frame = None
                else:
                    ok, bgr = capture.read()
                    frame = Frame(f"{i:06d}", _to_rgb(bgr)) if ok else None
                if not ok:
                    return  # the container announced more frames than it holds
                yield frame
        finally:
            capture.release()


def read_image(path: str | Path) -> np.ndarray:
    """RGB float32 H,W,3 in [0, 1] (`data.decode.read_unit_image`); a file that does not
    decode is a ValueError that names it and the accepted formats."""
    try:
        return read_unit_image(path)
    except (CorruptImageError, ImageFormatError) as error:
        raise ValueError(
            f"cannot read {path} as an image ({error}); use one of {', '.join(IMAGE_EXTENSIONS)}."
        ) from None


def read_matte_image(path: str | Path) -> np.ndarray:
    """A matte or trimap file as float32 H,W in [0, 1] (`data.decode.read_matte`); a file that
    is not one is a ValueError that names it."""
    try:
        return to_unit(read_matte(path), path).astype(np.float32)
    except (CorruptImageError, ImageFormatError) as error:
        raise ValueError(f"cannot read {path} as a matte: {error}") from None


def write_image(path: Path, image: np.ndarray) -> None:
    """Writes an H,W (grey) or H,W,3 (RGB) float image in [0, 1] as an 8-bit PNG."""
    data = (np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)
    if data.ndim == 3:
        data = cv2.cvtColor(data, cv2.COLOR_RGB2BGR)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".partial-{path.stem}.png")  # a killed job leaves no half-written PNG
    if not cv2.imwrite(str(tmp), data):
        raise OSError(f"could not write {path}")
    tmp.replace(path)


def encode_video(frames: list[Path], out: Path, fps: float) -> None:
    """Encodes PNG frames (all the same size) into an mp4 (OpenCV's `mp4v` codec)."""
    first = cv2.imread(str(frames[0]))
    height, width = first.shape[:2]
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    if not writer.isOpened():
        raise OSError(f"OpenCV cannot open a video writer for {out} (mp4v codec).")
    try:
        for file in frames:
            writer.write(cv2.imread(str(file)))
    finally:
        writer.release()


def ffmpeg() -> str | None:
    return shutil.which("ffmpeg")


def require_ffmpeg() -> str:
    """Checked before any frame is processed, so a long job never fails at its very end."""
    path = ffmpeg()
    if path is None:
        raise RuntimeError(
            "keep_audio=true needs ffmpeg on PATH to copy the audio track, and none was found. "
            "Install it (apt-get install ffmpeg, conda install ffmpeg) or set keep_audio=false "
            "to write the video without audio."
        )
    return path


def mux_audio(video: Path, audio_source: Path, out: Path) -> None:
    """`out` = the frames of `video` with the audio of `audio_source` (if it has any)."""
    command = [
        require_ffmpeg(), "-y", "-loglevel", "error", "-i", str(video), "-i", str(audio_source),
        "-map", "0:v:0", "-map", "1:a:0?", "-c:v", "copy", "-c:a", "aac", "-shortest", str(out),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode:
        raise RuntimeError(f"ffmpeg failed to add the audio of {audio_source}: {result.stderr}")


def _video_info(path: Path, what: str) -> tuple[float, int, tuple[int, int]]:
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise ValueError(f"{what}: OpenCV cannot open the video {path} (corrupt or codec).")
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
        size = (
            int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
            int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
        )
        if count <= 0 or not capture.read()[0]:
            raise ValueError(f"{what}: the video {path} has no frames to read.")
        return fps, count, size
    finally:
        capture.release()


def _image_files(path: Path, what: str) -> list[Path]:
    if path.is_file():
        if path.suffix.lower() not in IMAGE_EXTENSIONS:
            raise ValueError(
                f"{what}: {path} is neither an image ({', '.join(IMAGE_EXTENSIONS)}) nor a video "
                f"({', '.join(VIDEO_SUFFIXES)})."
            )
        return [path]
    files = list_images(path)
    if not files:
        formats = ", ".join(IMAGE_EXTENSIONS)
        raise ValueError(f"{what}: the folder {path} holds no images ({formats})")
    return files


def _to_rgb(bgr: np.ndarray) -> np.ndarray:
    """A decoded 8-bit BGR video frame as RGB float32 in [0, 1]."""
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).astype(np.float32) / 255
