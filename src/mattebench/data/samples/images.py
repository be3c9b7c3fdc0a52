"""Small generated stand-ins for the image-matting datasets, each in its real on-disk layout.

The figures and plates are `figures.py`'s. Like `generate_videomatte_sample`, every generator
is deterministic in `seed` and atomic, and `ensure_*` regenerates only when the parameters
differ (`writing.py`), so they are the `*_sample` configs' `sample` callables.

Layouts written (see the readers in `data/sources/` for the real datasets they mirror)::

    photomatte85:    <root>/<name>.png                                   RGBA
    composition1k:   <root>/Combined_Dataset/Training_set/{Adobe-licensed images,Other}/{fg,alpha}/
                     <root>/Combined_Dataset/Training_set/training_{fg,bg}_names.txt
                     <root>/Combined_Dataset/Test_set/Adobe-licensed images/{fg,alpha,trimaps}/
                     <root>/Combined_Dataset/Test_set/test_{fg,bg}_names.txt
                     <root>/Combined_Dataset/Test_set/{merged,bg}/<stem>_<n>.png   (merged=True)
                     <root>/VOCdevkit/VOC2012/JPEGImages/*.jpg   test backgrounds
                     <root>/coco/train2014/*.jpg                 training backgrounds
    distinctions646: <root>/{Train,Test}/{FG,GT}/<name>.png
    aim500:          <root>/{original/<id>.jpg, mask/<id>.png, trimap/<id>.png, usr/<id>.png}
                     <root>/aim_category_type.json
    folders:         <root>/fgr/<name>.jpg, <root>/pha/<name>.png
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import numpy as np

from mattebench.data.compose import composite, cover_crop
from mattebench.data.decode import read_image
from mattebench.data.samples.figures import figure, seeded_plate
from mattebench.data.samples.writing import ensure, generate, sample_params, write_jpg, write_png
from mattebench.data.sources.composition1k import Composition1K
from mattebench.data.trimap import trimap_from_alpha

VERSION = 1  # bump when the generated images change


def trimap_u8(alpha: np.ndarray, iterations: int) -> np.ndarray:
    """A 0/128/255 trimap as the datasets store them."""
    trimap = trimap_from_alpha(alpha, iterations=iterations)
    out = np.zeros(trimap.shape, np.uint8)
    out[trimap == 0.5] = 128
    out[trimap == 1] = 255
    return out


def composite_u8(fgr: np.ndarray, pha: np.ndarray, bgr: np.ndarray) -> np.ndarray:
    """DIM's offline composite: float, then truncated to uint8 (as mmagic writes `merged`)."""
    return composite(fgr, pha.astype(np.float64)[..., None] / 255, bgr).astype(np.uint8)


# --- PhotoMatte85 ---


def generate_photomatte85_sample(
    root: str | Path, images: int = 6, size: tuple[int, int] = (256, 192), seed: int = 0
) -> Path:
    """`images` RGBA portraits `<root>/photomatte_<i>.png` (the real set has 85)."""
    params = sample_params("photomatte85_sample", VERSION, images=images, size=size, seed=seed)

    def write(tmp: Path) -> None:
        for i in range(images):
            fgr, pha = figure(size, [seed, 85, i])
            write_png(tmp / f"photomatte_{i:04d}.png", np.dstack([fgr, pha]))

    return generate(root, params, write)


def ensure_photomatte85_sample(root: str | Path, **kwargs) -> Path:
    return ensure(
        root,
        generate_photomatte85_sample,
        partial(sample_params, "photomatte85_sample", VERSION),
        kwargs,
    )


# --- Composition-1K ---


def generate_composition1k_sample(
    root: str | Path,
    train_foregrounds: tuple[int, int] = (3, 2),
    test_foregrounds: int = 2,
    size: tuple[int, int] = (120, 160),
    backgrounds: int = 6,
    merged: bool = True,
    seed: int = 0,
) -> Path:
    """Composition-1K in its layout under `<root>/Combined_Dataset`, with VOC/COCO stand-ins.

    `train_foregrounds` = (Adobe-licensed, Other) counts; every test foreground gets the official
    20 composites (`test_bg_names.txt` has 20 lines per fg, cycling over `backgrounds` VOC-like
    plates), a trimap per composite, and, with `merged`, mmagic's `merged/` and `bg/` images.
    """
    params = sample_params(
        "composition1k_sample",
        VERSION,
        train_foregrounds=train_foregrounds,
        test_foregrounds=test_foregrounds,
        size=size,
        backgrounds=backgrounds,
        merged=merged,
        seed=seed,
    )
    per_fg = Composition1K.PER_FG

    def write(tmp: Path) -> None:
        data = tmp / "Combined_Dataset"
        voc = tmp / "VOCdevkit" / "VOC2012" / "JPEGImages"
        coco = tmp / "coco" / "train2014"
        voc_names = [f"2008_{i:06d}.jpg" for i in range(backgrounds)]
        coco_names = [f"COCO_train2014_{i:012d}.jpg" for i in range(backgrounds)]
        for i in range(backgrounds):
            write_jpg(voc / voc_names[i], seeded_plate(size, [seed, 646, 1, i]))
            write_jpg(coco / coco_names[i], seeded_plate(size, [seed, 646, 2, i]))
        train = data / "Training_set"
        names = []
        for group, count in zip(("Adobe-licensed images", "Other"), train_foregrounds, strict=True):
            for i in range(count):
                name = f"{group.split()[0].lower()}_{i:03d}.png"
                fgr, pha = figure(size, [seed, 1000, len(names)])
                write_png(train / group / "fg" / name, fgr)
                write_png(train / group / "alpha" / name, pha)
                names.append(name)
        (train / "training_fg_names.txt").write_text("".join(f"{n}\n" for n in names))
        bg_lines = [coco_names[k % backgrounds] for k in range(100 * len(names))]
        (train / "training_bg_names.txt").write_text("".join(f"{n}\n" for n in bg_lines))

        test = data / "Test_set"
        adobe = test / "Adobe-licensed images"
        fg_names = [f"test_{i:03d}.png" for i in range(test_foregrounds)]
        bg_lines = [voc_names[k % backgrounds] for k in range(per_fg * test_foregrounds)]
        for i, name in enumerate(fg_names):
            fgr, pha = figure(size, [seed, 2000, i])
            write_png(adobe / "fg" / name, fgr)
            write_png(adobe / "alpha" / name, pha)
            for n in range(per_fg):
                stem = f"{name[:-4]}_{n}"
                write_png(adobe / "trimaps" / f"{stem}.png", trimap_u8(pha, 3 + n % 5))
                if merged:
                    bgr = cover_crop(read_image(voc / bg_lines[i * per_fg + n]), pha.shape)
                    write_png(test / "bg" / f"{stem}.png", bgr)
                    write_png(test / "merged" / f"{stem}.png", composite_u8(fgr, pha, bgr))
        (test / "test_fg_names.txt").write_text("".join(f"{n}\n" for n in fg_names))
        (test / "test_bg_names.txt").write_text("".join(f"{n}\n" for n in bg_lines))

    return generate(root, params, write)


