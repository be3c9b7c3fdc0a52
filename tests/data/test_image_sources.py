"""Image-matting readers on their generated samples, their errors, and the datamodule with them."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import hydra
import numpy as np
import pytest
import torch

from mattebench.data import CompositionDataset, MattingDataModule, bgmv2_augment
from mattebench.data.datasets import CorruptImageWarning
from mattebench.data.samples import (
    generate_aim500_sample,
    generate_composition1k_sample,
    generate_distinctions646_sample,
    generate_folders_sample,
    generate_photomatte85_sample,
)
from mattebench.data.sources import (
    AIM500,
    BackgroundFolder,
    Composition1K,
    CorruptImageError,
    DatasetLayoutError,
    DatasetNotFoundError,
    Distinctions646,
    ForegroundFolders,
    PhotoMatte85,
    Sample,
)
from mattebench.data.sources.pairs import read_pair
from tests.platform.conftest import compose_config


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("image_samples")
    return {
        "photomatte85": generate_photomatte85_sample(root / "PhotoMatte85"),
        "composition1k": generate_composition1k_sample(root / "Composition-1K"),
        "distinctions646": generate_distinctions646_sample(root / "Distinctions-646"),
        "aim500": generate_aim500_sample(root / "AIM-500"),
        "folders": generate_folders_sample(root / "folders"),
    }


def _copy(src: Path, dst: Path) -> Path:
    import shutil

    shutil.copytree(src, dst)
    return dst


# --- each reader reads its sample, in the literal layout ---


def test_photomatte85_reads_rgba_pngs(samples):
    root = samples["photomatte85"]
    assert (root / "photomatte_0000.png").is_file()
    source = PhotoMatte85(root).scan()
    assert len(source) == 6
    item = source[0]
    rgba = cv2.imread(str(root / "photomatte_0000.png"), cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(item.pha, rgba[..., 3])
    np.testing.assert_array_equal(item.fgr, rgba[..., 2::-1])
    assert item.meta == {"source": "photomatte85", "id": "photomatte_0000"}


def test_composition1k_train_reads_both_groups_from_the_names_file(samples):
    root = samples["composition1k"] / "Combined_Dataset"
    train = root / "Training_set"
    assert (train / "Adobe-licensed images" / "fg" / "adobe-licensed_000.png").is_file()
    assert (train / "Other" / "alpha" / "other_001.png").is_file()
    assert (train / "training_fg_names.txt").read_text().count("\n") == 5
    source = Composition1K(root, "train").scan()
    assert len(source) == 5
    ids = [source[i].meta["id"] for i in range(5)]
    assert ids[0] == "Adobe-licensed images/adobe-licensed_000.png"
    assert ids[-1] == "Other/other_001.png"
    item = source[0]
    assert item.fgr.shape == (120, 160, 3) and item.pha.shape == (120, 160)


def test_composition1k_test_pairs_fg_i_with_backgrounds_20i_to_20i_plus_19(samples):
    root = samples["composition1k"] / "Combined_Dataset"
    test = root / "Test_set"
    assert (test / "Adobe-licensed images" / "trimaps" / "test_001_19.png").is_file()
    assert (test / "merged" / "test_000_0.png").is_file() and (
        test / "bg" / "test_000_0.png"
    ).is_file()
    bg_names = (test / "test_bg_names.txt").read_text().split()
    source = Composition1K(root, "test").scan()
    assert len(source) == 2 * 20 == len(bg_names)
    for k in (0, 19, 20, 39):
        item = source[k]
        assert isinstance(item, Sample)
        assert item.meta["foreground"] == f"test_{k // 20:03d}.png"
        assert item.meta["id"] == f"test_{k // 20:03d}_{k % 20}"
        assert item.meta["background"] == bg_names[k]
    item = source[21]
    assert set(np.unique(item.trimap)) <= {0.0, 0.5, 1.0} and (item.trimap == 0.5).any()
    composite = item.fgr * (item.pha[..., None] / 255) + item.bgr * (1 - item.pha[..., None] / 255)
    np.testing.assert_array_equal(item.image, composite.astype(np.uint8))


def test_composition1k_test_without_merged_composites_from_the_voc_folder(samples, tmp_path):
    root = _copy(samples["composition1k"], tmp_path / "c1k") / "Combined_Dataset"
    import shutil

    shutil.rmtree(root / "Test_set" / "merged")
    shutil.rmtree(root / "Test_set" / "bg")
    with pytest.raises(DatasetNotFoundError, match="merged"):
        Composition1K(root, "test").scan()
    voc = root.parent / "VOCdevkit" / "VOC2012" / "JPEGImages"
    item = Composition1K(root, "test", backgrounds=voc)[3]
    assert item.image is None and item.bgr.shape == item.fgr.shape
    assert item.meta["background"] == "2008_000003.jpg"


def test_composition1k_full_list_gives_the_official_1000_composites(tmp_path):
    """50 fgs x 20 bgs: index k -> fg k // 20, bg line k (files need not exist to pair names)."""
    test = tmp_path / "Combined_Dataset" / "Test_set"
    adobe = test / "Adobe-licensed images"
    for sub in ("fg", "alpha", "trimaps"):
        (adobe / sub).mkdir(parents=True)
    (test / "merged").mkdir()
    fgs = [f"fg{i:02d}.png" for i in range(50)]
    (test / "test_fg_names.txt").write_text("\n".join(fgs) + "\n")
    (test / "test_bg_names.txt").write_text("\n".join(f"bg{k:04d}.jpg" for k in range(1000)))
    for name in fgs:
        (adobe / "fg" / name).touch()
        (adobe / "alpha" / name).touch()
        for n in range(20):
            (adobe / "trimaps" / f"{name[:-4]}_{n}.png").touch()
            (test / "merged" / f"{name[:-4]}_{n}.png").touch()
    source = Composition1K(tmp_path / "Combined_Dataset", "test").scan()
    assert len(source) == 1000
    stem, fg, bg = source.index[537][:3]
    assert (stem, fg, bg) == ("fg26_17", "fg26.png", "bg0537.jpg")
    (test / "test_bg_names.txt").write_text("\n".join(f"bg{k}.jpg" for k in range(999)))
    with pytest.raises(DatasetLayoutError, match="999 lines, expected 20 per foreground"):
        Composition1K(tmp_path / "Combined_Dataset", "test").scan()


