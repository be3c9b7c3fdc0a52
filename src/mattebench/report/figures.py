"""The report's figures: quality vs speed, per-sample distributions, the same test samples across
methods."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
from PIL import Image

from mattebench.report.runs import Run


def scatter(rows: list[dict[str, Any]], region: str, path: Path) -> Path:
    """SAD against FPS (or parameters when no benchmark was given): quality vs cost."""
    use_fps = any(r["fps"] for r in rows)
    fig, ax = plt.subplots(figsize=(5, 4))
    for row in rows:
        x = row["fps"] if use_fps else (row["params"] or 0) / 1e6
        if row[f"sad_{region}"] is None or x is None:
            continue
        mean, std = row[f"sad_{region}"]
        ax.errorbar(x, mean, yerr=std or 0, fmt="o", capsize=3)
        ax.annotate(row["method"], (x, mean), textcoords="offset points", xytext=(4, 4))
    ax.set_xlabel("inference FPS" if use_fps else "parameters (M)")
    ax.set_ylabel(f"SAD, {region} (lower is better)")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def distributions(runs: list[Run], region: str, path: Path) -> Path | None:
    """Per-sample SAD of every method (all seeds), as box plots."""
    column = f"sad_{region}"
    per_method: dict[str, list[float]] = defaultdict(list)
    for run in runs:
        for sample in run.samples:
            value = sample.get(column, sample.get("sad"))
            if value not in (None, ""):
                per_method[run.label].append(float(value))
    if not per_method:
        return None
    fig, ax = plt.subplots(figsize=(1.4 * len(per_method) + 2, 4))
    ax.boxplot(list(per_method.values()))
    ax.set_xticks(range(1, len(per_method) + 1), list(per_method), rotation=20, ha="right")
    ax.set_ylabel(f"per-sample SAD ({region})")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def image_grid(runs: list[Run], path: Path, max_samples: int = 4, tile: int = 160) -> Path | None:
    """Rows: the same test samples; columns: input, ground truth, each method's alpha (first
    seed). Samples are the ones every method kept (`predictions/` of each run)."""
    first: dict[str, Run] = {}
    for run in sorted(runs, key=lambda r: str(r.seed)):
        if run.metrics is not None and (run.path / "predictions").is_dir():
            first.setdefault(run.label, run)
    if not first:
        return None
    stems = [
        {p.name[: -len(".gt.png")] for p in (r.path / "predictions").glob("*.gt.png")}
        for r in first.values()
    ]
    common = sorted(set.intersection(*stems))[:max_samples]
    if not common:
        return None
    reference = next(iter(first.values())).path / "predictions"
    columns = ["input", "ground truth", *first]
    grid = Image.new("RGB", (tile * len(columns), tile * len(common) + 20), "white")
    for i, stem in enumerate(common):
        files = [reference / f"{stem}.input.jpg", reference / f"{stem}.gt.png"]
        files += [r.path / "predictions" / f"{stem}.png" for r in first.values()]
        for j, file in enumerate(files):
            with Image.open(file) as image:
                grid.paste(image.convert("RGB").resize((tile, tile)), (j * tile, 20 + i * tile))
    fig, ax = plt.subplots(figsize=(grid.width / 100, grid.height / 100), dpi=100)
    ax.imshow(grid)
    for j, name in enumerate(columns):
        ax.text(j * tile + 4, 14, name, fontsize=8)
    ax.axis("off")
    fig.subplots_adjust(0, 0, 1, 1)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
