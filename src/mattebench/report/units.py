"""The independent unit of each test sample, the level a report's intervals resample.

Frames of one clip, or composites of one foreground over several backgrounds, are not
independent: an interval that resamples them one by one is several times too narrow. The unit
of a sample is, in order: the `unit` column of any run's `test_samples.csv` (written from the
test set's manifest: the source clip of a clip set, the source foreground of a composited set,
the image of a photo set; a unit equal to the sample's id means the item had none); for a clip
set, the sample id up to its frame (`<set>/<clip>/<frame>` -> `<set>/<clip>`); else the sample
itself, which the report then says.
"""

from __future__ import annotations

from dataclasses import dataclass

from mattebench.report.runs import Run


@dataclass(frozen=True)
class Units:
    """Sample id -> unit, the ids whose unit is unknown (each its own unit), and the units'
    name in the table ("clips" on clip sets)."""

    of: dict[str, str]
    guessed: frozenset[str]
    noun: str


def assign(runs: list[Run], clip_set: bool) -> Units:
    """The units of every sample `runs` scored (runs of one test set, references included)."""
    of: dict[str, str] = {}
    ids = set()
    for run in runs:
        for sample in run.samples:
            ids.add(sample["id"])
            if sample.get("unit") not in (None, "", sample["id"]):  # the id: no unit given
                of.setdefault(sample["id"], sample["unit"])
    guessed = set()
    for sample_id in sorted(ids - set(of)):
        if clip_set and sample_id.count("/") >= 2:
            of[sample_id] = sample_id.rsplit("/", 1)[0]
        else:
            of[sample_id] = sample_id
            guessed.add(sample_id)
    return Units(of, frozenset(guessed), "clips" if clip_set else "units")
