"""Tiny inputs written on the fly: 64x64 images, a folder of three, a three-frame video."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig

from tests.platform.conftest import compose_config

SIZE = 64


def random_image(seed: int, width: int = SIZE, height: int = SIZE) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), np.uint8)


def write_video(path: Path, frames: int, fps: float = 10) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (SIZE, SIZE))
    for i in range(frames):
        writer.write(random_image(i))
    writer.release()
    return path


@pytest.fixture
def inputs(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(3):
        cv2.imwrite(str(folder / f"f{i}.png"), random_image(i))
    cv2.imwrite(str(tmp_path / "image.png"), random_image(9))
    cv2.imwrite(str(tmp_path / "plate.png"), random_image(7))
    cv2.imwrite(str(tmp_path / "plate_small.png"), random_image(7, width=40, height=48))
    return {
        "image": tmp_path / "image.png",
        "folder": folder,
        "video": write_video(tmp_path / "clip.mp4", 3),
        "plate": tmp_path / "plate.png",
        "plate_small": tmp_path / "plate_small.png",
    }


@pytest.fixture
def config(tmp_path: Path) -> Callable[..., DictConfig]:
    """The config of `python <name>.py <overrides>` on CPU, rooted at tmp_path."""

    def make(*overrides: str, name: str = "infer") -> DictConfig:
        return compose_config(tmp_path, [*overrides], config_name=name)

    yield make
    GlobalHydra.instance().clear()
