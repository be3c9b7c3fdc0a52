"""Reference rows every method must beat, scored on the test set itself.

Each is a fixed rule that uses only what its family is given, so a method that does not beat
it has learnt nothing its inputs did not already say: the trimap alone (α = the trimap: 0.5 in
the unknown band, the known pixels copied) for trimap-based methods, a thresholded plate
difference for plate-based ones, an empty matte and a constant 0.5 for trimap-free methods and
segmenters. They are read with the test sets' own reader (`TestSet`, the files the methods
got) and scored with the methods' own metric code (`MattingMetrics`, `SampleRecords`), so their
numbers and per-sample rows are what a method outputting the same alpha would have got. A
reference has no training: it is one run without a seed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mattebench.report.runs import Run

if TYPE_CHECKING:  # torch loads slowly; a report that scores no reference never needs it
    from torch import Tensor

#: The plate reference's rule: α = 1 where the largest channel difference |image - plate| is
#: over this, else 0. Fixed, not tuned on any set (a tuned threshold would be a method).
PLATE_THRESHOLD = 0.1
#: Bump when a rule or its scoring changes: cached results of another version are recomputed.
VERSION = 1


@dataclass(frozen=True)
class Reference:
    """A rule: its name, the inputs it uses (which decide its family), and its alpha from a
    test item's C,H,W tensors."""

    name: str
    inputs: tuple[str, ...]
    alpha: Callable[[dict[str, Tensor]], Tensor]


def _plate_difference(item: dict[str, Tensor]) -> Tensor:
    difference = (item["image"] - item["bgr"]).abs().amax(dim=0, keepdim=True)
    return (difference > PLATE_THRESHOLD).float()


def _empty(item: dict[str, Tensor]) -> Tensor:
    return item["alpha"].new_zeros(item["alpha"].shape)


def _half(item: dict[str, Tensor]) -> Tensor:
    return item["alpha"].new_full(item["alpha"].shape, 0.5)


REFERENCES = (
    Reference("trimap alone", ("image", "trimap"), lambda item: item["trimap"]),
    Reference(f"plate difference > {PLATE_THRESHOLD}", ("image", "bgr"), _plate_difference),
    Reference("empty matte (α = 0)", ("image",), _empty),
    Reference("constant α = 0.5", ("image",), _half),
)


def reference_runs(members: list[Run], cache: Path) -> tuple[list[Run], str | None]:
    """The references of the families among `members` (finished runs of one test set), as runs
    of those families, and a one-line note on those that could not be computed. Results are
    cached in `cache/` per test set (hash) and plate: a set is scored once, not per report."""
    present = {run.family.name for run in members}
    wanted = {ref.name: ref for ref in REFERENCES if _flags(ref, present)}
    info = next((r.metrics["testset"] for r in members if r.metrics.get("testset")), None)
    if not wanted:
        return [], None
    if info is None or not info.get("path"):
        return [], "References: skipped (the runs do not say where their test set is)."
    file = cache / f"{info['manifest_sha256'][:16]}_{info.get('plate') or 'perturbed'}.json"
    stored = json.loads(file.read_text()) if file.is_file() else {}
    results = stored.get("references", {}) if stored.get("version") == VERSION else {}
    missing = [ref for name, ref in wanted.items() if name not in results]
    notes = []
    if missing:
        names = ", ".join(ref.name for ref in missing)
        print(f"Scoring {names} on test set {info.get('name')} ({info['path']})", file=sys.stderr)
        try:
            results.update(score(missing, info))
        except ReferenceUnavailable as exc:
            notes.append(f"{names} skipped ({exc})")
        else:
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_text(json.dumps({"version": VERSION, "references": results}))
    notes += [f"{name} skipped ({results[name]['unavailable']})"
              for name in wanted if "unavailable" in results.get(name, {})]  # fmt: skip
    runs = [
        _run(ref, results[name], info, segmentation)
        for name, ref in wanted.items() if "metrics" in results.get(name, {})
        for segmentation in _flags(ref, present)
    ]  # fmt: skip
    return runs, f"References: {'; '.join(notes)}." if notes else None


def _flags(ref: Reference, present: set[str]) -> list[bool]:
    """The `segmentation` flags of a reference's runs: one run per family among `present` that
    it is a reference for (the image-only rules serve trimap-free methods and segmenters)."""
    flags = (False, True) if ref.inputs == ("image",) else (False,)
    return [flag for flag in flags if _probe(ref, flag).family.name in present]


def _probe(ref: Reference, segmentation: bool) -> Run:
    return Run(Path(), ref.name, "", "", None, None, inputs=ref.inputs,
               segmentation=segmentation, reference=True)  # fmt: skip


def _run(ref: Reference, result: dict[str, Any], info: dict[str, Any], segmentation: bool) -> Run:
    run = _probe(ref, segmentation)
    run.path, run.metrics = Path(info["path"]), {**result["metrics"], "testset": info}
    run.samples = result["samples"]
    return run


class ReferenceUnavailable(RuntimeError):
    """The test set cannot be read as the runs read it (moved, changed)."""


def score(references: list[Reference], info: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each reference's test metrics (`test/...` means, as in metrics.json) and per-sample rows
    (as in test_samples.csv: id, unit, metrics) on the test set `info` describes, or why
    it has none (`unavailable`: a rule whose input the set lacks)."""
    dataset = _open(info)
    given = set(dataset[0]) if len(dataset) else set()
    results: dict[str, dict[str, Any]] = {
        ref.name: {"unavailable": f"the set has no {dataset.plate} plate"}
        for ref in references
        if not set(ref.inputs) <= given
    }
    references = [ref for ref in references if ref.name not in results]
    # The method layer loads slowly: imported only when there is a set to score.
    from mattebench.methods.records import SampleRecords
    from mattebench.metrics import MattingMetrics

    metrics = {ref.name: MattingMetrics(regions=("unknown", "image"), prefix="test/")
               for ref in references}  # fmt: skip
    records = {ref.name: SampleRecords(save_samples=0) for ref in references}
    for item in dataset:
        batch = {key: value[None] for key, value in item.items() if key != "meta"}
        batch["meta"] = [item["meta"]]
        for ref in references:
            alpha = ref.alpha(item)[None]
            metrics[ref.name].update(alpha, batch["alpha"], trimap=batch["trimap"])
            records[ref.name].add(batch, alpha, metrics[ref.name])
    for ref in references:
        results[ref.name] = {
            "metrics": {k: float(v) for k, v in metrics[ref.name].compute().items()},
            "samples": records[ref.name].rows,
        }
    return results


def _open(info: dict[str, Any]) -> Any:
    """The `TestSet` the runs read (same plate, same subset), its files verified, or why not."""
    from mattebench.testsets import TestSet, TestSetError  # the data layer loads slowly

    folder, plate = Path(info["path"]), info.get("plate") or "perturbed"
    limit = info["samples"] if info.get("samples", 0) < info.get("of", 0) else None
    try:
        dataset = TestSet(folder, plate=plate, limit=limit, verify=True)
    except (TestSetError, OSError) as exc:
        raise ReferenceUnavailable(f"test set {folder}: {exc}") from None
    if dataset.info()["manifest_sha256"] != info["manifest_sha256"]:
        raise ReferenceUnavailable(
            f"the files at {folder} are not the ones the runs were tested on"
        )
    return dataset
