"""Image-matting datasets: PhotoMatte85, Composition-1K, Distinctions-646, AIM-500, own folders.

Training-style items are `Foreground`s (fgr + pha, composited on the fly onto a background
folder by the datamodule, like VideoMatte240K). Test sets that come with their own trimaps,
pre-composited images or backgrounds give `Sample`s, which carry them: the dataset then uses
those instead of augmenting and deriving a trimap (`CompositionDataset`).

Readers of foregrounds that a training split and a held-out validation split share
(`ForegroundFolders`, `Distinctions646`, `Composition1K` train) take `part`, `fractions` and
`part_seed`: `Source.parts`, a fixed seeded split of the items (e.g. `fractions: [0.95, 0.05]`,
`part: train` for training and `part: val` for validation), so validation never holds a
foreground that training sees and never is the test set.

Alpha mattes are read by `read_alpha`, which accepts 8-bit gray, gray stored as RGB(A) with
equal channels, 16-bit gray (scaled by 1/257, exact for 8-bit values stored as 16-bit) and
palette PNGs whose palette is gray; anything else is a `DatasetLayoutError` naming the file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from mattebench.data.sources.base import (
    IMAGE_EXTENSIONS,
    CorruptImageError,
    DatasetLayoutError,
    Foreground,
    Source,
    listed,
    read_image,
)


class Sample(NamedTuple):
    """A test item that carries more than fgr + pha; `None` where the dataset has none.

    `fgr` is None for natural images (AIM-500); `image` is a pre-composited (or real) input,
    `bgr` the background behind it, `trimap` the dataset's own trimap as float32 {0, 0.5, 1}.
    """

    fgr: np.ndarray | None  # H,W,3 uint8 RGB
    pha: np.ndarray  # H,W uint8
    meta: dict[str, Any]
    image: np.ndarray | None = None  # H,W,3 uint8 RGB
    bgr: np.ndarray | None = None  # H,W,3 uint8 RGB
    trimap: np.ndarray | None = None  # H,W float32 in {0, 0.5, 1}


# --- decoding ---


def read_alpha(path: str | Path) -> np.ndarray:
    """An alpha matte as H,W uint8, converting the harmless encodings and refusing the rest.

    Accepted: 8-bit gray (`L`), bilevel (`1`, scaled to 0/255), gray+alpha (`LA`: the gray),
    RGB/RGBA whose colour channels are equal (the first), 16-bit gray (`I;16`, `I`: divided
    by 257 and rounded, so 8-bit values stored as 16 bit come back exactly), palette (`P`)
    images whose palette entries are gray (mapped through the palette). Colour RGB mattes and
    colour palettes raise `DatasetLayoutError`; undecodable files `CorruptImageError`.
    """
    path = Path(path)
    try:
        with Image.open(path) as image:
            image.load()
            mode = image.mode
            palette = image.getpalette() if mode == "P" else None
            data = np.asarray(image)
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError) as error:
        raise CorruptImageError(f"cannot decode image {path}: {error}") from error
    if mode == "P":
        entries = np.array(palette or [0, 0, 0], np.uint8).reshape(-1, 3)
        if not ((entries[:, 0] == entries[:, 1]) & (entries[:, 0] == entries[:, 2])).all():
            raise DatasetLayoutError(
                f"alpha matte {path} is a palette image with colour entries; "
                "save it as 8-bit grayscale"
            )
        return entries[np.minimum(data, len(entries) - 1), 0]
    if mode == "1":
        return data.astype(np.uint8) * 255
    if mode in ("L", "LA"):
        return np.ascontiguousarray(data if data.ndim == 2 else data[..., 0])
    if mode in ("I;16", "I;16B", "I;16L", "I"):
        if data.max(initial=0) > 65535 or data.min(initial=0) < 0:
            raise DatasetLayoutError(f"alpha matte {path} is not a 16-bit gray image")
        return np.round(data.astype(np.float64) / 257).astype(np.uint8)
    if mode in ("RGB", "RGBA"):
        rgb = data[..., :3]
        if (rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 0] == rgb[..., 2]).all():
            return np.ascontiguousarray(rgb[..., 0])
        raise DatasetLayoutError(
            f"alpha matte {path} is a colour {mode} image (its channels differ); an alpha "
            "matte must be grayscale"
        )
    raise DatasetLayoutError(f"alpha matte {path} has unsupported image mode {mode!r}")


def read_rgba(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """(fgr H,W,3 uint8 RGB, pha H,W uint8) from an RGBA image; 16-bit is divided by 257."""
    path = Path(path)
    try:
        data = np.fromfile(path, np.uint8)
    except OSError as error:
        raise CorruptImageError(f"cannot read image {path}: {error}") from error
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if image is None:
        raise CorruptImageError(f"cannot decode image {path}")
    if image.ndim != 3 or image.shape[2] != 4:
        channels = 1 if image.ndim == 2 else image.shape[2]
        raise DatasetLayoutError(f"expected an RGBA image, got {channels} channel(s): {path}")
    if image.dtype == np.uint16:
        image = np.round(image.astype(np.float64) / 257).astype(np.uint8)
    fgr = cv2.cvtColor(np.ascontiguousarray(image[..., :3]), cv2.COLOR_BGR2RGB)
    return fgr, np.ascontiguousarray(image[..., 3])


def read_trimap(path: str | Path) -> np.ndarray:
    """A trimap file (0 / 128 / 255, any encoding `read_alpha` accepts) as float32 {0, 0.5, 1}.

    Values below 85 are background, above 170 foreground, the rest unknown, so that JPEG noise
    around 0/128/255 does not move a pixel between regions.
    """
    raw = read_alpha(path)
    trimap = np.full(raw.shape, 0.5, np.float32)
    trimap[raw < 85] = 0
    trimap[raw > 170] = 1
    return trimap


def read_pair(fgr_path: Path, pha_path: Path) -> tuple[np.ndarray, np.ndarray]:
    """fgr (RGB) and alpha that must have the same size; a mismatch names both files."""
    fgr, pha = read_image(fgr_path), read_alpha(pha_path)
    _same_size(fgr, pha, fgr_path, pha_path)
    return fgr, pha


def _same_size(a: np.ndarray, b: np.ndarray, a_path: Path, b_path: Path) -> None:
    if a.shape[:2] != b.shape[:2]:
        raise DatasetLayoutError(
            f"{a_path} is {a.shape[1]}x{a.shape[0]} but {b_path} is {b.shape[1]}x{b.shape[0]}"
        )


def _images(folder: Path) -> dict[str, str]:
    """File stem -> file name of the images directly in `folder`; a repeated stem raises."""
    names: dict[str, str] = {}
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if entry.is_file() and entry.name.lower().endswith(IMAGE_EXTENSIONS):
            stem = entry.name.rsplit(".", 1)[0]
            if stem in names:
                raise DatasetLayoutError(
                    f"{folder} holds two images named {stem!r}: {names[stem]}, {entry.name}"
                )
            names[stem] = entry.name
    return names


def _pair_by_stem(fgr_dir: Path, pha_dir: Path, dataset: str) -> list[tuple[str, str, str]]:
    """(stem, fgr file, pha file), sorted; images without a partner raise, listing them."""
    fgr, pha = _images(fgr_dir), _images(pha_dir)
    if fgr.keys() != pha.keys():
        raise DatasetLayoutError(
            f"{dataset}: {fgr_dir} ({len(fgr)} images) and {pha_dir} ({len(pha)} images) do not "
            f"pair up by name: only in {fgr_dir.name}: [{listed(fgr.keys() - pha.keys())}]; "
            f"only in {pha_dir.name}: [{listed(pha.keys() - fgr.keys())}]"
        )
    index = [(stem, fgr[stem], pha[stem]) for stem in sorted(fgr)]
    _check_sizes(index, fgr_dir, pha_dir, dataset)
    return index


def _check_sizes(index: list[tuple[str, str, str]], fgr_dir: Path, pha_dir: Path, dataset: str):
    """Every fgr/pha pair has one size, read from the file headers (no decoding), so a
    mismatch stops the run at scan time, before training, not in the middle of an epoch."""
    wrong = []
    for stem, fgr_file, pha_file in index:
        try:
            with Image.open(fgr_dir / fgr_file) as a, Image.open(pha_dir / pha_file) as b:
                if a.size != b.size:
                    wrong.append(f"{stem} ({a.size[0]}x{a.size[1]} vs {b.size[0]}x{b.size[1]})")
        except (OSError, UnidentifiedImageError):
            continue  # undecodable: the `corrupt` policy decides when it is read
    if wrong:
        raise DatasetLayoutError(
            f"{dataset}: {len(wrong)} foreground/alpha pair(s) in {fgr_dir} and {pha_dir} differ "
            f"in size (fgr vs alpha): [{listed(wrong)}]; fix or remove them."
        )


def _read_names(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


# --- readers ---


class ForegroundFolders(Source[Foreground]):
    """Your own foregrounds: `<fgr_dir>/<name>.{jpg,png}` paired with `<pha_dir>/<name>.png`.

    Files are matched by stem (`a.jpg` with `a.png`); an image without a partner in the other
    folder is a `DatasetLayoutError` listing the names. Alpha mattes go through `read_alpha`
    (16-bit and gray palette converted, colour refused, naming the file); an fgr/pha size
    mismatch names both files. `part`, `fractions`, `part_seed`: a held-out part of the pairs
    (`Source.parts`).
    """

    dataset = "foreground folders"
    layout = (
        "<fgr_dir>/<name>.{jpg,jpeg,png} (RGB) and <pha_dir>/<name>.{png,jpg} (grayscale alpha), "
        "paired by file name without extension"
    )
    published = "your own data (any pair of folders)"

    def __init__(
        self,
        fgr_dir: str | Path,
        pha_dir: str | Path,
        sample_config: str | None = None,
        dataset: str | None = None,
        part: str | None = None,
        fractions: Sequence[float] | None = None,
        part_seed: int = 0,
    ) -> None:
        super().__init__(fgr_dir, sample_config, part, fractions, part_seed)
        self.fgr_dir, self.pha_dir = Path(fgr_dir), Path(pha_dir)
        if dataset is not None:
            self.dataset = dataset

    @property
    def name(self) -> str:
        return f"folders/{self.fgr_dir.name}{self.part_suffix}"

    def _scan(self) -> list[tuple[str, str, str]]:
        self.require_dir(self.fgr_dir)
        self.require_dir(self.pha_dir)
        index = _pair_by_stem(self.fgr_dir, self.pha_dir, self.dataset)
        if not index:
            raise self.not_found(self.fgr_dir, "no images in it")
        return index

    def __getitem__(self, i: int) -> Foreground:
        stem, fgr_file, pha_file = self.index[i]
        fgr, pha = read_pair(self.fgr_dir / fgr_file, self.pha_dir / pha_file)
        return Foreground(fgr, pha, {"source": self.name, "id": stem})


class PhotoMatte85(Source[Foreground]):
    """PhotoMatte85 (BGMv2's portrait test set): `<root>/*.png`, 85 RGBA images.

    fgr is the RGB, pha the A channel (16-bit PNGs are divided by 257). Test only; it is
    composited onto test background plates like VideoMatte240K's test split.
    """

    dataset = "PhotoMatte85"
    layout = "<root>/<name>.png, RGBA PNGs (colour = foreground, alpha channel = matte)"
    published = (
        "https://grail.cs.washington.edu/projects/background-matting-v2/#/datasets "
        "(PhotoMatte85, released with BGMv2)"
    )

    @property
    def name(self) -> str:
        return "photomatte85"

    def _scan(self) -> list[str]:
        self.require_dir(self.root)
        files = sorted(
            e.name for e in os.scandir(self.root) if e.is_file() and e.name.lower().endswith(".png")
        )
        if not files:
            raise self.not_found(self.root, "no .png images in it")
        return files

    def __getitem__(self, i: int) -> Foreground:
        file = self.index[i]
        fgr, pha = read_rgba(self.root / file)
        return Foreground(fgr, pha, {"source": self.name, "id": file.rsplit(".", 1)[0]})


class Distinctions646(Source[Foreground]):
    """Distinctions-646 (HAttMatting, CVPR 2020): `<root>/{Train,Test}/{FG,GT}/<name>.png`.

    FG holds the foregrounds, GT the alpha mattes under the same file names (BGMv2's
    `data_path.py` reads `Distinctions-646/Train/{FG,GT}` as its `distinction` set). Items are
    foregrounds, composited onto a background folder by the datamodule; the paper's fixed test
    composites (20 backgrounds per test foreground) are not reproduced. The dataset has no
    validation split: `part`, `fractions`, `part_seed` hold one out of Train (`Source.parts`).
    """

    dataset = "Distinctions-646"
    layout = "<root>/{Train,Test}/{FG,GT}/<name>.png (FG: foreground, GT: alpha, same names)"
    published = "https://github.com/yuhaoliu7456/CVPR2020-HAttMatting (on request from the authors)"
    SPLITS: ClassVar[dict[str, str]] = {"train": "Train", "test": "Test"}

    def __init__(
        self,
        root: str | Path,
        split: str = "train",
        sample_config: str | None = None,
        part: str | None = None,
        fractions: Sequence[float] | None = None,
        part_seed: int = 0,
    ) -> None:
        assert split in self.SPLITS, f"split must be one of {tuple(self.SPLITS)}, got {split!r}"
        super().__init__(root, sample_config, part, fractions, part_seed)
        self.split = split

    @property
    def name(self) -> str:
        return f"distinctions646/{self.split}{self.part_suffix}"

    @property
    def folder(self) -> Path:
        return self.root / self.SPLITS[self.split]

    def _scan(self) -> list[tuple[str, str, str]]:
        self.require_dir(self.folder / "FG")
        self.require_dir(self.folder / "GT")
        index = _pair_by_stem(self.folder / "FG", self.folder / "GT", self.dataset)
        if not index:
            raise self.not_found(self.folder / "FG", "no images in it")
        return index

    def __getitem__(self, i: int) -> Foreground:
        stem, fgr_file, pha_file = self.index[i]
        fgr, pha = read_pair(self.folder / "FG" / fgr_file, self.folder / "GT" / pha_file)
        return Foreground(fgr, pha, {"source": self.name, "id": stem})


class AIM500(Source[Sample]):
    """AIM-500 (Li et al., IJCAI 2021), 500 natural test images with alpha and trimap.

    Layout as downloaded: `<root>/original/o_<id>.jpg` (the photo), `<root>/mask/o_<id>.png`
    (alpha), `<root>/trimap/o_<id>.png` (0/128/255), optionally `<root>/usr/o_<id>.png` (the
    unified semantic representation, not read) and `aim_category_type.json` (in `<root>` or its
    parent; `{"o_<id>": {"type": "SO|STM|NS", "category": "animal|..."}}`, as
    JizhiziLi/AIM `core/test.py` reads it) whose type/category go into `meta`. Items are
    `Sample`s with `image`, `pha` and `trimap`; there is no fgr and no background.
    """

    dataset = "AIM-500"
    layout = (
        "<root>/original/<id>.jpg, <root>/mask/<id>.png, <root>/trimap/<id>.png "
        "(optionally <root>/usr/ and aim_category_type.json)"
    )
    published = "https://github.com/JizhiziLi/AIM (Google Drive link in its README)"
    self_contained = True  # needs no background folder

    @property
    def name(self) -> str:
        return "aim500"

    def _scan(self) -> list[tuple[str, str, str, str]]:
        for sub in ("original", "mask", "trimap"):
            self.require_dir(self.root / sub)
        images, masks = _images(self.root / "original"), _images(self.root / "mask")
        trimaps = _images(self.root / "trimap")
        stems = images.keys() | masks.keys() | trimaps.keys()
        missing = [
            f"{s} (no {what})"
            for s in sorted(stems)
            for what, names in (("original", images), ("mask", masks), ("trimap", trimaps))
            if s not in names
        ]
        if missing:
            raise DatasetLayoutError(
                f"{self.dataset}: original/, mask/ and trimap/ under {self.root} do not pair up "
                f"by name: {listed(missing)}"
            )
        if not stems:
            raise self.not_found(self.root / "original", "no images in it")
        self._types = self._read_types()
        return [(s, images[s], masks[s], trimaps[s]) for s in sorted(stems)]

    def _read_types(self) -> dict:
        for folder in (self.root, self.root.parent):
            path = folder / "aim_category_type.json"
            if path.is_file():
                return json.loads(path.read_text())
        return {}

    def __getitem__(self, i: int) -> Sample:
        stem, image_file, mask_file, trimap_file = self.index[i]
        image = read_image(self.root / "original" / image_file)
        pha = read_alpha(self.root / "mask" / mask_file)
        trimap = read_trimap(self.root / "trimap" / trimap_file)
        _same_size(image, pha, self.root / "original" / image_file, self.root / "mask" / mask_file)
        _same_size(pha, trimap, self.root / "mask" / mask_file, self.root / "trimap" / trimap_file)
        meta = {"source": self.name, "id": stem, **self._types.get(stem, {})}
        return Sample(None, pha, meta, image=image, trimap=trimap)


class Composition1K(Source):
    """Adobe Composition-1K (Deep Image Matting, Xu et al. 2017), `<root>` = `Combined_Dataset`.

    Layout (as distributed, and as open-mmlab/mmagic's
    `tools/dataset_converters/comp1k/preprocess_comp1k_dataset.py` reads it)::

        Training_set/Adobe-licensed images/{fg,alpha}/<name>   fg and alpha: same file names
        Training_set/Other/{fg,alpha}/<name>
        Training_set/training_fg_names.txt   one fg file name per line (431 fgs)
        Training_set/training_bg_names.txt   100 COCO train2014 names per fg (not read here)
        Test_set/Adobe-licensed images/{fg,alpha}/<name>       50 test foregrounds
        Test_set/Adobe-licensed images/trimaps/<stem>_<n>.png  one trimap per composite
        Test_set/test_fg_names.txt           one fg file name per line
        Test_set/test_bg_names.txt           20 VOC2012 names per fg: fg i <-> lines 20i..20i+19
      optional, generated by mmagic / GCA-Matting:
        Test_set/merged/<stem>_<n>.png       the composite (image)
        Test_set/bg/<stem>_<n>.png           its background, cropped to the fg size
        Test_set/trimaps/<stem>_<n>.png      trimaps copied per composite (GCA)
        Test_set/alpha_copy/<stem>_<n>.png   alpha copied per composite (GCA; identical to the
                                             fg's alpha, so the fg's alpha is read instead)

    Composite `k` is fg `k // 20` with background line `k` and suffix `n = k % 20`; `stem` is
    the fg file name without extension. Training (`split="train"`) gives `Foreground`s of every
    listed name (looked up in `Adobe-licensed images` then `Other`, as mmagic does; without the
    list file, every fg in those folders), composited on the fly onto a background folder (e.g.
    COCO train2014). Test gives the 1000 `Sample`s with their own trimap and, where present,
    `image` (merged) and `bgr`; without `bg/`, `backgrounds` (the folder holding the VOC2012
    JPEGImages named in `test_bg_names.txt`) supplies the plate, upscaled so that it covers the
    foreground and cropped at the top left, as DIM's composition code and mmagic do.

    DIM has no validation split: `part`, `fractions`, `part_seed` hold a fixed seeded part of
    the train foregrounds out (`Source.parts`; the configs: 5 %, 22 of 431), for validation.
    """

    dataset = "Adobe Composition-1K"
    layout = (
        "<root>=Combined_Dataset/{Training_set,Test_set}/{Adobe-licensed images,Other}/"
        "{fg,alpha}/<name>, Training_set/training_fg_names.txt, Test_set/test_{fg,bg}_names.txt, "
        "Test_set/Adobe-licensed images/trimaps/<fg stem>_<0..19>.png "
        "(optionally Test_set/{merged,bg,trimaps}/<fg stem>_<0..19>.png)"
    )
    published = (
        "https://sites.google.com/view/deepimagematting (on request from Adobe/the DIM authors; "
        "backgrounds: COCO train2014 and PASCAL VOC2012)"
    )
    SPLITS = ("train", "test")
    PER_FG = 20  # test composites per foreground

    def __init__(
        self,
        root: str | Path,
        split: str = "train",
        backgrounds: str | Path | None = None,
        use_merged: bool = True,
        sample_config: str | None = None,
        part: str | None = None,
        fractions: Sequence[float] | None = None,
        part_seed: int = 0,
    ) -> None:
        assert split in self.SPLITS, f"split must be one of {self.SPLITS}, got {split!r}"
        if part is not None and split != "train":
            raise ValueError(
                f"{self.dataset}: part={part!r} holds foregrounds out of the train split; the "
                "test split is the official 1000 composites (use part=null)"
            )
        super().__init__(root, sample_config, part, fractions, part_seed)
        self.split = split
        self.backgrounds = Path(backgrounds) if backgrounds is not None else None
        self.use_merged = use_merged

    @property
    def self_contained(self) -> bool:
        return self.split == "test"

    @property
    def name(self) -> str:
        return f"composition1k/{self.split}{self.part_suffix}"

    def _scan(self) -> list:
        return self._scan_train() if self.split == "train" else self._scan_test()

    def _scan_train(self) -> list[tuple[str, str, str]]:
        base = self.root / "Training_set"
        self.require_dir(base)
        dirs = [base / d for d in ("Adobe-licensed images", "Other") if (base / d).is_dir()]
        if not dirs:
            raise self.not_found(base / "Adobe-licensed images", "missing")
        fgs = {d: _files(d / "fg") for d in dirs}
        alphas = {d: _files(d / "alpha") for d in dirs}
        names_file = base / "training_fg_names.txt"
        if names_file.is_file():
            names = _read_names(names_file)
        else:
            names = sorted({n for d in dirs for n in fgs[d]})
        index, problems = [], []
        for name in names:
            home = next((d for d in dirs if name in fgs[d]), None)
            if home is None:
                problems.append(f"{name} (listed, no fg)")
            elif name not in alphas[home]:
                problems.append(f"{home.name}/fg/{name} (no alpha/{name})")
            else:
                index.append((home.name, name))
        for d in dirs:
            problems += [f"{d.name}/alpha/{n} (no fg/{n})" for n in alphas[d] - fgs[d]]
        if problems:
            raise DatasetLayoutError(
                f"{self.dataset} train: fg and alpha under {base} do not pair up: "
                f"{listed(problems)}"
            )
        if not index:
            raise self.not_found(base, "no foregrounds")
        return index

    def _scan_test(self) -> list[tuple]:
        base = self.root / "Test_set"
        adobe = base / "Adobe-licensed images"
        for folder in (adobe / "fg", adobe / "alpha"):
            self.require_dir(folder)
        for names in ("test_fg_names.txt", "test_bg_names.txt"):
            if not (base / names).is_file():
                raise self.not_found(base / names, "missing")
        fg_names, bg_names = (
            _read_names(base / "test_fg_names.txt"),
            _read_names(base / "test_bg_names.txt"),
        )
        if len(bg_names) != self.PER_FG * len(fg_names):
            raise DatasetLayoutError(
                f"{self.dataset} test: {base / 'test_bg_names.txt'} has {len(bg_names)} lines, "
                f"expected {self.PER_FG} per foreground of test_fg_names.txt "
                f"({self.PER_FG} x {len(fg_names)} = {self.PER_FG * len(fg_names)})"
            )
        fgs, alphas = _files(adobe / "fg"), _files(adobe / "alpha")
        trimap_dirs = [d for d in (adobe / "trimaps", base / "trimaps") if d.is_dir()]
        trimaps = {d: _by_stem(d) for d in trimap_dirs}
        merged = (
            _by_stem(base / "merged") if self.use_merged and (base / "merged").is_dir() else None
        )
        bgs = _by_stem(base / "bg") if (base / "bg").is_dir() else None
        if merged is None and bgs is None and self.backgrounds is None:
            raise self.not_found(
                base / "merged",
                "no composites: needs Test_set/merged/, Test_set/bg/ or backgrounds= the VOC2012 "
                "JPEGImages folder",
            )
        index, problems = [], []
        for k, bg_name in enumerate(bg_names):
            fg_name, n = fg_names[k // self.PER_FG], k % self.PER_FG
            stem = f"{fg_name.rsplit('.', 1)[0]}_{n}"
            if fg_name not in fgs or fg_name not in alphas:
                problems.append(f"{fg_name} (no {'fg' if fg_name not in fgs else 'alpha'})")
                continue
            trimap = next((d / trimaps[d][stem] for d in trimap_dirs if stem in trimaps[d]), None)
            if trimap is None:
                problems.append(f"{stem} (no trimap)")
            if merged is not None and stem not in merged:
                problems.append(f"{stem} (no merged/{stem}.png)")
            if bgs is not None and stem not in bgs:
                problems.append(f"{stem} (no bg/{stem}.png)")
            image = base / "merged" / merged[stem] if merged and stem in merged else None
            if bgs is not None and stem in bgs:
                bgr = base / "bg" / bgs[stem]
            elif self.backgrounds is not None:
                bgr = self.backgrounds / bg_name
            else:
                bgr = None
            index.append((stem, fg_name, bg_name, str(trimap), image, bgr, bgs is not None))
        if problems:
            raise DatasetLayoutError(
                f"{self.dataset} test: {len(problems)} problems under {base}: {listed(problems)}"
            )
        return index

    def __getitem__(self, i: int) -> Foreground | Sample:
        if self.split == "train":
            home, name = self.index[i]
            folder = self.root / "Training_set" / home
            fgr, pha = read_pair(folder / "fg" / name, folder / "alpha" / name)
            return Foreground(fgr, pha, {"source": self.name, "id": f"{home}/{name}"})
        stem, fg_name, bg_name, trimap_path, image_path, bgr_path, cropped = self.index[i]
        adobe = self.root / "Test_set" / "Adobe-licensed images"
        fgr, pha = read_pair(adobe / "fg" / fg_name, adobe / "alpha" / fg_name)
        trimap = read_trimap(trimap_path)
        _same_size(pha, trimap, adobe / "alpha" / fg_name, Path(trimap_path))
        image = read_image(image_path) if image_path is not None else None
        if image is not None:
            _same_size(fgr, image, adobe / "fg" / fg_name, image_path)
        bgr = None
        if bgr_path is not None:
            bgr = read_image(bgr_path)
            if cropped:
                _same_size(fgr, bgr, adobe / "fg" / fg_name, bgr_path)
            else:
                bgr = cover_crop(bgr, fgr.shape[:2])
        meta = {"source": self.name, "id": stem, "foreground": fg_name, "background": bg_name}
        return Sample(fgr, pha, meta, image=image, bgr=bgr, trimap=trimap)


def cover_crop(bgr: np.ndarray, size: Sequence[int]) -> np.ndarray:
    """DIM's background fit: upscale (bicubic) until it covers `size` (h, w), crop top-left."""
    h, w = int(size[0]), int(size[1])
    bh, bw = bgr.shape[:2]
    ratio = max(w / bw, h / bh)
    if ratio > 1:
        new = (int(np.ceil(bw * ratio)), int(np.ceil(bh * ratio)))
        bgr = cv2.resize(bgr, new, interpolation=cv2.INTER_CUBIC)
    return np.ascontiguousarray(bgr[:h, :w])


def _files(folder: Path) -> set[str]:
    if not folder.is_dir():
        return set()
    return {e.name for e in os.scandir(folder) if e.is_file()}


def _by_stem(folder: Path) -> dict[str, str]:
    return {
        e.name.rsplit(".", 1)[0]: e.name
        for e in os.scandir(folder)
        if e.is_file() and e.name.lower().endswith(IMAGE_EXTENSIONS)
    }
