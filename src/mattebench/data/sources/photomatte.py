"""PhotoMatte85: BGMv2's portrait test set of RGBA cut-outs."""

from __future__ import annotations

import os

from mattebench.data.decode import read_rgba
from mattebench.data.sources.base import Foreground, Source


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
