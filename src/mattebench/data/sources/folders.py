"""Your own foreground/alpha folders, paired by file name (`data=folders`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mattebench.data.sources.base import Foreground, Source
from mattebench.data.sources.pairs import pair_by_stem, read_pair


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
        index = pair_by_stem(self.fgr_dir, self.pha_dir, self.dataset)
        if not index:
            raise self.not_found(self.fgr_dir, "no images in it")
        return index

    def __getitem__(self, i: int) -> Foreground:
        stem, fgr_file, pha_file = self.index[i]
        fgr, pha = read_pair(self.fgr_dir / fgr_file, self.pha_dir / pha_file)
        return Foreground(fgr, pha, {"source": self.name, "id": stem})
