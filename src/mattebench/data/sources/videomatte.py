"""VideoMatte240K readers: the JPEG frame layout (RVM's) and the original video files.

Both give foreground samples (fgr, pha, meta) frame by frame, and `by_clip` for the temporal
variants. BGMv2 reads the frames as two sorted image trees zipped together (`dataset/images.py`,
`dataset/zip.py`); here fgr and pha are paired by clip and frame name, so a missing file is an
error naming it instead of a silent shift of every later pair.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np

from mattebench.data.decode import CorruptImageError, image_names, read_image
from mattebench.data.sources.base import DatasetLayoutError, Foreground, Source, listed

PUBLISHED = (
    "https://grail.cs.washington.edu/projects/background-matting-v2/#/datasets (VideoMatte240K; "
    "the JPEG SD/HD frame versions are linked from RobustVideoMatting's documentation/training.md)"
)
SPLITS = ("train", "test")


def clip_names(clips: Iterable[str | int] | None) -> set[str] | None:
    """Clip ids as the 4-digit folder names; Hydra/YAML turns an unquoted 0100 into 100."""
    if clips is None:
        return None
    return {f"{c:04d}" if isinstance(c, int) else str(c) for c in clips}


class _VideoMatte(Source[Foreground]):
    """Split and clip selection shared by both layouts."""

    dataset = "VideoMatte240K"
    published = PUBLISHED

    def __init__(
        self,
        root: str | Path,
        split: str = "train",
        clips: Iterable[str | int] | None = None,
        exclude_clips: Iterable[str | int] | None = None,
        sample_config: str | None = None,
    ) -> None:
        assert split in SPLITS, f"split must be one of {SPLITS}, got {split!r}"
        super().__init__(root, sample_config)
        self.split = split
        self.only_clips = clip_names(clips)
        self.exclude_clips = clip_names(exclude_clips) or set()
        self._by_clip: dict[str, range] = {}

    @property
    def name(self) -> str:
        return f"videomatte240k/{self.split}"

    @property
    def by_clip(self) -> dict[str, range]:
        """Clip name -> the range of item indices holding its frames, in frame order."""
        self.scan()
        return self._by_clip

    def _select(self, fgr: set[str], pha: set[str]) -> list[str]:
        """The clips to read; fgr and pha must hold the same ones."""
        if fgr != pha:
            raise DatasetLayoutError(
                f"{self.dataset} {self.split}: fgr and pha hold different clips under "
                f"{self.root / self.split}: only in fgr: [{listed(fgr - pha)}]; "
                f"only in pha: [{listed(pha - fgr)}]"
            )
        if self.only_clips is not None and (absent := self.only_clips - fgr):
            raise DatasetLayoutError(
                f"{self.dataset} {self.split}: requested clips not found under "
                f"{self.root / self.split / 'fgr'}: [{listed(absent)}]"
            )
        chosen = fgr if self.only_clips is None else self.only_clips
        chosen = sorted(chosen - self.exclude_clips)
        if not chosen:
            raise self.not_found(self.root / self.split / "fgr", "no clips selected")
        return chosen

    def _group(self, frames_per_clip: dict[str, int]) -> None:
        start = 0
        for clip, count in frames_per_clip.items():
            self._by_clip[clip] = range(start, start + count)
            start += count


class VideoMatteFrames(_VideoMatte):
    """VideoMatte240K as JPEG frames: `<root>/{train,test}/{fgr,pha}/<clip>/<frame>.jpg`.

    Clip folders are 4-digit (`0000`), frames 5-digit (`00000.jpg`; `.png` accepted), the layout
    RVM distributes (`VideoMatte240K_JPEG_SD`, `_HD`). `clips` / `exclude_clips` select clips, e.g.
    RVM's validation clips 0000, 0100, 0200, 0300 (specs/bgmv2.md §2.3).
    """

    reduced_decoding = True
    layout = (
        "<root>/{train,test}/{fgr,pha}/<clip>/<frame>.jpg with 4-digit clip folders and 5-digit "
        "frame names (e.g. train/fgr/0000/00000.jpg and train/pha/0000/00000.jpg); .png accepted"
    )

    def _scan(self) -> list[tuple[str, str, str, str]]:
        fgr_dir, pha_dir = self.root / self.split / "fgr", self.root / self.split / "pha"
        self.require_dir(fgr_dir)
        self.require_dir(pha_dir)
        clips = self._select(_subdirs(fgr_dir), _subdirs(pha_dir))
        index, counts, mismatched = [], {}, []
        for clip in clips:
            fgr, pha = image_names(fgr_dir / clip), image_names(pha_dir / clip)
            mismatched += [f"{clip}/{f} (fgr only)" for f in fgr.keys() - pha.keys()]
            mismatched += [f"{clip}/{f} (pha only)" for f in pha.keys() - fgr.keys()]
            frames = sorted(fgr.keys() & pha.keys())
            index += [(clip, f, fgr[f], pha[f]) for f in frames]
            counts[clip] = len(frames)
        if mismatched:
            raise DatasetLayoutError(
                f"{self.dataset} {self.split}: {len(mismatched)} frames under "
                f"{self.root / self.split} have no partner: {listed(mismatched)}"
            )
        if not index:
            raise self.not_found(fgr_dir, "no frames in the selected clips")
        self._group(counts)
        return index

    def __getitem__(self, i: int) -> Foreground:
        clip, frame, fgr_file, pha_file = self.index[i]
        split = self.root / self.split
        fgr = read_image(split / "fgr" / clip / fgr_file)
        pha = read_image(split / "pha" / clip / pha_file, gray=True)
        if fgr.shape[:2] != pha.shape:
            raise DatasetLayoutError(
                f"fgr {fgr.shape[1]}x{fgr.shape[0]} and pha {pha.shape[1]}x{pha.shape[0]} differ "
                f"in size: {split / 'fgr' / clip / fgr_file}"
            )
        meta = {"source": self.name, "id": f"{clip}/{frame}", "clip": clip, "frame": frame}
        return Foreground(fgr, pha, meta)


class VideoMatteVideos(_VideoMatte):
    """VideoMatte240K as originally released: `<root>/{train,test}/{fgr,pha}/<clip>.mp4`.

    Frames are decoded with OpenCV, seeking only when the next requested frame is not the next
    one in the file (BGMv2's `dataset/video.py` reads by index the same way). Captures stay open
    per worker process and are not pickled.
    """

    layout = (
        "<root>/{train,test}/{fgr,pha}/<clip>.mp4 with 4-digit clip names "
        "(e.g. train/fgr/0000.mp4 and train/pha/0000.mp4, the same frame count in each)"
    )
    max_open = 4  # clips kept open per process (fgr and pha each)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._captures: dict[Path, list] = {}  # path -> [capture, next frame index]

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_captures": {}}

    def _scan(self) -> list[tuple[str, int]]:
        fgr_dir, pha_dir = self.root / self.split / "fgr", self.root / self.split / "pha"
        self.require_dir(fgr_dir)
        self.require_dir(pha_dir)
        clips = self._select(_videos(fgr_dir), _videos(pha_dir))
        counts, mismatched = {}, []
        for clip in clips:
            fgr, pha = _frame_count(fgr_dir / f"{clip}.mp4"), _frame_count(pha_dir / f"{clip}.mp4")
            if fgr != pha:
                mismatched.append(f"{clip} (fgr {fgr} frames, pha {pha})")
            counts[clip] = min(fgr, pha)
        if mismatched:
            raise DatasetLayoutError(
                f"{self.dataset} {self.split}: frame counts differ between fgr and pha under "
                f"{self.root / self.split}: {listed(mismatched)}"
            )
        self._group(counts)
        return [(clip, t) for clip, n in counts.items() for t in range(n)]

    def __getitem__(self, i: int) -> Foreground:
        clip, frame = self.index[i]
        split = self.root / self.split
        fgr = self._read(split / "fgr" / f"{clip}.mp4", frame)
        pha = self._read(split / "pha" / f"{clip}.mp4", frame)
        name = f"{frame:05d}"
        meta = {"source": self.name, "id": f"{clip}/{name}", "clip": clip, "frame": name}
        fgr, pha = cv2.cvtColor(fgr, cv2.COLOR_BGR2RGB), cv2.cvtColor(pha, cv2.COLOR_BGR2GRAY)
        return Foreground(fgr, pha, meta)

    def _read(self, path: Path, frame: int) -> np.ndarray:
        if path not in self._captures:
            if len(self._captures) >= 2 * self.max_open:
                oldest = next(iter(self._captures))
                self._captures.pop(oldest)[0].release()
            self._captures[path] = [cv2.VideoCapture(str(path)), 0]
        state = self._captures[path]
        if state[1] != frame:
            state[0].set(cv2.CAP_PROP_POS_FRAMES, frame)
        ok, image = state[0].read()
        if not ok:
            self._captures.pop(path)[0].release()
            raise CorruptImageError(f"cannot decode frame {frame} of video {path}")
        state[1] = frame + 1
        return image


def _subdirs(folder: Path) -> set[str]:
    return {e.name for e in os.scandir(folder) if e.is_dir()}


def _videos(folder: Path) -> set[str]:
    return {e.name[:-4] for e in os.scandir(folder) if e.is_file() and e.name.endswith(".mp4")}


def _frame_count(path: Path) -> int:
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise CorruptImageError(f"cannot open video {path}")
        return int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    finally:
        capture.release()
