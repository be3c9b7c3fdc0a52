from pathlib import Path

import pytest

from mattebench.data.samples import generate_videomatte_sample
from mattebench.data.sources import BackgroundFolder, VideoMatteFrames

#: The sample's validation actors (conf/data/videomatte_sample.yaml).
VAL_CLIPS = ["0000", "0001", "0002", "0003"]


@pytest.fixture(scope="session")
def sample_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default `videomatte_sample`, generated once per session (read-only for tests)."""
    return generate_videomatte_sample(tmp_path_factory.mktemp("data") / "videomatte_sample")


@pytest.fixture
def sources(sample_root: Path) -> dict:
    """Fresh (unscanned) readers over the sample, keyed as the datamodule's arguments."""
    return {
        "train": VideoMatteFrames(sample_root, "train", exclude_clips=VAL_CLIPS),
        "val": VideoMatteFrames(sample_root, "train", clips=VAL_CLIPS),
        "test": VideoMatteFrames(sample_root, "test"),
        "train_backgrounds": BackgroundFolder(sample_root / "Backgrounds" / "train"),
        "val_backgrounds": BackgroundFolder(sample_root / "Backgrounds" / "valid"),
        "test_backgrounds": BackgroundFolder(sample_root / "Backgrounds" / "test"),
    }
