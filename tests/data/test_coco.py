"""COCO person: the generated sample's layout, the filters, the masks, and the datamodule."""

from __future__ import annotations

import json
from pathlib import Path

import hydra
import numpy as np
import pytest
import torch

from mattebench.data import MattingDataModule
from mattebench.data.sources import (
    COCOPerson,
    DatasetNotFoundError,
    Sample,
    ensure_coco_person_sample,
    generate_coco_person_sample,
)
from mattebench.data.sources.coco_sample import KINDS, SPLIT_IDS, coco_scene, image_id, kind_of
from tests.platform.conftest import compose_config

SIZE = (192, 256)
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


@pytest.fixture(scope="module")
def coco(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_coco_person_sample(tmp_path_factory.mktemp("coco") / "COCO")


def _kinds(source: COCOPerson) -> list[str]:
    return [kind_of(i % 100_000) for i in source.scan().index]


def test_sample_is_in_the_official_layout(coco):
    for split, repeats in (("train", 2), ("val", 1)):
        path = coco / "annotations" / f"instances_{split}2017.json"
        data = json.loads(path.read_text())
        assert set(data) >= {"info", "licenses", "images", "annotations", "categories"}
        assert {c["id"]: c["name"] for c in data["categories"]} == {1: "person", 62: "chair"}
        assert len(data["images"]) == repeats * len(KINDS)
        for image in data["images"]:
            assert image["file_name"] == f"{image['id']:012d}.jpg"
            assert (coco / f"{split}2017" / image["file_name"]).is_file()
            assert (image["height"], image["width"]) == SIZE
        for ann in data["annotations"]:
            assert set(ann) >= {"id", "image_id", "category_id", "segmentation", "area", "bbox"}
            assert len(ann["bbox"]) == 4 and ann["area"] > 0
            if ann["iscrowd"]:
                assert set(ann["segmentation"]) == {"counts", "size"}
            else:
                assert all(len(p) >= 6 and len(p) % 2 == 0 for p in ann["segmentation"])
        assert any(a["iscrowd"] == 1 for a in data["annotations"])
    assert (coco / "train2017" / "000000100000.jpg").is_file()
    assert (coco / "val2017" / "000000200000.jpg").is_file()


def test_ensure_reuses_a_complete_copy(coco):
    stamp = (coco / "annotations" / "instances_val2017.json").stat().st_mtime_ns
    assert ensure_coco_person_sample(coco) == coco
    assert (coco / "annotations" / "instances_val2017.json").stat().st_mtime_ns == stamp


def test_default_filters_keep_exactly_the_person_only_mid_area_images(coco):
    kept = [k for k, v in KINDS.items() if v["kept"]]
    assert kept == ["one", "two", "many", "crowd"]
    assert _kinds(COCOPerson(coco, "train")) == kept * 2
    assert _kinds(COCOPerson(coco, "val")) == kept


@pytest.mark.parametrize(
    ("kwargs", "kept"),
    [
        ({"max_people": 3}, ["one", "two"]),  # "many" has 4 people; a crowd exceeds any limit
        ({"max_people": 4}, ["one", "two", "many"]),
        ({"only_person": False}, ["one", "two", "many", "crowd", "other"]),
        ({"min_area": 0.0}, ["one", "two", "many", "crowd", "small"]),
        ({"max_area": 1.0}, ["one", "two", "many", "crowd", "large"]),
        ({"min_area": 0.0, "max_area": 1.0, "only_person": False}, list(KINDS)[:-1]),
    ],
)
def test_each_filter_rejects_its_images(coco, kwargs, kept):
    assert _kinds(COCOPerson(coco, "val", **kwargs)) == kept


def test_masks_are_the_union_of_the_drawn_people(coco):
    source = COCOPerson(coco, "val", only_person=False, min_area=0, max_area=1)
    assert len(source) == len(KINDS) - 1  # every image with a person
    for k, iid in enumerate(source.index):
        item = source[k]
        assert isinstance(item, Sample) and item.fgr is None and item.image.shape == (*SIZE, 3)
        assert item.pha.dtype == np.uint8 and set(np.unique(item.pha)) <= {0, 255}
        i = iid - image_id("val", 0)
        _, people, _ = coco_scene(kind_of(i), SIZE, [0, SPLIT_IDS["val"], i])
        drawn = np.zeros(SIZE, bool)
        for mask, _ in people:
            drawn |= mask
        mask = item.pha > 0
        iou = (mask & drawn).sum() / (mask | drawn).sum()
        assert iou > 0.9, (kind_of(i), iou)
        # the union of every person annotation, crowds included
        union = np.zeros(SIZE, bool)
        for ann in source.coco.imgToAnns[iid]:
            if ann["category_id"] == 1:
                union |= source.coco.annToMask(ann) > 0
        np.testing.assert_array_equal(mask, union)
        assert item.meta["people"] == KINDS[kind_of(i)]["people"] + KINDS[kind_of(i)]["crowd"]


def test_crowd_annotations_are_in_the_mask(coco):
    source = COCOPerson(coco, "val").scan()
    k = _kinds(source).index("crowd")
    anns = source.coco.imgToAnns[source.index[k]]
    crowd = next(a for a in anns if a["iscrowd"])
    crowd_mask = source.coco.annToMask(crowd) > 0
    assert crowd_mask.any() and (source[k].pha[crowd_mask] == 255).all()


def test_missing_root_names_the_path_layout_publisher_and_sample(tmp_path):
    source = COCOPerson(tmp_path / "nowhere", sample_config="coco_person_sample")
    with pytest.raises(DatasetNotFoundError) as info:
        source.scan()
    message = str(info.value)
    assert str(tmp_path / "nowhere") in message and "instances_{split}{year}.json" in message
    assert "https://cocodataset.org" in message and "data=coco_person_sample" in message
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetNotFoundError, match=r"instances_train2017\.json"):
        COCOPerson(tmp_path / "empty", sample_config="coco_person_sample").scan()