def test_composition1k_test_names_a_missing_trimap(samples, tmp_path):
    root = _copy(samples["composition1k"], tmp_path / "c1k") / "Combined_Dataset"
    (root / "Test_set" / "Adobe-licensed images" / "trimaps" / "test_001_7.png").unlink()
    with pytest.raises(DatasetLayoutError, match=r"test_001_7 \(no trimap\)"):
        Composition1K(root, "test").scan()


def test_distinctions646_reads_both_splits(samples):
    root = samples["distinctions646"]
    assert (root / "Train" / "FG" / "train_0000.png").is_file()
    assert (root / "Test" / "GT" / "test_0002.png").is_file()
    assert len(Distinctions646(root, "train")) == 6
    test = Distinctions646(root, "test")
    assert len(test) == 3 and test[2].meta == {"source": "distinctions646/test", "id": "test_0002"}


def test_aim500_items_carry_image_alpha_trimap_and_type(samples):
    root = samples["aim500"]
    stems = sorted(p.stem for p in (root / "original").glob("o_*.jpg"))
    assert len(stems) == 6
    assert all((root / sub / f"{stems[0]}.png").is_file() for sub in ("mask", "trimap", "usr"))
    types = json.loads((root / "aim_category_type.json").read_text())
    source = AIM500(root).scan()
    item = source[0]
    assert item.fgr is None and item.bgr is None
    assert item.image.shape == (192, 256, 3) and item.pha.shape == item.trimap.shape
    assert item.meta["id"] == stems[0] and item.meta["type"] == types[stems[0]]["type"]


def test_foreground_folders_pair_by_stem(samples):
    root = samples["folders"]
    assert (root / "fgr" / "person_000.jpg").is_file() and (
        root / "pha" / "person_000.png"
    ).is_file()
    source = ForegroundFolders(root / "fgr", root / "pha").scan()
    assert len(source) == 6 and source[5].meta["id"] == "person_005"


# --- errors ---


