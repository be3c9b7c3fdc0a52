from pathlib import Path

import pytest

from mattebench.data.samples import generate_videomatte_sample
from mattebench.data.sources import BackgroundFolder, VideoMatteFrames


@pytest.fixture(scope="session")
def sample_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default `videomatte_sample`, generated once per session (read-only for tests)."""
    return generate_videomatte_sample(tmp_path_factory.mktemp("data") / "videomatte_sample")


@pytest.fixture
def sources(sample_root: Path) -> dict:
    """Fresh (unscanned) readers over the sample, keyed as the datamodule's arguments."""
    return {
        "train": VideoMatteFrames(sample_root, "train"),
        "val": VideoMatteFrames(sample_root, "test"),
        "test": VideoMatteFrames(sample_root, "test"),
        "train_backgrounds": BackgroundFolder(sample_root / "Backgrounds" / "train"),
        "val_backgrounds": BackgroundFolder(sample_root / "Backgrounds" / "test"),
        "test_backgrounds": BackgroundFolder(sample_root / "Backgrounds" / "test"),
    }
