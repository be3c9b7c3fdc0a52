"""COCO person: the generated sample's layout, the filters, the masks, and the datamodule."""

from __future__ import annotations

import json
from pathlib import Path

import hydra
import numpy as np
import pytest
import torch

from mattebench.data import MattingDataModule
from mattebench.data.samples import ensure_coco_person_sample, generate_coco_person_sample
from mattebench.data.samples.coco import KINDS, SPLIT_IDS, coco_scene, image_id, kind_of
from mattebench.data.sources import COCOPerson, DatasetNotFoundError, Sample
from tests.platform.conftest import compose_config

SIZE = (192, 256)
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


@pytest.fixture(scope="module")
def coco(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_coco_person_sample(tmp_path_factory.mktemp("coco") / "COCO")


def _kinds(source: COCOPerson) -> list[str]:
    return [kind_of(i % 100_000) for i in source.scan().index]


def test_sample_is_in_the_official_layout(coco):
    for split, repeats in (("train", 4), ("val", 1)):
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


def test_default_filters_keep_one_or_two_people_mid_area_whatever_else_is_there(coco):
    kept = [k for k, v in KINDS.items() if v["kept"]]
    assert kept == ["one", "two", "other", "two_other"]
    assert _kinds(COCOPerson(coco, "train")) == kept * 4
    assert _kinds(COCOPerson(coco, "val")) == kept


@pytest.mark.parametrize(
    ("kwargs", "kept"),
    [
        ({"max_people": 3}, ["one", "two", "other", "two_other"]),  # a crowd exceeds any limit
        ({"max_people": 4}, ["one", "two", "many", "other", "two_other"]),
        ({"max_people": None}, ["one", "two", "many", "crowd", "other", "two_other"]),
        ({"min_people": 2}, ["two", "two_other"]),
        ({"only_person": True}, ["one", "two"]),
        ({"min_area": 0.0}, ["one", "two", "other", "two_other", "small"]),
        ({"max_area": 1.0}, ["one", "two", "other", "two_other", "large"]),
        ({"min_area": 0.0, "max_area": 1.0, "max_people": None}, list(KINDS)[:-1]),
    ],
)
def test_each_filter_rejects_its_images(coco, kwargs, kept):
    assert _kinds(COCOPerson(coco, "val", **kwargs)) == kept


def _expected(
    kind: dict, only_person=False, min_people=1, max_people=2, min_area=0.2, max_area=0.7
):
    """Whether the recipe keeps an image of this `KINDS` row (the filters, from the table)."""
    area = {"low": 0.03, "mid": 0.45, "high": 0.86, "none": 0.0}[kind["area"]]  # as drawn
    people = kind["people"] + kind["crowd"]
    return (
        people >= min_people
        and not (only_person and kind["other"])
        and (max_people is None or (people <= max_people and not kind["crowd"]))
        and min_area <= area <= max_area
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"only_person": True},
        {"max_people": 1},
        {"max_people": None},
        {"min_people": 2, "max_people": None},
        {"min_area": 0.01},
        {"max_area": 1.0},
        {"min_area": 0.01, "max_area": 1.0, "max_people": 4},
    ],
)
def test_counts_by_people_and_area_with_other_categories_present(coco, kwargs):
    """On the generated train split (chairs beside the people in some images): the number of
    images kept, by people count and by area, is what the recipe's filters give."""
    source = COCOPerson(coco, "train", **kwargs).scan()
    kinds = _kinds(source)
    expected = {k: 4 * _expected(v, **kwargs) for k, v in KINDS.items()}
    assert {k: kinds.count(k) for k in KINDS} == expected
    others = [
        iid
        for iid in source.index
        if any(a["category_id"] != 1 for a in source.coco.imgToAnns[iid])
    ]
    assert len(others) == 4 * sum(v["other"] and _expected(v, **kwargs) for v in KINDS.values())
    for k, iid in enumerate(source.index):
        people = [a for a in source.coco.imgToAnns[iid] if a["category_id"] == 1]
        assert source.min_people <= len(people)
        assert source.max_people is None or len(people) <= source.max_people
        h, w = SIZE
        assert source.min_area <= (source[k].pha > 0).sum() / (h * w) <= source.max_area + 0.01


