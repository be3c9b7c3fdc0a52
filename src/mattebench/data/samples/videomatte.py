"""A small generated stand-in for VideoMatte240K, in exactly its JPEG frame layout.

None of the real datasets can be downloaded here, so the readers, the datamodule and every
method are exercised on this sample (the `videomatte_sample` config). It is written as::

    <root>/train/fgr/0000/00000.jpg ...   <root>/train/pha/0000/00000.jpg ...   (clips x frames)
    <root>/test/fgr/0000/00000.jpg ...    <root>/test/pha/0000/00000.jpg ... (test_clips x frames)
    <root>/Backgrounds/{train,valid,test}/0000.jpg ...                   (`backgrounds` each)
    <root>/.mattebench_sample.json        (the generation parameters; marks a complete copy)

Each clip is one `figures.Actor` moving across the frame; backgrounds are `figures.plate`s.
Validation takes training-split clips (as RVM holds out clips of the train split) over the
`valid` backgrounds, so it shares no actor, background or random draw with the test split.
Generation is deterministic in `seed` and atomic (`writing.generate`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mattebench.data.samples.figures import Actor, plate
from mattebench.data.samples.writing import ensure, generate, sample_params, write_jpg

VERSION = 3  # bump when the generated images change, so `ensure_*` regenerates old copies

#: Each folder's random stream (`[seed, stream, index]`). Stream 1 drew the first test split,
#: whose actors were looked at while the sample recipes were chosen: it is retired, so that the
#: comparison's test actors and backgrounds are held out.
STREAMS = {"train": 0, "valid": 2, "test": 3}


def generate_videomatte_sample(
    root: str | Path,
    clips: int = 7,
    frames: int = 8,
    size: tuple[int, int] = (288, 384),
    backgrounds: int = 12,
    seed: int = 0,
    test_clips: int = 4,
) -> Path:
    """Write the sample (`clips` x `frames` in the train split, of which the data configs hold
    out 4 for validation; `test_clips` x `frames` for testing; `backgrounds` per folder) to
    `root`.

    A clip's figure depends only on `seed`, its split and its index, so more training clips leave
    the test clips (and the test sets built from them) as they were.

    `size` is (height, width) of the frames. The `valid` backgrounds come with no clips of their
    own: validation clips are training-split clips the data config holds out. Replaces an
    earlier generated copy at `root`; refuses to overwrite a folder that this function did not
    write.
    """
    params = _params(clips, frames, size, backgrounds, seed, test_clips)
    counts = {"train": clips, "test": test_clips}

    def write(tmp: Path) -> None:
        for split, stream in STREAMS.items():
            for clip in range(counts.get(split, 0)):
                _write_clip(tmp / split, f"{clip:04d}", frames, size, [seed, stream, clip])
            for i in range(backgrounds):
                image = plate(size, np.random.default_rng([seed, stream, 10_000 + i]))
                write_jpg(tmp / "Backgrounds" / split / f"{i:04d}.jpg", image)

    return generate(root, params, write)


def ensure_videomatte_sample(root: str | Path, **kwargs) -> Path:
    """Generate the sample at `root` unless a complete copy with the same parameters is there.

    Meant as the datamodule's `sample` callable (called in `prepare_data`, once per node).
    """
    return ensure(root, generate_videomatte_sample, _params, kwargs)


def _params(clips, frames, size, backgrounds, seed, test_clips) -> dict:
    return sample_params(
        "videomatte_sample", VERSION, clips=clips, frames=frames, size=size,
        backgrounds=backgrounds, seed=seed, test_clips=test_clips,
    )  # fmt: skip


def _write_clip(split: Path, clip: str, frames: int, size, seed: list[int]) -> None:
    actor = Actor.random(np.random.default_rng(seed), size)
    (split / "fgr" / clip).mkdir(parents=True)
    (split / "pha" / clip).mkdir(parents=True)
    for t in range(frames):
        fgr, pha = actor.render(t)
        write_jpg(split / "fgr" / clip / f"{t:05d}.jpg", fgr)
        write_jpg(split / "pha" / clip / f"{t:05d}.jpg", pha)