@pytest.mark.parametrize(
    ("make", "layout", "sample"),
    [
        (lambda r: PhotoMatte85(r, "photomatte85_sample"), "RGBA PNGs", "photomatte85_sample"),
        (
            lambda r: Composition1K(r, "train", sample_config="composition1k_sample"),
            "Training_set",
            "composition1k_sample",
        ),
        (
            lambda r: Composition1K(r, "test", sample_config="composition1k_sample"),
            "Test_set/test_{fg,bg}_names.txt",
            "composition1k_sample",
        ),
        (
            lambda r: Distinctions646(r, sample_config="distinctions646_sample"),
            "{FG,GT}",
            "distinctions646_sample",
        ),
        (lambda r: AIM500(r, "aim500_sample"), "original", "aim500_sample"),
        (
            lambda r: ForegroundFolders(r / "fgr", r / "pha", "folders_sample"),
            "paired by file name",
            "folders_sample",
        ),
    ],
)
def test_missing_dataset_names_path_layout_publisher_and_sample(tmp_path, make, layout, sample):
    source = make(tmp_path / "nowhere")
    with pytest.raises(DatasetNotFoundError) as info:
        source.scan()
    message = str(info.value)
    assert str(tmp_path / "nowhere") in message and layout in message
    assert "Published at:" in message and f"data={sample}" in message


def test_mismatched_names_are_listed(samples, tmp_path):
    d646 = _copy(samples["distinctions646"], tmp_path / "d646")
    (d646 / "Train" / "GT" / "train_0003.png").rename(d646 / "Train" / "GT" / "renamed.png")
    with pytest.raises(
        DatasetLayoutError, match=r"only in FG: \[train_0003\]; only in GT: \[renamed\]"
    ):
        Distinctions646(d646).scan()

    folders = _copy(samples["folders"], tmp_path / "folders")
    (folders / "pha" / "person_001.png").unlink()
    with pytest.raises(
        DatasetLayoutError, match=r"\(6 images\).*\(5 images\).*only in fgr: \[person_001\]"
    ):
        ForegroundFolders(folders / "fgr", folders / "pha").scan()

    c1k = _copy(samples["composition1k"], tmp_path / "c1k") / "Combined_Dataset"
    (c1k / "Training_set" / "Other" / "alpha" / "other_000.png").unlink()
    with pytest.raises(
        DatasetLayoutError, match=r"Other/fg/other_000.png \(no alpha/other_000.png\)"
    ):
        Composition1K(c1k, "train").scan()

    aim = _copy(samples["aim500"], tmp_path / "aim")
    victim = sorted((aim / "trimap").iterdir())[0]
    victim.unlink()
    with pytest.raises(DatasetLayoutError, match=rf"{victim.stem} \(no trimap\)"):
        AIM500(aim).scan()


def test_truncated_png_is_a_corrupt_image_naming_it(samples, tmp_path):
    folders = _copy(samples["folders"], tmp_path / "folders")
    pha = folders / "pha" / "person_002.png"
    pha.write_bytes(pha.read_bytes()[:200])
    source = ForegroundFolders(folders / "fgr", folders / "pha")
    with pytest.raises(CorruptImageError, match=str(pha)):
        source[2]
    pm = _copy(samples["photomatte85"], tmp_path / "pm")
    png = pm / "photomatte_0001.png"
    png.write_bytes(png.read_bytes()[:300])
    with pytest.raises(CorruptImageError, match=str(png)):
        PhotoMatte85(pm)[1]


def test_alpha_of_the_wrong_size_names_both_files(samples, tmp_path):
    folders = _copy(samples["folders"], tmp_path / "folders")
    pha = folders / "pha" / "person_000.png"
    cv2.imwrite(str(pha), np.zeros((10, 12), np.uint8))
    source = ForegroundFolders(folders / "fgr", folders / "pha")
    with pytest.raises(DatasetLayoutError, match=r"differ in size .*person_000 \(160x192 vs 12x10"):
        source.scan()  # found when the dataset is scanned, before any training
    with pytest.raises(  # reading still checks, for files changed after the scan
        DatasetLayoutError, match=r"person_000.jpg is 160x192 but .*person_000.png is 12x10"
    ):
        read_pair(folders / "fgr" / "person_000.jpg", pha)


