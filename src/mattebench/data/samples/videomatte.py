"""A small generated stand-in for VideoMatte240K, in exactly its JPEG frame layout.

None of the real datasets can be downloaded here, so the readers, the datamodule and every
method are exercised on this sample (the `videomatte_sample` config). It is written as::

    <root>/train/fgr/0000/00000.jpg ...   <root>/train/pha/0000/00000.jpg ...   (clips x frames)
    <root>/test/fgr/0000/00000.jpg ...    <root>/test/pha/0000/00000.jpg ... (test_clips x frames)
    <root>/Backgrounds/train/0000.jpg ... <root>/Backgrounds/test/0000.jpg ...  (`backgrounds` each)
    <root>/.mattebench_sample.json        (the generation parameters; marks a complete copy)

Each clip is one `figures.Actor` moving across the frame; backgrounds are `figures.plate`s.
Generation is deterministic in `seed` and atomic (`writing.generate`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mattebench.data.samples.figures import Actor, plate
from mattebench.data.samples.writing import ensure, generate, sample_params, write_jpg

VERSION = 2  # bump when the generated images change, so `ensure_*` regenerates old copies


def generate_videomatte_sample(
    root: str | Path,
    clips: int = 4,
    frames: int = 8,
    size: tuple[int, int] = (288, 384),
    backgrounds: int = 12,
    seed: int = 0,
    test_clips: int | None = None,
) -> Path:
    """Write the sample (`clips` x `frames` for training, `test_clips` x `frames` for testing,
    default as many as `clips`; `backgrounds` per split) to `root`.

    A clip's figure depends only on `seed`, its split and its index, so more training clips leave
    the test clips (and the test sets built from them) as they were.

    `size` is (height, width) of the frames. Replaces an earlier generated copy at `root`; refuses
    to overwrite a folder that this function did not write.
    """
    params = _params(clips, frames, size, backgrounds, seed, test_clips)
    counts = {"train": clips, "test": params["test_clips"]}  # `_params` resolves the default

    def write(tmp: Path) -> None:
        for split_id, split in enumerate(("train", "test")):
            for clip in range(counts[split]):
                _write_clip(tmp / split, f"{clip:04d}", frames, size, [seed, split_id, clip])
            for i in range(backgrounds):
                image = plate(size, np.random.default_rng([seed, split_id, 10_000 + i]))
                write_jpg(tmp / "Backgrounds" / split / f"{i:04d}.jpg", image)

    return generate(root, params, write)


def ensure_videomatte_sample(root: str | Path, **kwargs) -> Path:
    """Generate the sample at `root` unless a complete copy with the same parameters is there.

    Meant as the datamodule's `sample` callable (called in `prepare_data`, once per node).
    """
    return ensure(root, generate_videomatte_sample, _params, kwargs)


def _params(clips, frames, size, backgrounds, seed, test_clips=None) -> dict:
    return sample_params(
        "videomatte_sample", VERSION, clips=clips, frames=frames, size=size,
        backgrounds=backgrounds, seed=seed, test_clips=clips if test_clips is None else test_clips,
    )  # fmt: skip


def _write_clip(split: Path, clip: str, frames: int, size, seed: list[int]) -> None:
    actor = Actor.random(np.random.default_rng(seed), size)
    (split / "fgr" / clip).mkdir(parents=True)
    (split / "pha" / clip).mkdir(parents=True)
    for t in range(frames):
        fgr, pha = actor.render(t)
        write_jpg(split / "fgr" / clip / f"{t:05d}.jpg", fgr)
        write_jpg(split / "pha" / clip / f"{t:05d}.jpg", pha)
