"""Background plates: any folder tree of images."""

from __future__ import annotations

from pathlib import Path

from mattebench.data.decode import list_images, read_image
from mattebench.data.sources.base import Background, Source

PUBLISHED = (
    "any folder of photos; BGMv2's ~200 CC-licensed validation/test backgrounds are on "
    "https://grail.cs.washington.edu/projects/background-matting-v2/#/datasets "
    "(the 8,000+ training backgrounds were not released)"
)


class BackgroundFolder(Source[Background]):
    """Every .jpg/.jpeg/.png under `root`, recursively, in sorted path order.

    BGMv2's `dataset/images.py` globs `root/**/*.jpg` and `*.png` the same way; `.jpeg` is
    accepted too. Items are `(bgr uint8 H,W,3 RGB, meta)`.
    """

    dataset = "background folder"
    layout = "<root>/**/*.{jpg,jpeg,png} (any tree of images, read recursively)"
    published = PUBLISHED
    reduced_decoding = True

    def __init__(
        self,
        root: str | Path,
        sample_config: str | None = None,
        dataset: str | None = None,
        published: str | None = None,
    ) -> None:
        super().__init__(root, sample_config)
        if dataset is not None:
            self.dataset = dataset
        if published is not None:
            self.published = published

    @property
    def name(self) -> str:
        return f"backgrounds/{self.root.name}"

    def _scan(self) -> list[str]:
        self.require_dir(self.root)
        files = [str(p.relative_to(self.root)) for p in list_images(self.root, recursive=True)]
        if not files:
            raise self.not_found(self.root, "no .jpg/.jpeg/.png images in it")
        return files

    def __getitem__(self, i: int) -> Background:
        file = self.index[i]
        return Background(read_image(self.root / file), {"source": self.name, "id": file})
