"""A small generated COCO person stand-in, in COCO's official 2017 layout::

    <root>/annotations/instances_{train,val}2017.json
    <root>/{train,val}2017/<12-digit image id>.jpg
    <root>/.mattebench_sample.json          (the generation parameters; marks a complete copy)

Each split holds the scene kinds of `KINDS` in order, `train_repeats` (train) or `val_repeats`
(val) times. People are `figures.py`'s figures composited on its indoor plates; each person
is one annotation with COCO polygons (`iscrowd=0`, outer contours of the drawn region, later
people occluding earlier ones), a group of small people is one crowd annotation (`iscrowd=1`,
uncompressed column-major RLE, as COCO stores crowds), and a chair (category 62) is a polygon.
`area` and `bbox` are computed by pycocotools from the segmentation, as in COCO.

What `COCOPerson`'s default filters (the greenScreen.ai recipe: images containing one or two
people, whatever else is in them, with 0.2 <= person area <= 0.7) must do with each kind is in
`KINDS`. Deterministic in `seed` and atomic, like the
other `*_sample` generators; `ensure_coco_person_sample` is the `coco_person_sample` config's
`sample` callable.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import cv2
import numpy as np

from mattebench.data.compose import composite, cover_crop
from mattebench.data.samples.figures import Actor, seeded_plate
from mattebench.data.samples.writing import ensure, generate, sample_params, write_jpg

VERSION = 1  # bump when the generated images change

#: kind -> (people, crowd annotation, other category present, person area band, kept by the
#: default filters). Bands: "mid" is within [0.2, 0.7] of the image, "low"/"high" outside.
KINDS: dict[str, dict] = {
    "one": {"people": 1, "crowd": False, "other": False, "area": "mid", "kept": True},
    "two": {"people": 2, "crowd": False, "other": False, "area": "mid", "kept": True},
    "many": {"people": 4, "crowd": False, "other": False, "area": "mid", "kept": False},
    "crowd": {"people": 1, "crowd": True, "other": False, "area": "mid", "kept": False},
    "other": {"people": 1, "crowd": False, "other": True, "area": "mid", "kept": True},
    "two_other": {"people": 2, "crowd": False, "other": True, "area": "mid", "kept": True},
    "small": {"people": 1, "crowd": False, "other": False, "area": "low", "kept": False},
    "large": {"people": 1, "crowd": False, "other": False, "area": "high", "kept": False},
    "none": {"people": 0, "crowd": False, "other": True, "area": "none", "kept": False},
}
CHAIR = 62
CATEGORIES = [
    {"supercategory": "person", "id": 1, "name": "person"},
    {"supercategory": "furniture", "id": CHAIR, "name": "chair"},
]
SPLIT_IDS = {"train": 1, "val": 2}


def image_id(split: str, i: int) -> int:
    """The COCO image id of the `i`-th generated image of `split` (file `<id:012d>.jpg`)."""
    return SPLIT_IDS[split] * 100_000 + i


def kind_of(i: int) -> str:
    """The scene kind of the `i`-th image of a split."""
    return list(KINDS)[i % len(KINDS)]


def coco_scene(
    kind: str, size: tuple[int, int], seed
) -> tuple[np.ndarray, list[tuple[np.ndarray, int]], list[tuple[int, np.ndarray]]]:
    """(image H,W,3 uint8 RGB, [(person mask bool H,W, iscrowd)], [(category id, mask)]).

    Person masks are the drawn figures (alpha >= 0.5), each minus what later figures cover;
    their union is the whole drawn person region.
    """
    h, w = size
    rng = np.random.default_rng(seed)
    image = cover_crop(seeded_plate(size, [*np.atleast_1d(seed).tolist(), 1]), (h, w)).astype(
        np.float32
    )
    people: list[tuple[np.ndarray, int]] = []
    others: list[tuple[int, np.ndarray]] = []
    drawn_count = [0]

    def person(canvas, top, left, crop=None, t=None) -> np.ndarray:
        nonlocal image
        key = [*np.atleast_1d(seed).tolist(), 2, drawn_count[0]]
        drawn_count[0] += 1
        actor = Actor.random(np.random.default_rng(key), canvas)
        frame = int(rng.integers(8))
        fgr, pha = actor.render(frame if t is None else t)
        if crop is not None:
            fgr, pha = fgr[crop], pha[crop]
        full_f = np.zeros((h, w, 3), np.float32)
        full_a = np.zeros((h, w), np.float32)
        y0, x0 = max(top, 0), max(left, 0)
        y1, x1 = min(top + pha.shape[0], h), min(left + pha.shape[1], w)
        full_f[y0:y1, x0:x1] = fgr[y0 - top : y1 - top, x0 - left : x1 - left]
        full_a[y0:y1, x0:x1] = pha[y0 - top : y1 - top, x0 - left : x1 - left] / 255
        image = composite(full_f, full_a[..., None], image)
        drawn = full_a >= 0.5
        for k, (mask, _) in enumerate(people):
            people[k] = (mask & ~drawn, people[k][1])
        for k, (cat, mask) in enumerate(others):
            others[k] = (cat, mask & ~drawn)
        return drawn

    def chair(x0: float, x1: float) -> None:
        nonlocal image
        mask = np.zeros((h, w), np.uint8)
        seat = [(x0, 0.62), (x1, 0.62), (x1, 0.70), (x0, 0.70)]
        back = [(x0, 0.35), (x0 + 0.04, 0.35), (x0 + 0.04, 0.62), (x0, 0.62)]
        for poly in (seat, back):
            pts = np.array([(x * w, y * h) for x, y in poly], np.int32)
            cv2.fillPoly(mask, [pts], 1)
        for x in (x0, x1 - 0.03):
            cv2.rectangle(
                mask, (int(x * w), int(0.7 * h)), (int((x + 0.03) * w), int(0.95 * h)), 1, -1
            )
        colour = rng.uniform(40, 200, 3).astype(np.float32)
        image[mask > 0] = colour
        others.append((CHAIR, mask > 0))

    if kind == "one":
        people.append((person((h, w), 0, 0), 0))
    elif kind == "two":
        for left in (0.0, 0.4):
            people.append((person((h, int(0.6 * w)), 0, int(left * w)), 0))
    elif kind == "many":
        for left in (0.0, 0.2, 0.4, 0.6):
            people.append((person((int(0.8 * h), int(0.4 * w)), int(0.2 * h), int(left * w)), 0))
    elif kind == "crowd":
        crowd = np.zeros((h, w), bool)
        for left in (0.0, 0.13, 0.26):
            crowd |= person((h // 2, int(0.2 * w)), h // 2, int(left * w))
        people.append((crowd, 1))
        people.append((person((h, int(0.6 * w)), 0, int(0.4 * w)), 0))
    elif kind == "other":
        chair(0.03, 0.25)
        people.append((person((h, int(0.7 * w)), 0, int(0.3 * w)), 0))
    elif kind == "two_other":
        chair(0.75, 0.97)
        for left in (0.0, 0.3):
            people.append((person((h, int(0.45 * w)), 0, int(left * w)), 0))
    elif kind == "small":
        people.append((person((h // 3, w // 3), int(0.6 * h), int(0.6 * w)), 0))
    elif kind == "large":
        actor_canvas = (2 * h, 2 * w)
        probe = Actor.random(
            np.random.default_rng([*np.atleast_1d(seed).tolist(), 2, 0]), actor_canvas
        )
        top = min(int(probe.y0 + 2 * probe.head), h)  # below the chin: shoulders and torso
        left = int(np.clip(probe.x0 - w // 2, 0, w))
        crop = (slice(top, top + h), slice(left, left + w))
        people.append((person(actor_canvas, 0, 0, crop, t=0), 0))
    elif kind == "none":
        chair(0.3, 0.6)
    else:
        raise ValueError(f"unknown scene kind {kind!r}; one of {list(KINDS)}")
    image = image + rng.normal(0, 2, image.shape)
    return np.clip(np.round(image), 0, 255).astype(np.uint8), people, others


def _polygons(mask: np.ndarray) -> list[list[float]]:
    """COCO polygons of a binary mask: outer contours through the boundary pixels' centres."""
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    out = []
    for contour in contours:
        if len(contour) >= 3:
            xy = contour.reshape(-1, 2).astype(np.float64) + 0.5
            out.append([round(float(v), 2) for v in xy.ravel()])
    return out


