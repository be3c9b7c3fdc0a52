"""COCO person segmentation (the Tiramisu baseline's data), read with pycocotools.

Layout as downloaded from https://cocodataset.org (2017 release)::

    <root>/annotations/instances_{train,val}2017.json
    <root>/{train,val}2017/<file_name>              (e.g. 000000000139.jpg)

Items are `Sample`s with `image` (the RGB photo), `pha` (the binary person mask, uint8 0/255:
the union of every person annotation of the image, rasterised by `COCO.annToMask`) and no
`fgr`. The source is marked `segmentation = True`, so the datamodule adds a `mask` key
(alpha > 0.5) to its items; it is `self_contained` (needs no background folder).

Crowd annotations (`iscrowd=1`, an RLE over a group of people) are part of the mask: the pixels
are people, and leaving them out would teach the segmenter that they are background.

The greenScreen.ai experiment trained on a "diluted" COCO person subset (specs/tiramisu.md §5)
whose thresholds were not recovered; the filters are therefore config values, defaulting to
the recollection of "persons covering a mid-range fraction of the frame":

- `only_person`: the image has person annotations and no annotation of another category
  (images without any person annotation are never items);
- `max_people`: at most this many person instances (None: no limit); a crowd annotation
  stands for many people and so exceeds any limit;
- `min_area` <= (area of the union of the person masks) / (image area) <= `max_area`; the union
  area is computed exactly from the annotations' RLEs (`pycocotools.mask.merge`/`area`, no
  decoding), so overlapping instances are not counted twice.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from mattebench.data.sources.base import DatasetLayoutError, Source, listed, read_image
from mattebench.data.sources.images import Sample

PERSON = 1  # COCO's category id of `person`


class COCOPerson(Source[Sample]):
    """Person masks of COCO `split{year}` images that pass the filters (see the module doc).

    Args:
        root: the COCO folder holding `annotations/` and `{split}{year}/`.
        split: "train" or "val".
        year: the release (2017; 2014 has the same layout).
        only_person, max_people, min_area, max_area: the filters (module doc).
        sample_config: the `*_sample` config named in errors (`coco_person_sample`).
    """

    dataset = "COCO person"
    layout = (
        "<root>/annotations/instances_{split}{year}.json (COCO instances annotations) and "
        "<root>/{split}{year}/<file_name> (the images it lists)"
    )
    published = "https://cocodataset.org (2017 Train/Val images and annotations)"
    SPLITS = ("train", "val")
    self_contained = True  # the photo is the input: no background folder
    segmentation = True  # items carry a binary person mask, the datamodule adds `mask`

    def __init__(
        self,
        root: str | Path,
        split: str = "train",
        year: int = 2017,
        only_person: bool = True,
        max_people: int | None = None,
        min_area: float = 0.2,
        max_area: float = 0.7,
        sample_config: str | None = None,
    ) -> None:
        assert split in self.SPLITS, f"split must be one of {self.SPLITS}, got {split!r}"
        assert 0 <= min_area <= max_area, (
            f"need 0 <= min_area <= max_area, got {min_area}, {max_area}"
        )
        super().__init__(root, sample_config)
        self.split, self.year = split, int(year)
        self.only_person, self.max_people = only_person, max_people
        self.min_area, self.max_area = float(min_area), float(max_area)
        self._coco = None

    @property
    def name(self) -> str:
        return f"coco_person/{self.split}{self.year}"

    @property
    def annotation_file(self) -> Path:
        return self.root / "annotations" / f"instances_{self.split}{self.year}.json"

    @property
    def image_dir(self) -> Path:
        return self.root / f"{self.split}{self.year}"

    @property
    def coco(self):
        """The `pycocotools.coco.COCO` index (loaded by `scan()`)."""
        self.scan()
        return self._coco

    def _scan(self) -> list[int]:
        self.require_dir(self.root)
        if not self.annotation_file.is_file():
            raise self.not_found(self.annotation_file, "missing")
        self.require_dir(self.image_dir)
        self._coco = coco = _load(self.annotation_file)
        if PERSON not in coco.cats:
            raise DatasetLayoutError(
                f"{self.annotation_file} has no `person` category (id {PERSON})"
            )
        index = [i for i in sorted(coco.getImgIds(catIds=[PERSON])) if self.keep(i)]
        missing = [
            coco.imgs[i]["file_name"]
            for i in index
            if not (self.image_dir / coco.imgs[i]["file_name"]).is_file()
        ]
        if missing:
            raise DatasetLayoutError(
                f"{self.dataset}: {len(missing)} images listed in {self.annotation_file} are "
                f"missing from {self.image_dir}: {listed(missing)}"
            )
        return index

    def keep(self, image_id: int) -> bool:
        """Whether image `image_id` passes the filters (reads the loaded annotations only)."""
        coco = self._coco
        anns = coco.imgToAnns.get(image_id, [])
        people = [a for a in anns if a["category_id"] == PERSON]
        if not people:
            return False
        if self.only_person and len(people) != len(anns):
            return False
        if self.max_people is not None and (
            len(people) > self.max_people or any(a.get("iscrowd", 0) for a in people)
        ):
            return False
        info = coco.imgs[image_id]
        fraction = _union_area(coco, people) / float(info["height"] * info["width"])
        return self.min_area <= fraction <= self.max_area

    def person_mask(self, image_id: int) -> np.ndarray:
        """H,W uint8 0/255: the union of the image's person annotations (crowds included)."""
        coco = self.coco
        info = coco.imgs[image_id]
        mask = np.zeros((info["height"], info["width"]), np.uint8)
        with warnings.catch_warnings():  # pycocotools 2.0.x `decode` vs numpy 2 `copy=`
            warnings.simplefilter("ignore", DeprecationWarning)
            for ann in coco.imgToAnns.get(image_id, []):
                if ann["category_id"] == PERSON:
                    mask |= coco.annToMask(ann).astype(np.uint8)
        return mask * 255

    def __getitem__(self, i: int) -> Sample:
        image_id = self.index[i]
        info = self.coco.imgs[image_id]
        path = self.image_dir / info["file_name"]
        image = read_image(path)
        if image.shape[:2] != (info["height"], info["width"]):
            raise DatasetLayoutError(
                f"{path} is {image.shape[1]}x{image.shape[0]} but {self.annotation_file} says "
                f"{info['width']}x{info['height']}"
            )
        people = sum(a["category_id"] == PERSON for a in self.coco.imgToAnns[image_id])
        meta: dict[str, Any] = {
            "source": self.name,
            "id": str(image_id),
            "file_name": info["file_name"],
            "people": int(people),
            "segmentation": True,
        }
        return Sample(None, self.person_mask(image_id), meta, image=image)


def _load(path: Path):
    """`COCO(path)` without its progress prints."""
    import contextlib
    import io

    from pycocotools.coco import COCO

    with contextlib.redirect_stdout(io.StringIO()):
        try:
            return COCO(str(path))
        except (ValueError, KeyError, TypeError) as error:
            raise DatasetLayoutError(f"{path} is not a COCO annotation file: {error}") from error


def _union_area(coco, anns: list[dict]) -> int:
    """Pixels covered by the union of `anns` (exact, from their RLEs)."""
    from pycocotools import mask as mask_utils

    rles = [coco.annToRLE(a) for a in anns]
    return int(mask_utils.area(mask_utils.merge(rles, intersect=0)))
