"""The numbers of a report's table: mean and std over seeds per method, and the paired bootstrap
of per-sample differences to the best method on the same test files."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from typing import Any

import numpy as np

from mattebench.report.runs import FAMILIES, Run

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
#: Paired bootstrap: resamples, and the seed of its generator (the report is reproducible).
BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED = 2000, 0


def metric_value(metrics: dict[str, Any], name: str, region: str) -> float | None:
    """`test/<name>_<region>` (several regions scored), else `test/<name>`."""
    keys = [f"test/{name}"] if name in WHOLE_IMAGE else [f"test/{name}_{region}", f"test/{name}"]
    return next((float(metrics[k]) for k in keys if k in metrics), None)


def _mean_std(values: list[float]) -> tuple[float, float | None] | None:
    if not values:
        return None
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else None


def summarise(runs: list[Run], region: str, bench: dict[str, dict]) -> list[dict[str, Any]]:
    """One row per (method, backbone), in family order: mean and std over the finished runs
    (seeds) of every metric, whole image and unknown band side by side."""
    groups: dict[tuple[str, str], list[Run]] = defaultdict(list)
    for run in runs:
        if run.metrics is not None:
            groups[run.key].append(run)
    family_order = [name for name, _ in FAMILIES]
    rows = []
    for (method, _), members in groups.items():
        first = members[0]
        row: dict[str, Any] = {
            "method": first.label,
            "family": first.family,
            "inputs": first.inputs_label,
            "runs": len(members),
            "members": members,
            "params": first.metrics.get("params"),
            "steps": sorted({r.metrics.get("train/steps") for r in members} - {None}),
        }
        for _, name, _ in METRICS:
            regions = [None] if name in WHOLE_IMAGE else [r for _, r in REGIONS]
            for reg in regions:
                values = [metric_value(r.metrics, name, reg or region) for r in members]
                key = name if reg is None else f"{name}_{reg}"
                row[key] = _mean_std([v for v in values if v is not None])
        cost = bench.get(method) or {}
        row["fps"], row["peak_mb"] = cost.get("fps"), cost.get("peak_mb")
        rows.append(row)
    rows.sort(key=lambda r: (family_order.index(r["family"]), r["method"]))
    compare_to_best(rows, f"sad_{region}")
    return rows


def per_sample(run: Run, column: str) -> dict[tuple[str, int], float]:
    """Per-sample values of `column`, keyed by (sample id, occurrence) so repeated ids pair
    in order."""
    seen: Counter[str] = Counter()
    values = {}
    for sample in run.samples:
        value = sample.get(column, sample.get(column.split("_")[0]))
        if value in (None, ""):
            continue
        values[(sample["id"], seen[sample["id"]])] = float(value)
        seen[sample["id"]] += 1
    return values


def paired_differences(runs: list[Run], best: list[Run], column: str) -> np.ndarray:
    """Per-sample differences `runs` - `best` on the same test samples and seeds (seeds pooled
    as samples x seeds); where the two share no seed, per-sample means over seeds."""
    a = {str(r.seed): per_sample(r, column) for r in runs}
    b = {str(r.seed): per_sample(r, column) for r in best}
    seeds = sorted(set(a) & set(b))
    if seeds:
        return np.array([a[s][k] - b[s][k] for s in seeds for k in a[s] if k in b[s]])
    mean_a, mean_b = _seed_means(a.values()), _seed_means(b.values())
    return np.array([mean_a[k] - mean_b[k] for k in mean_a if k in mean_b])


def _seed_means(tables: Any) -> dict[tuple[str, int], float]:
    pooled: dict[tuple[str, int], list[float]] = defaultdict(list)
    for table in tables:
        for key, value in table.items():
            pooled[key].append(value)
    return {key: statistics.fmean(values) for key, values in pooled.items()}


def bootstrap_interval(
    differences: np.ndarray, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED
) -> tuple[float, float] | None:
    """The percentile 95 % interval of the mean of `differences` under resampling them with
    replacement; None with fewer than two."""
    n = len(differences)
    if n < 2:
        return None
    rng = np.random.default_rng(seed)
    means = np.concatenate(
        [differences[rng.integers(0, n, (min(200, resamples - done), n))].mean(axis=1)
         for done in range(0, resamples, 200)]
    )  # fmt: skip
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


def compare_to_best(rows: list[dict[str, Any]], column: str) -> None:
    """Adds to each row `delta` (mean paired difference to the best row in `column`, lower is
    better), its bootstrap `interval` and `noise` (the interval contains 0)."""
    ranked = [r for r in rows if r.get(column) is not None and any(m.samples for m in r["members"])]
    if not ranked:
        return
    best = min(ranked, key=lambda r: r[column][0])
    for row in ranked:
        row["best"] = row is best
        if row is best:
            continue
        differences = paired_differences(row["members"], best["members"], column)
        if len(differences) == 0:
            continue
        row["delta"] = float(differences.mean())
        row["pairs"] = len(differences)
        row["interval"] = bootstrap_interval(differences)
        row["noise"] = row["interval"] is not None and row["interval"][0] <= 0 <= row["interval"][1]