def _uncompressed_rle(mask: np.ndarray) -> dict:
    """COCO's crowd encoding: column-major run lengths starting with a run of zeros."""
    flat = mask.astype(np.uint8).ravel(order="F")
    changes = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate([[0], changes, [flat.size]])
    counts = np.diff(bounds).tolist()
    if flat.size and flat[0] == 1:
        counts = [0, *counts]
    return {"counts": [int(c) for c in counts], "size": [int(mask.shape[0]), int(mask.shape[1])]}


def _annotation(segmentation, h: int, w: int, **fields) -> dict:
    from pycocotools import mask as mask_utils

    if isinstance(segmentation, list):
        rle = mask_utils.merge(mask_utils.frPyObjects(segmentation, h, w))
    else:
        rle = mask_utils.frPyObjects(segmentation, h, w)
    bbox = [round(float(v), 2) for v in mask_utils.toBbox(rle)]
    area = float(mask_utils.area(rle))
    return {"segmentation": segmentation, "area": area, "bbox": bbox, **fields}


def generate_coco_person_sample(
    root: str | Path,
    train_repeats: int = 4,
    val_repeats: int = 1,
    size: tuple[int, int] = (192, 256),
    seed: int = 0,
) -> Path:
    """COCO 2017 layout with `len(KINDS) * repeats` images per split (see the module doc)."""
    params = sample_params(
        "coco_person_sample",
        VERSION,
        train_repeats=train_repeats,
        val_repeats=val_repeats,
        size=size,
        seed=seed,
    )
    h, w = (int(s) for s in size)

    def write(tmp: Path) -> None:
        for split, repeats in (("train", train_repeats), ("val", val_repeats)):
            images, annotations = [], []
            for i in range(repeats * len(KINDS)):
                iid = image_id(split, i)
                name = f"{iid:012d}.jpg"
                image, people, others = coco_scene(kind_of(i), (h, w), [seed, SPLIT_IDS[split], i])
                write_jpg(tmp / f"{split}2017" / name, image)
                images.append(
                    {
                        "license": 1,
                        "file_name": name,
                        "coco_url": f"http://images.cocodataset.org/{split}2017/{name}",
                        "height": h,
                        "width": w,
                        "date_captured": "2013-11-14 11:18:45",
                        "flickr_url": "",
                        "id": iid,
                    }
                )
                instances = [(1, m, c) for m, c in people] + [(c, m, 0) for c, m in others]
                for category, mask, crowd in instances:
                    if not mask.any():
                        continue
                    segmentation = _uncompressed_rle(mask) if crowd else _polygons(mask)
                    annotations.append(
                        _annotation(
                            segmentation,
                            h,
                            w,
                            iscrowd=int(crowd),
                            image_id=iid,
                            category_id=category,
                            id=len(annotations) + 1 + 1_000_000 * SPLIT_IDS[split],
                        )
                    )
            data = {
                "info": {
                    "description": "mattebench generated COCO person sample",
                    "version": "1.0",
                    "year": 2017,
                    "contributor": "mattebench",
                    "date_created": "2017/09/01",
                },
                "licenses": [
                    {
                        "url": "https://creativecommons.org/licenses/by/2.0/",
                        "id": 1,
                        "name": "Attribution License",
                    }
                ],
                "images": images,
                "annotations": annotations,
                "categories": CATEGORIES,
            }
            path = tmp / "annotations" / f"instances_{split}2017.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(data))

    return generate(root, params, write)


def ensure_coco_person_sample(root: str | Path, **kwargs) -> Path:
    return ensure(
        root,
        generate_coco_person_sample,
        partial(sample_params, "coco_person_sample", VERSION),
        kwargs,
    )
