"""The numbers of a report's table: one row per experiment (its runs differ in the seed
alone), mean and std over seeds, each family ranked on what it is given, and every comparison
with its hierarchical bootstrap interval (`bootstrap`)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import Any

from mattebench.report.bootstrap import compare
from mattebench.report.rows import group_rows
from mattebench.report.runs import FAMILIES, Run
from mattebench.report.units import Units, assign

#: Table columns: (label, metric name without region suffix, format).
METRICS = (
    ("SAD", "sad", "{:.2f}"),
    ("MSE", "mse", "{:.4f}"),
    ("Grad", "grad", "{:.2f}"),
    ("Conn", "conn", "{:.2f}"),
    ("MAD", "mad", "{:.4f}"),
    ("IoU", "iou", "{:.3f}"),
    ("dtSSD", "dtssd", "{:.2f}"),
)
#: Metrics scored without a region suffix.
WHOLE_IMAGE = {"iou", "dtssd"}
#: Regions shown side by side for the region metrics: (column suffix, metric suffix).
REGIONS = (("img", "image"), ("unk", "unknown"))


def metric_value(metrics: dict[str, Any], name: str, region: str) -> float | None:
    """`test/<name>_<region>` (several regions scored), else `test/<name>`."""
    keys = [f"test/{name}"] if name in WHOLE_IMAGE else [f"test/{name}_{region}", f"test/{name}"]
    return next((float(metrics[k]) for k in keys if k in metrics), None)


def per_seed(runs: list[Run], name: str, region: str) -> dict[str, tuple[float, int]]:
    """Per training seed: the metric averaged over that seed's runs, and their number."""
    values: dict[str, list[float]] = defaultdict(list)
    for run in runs:
        value = metric_value(run.metrics, name, region)
        if value is not None:
            values[run.seed_label].append(value)
    return {seed: (statistics.fmean(v), len(v)) for seed, v in sorted(values.items())}


def _mean_std(values: list[float]) -> tuple[float, float | None] | None:
    if not values:
        return None
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else None


def summarise(runs: list[Run], bench: dict[str, dict]) -> list[dict[str, Any]]:
    """The rows of one test set's table, in family order (references last in their family):
    every metric as mean and std over seeds, whole image and unknown band side by side, then
    the comparisons of `rank`. References are kept for the families that have methods."""
    finished = [run for run in runs if run.metrics is not None]
    rows = [
        _row(row.label, row.runs, row.split, bench)
        for row in group_rows([r for r in finished if not r.reference])
    ]
    families = {row["family"] for row in rows}
    rows += [
        _row(f"reference: {run.label}", [run], {}, bench)
        for run in finished
        if run.reference and run.family.name in families
    ]
    order = [family.name for family in FAMILIES]
    rows.sort(key=lambda r: (order.index(r["family"]), r["reference"], r["method"]))
    clip_set = any(run.metrics.get("test/dtssd") is not None for run in finished)
    rank(rows, assign(finished, clip_set))
    return rows


def _row(label: str, runs: list[Run], split: dict[str, str], bench: dict[str, dict]) -> dict:
    first = runs[0]
    row: dict[str, Any] = {
        "method": label,
        "family": first.family.name,
        "ranked_on": first.family.ranked_on,
        "inputs": first.inputs_label,
        "runs": len(runs),
        "reference": first.reference,
        "members": runs,
        "split": split,
        "params": first.metrics.get("params"),
        "steps": sorted({r.metrics.get("train/steps") for r in runs} - {None}),
        "per_seed": {} if first.reference else per_seed(runs, "sad", first.family.ranked_on),
    }
    for _, name, _ in METRICS:
        regions = [None] if name in WHOLE_IMAGE else [r for _, r in REGIONS]
        for region in regions:
            seeds = per_seed(runs, name, region or "image")
            key = name if region is None else f"{name}_{region}"
            row[key] = _mean_std([mean for mean, _ in seeds.values()])
    cost = {} if first.reference else bench.get(first.method) or {}
    row["fps"], row["peak_mb"] = cost.get("fps"), cost.get("peak_mb")
    return row


def rank(rows: list[dict[str, Any]], units: Units) -> None:
    """Adds the comparisons to each row (a `Comparison`, "best", or absent):

    - `versus_family`: to the best method of its family, in the family's ranking SAD
      (`ranked_on`: the unknown band for trimap-based methods, the whole image otherwise);
    - `versus_all` (methods): to the best method of any family, in whole-image SAD;
    - `versus_reference` (methods of a family with references): (name, comparison, beaten)
      against the family's best reference, `beaten` when the row's mean is lower.
    """
    methods = [row for row in rows if not row["reference"]]
    for family in {row["family"] for row in rows}:
        members = [row for row in rows if row["family"] == family]
        column = f"sad_{members[0]['ranked_on']}"
        best = _best([m for m in members if not m["reference"]], column)
        _versus(members, best, column, units, "versus_family")
        reference = _best([m for m in members if m["reference"]], column)
        for row in members:
            if reference is not None and not row["reference"] and row[column] is not None:
                versus = compare(row["members"], reference["members"], column, units)
                beaten = row[column][0] < reference[column][0]
                row["versus_reference"] = (reference["members"][0].label, versus, beaten)
    _versus(methods, _best(methods, "sad_image"), "sad_image", units, "versus_all")


def _best(rows: list[dict[str, Any]], column: str) -> dict[str, Any] | None:
    ranked = [row for row in rows if row[column] is not None]
    return min(ranked, key=lambda row: row[column][0]) if ranked else None


def _versus(rows: list[dict], best: dict | None, column: str, units: Units, key: str) -> None:
    if best is None:
        return
    for row in rows:
        if row is best:
            row[key] = "best"
        elif row[column] is not None:
            row[key] = compare(row["members"], best["members"], column, units)
