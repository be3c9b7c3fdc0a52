"""AIM-500: natural test images with their alpha and trimap (no foreground, no background)."""

from __future__ import annotations

import json

from mattebench.data.decode import image_names, read_alpha, read_image, read_trimap
from mattebench.data.sources.base import DatasetLayoutError, Sample, Source, listed
from mattebench.data.sources.pairs import same_size


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
        images, masks = image_names(self.root / "original"), image_names(self.root / "mask")
        trimaps = image_names(self.root / "trimap")
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
        same_size(image, pha, self.root / "original" / image_file, self.root / "mask" / mask_file)
        same_size(pha, trimap, self.root / "mask" / mask_file, self.root / "trimap" / trimap_file)
        meta = {"source": self.name, "id": stem, **self._types.get(stem, {})}
        return Sample(None, pha, meta, image=image, trimap=trimap)