def test_parts_split_the_kept_images_70_20_10_disjointly(coco):
    kept = COCOPerson(coco, "train").scan().index
    parts = {part: COCOPerson(coco, "train", part=part).scan().index for part in COCOPerson.PARTS}
    assert [len(parts[p]) for p in COCOPerson.PARTS] == [11, 3, 2]  # 16 kept: 11.2 / 3.2 / 1.6
    assert sorted(i for part in parts.values() for i in part) == kept  # each in exactly one
    again = COCOPerson(coco, "train", part="test").scan().index
    other_seed = COCOPerson(coco, "train", part="test", part_seed=1).scan().index
    assert again == parts["test"] and set(other_seed) <= set(kept)
    assert COCOPerson(coco, "train", part="val").name == "coco_person/train2017_val"


def test_bad_filters_and_parts_say_what_is_wrong(coco):
    with pytest.raises(ValueError, match="min_people <= max_people"):
        COCOPerson(coco, min_people=3, max_people=2)
    with pytest.raises(ValueError, match="part must be one of"):
        COCOPerson(coco, part="holdout")
    with pytest.raises(ValueError, match="fractions"):
        COCOPerson(coco, fractions=(0.7, 0.2, 0.2))


def test_masks_are_the_union_of_the_drawn_people(coco):
    source = COCOPerson(coco, "val", max_people=None, min_area=0, max_area=1)
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
    source = COCOPerson(coco, "val", max_people=None).scan()
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

    val = next(iter(dm.val_dataloader()))  # the built validation set, at native resolution
    assert set(val) == {"image", "alpha", "trimap", "meta"}
    assert val["alpha"].shape == val["trimap"].shape == (4, 1, *SIZE)
    assert set(val["trimap"].unique().tolist()) <= {0.0, 0.5, 1.0}
    out = dm.on_after_batch_transfer(val, 0)
    assert out["image"] is val["image"]  # nothing composited


def test_training_batches_are_only_cropped_on_the_device(coco):
    class _Trainer:  # the attributes on_after_batch_transfer reads
        training, global_rank, world_size, current_epoch = True, 0, 1, 0

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
    assert set(test) == {"image", "alpha", "trimap", "meta"}
    assert test["trimap"].shape[1:] == (1, *SIZE)  # native resolution


@pytest.mark.parametrize("config", ["coco_person", "coco_person_sample"])
def test_configs_test_on_a_part_disjoint_from_validation(tmp_path, config):
    """Issue 14 item 5: the test set never holds an image that validation (which picks the
    checkpoint) or training sees; the recipe's filters and epoch are the defaults."""
    cfg = compose_config(tmp_path, [f"data={config}"])
    sources = {
        split: hydra.utils.instantiate(cfg.data[split]) for split in ("train", "val", "test")
    }
    assert [sources[s].part for s in ("train", "val", "test")] == ["train", "val", "test"]
    assert len({(s.split, s.fractions, s.part_seed) for s in sources.values()}) == 1
    train = sources["train"]
    assert (train.min_people, train.max_people, train.only_person) == (1, 2, False)
    assert (train.min_area, train.max_area) == (0.2, 0.7)
    assert cfg.data.epoch_images == (500 if config == "coco_person" else None)
    if config == "coco_person_sample":
        hydra.utils.instantiate(cfg.data.sample)()
        ids = {split: set(source.scan().index) for split, source in sources.items()}
        assert all(ids.values())
        assert not ids["test"] & ids["val"] and not ids["test"] & ids["train"]
        assert not ids["val"] & ids["train"]


def test_an_epoch_is_epoch_images_random_training_images(coco):
    def epoch(images: int | None, seed: int = 0) -> list[str]:
        dm = MattingDataModule(
            train=COCOPerson(coco, "train", part="train"),
            size=32,
            batch_size=2,
            num_workers=0,
            epoch_images=images,
            seed=seed,
        )
        dm.setup("fit")
        return [m["id"] for batch in dm.train_dataloader() for m in batch["meta"]]

    assert len(epoch(None)) == 10  # one pass over the 11 images, the last odd one dropped
    assert len(epoch(6)) == 6
    many = epoch(30)  # more than the source: several passes, every image seen
    assert len(many) == 30 and len(set(many)) == 11
    assert epoch(6) == epoch(6) and epoch(6) != epoch(6, seed=1)
    with pytest.raises(ValueError, match="epoch_images"):
        MattingDataModule(epoch_images=0)