def ensure_composition1k_sample(root: str | Path, **kwargs) -> Path:
    return ensure(
        root,
        generate_composition1k_sample,
        partial(sample_params, "composition1k_sample", VERSION),
        kwargs,
    )


# --- Distinctions-646 ---


def generate_distinctions646_sample(
    root: str | Path,
    train: int = 6,
    test: int = 3,
    size: tuple[int, int] = (192, 160),
    seed: int = 0,
) -> Path:
    """`<root>/{Train,Test}/{FG,GT}/<name>.png`."""
    params = sample_params(
        "distinctions646_sample", VERSION, train=train, test=test, size=size, seed=seed
    )

    def write(tmp: Path) -> None:
        for split, count in (("Train", train), ("Test", test)):
            for i in range(count):
                fgr, pha = figure(size, [seed, 646, 10 + (split == "Test"), i])
                write_png(tmp / split / "FG" / f"{split.lower()}_{i:04d}.png", fgr)
                write_png(tmp / split / "GT" / f"{split.lower()}_{i:04d}.png", pha)

    return generate(root, params, write)


def ensure_distinctions646_sample(root: str | Path, **kwargs) -> Path:
    return ensure(
        root,
        generate_distinctions646_sample,
        partial(sample_params, "distinctions646_sample", VERSION),
        kwargs,
    )


# --- AIM-500 ---

AIM_TYPES = ("SO", "STM", "NS")
AIM_CATEGORIES = ("animal", "fruit", "furniture", "plant", "portrait", "toy", "transparent")


def generate_aim500_sample(
    root: str | Path, images: int = 6, size: tuple[int, int] = (192, 256), seed: int = 0
) -> Path:
    """Natural-image stand-ins (a figure composited on a plate, JPEG) with mask, trimap, usr."""
    params = sample_params("aim500_sample", VERSION, images=images, size=size, seed=seed)

    def write(tmp: Path) -> None:
        types = {}
        for i in range(images):
            rng = np.random.default_rng([seed, 500, i])
            stem = f"o_{int(rng.integers(16**8)):08x}"
            fgr, pha = figure(size, [seed, 500, 1, i])
            plate = cover_crop(seeded_plate(size, [seed, 500, 2, i]), pha.shape)
            write_jpg(tmp / "original" / f"{stem}.jpg", composite_u8(fgr, pha, plate))
            write_png(tmp / "mask" / f"{stem}.png", pha)
            trimap = trimap_u8(pha, 5)
            write_png(tmp / "trimap" / f"{stem}.png", trimap)
            write_png(tmp / "usr" / f"{stem}.png", trimap)  # SO: the USR is the trimap
            types[stem] = {"type": AIM_TYPES[i % 3], "category": AIM_CATEGORIES[i % 7]}
        (tmp / "aim_category_type.json").write_text(json.dumps(types, indent=1) + "\n")

    return generate(root, params, write)


def ensure_aim500_sample(root: str | Path, **kwargs) -> Path:
    return ensure(
        root, generate_aim500_sample, partial(sample_params, "aim500_sample", VERSION), kwargs
    )


# --- own folders ---


def generate_folders_sample(
    root: str | Path, images: int = 6, size: tuple[int, int] = (192, 160), seed: int = 0
) -> Path:
    """`<root>/fgr/<name>.jpg` and `<root>/pha/<name>.png` (paired by name without extension)."""
    params = sample_params("folders_sample", VERSION, images=images, size=size, seed=seed)

    def write(tmp: Path) -> None:
        for i in range(images):
            fgr, pha = figure(size, [seed, 77, i])
            write_jpg(tmp / "fgr" / f"person_{i:03d}.jpg", fgr)
            write_png(tmp / "pha" / f"person_{i:03d}.png", pha)

    return generate(root, params, write)


def ensure_folders_sample(root: str | Path, **kwargs) -> Path:
    return ensure(
        root, generate_folders_sample, partial(sample_params, "folders_sample", VERSION), kwargs
    )
