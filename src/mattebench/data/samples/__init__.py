"""Small generated stand-ins for every dataset, each in its real on-disk layout.

None of the real datasets can be downloaded here, so the readers, the datamodule and every
method are exercised on these samples (the `*_sample` data configs call `ensure_*`).
`figures`: the drawn figures and plates; `writing`: atomic, parameter-marked writing;
`videomatte`, `images` (PhotoMatte85, Composition-1K, Distinctions-646, AIM-500, folders),
`coco`: one generator per layout.
"""

from mattebench.data.samples.coco import ensure_coco_person_sample, generate_coco_person_sample
from mattebench.data.samples.images import (
    ensure_aim500_sample,
    ensure_composition1k_sample,
    ensure_distinctions646_sample,
    ensure_folders_sample,
    ensure_photomatte85_sample,
    generate_aim500_sample,
    generate_composition1k_sample,
    generate_distinctions646_sample,
    generate_folders_sample,
    generate_photomatte85_sample,
)
from mattebench.data.samples.videomatte import (
    ensure_videomatte_sample,
    generate_videomatte_sample,
)
from mattebench.data.samples.writing import ensure_all

__all__ = [
    "ensure_aim500_sample",
    "ensure_all",
    "ensure_coco_person_sample",
    "ensure_composition1k_sample",
    "ensure_distinctions646_sample",
    "ensure_folders_sample",
    "ensure_photomatte85_sample",
    "ensure_videomatte_sample",
    "generate_aim500_sample",
    "generate_coco_person_sample",
    "generate_composition1k_sample",
    "generate_distinctions646_sample",
    "generate_folders_sample",
    "generate_photomatte85_sample",
    "generate_videomatte_sample",
]