# --- datasets and datamodule ---


def test_datamodule_tests_on_aim500_with_its_own_trimaps_at_native_size(samples, tmp_path):
    dm = MattingDataModule(
        train=None,
        test=AIM500(samples["aim500"]),
        test_backgrounds=None,
        size=64,
        batch_size=2,
        num_workers=0,
        testset_root=tmp_path,
    )
    dm.setup("test")
    batch = dm.on_after_batch_transfer(next(iter(dm.test_dataloader())), 0)
    assert set(batch) == {"image", "alpha", "trimap", "meta"}
    source = AIM500(samples["aim500"])
    np.testing.assert_array_equal(batch["trimap"][0, 0].numpy(), source[0].trimap)
    stored = (batch["image"][0].numpy() * 255).round()
    np.testing.assert_array_equal(stored, source[0].image.transpose(2, 0, 1))  # lossless


def test_natural_images_cannot_be_trained_on(samples):
    dataset = CompositionDataset(AIM500(samples["aim500"]), None, bgmv2_augment(64), 64)
    with pytest.raises(ValueError, match="no foreground colour"):
        dataset[0]


def test_skip_policy_skips_and_counts_a_corrupt_training_file(samples, tmp_path):
    folders = _copy(samples["folders"], tmp_path / "folders")
    bad = folders / "fgr" / "person_003.jpg"
    bad.write_bytes(bad.read_bytes()[:500])
    backgrounds = BackgroundFolder(samples["composition1k"] / "coco" / "train2014")
    kwargs = {"train_backgrounds": backgrounds, "size": 64, "batch_size": 6, "num_workers": 0}
    raising = MattingDataModule(train=ForegroundFolders(folders / "fgr", folders / "pha"), **kwargs)
    raising.setup("fit")
    with pytest.raises(CorruptImageError, match=r"person_003\.jpg"):
        list(raising.train_dataloader())

    dm = MattingDataModule(
        train=ForegroundFolders(folders / "fgr", folders / "pha"), corrupt="skip", **kwargs
    )
    dm.setup("fit")
    with pytest.warns(CorruptImageWarning, match="person_003.jpg"):
        batch = next(iter(dm.train_dataloader()))
    dm.on_after_batch_transfer(batch, 0)
    assert batch["fgr"].shape[0] == 6 and torch.isfinite(batch["fgr"]).all()
    assert sum(dm.skipped.values()) == 1 and "person_003.jpg" in next(iter(dm.skipped))
    replaced = [m for m in batch["meta"] if "skipped" in m]
    assert len(replaced) == 1 and replaced[0]["id"] != "person_003"
    assert dm.datasets["train"].skipped == list(dm.skipped)
    # the replacement is deterministic
    again = CompositionDataset(dm.train, backgrounds, bgmv2_augment(64), 64, corrupt="skip")
    with pytest.warns(CorruptImageWarning):
        first = again[3]["meta"]["id"]
    assert again[3]["meta"]["id"] == first


SAMPLE_CONFIGS = [
    "photomatte85_sample",
    "composition1k_sample",
    "distinctions646_sample",
    "aim500_sample",
    "folders_sample",
]


@pytest.mark.parametrize("name", SAMPLE_CONFIGS)
def test_sample_configs_generate_and_give_train_and_test_batches(name, tmp_path):
    cfg = compose_config(tmp_path, [f"data={name}", "data.num_workers=0", "data.size=64"])
    dm = hydra.utils.instantiate(cfg.data)
    dm.prepare_data()
    assert (Path(cfg.paths.data_dir) / "samples").is_dir()
    dm.setup("fit")
    train = next(iter(dm.train_dataloader()))
    assert train["fgr"].shape[1:] == (3, 64, 64)
    dm.setup("test")
    test = dm.on_after_batch_transfer(next(iter(dm.test_dataloader())), 0)
    size = tuple(test["image"].shape[-2:])
    assert test["meta"][0]["size"] == size != (64, 64)  # the built set's native size
    assert test["alpha"].shape[-2:] == test["trimap"].shape[-2:] == size
    assert dm.testset_info("test")["name"] == name
