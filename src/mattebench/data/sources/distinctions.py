"""Distinctions-646 (HAttMatting, CVPR 2020): foregrounds and alphas under the same names."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from mattebench.data.sources.base import Foreground, Source
from mattebench.data.sources.pairs import pair_by_stem, read_pair


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
        index = pair_by_stem(self.folder / "FG", self.folder / "GT", self.dataset)
        if not index:
            raise self.not_found(self.folder / "FG", "no images in it")
        return index

    def __getitem__(self, i: int) -> Foreground:
        stem, fgr_file, pha_file = self.index[i]
        fgr, pha = read_pair(self.folder / "FG" / fgr_file, self.folder / "GT" / pha_file)
        return Foreground(fgr, pha, {"source": self.name, "id": stem})
