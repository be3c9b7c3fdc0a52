"""MattingDataModule: the Batch contract, built val/test sets, reproducibility, clear failures."""

import functools
from pathlib import Path

import lightning.pytorch as pl
import pytest
import torch

from mattebench.data import MattingDataModule
from mattebench.data.samples import ensure_videomatte_sample
from mattebench.data.sources import BackgroundFolder, DatasetNotFoundError, VideoMatteFrames
from mattebench.testsets import VideoMatteClips, read_manifest

TRAIN_KEYS = {"image", "bgr", "alpha", "fgr", "meta"}
EVAL_KEYS = TRAIN_KEYS | {"trimap"}
CHANNELS = {"image": 3, "bgr": 3, "fgr": 3, "alpha": 1, "trimap": 1}


class FakeTrainer:
    """What `on_after_batch_transfer` and the loaders read from a Trainer."""

    def __init__(self, training: bool) -> None:
        self.training, self.global_rank, self.world_size = training, 0, 1
        self.current_epoch = 0


#: Clip sets at a quarter of the sample's 288x384, so that building them stays fast.
SMALL = (72, 96)


def datamodule(sources: dict, **kwargs) -> MattingDataModule:
    testsets = {split: VideoMatteClips(f"clips_{split}", SMALL) for split in ("val", "test")}
    options = {"size": 128, "batch_size": 4, "num_workers": 0, "val_samples": 6, **kwargs}
    return MattingDataModule(**sources, testsets=testsets, **options)


def first_batch(dm: MattingDataModule, split: str) -> dict:
    loader = {"train": dm.train_dataloader, "val": dm.val_dataloader, "test": dm.test_dataloader}
    batch = next(iter(loader[split]()))
    dm.trainer = FakeTrainer(training=split == "train")
    try:
        return dm.on_after_batch_transfer(batch, 0)
    finally:
        dm.trainer = None


def check_contract(batch: dict, keys: set, n: int, size: tuple[int, int] | None = None) -> None:
    assert set(batch) == keys
    assert isinstance(batch["meta"], list) and len(batch["meta"]) == n
    assert all(isinstance(m, dict) and "source" in m and "id" in m for m in batch["meta"])
    shape = size or batch["image"].shape[-2:]
    for key in keys - {"meta"}:
        assert batch[key].shape == (n, CHANNELS[key], *shape), key
        assert batch[key].dtype == torch.float32
        assert batch[key].min() >= 0 and batch[key].max() <= 1


def test_batches_follow_the_contract(sources):
    dm = datamodule(sources, plate="clean")
    dm.setup("fit")
    dm.setup("test")
    train = first_batch(dm, "train")
    check_contract(train, TRAIN_KEYS, 4)
    assert 64 <= train["image"].shape[-1] < 128  # the per-batch random crop
    check_contract(first_batch(dm, "val"), EVAL_KEYS, 4, SMALL)  # the built sets' size
    test = first_batch(dm, "test")
    check_contract(test, EVAL_KEYS, 4, SMALL)
    assert set(test["trimap"].unique().tolist()) == {0.0, 0.5, 1.0}
    expected = test["alpha"] * test["fgr"] + (1 - test["alpha"]) * test["bgr"]
    torch.testing.assert_close(test["image"], expected, atol=0.5 / 255 + 1e-6, rtol=0)


def test_validation_batches_are_identical_across_instances_and_worker_counts(sources, tmp_path):
    batches = []
    for workers in (0, 2):
        dm = datamodule(dict(sources), num_workers=workers, eval_seed=3, testset_root=tmp_path)
        dm.setup("validate")
        batches.append([dm.on_after_batch_transfer(b, 0) for b in dm.val_dataloader()])
    assert len(batches[0]) == 2  # the first ceil(6 / 4) frames of 4 clips, in batches of 4
    for a, b in zip(*batches, strict=True):
        assert a["meta"] == b["meta"]
        for key in EVAL_KEYS - {"meta"}:
            torch.testing.assert_close(a[key], b[key])


def test_val_and_test_read_the_built_sets_whatever_the_training_seed(sources, tmp_path):
    dm = datamodule(sources, val_samples=5, test_samples=None, testset_root=tmp_path)
    dm.setup("fit")
    dm.setup("test")
    val = dm.datasets["val"]
    assert [(s["clip"], s["index"]) for s in val.samples] == [
        (f"{c:04d}", t) for c in range(4) for t in range(2)
    ]  # the first ceil(5 / 4) frames of every clip: clips stay clips
    assert len(dm.datasets["test"]) == 32
    info = dm.testset_info("test")
    assert info["samples"] == info["of"] == 32 and info["path"].startswith(str(tmp_path))
    assert dm.testset_info("val")["manifest_sha256"] != read_manifest(val.folder)["sha256"]
    same = datamodule(sources, seed=1, val_samples=5, testset_root=tmp_path)  # training seed
    other = datamodule(sources, eval_seed=1, val_samples=5, testset_root=tmp_path / "other")
    same.setup("validate")
    other.setup("validate")
    a, b, c = val[1], same.datasets["val"][1], other.datasets["val"][1]
    torch.testing.assert_close(a["image"], b["image"])
    assert a["meta"] == c["meta"]  # the same sample ids whatever the seed...
    assert not torch.equal(a["image"], c["image"])  # ...but `eval_seed` builds other files


