"""File pairing shared by the image-dataset readers: images matched by name, sizes checked.

Alpha mattes are read by `data.decode.read_alpha` (the RGBA rule, 16-bit and gray palettes
converted, colour refused, naming the file).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from mattebench.data.decode import image_names, read_alpha, read_image
from mattebench.data.sources.base import DatasetLayoutError, listed


def read_pair(fgr_path: Path, pha_path: Path) -> tuple[np.ndarray, np.ndarray]:
    """fgr (RGB) and alpha that must have the same size; a mismatch names both files."""
    fgr, pha = read_image(fgr_path), read_alpha(pha_path)
    same_size(fgr, pha, fgr_path, pha_path)
    return fgr, pha


def same_size(a: np.ndarray, b: np.ndarray, a_path: Path, b_path: Path) -> None:
    if a.shape[:2] != b.shape[:2]:
        raise DatasetLayoutError(
            f"{a_path} is {a.shape[1]}x{a.shape[0]} but {b_path} is {b.shape[1]}x{b.shape[0]}"
        )


def pair_by_stem(fgr_dir: Path, pha_dir: Path, dataset: str) -> list[tuple[str, str, str]]:
    """(stem, fgr file, pha file), sorted; images without a partner raise, listing them."""
    fgr, pha = image_names(fgr_dir), image_names(pha_dir)
    if fgr.keys() != pha.keys():
        raise DatasetLayoutError(
            f"{dataset}: {fgr_dir} ({len(fgr)} images) and {pha_dir} ({len(pha)} images) do not "
            f"pair up by name: only in {fgr_dir.name}: [{listed(fgr.keys() - pha.keys())}]; "
            f"only in {pha_dir.name}: [{listed(pha.keys() - fgr.keys())}]"
        )
    index = [(stem, fgr[stem], pha[stem]) for stem in sorted(fgr)]
    _check_sizes(index, fgr_dir, pha_dir, dataset)
    return index


def _check_sizes(
    index: list[tuple[str, str, str]], fgr_dir: Path, pha_dir: Path, dataset: str
) -> None:
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


def read_names(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def file_names(folder: Path) -> set[str]:
    if not folder.is_dir():
        return set()
    return {e.name for e in os.scandir(folder) if e.is_file()}