def test_datamodule_trains_and_validates_on_coco(coco):
    dm = MattingDataModule(
        train=COCOPerson(coco, "train"),
        val=COCOPerson(coco, "val"),
        size=64,
        batch_size=4,
        num_workers=0,
        val_samples=None,
    )
    dm.setup("fit")
    train = next(iter(dm.train_dataloader()))
    assert set(train) == {"image", "alpha", "mask", "meta"}
    assert train["image"].shape == (4, 3, 64, 64)
    assert train["alpha"].shape == train["mask"].shape == (4, 1, 64, 64)
    assert set(train["mask"].unique().tolist()) <= {0.0, 1.0}
    torch.testing.assert_close(train["mask"], (train["alpha"] > 0.5).float())
    assert train["mask"].mean() > 0.05  # the people survive the augmentation

    val = next(iter(dm.val_dataloader()))
    assert set(val) == {"image", "alpha", "mask", "trimap", "meta"}
    assert val["alpha"].shape == val["mask"].shape == val["trimap"].shape == (4, 1, 64, 64)
    assert set(val["trimap"].unique().tolist()) <= {0.0, 0.5, 1.0}
    out = dm.on_after_batch_transfer(val, 0)
    assert out["image"] is val["image"]  # nothing composited


def test_training_batches_are_only_cropped_on_the_device(coco):
    class _Trainer:  # the attributes on_after_batch_transfer reads
        training, global_rank, world_size = True, 0, 1

    dm = MattingDataModule(train=COCOPerson(coco, "train"), size=64, batch_size=4, num_workers=0)
    dm.setup("fit")
    batch = next(iter(dm.train_dataloader()))
    dm.trainer = _Trainer()
    out = dm.on_after_batch_transfer(batch, 0)
    assert set(out) == {"image", "alpha", "mask", "meta"}
    h, w = out["image"].shape[-2:]
    assert out["alpha"].shape[-2:] == out["mask"].shape[-2:] == (h, w)
    assert 32 <= h <= 64 and 32 <= w <= 64
    assert set(out["mask"].unique().tolist()) <= {0.0, 1.0}


def test_sample_config_generates_and_gives_batches(tmp_path):
    cfg = compose_config(
        tmp_path, ["data=coco_person_sample", "data.num_workers=0", "data.size=64"]
    )
    assert cfg.data.train.min_area == 0.2 and cfg.data.val.max_area == 0.7
    dm = hydra.utils.instantiate(cfg.data)
    dm.prepare_data()
    root = Path(cfg.paths.data_dir) / "samples" / "COCO"
    assert (root / "annotations" / "instances_train2017.json").is_file()
    dm.setup("fit")
    train = next(iter(dm.train_dataloader()))
    assert set(train) == {"image", "alpha", "mask", "meta"}
    assert train["mask"].shape[1:] == (1, 64, 64)
    dm.setup("test")
    test = dm.on_after_batch_transfer(next(iter(dm.test_dataloader())), 0)
    assert set(test) == {"image", "alpha", "mask", "trimap", "meta"}
    assert test["trimap"].shape[1:] == (1, 64, 64)
