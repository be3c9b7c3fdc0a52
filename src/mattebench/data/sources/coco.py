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

The filters are the greenScreen.ai recipe for its "diluted" COCO person subset
(specs/tiramisu.md §6), each a config value:

- images **containing** people (step 1: other objects may be present); `only_person=True` is
  the stricter reading, no annotation of another category (images without any person
  annotation are never items);
- `min_people` <= person instances <= `max_people` (step 2: one or two people; None: no upper
  limit); a crowd annotation stands for many people and so exceeds any limit;
- `min_area` <= (area of the union of the person masks) / (image area) <= `max_area` (step 3:
  20–70 %); the union area is computed exactly from the annotations' RLEs
  (`pycocotools.mask.merge`/`area`, no decoding), so overlapping instances are not counted twice.

The recipe then splits the kept images 70 / 20 / 10 into train / validation / test and reports
IoU on the test part. `part` selects one of these parts of the kept images of `split`: a fixed
permutation (seeded by `part_seed`) of the sorted image ids, cut at the cumulative `fractions`,
so the three parts are disjoint and cover every kept image (`part=None`: all of them). This is
`Source.parts`, the one split every reader shares (held-out validation foregrounds too).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from mattebench.data.decode import read_image
from mattebench.data.sources.base import DatasetLayoutError, Sample, Source, listed

PERSON = 1  # COCO's category id of `person`


class COCOPerson(Source[Sample]):
    """Person masks of COCO `split{year}` images that pass the filters (see the module doc).

    Args:
        root: the COCO folder holding `annotations/` and `{split}{year}/`.
        split: the COCO split read, "train" or "val".
        year: the release (2017; 2014 has the same layout).
        only_person, min_people, max_people, min_area, max_area: the filters (module doc).
        part: "train", "val" or "test": that part of the kept images (module doc); None: all.
        fractions: the train / val / test fractions of the parts (the recipe's 70 / 20 / 10).
        part_seed: seeds the permutation that assigns images to parts.
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
        only_person: bool = False,
        min_people: int = 1,
        max_people: int | None = 2,
        min_area: float = 0.2,
        max_area: float = 0.7,
        part: str | None = None,
        fractions: tuple[float, float, float] = (0.7, 0.2, 0.1),
        part_seed: int = 0,
        sample_config: str | None = None,
    ) -> None:
        if split not in self.SPLITS:
            raise ValueError(f"split must be one of {self.SPLITS}, got {split!r}")
        if not 0 <= min_area <= max_area:
            raise ValueError(f"need 0 <= min_area <= max_area, got {min_area}, {max_area}")
        if min_people < 1 or (max_people is not None and max_people < min_people):
            raise ValueError(
                f"need 1 <= min_people <= max_people (or max_people null), got {min_people}, "
                f"{max_people}"
            )
        if len(fractions) != 3:
            raise ValueError(
                f"fractions are the train/val/test shares and must be 3 values, got "
                f"{list(fractions)}"
            )
        super().__init__(root, sample_config, part, fractions, part_seed)
        self.split, self.year = split, int(year)
        self.only_person = only_person
        self.min_people, self.max_people = int(min_people), max_people
        self.min_area, self.max_area = float(min_area), float(max_area)
        self._coco = None

    @property
    def name(self) -> str:
        return f"coco_person/{self.split}{self.year}{self.part_suffix}"

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
        kept = [i for i in sorted(coco.getImgIds(catIds=[PERSON])) if self.keep(i)]
        missing = [
            coco.imgs[i]["file_name"]
            for i in kept
            if not (self.image_dir / coco.imgs[i]["file_name"]).is_file()
        ]
        if missing:
            raise DatasetLayoutError(
                f"{self.dataset}: {len(missing)} images listed in {self.annotation_file} are "
                f"missing from {self.image_dir}: {listed(missing)}"
            )
        return kept  # `scan` selects the part (`Source.parts`)

    def keep(self, image_id: int) -> bool:
        """Whether image `image_id` passes the filters (reads the loaded annotations only)."""
        coco = self._coco
        anns = coco.imgToAnns.get(image_id, [])
        people = [a for a in anns if a["category_id"] == PERSON]
        if not people:
            return False
        if self.only_person and len(people) != len(anns):
            return False
        if len(people) < self.min_people:
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
