"""`TestSet`: the evaluation dataset, a reader of one built test set (nothing else).

Items are the stored files at their native resolution: `image`, `alpha`, `trimap` ({0, 0.5, 1}),
`fgr` where the set has it, `bgr` (the perturbed plate by default, `plate="clean"` for the
clean one) where it has a plate, and `meta` (`testset`, `id`, `unit`, `size`, and
`clip`/`index` for clip sets). Nothing else: a temporal method's previous alpha is its own
previous prediction, given by the method layer, never read from here. `unit` is the
independent unit an interval resamples (a source clip, a source foreground): several samples
share one.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from mattebench.testsets.manifest import TestSetError, read_manifest, set_hash, verify_files

PLATES = {"perturbed": "bgr", "clean": "bgr_clean"}


class TestSet(Dataset):
    """The samples of `<folder>/manifest.json`, or `limit` of them.

    `limit` keeps, for clip sets, the first `ceil(limit / clips)` frames of `min(limit,
    clips)` evenly spread clips (a clip stays a clip: at least `limit` frames), and for image
    sets `limit` evenly spread samples (BGMv2's `SampleDataset`, `i * (n // limit)`);
    `info()` then gives the hash of the samples and files actually read.

    `verify` checks the whole set on disk against the manifest read here (`verify_files`,
    through its cache) before anything is read, so `info()` can say the files it names are the
    files scored (`verified`), not only what the manifest claims.
    """

    __test__ = False  # not a pytest class

    def __init__(
        self,
        folder: str | Path,
        plate: str = "perturbed",
        limit: int | None = None,
        verify: bool = False,
    ):
        assert plate in PLATES, f"plate must be one of {sorted(PLATES)}, got {plate!r}"
        self.folder, self.plate = Path(folder), plate
        self.manifest = read_manifest(self.folder)
        if verify:
            verify_files(self.folder, self.manifest)
        self.verified = verify
        self.samples = _subset(self.manifest["samples"], limit)

    @property
    def name(self) -> str:
        """The set's name; the clean-plate variant of a set with plates is another test set."""
        name = self.manifest["name"]
        has_plates = any(PLATES["clean"] in s["files"] for s in self.samples)
        return f"{name}+clean_plate" if self.plate == "clean" and has_plates else name

    @property
    def same_size(self) -> bool:
        """Whether every item has one size (then they can be batched)."""
        return len({tuple(s["size"]) for s in self.samples}) == 1

    def info(self) -> dict[str, Any]:
        """What a result was computed on: the set's name, the hash of the samples and files
        read (the set's hash when all were read), where, and whether the files were verified."""
        return {
            "name": self.name,
            "manifest_sha256": set_hash(self.samples, self.manifest["files"]),
            "path": str(self.folder.resolve()),  # the report finds the set from any folder
            "samples": len(self.samples),
            "of": len(self.manifest["samples"]),
            "plate": self.plate,
            "verified": self.verified,
        }

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, k: int) -> dict[str, Any]:
        sample = self.samples[k]
        files = sample["files"]
        item = {
            "image": _chw(self._read(files["image"])),
            "alpha": _chw(self._read(files["alpha"])),
            "trimap": _chw(_trimap(self._read(files["trimap"]), files["trimap"])),
        }
        if "fgr" in files:
            item["fgr"] = _chw(self._read(files["fgr"]))
        if PLATES[self.plate] in files:
            item["bgr"] = _chw(self._read(files[PLATES[self.plate]]))
        name = self.manifest["name"]
        meta = {"testset": name, "source": name, "id": sample["id"], "unit": sample["unit"]}
        meta["size"] = tuple(sample["size"])
        if "clip" in sample:
            meta["clip"], meta["index"] = sample["clip"], sample["index"]
        item["meta"] = meta
        return item

    def _read(self, name: str) -> np.ndarray:
        path = self.folder / name
        image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if image is None:
            raise TestSetError(f"cannot read {path} of test set {self.name}")
        return cv2.cvtColor(image, cv2.COLOR_BGR2RGB) if image.ndim == 3 else image


def _subset(samples: list[dict], limit: int | None) -> list[dict]:
    if limit is None or limit >= len(samples):
        return list(samples)
    clips: dict[str, list[dict]] = {}
    for s in samples:
        if "clip" in s:
            clips.setdefault(s["clip"], []).append(s)
    if clips:
        kept = _spread(list(clips.values()), min(limit, len(clips)))
        return [s for frames in kept for s in frames[: math.ceil(limit / len(kept))]]
    return _spread(samples, limit)


def _spread(items: list, n: int) -> list:
    return [items[i * (len(items) // n)] for i in range(n)]


def _trimap(trimap: np.ndarray, name: str) -> np.ndarray:
    values = np.unique(trimap)
    if not np.isin(values, (0, 128, 255)).all():
        raise TestSetError(f"trimap {name} holds values {values.tolist()}, not 0/128/255")
    return np.select([trimap == 255, trimap == 128], [1.0, 0.5], 0.0).astype(np.float32)


def _chw(image: np.ndarray) -> Tensor:
    image = image.astype(np.float32) / 255 if image.dtype == np.uint8 else image
    image = image[None] if image.ndim == 2 else image.transpose(2, 0, 1)
    return torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32))