def test_training_stream_is_reproducible_from_the_seed(sources):
    def batch(seed):
        dm = datamodule(sources, seed=seed)
        dm.setup("fit")
        return first_batch(dm, "train")

    a, b, c = batch(0), batch(0), batch(1)
    assert a["meta"] == b["meta"]
    torch.testing.assert_close(a["image"], b["image"])
    assert a["image"].shape != c["image"].shape or not torch.equal(a["image"], c["image"])


def test_batch_size_is_global_and_split_across_devices(sources):
    dm = datamodule(sources, batch_size=8)
    dm.trainer = FakeTrainer(training=True)
    dm.trainer.world_size = 2
    assert dm.batch_size_per_device == 4
    dm.trainer.world_size = 3
    with pytest.raises(ValueError, match="not divisible"):
        _ = dm.batch_size_per_device


def test_a_missing_dataset_fails_in_setup_with_the_clear_error(tmp_path):
    root = tmp_path / "VideoMatte240K_JPEG_SD"
    dm = MattingDataModule(
        train=VideoMatteFrames(root, "train", sample_config="videomatte_sample"),
        train_backgrounds=BackgroundFolder(root / "Backgrounds/train"),
    )
    with pytest.raises(DatasetNotFoundError, match="videomatte_sample"):
        dm.setup("fit")
    with pytest.raises(ValueError, match=r"MattingDataModule\(test=...\) is needed to test"):
        dm.setup("test")


def test_a_foreground_source_needs_its_backgrounds(sources):
    dm = MattingDataModule(train=sources["train"])
    with pytest.raises(ValueError, match=r"needs train_backgrounds="):
        dm.setup("fit")


class ContractChecker(pl.LightningModule):
    """A stand-in method that checks what the Trainer hands it."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.seen: dict[str, list[set]] = {"train": [], "val": []}

    def training_step(self, batch, batch_idx):
        self.seen["train"].append(set(batch))
        assert batch["image"].shape[-1] < 64  # cropped on the device
        return ((batch["image"].mean() - self.weight) ** 2).sum()

    def validation_step(self, batch, batch_idx):
        self.seen["val"].append(set(batch))
        assert batch["image"].shape[-2:] == (64, 96)  # the built set's native size

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def test_fit_generates_the_sample_then_trains_on_contract_batches(tmp_path: Path):
    """The `*_sample` flow: readers built first, data generated in prepare_data, then fit."""
    root = tmp_path / "videomatte_sample"
    small = {"clips": 2, "frames": 3, "size": (64, 96), "backgrounds": 2}
    dm = MattingDataModule(
        train=VideoMatteFrames(root, "train"),
        val=VideoMatteFrames(root, "test"),
        train_backgrounds=BackgroundFolder(root / "Backgrounds/train"),
        val_backgrounds=BackgroundFolder(root / "Backgrounds/test"),
        sample=functools.partial(ensure_videomatte_sample, root, **small),
        size=64,
        batch_size=2,
        num_workers=0,
    )
    model = ContractChecker()
    trainer = pl.Trainer(
        accelerator="cpu",
        max_epochs=1,
        limit_train_batches=2,
        limit_val_batches=1,
        num_sanity_val_steps=0,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
    )
    trainer.fit(model, datamodule=dm)
    assert model.seen["train"] == [TRAIN_KEYS] * 2
    assert model.seen["val"] == [EVAL_KEYS]


def test_the_datamodule_pickles_for_spawned_processes(sources):
    import pickle

    dm = datamodule(sources)
    dm.setup("validate")
    clone = pickle.loads(pickle.dumps(dm))
    a, b = dm.datasets["val"][2], clone.datasets["val"][2]
    assert a["meta"] == b["meta"]
    torch.testing.assert_close(a["fgr"], b["fgr"])


@pytest.mark.parametrize("fixed", [False, True])
def test_fixed_train_repeats_the_same_batch_every_epoch(sources, fixed):
    """For overfitting a batch: with `fixed_train` the same samples come out the same."""
    from mattebench.data.datasets import collate

    dm = datamodule(sources, fixed_train=fixed)
    dm.setup("fit")
    dm.trainer = FakeTrainer(training=True)
    train = dm.datasets["train"]
    epochs = []
    for epoch in range(2):  # as EpochSampler hands them out: (epoch, index)
        dm.trainer.current_epoch = epoch
        batch = collate([train[(epoch, k)] for k in (0, 5, 9, 20)])
        epochs.append(dm.on_after_batch_transfer(batch, 0))
    a, b = epochs
    same = a["image"].shape == b["image"].shape and torch.equal(a["image"], b["image"])
    assert same == fixed
