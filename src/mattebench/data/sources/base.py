"""What every on-disk reader shares: lazy scanning, the item types, the errors.

Decoding is `mattebench.data.decode`.

Readers are built from Hydra configs before a `*_sample` dataset may have been generated, so
`__init__` only stores paths; the disk is read by `scan()` (or on first use), and a missing
dataset is an error that says where it should be, what it looks like, where it is published and
which sample config to use instead — never a silent substitution (DESIGN.md, "Data").
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Generic, NamedTuple, TypeVar

import numpy as np

from mattebench.data.decode import CorruptImageError  # noqa: F401  (an error of every reader)

#: How many offending names an error lists before it only counts the rest.
MAX_LISTED = 10


class DatasetNotFoundError(FileNotFoundError):
    """A dataset is missing (or empty) where a config points; the message says what to do."""

    def __init__(
        self,
        dataset: str,
        path: str | Path,
        layout: str,
        published: str,
        sample_config: str | None = None,
        detail: str | None = None,
    ) -> None:
        self.dataset, self.path, self.layout = dataset, Path(path), layout
        self.published, self.sample_config = published, sample_config
        lines = [f"{dataset} not found at {path}" + (f" ({detail})" if detail else "") + "."]
        lines.append(f"Expected layout: {layout}")
        lines.append(f"Published at: {published}")
        if sample_config:
            lines.append(
                f"For a small generated copy in the same layout use the `{sample_config}` config "
                f"(e.g. `data={sample_config}`)."
            )
        super().__init__("\n".join(lines))


class DatasetLayoutError(ValueError):
    """A dataset is present but its files do not pair up (fgr vs pha names, frame counts)."""


class Foreground(NamedTuple):
    """One foreground sample as stored: colour, alpha, and where it came from.

    `meta` always holds `source` (the reader's `name`) and `id` (unique within the source).
    """

    fgr: np.ndarray  # H,W,3 uint8 RGB
    pha: np.ndarray  # H,W uint8
    meta: dict[str, Any]


class Background(NamedTuple):
    """One background plate as stored."""

    bgr: np.ndarray  # H,W,3 uint8 RGB
    meta: dict[str, Any]


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


def listed(names: Sequence[str]) -> str:
    """`a, b, c` or `a, b, ... (+N more)`, for error messages."""
    names = sorted(names)
    more = len(names) - MAX_LISTED
    return ", ".join(names[:MAX_LISTED]) + (f", ... (+{more} more)" if more > 0 else "")


Item = TypeVar("Item")


class Source(ABC, Generic[Item]):
    """A dataset on disk, indexed lazily: `scan()` reads the directory tree once.

    Subclasses set `dataset`, `layout` and `published` (used in error messages) and implement
    `_scan()` (returns the index, a list) and `__getitem__`.
    """

    dataset: str = "dataset"
    layout: str = ""
    published: str = ""
    #: Every image of an item is read by `read_image`, so `decode_at_least` may shrink them
    #: alike (a reader that decodes an alpha some other way must leave this False).
    reduced_decoding: bool = False

    #: The parts `part` selects, in the order of `fractions` (two fractions: train and val).
    PARTS = ("train", "val", "test")

    def __init__(
        self,
        root: str | Path,
        sample_config: str | None = None,
        part: str | None = None,
        fractions: Sequence[float] | None = None,
        part_seed: int = 0,
    ) -> None:
        if fractions is not None:
            fractions = tuple(float(f) for f in fractions)
            if len(fractions) not in (2, 3) or min(fractions) < 0 or abs(sum(fractions) - 1) > 1e-6:
                raise ValueError(
                    f"fractions are the train/val(/test) shares and must be 2 or 3 values >= 0 "
                    f"summing to 1, got {list(fractions)}"
                )
        if part is not None:
            if fractions is None:
                raise ValueError(
                    f"part={part!r} needs fractions, the train/val(/test) shares, e.g. [0.95, 0.05]"
                )
            if part not in self.PARTS[: len(fractions)]:
                raise ValueError(
                    f"part must be one of {self.PARTS[: len(fractions)]} (one per fraction) or "
                    f"null, got {part!r}"
                )
        self.root = Path(root)
        self.sample_config = sample_config
        self.part, self.fractions, self.part_seed = part, fractions, int(part_seed)
        self._index: list | None = None

    @property
    def name(self) -> str:
        """Short id written into each item's `meta["source"]`."""
        return self.dataset

    @property
    def part_suffix(self) -> str:
        """`_<part>` where a part is selected (subclasses append it to `name`), else ``."""
        return "" if self.part is None else f"_{self.part}"

    def scan(self) -> Source[Item]:
        """Index the files now (so a missing dataset fails before training); returns self."""
        if self._index is None:
            index = self._scan()
            if self.part is not None:
                index = self.parts(index)[self.part]
                if not index:
                    raise ValueError(
                        f"{self.dataset}: part {self.part!r} of {self.name} is empty (fractions "
                        f"{list(self.fractions)} of its items); give it a larger fraction"
                    )
            self._index = index
        return self

    def parts(self, index: list) -> dict[str, list]:
        """`index` split into the parts (`PARTS`, one per fraction), disjoint and covering it:
        a permutation seeded by `part_seed`, cut at the rounded cumulative `fractions`; each
        part keeps the index's order. This is how a validation set is held out of a training
        set that has none (e.g. 5 % of Composition-1K's train foregrounds), and COCO person's
        70 / 20 / 10 split: the same seed and fractions give the same parts on every machine."""
        order = np.random.default_rng(self.part_seed).permutation(len(index))
        ends = np.round(np.cumsum(self.fractions) * len(index)).astype(int)
        cuts = np.split(order, ends[:-1])
        names = self.PARTS[: len(self.fractions)]
        return {
            name: [index[k] for k in sorted(cut)] for name, cut in zip(names, cuts, strict=True)
        }

    @property
    def index(self) -> list:
        return self.scan()._index  # type: ignore[return-value]

    def __len__(self) -> int:
        return len(self.index)

    @abstractmethod
    def _scan(self) -> list: ...

    @abstractmethod
    def __getitem__(self, i: int) -> Item: ...

    def not_found(self, path: Path, detail: str | None = None) -> DatasetNotFoundError:
        return DatasetNotFoundError(
            self.dataset, path, self.layout, self.published, self.sample_config, detail
        )

    def require_dir(self, path: Path) -> None:
        if not path.is_dir():
            raise self.not_found(path, "not a directory" if path.exists() else "missing")

    def __repr__(self) -> str:
        state = f"{len(self._index)} items" if self._index is not None else "not scanned"
        return f"{type(self).__name__}({str(self.root)!r}, {state})"
