"""A local report comparing methods, from run directories alone (no W&B account needed).

    python -m mattebench.report logs/train/multiruns/<date>/ [more runs ...] \
        [--bench bench.json] [--region unknown|image] [--out DIR]

Reads every run's `config.yaml`, `metrics.json` and `test_samples.csv` (what `train.py` and
`eval.py` write) and writes `report.md` and `report.html` with: one table (method, backbone,
parameters, SAD/MSE/Grad/Conn/MAD/IoU/dtSSD as mean +- std over seeds, and inference FPS and
peak memory from a `python -m mattebench.bench --json` file), a quality-vs-speed scatter,
per-sample metric distributions, and an image grid of the same test samples across methods.
Runs without `metrics.json` (failed or unfinished) are listed with their overrides, not dropped.
"""

from __future__ import annotations

import argparse
import csv
import html
import json
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
from omegaconf import OmegaConf
from PIL import Image

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


@dataclass
class Run:
    """One run directory: what it ran and, if it finished, its metrics."""

    path: Path
    method: str
    backbone: str
    dataset: str
    seed: Any
    metrics: dict[str, Any] | None
    overrides: list[str] = field(default_factory=list)
    samples: list[dict[str, str]] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.backbone

    @property
    def label(self) -> str:
        return (
            self.method
            if self.backbone in ("", self.method)
            else f"{self.method} ({self.backbone})"
        )


def find_runs(paths: list[Path]) -> list[Run]:
    """Run directories under `paths`: Hydra's (with `.hydra/`, finished or not) and any other
    directory holding a `metrics.json`."""
    runs, seen = [], set()
    for root in paths:
        if not root.exists():
            raise FileNotFoundError(f"{root} does not exist; pass run or multirun directories.")
        marks = [*root.rglob(".hydra"), *root.rglob("metrics.json")]
        for path in sorted({mark.parent for mark in marks}):
            if path not in seen:
                seen.add(path)
                runs.append(read_run(path))
    if not runs:
        raise FileNotFoundError(
            f"No run directories under {[str(p) for p in paths]} (a run has .hydra/ or "
            "metrics.json); point the report at what train.py or eval.py wrote."
        )
    return runs


def read_run(path: Path) -> Run:
    config_file = path / "config.yaml"
    if not config_file.is_file():
        config_file = path / ".hydra" / "config.yaml"  # a run that failed before writing its own
    cfg = OmegaConf.to_container(OmegaConf.load(config_file)) if config_file.is_file() else {}
    overrides_file = path / ".hydra" / "overrides.yaml"
    overrides = list(OmegaConf.load(overrides_file)) if overrides_file.is_file() else []
    choices = dict(o.split("=", 1) for o in overrides if "=" in o)
    method = _plain(cfg.get("method")) or choices.get("model") or _target_name(cfg.get("model"))
    net = (cfg.get("model") or {}).get("net") or {}
    backbone = _plain(net.get("backbone")) or ""
    metrics_file = path / "metrics.json"
    metrics = json.loads(metrics_file.read_text()) if metrics_file.is_file() else None
    samples = []
    for table in sorted(path.glob("**/test_samples.csv")):
        with table.open() as f:
            samples += list(csv.DictReader(f))
    return Run(
        path=path,
        method=method or path.name,
        backbone=backbone,
        dataset=_plain(cfg.get("dataset")) or choices.get("data", ""),
        seed=cfg.get("seed", choices.get("seed")),
        metrics=metrics,
        overrides=overrides,
        samples=samples,
    )


def _plain(value: Any) -> str | None:
    """A config value, unless it is an unresolved interpolation (Hydra's own config copy)."""
    return None if value is None or "${" in str(value) else str(value)


def _target_name(section: Any) -> str | None:
    target = section.get("_target_") if isinstance(section, dict) else None
    return target.rsplit(".", 1)[-1] if target else None


def metric_value(metrics: dict[str, Any], name: str, region: str) -> float | None:
    """`test/<name>_<region>` (several regions scored), else `test/<name>`."""
    keys = [f"test/{name}"] if name in WHOLE_IMAGE else [f"test/{name}_{region}", f"test/{name}"]
    return next((float(metrics[k]) for k in keys if k in metrics), None)


def summarise(runs: list[Run], region: str, bench: dict[str, dict]) -> list[dict[str, Any]]:
    """One row per (method, backbone): mean and std over the finished runs (seeds)."""
    groups: dict[tuple[str, str], list[Run]] = defaultdict(list)
    for run in runs:
        if run.metrics is not None:
            groups[run.key].append(run)
    rows = []
    for (method, _), members in sorted(groups.items()):
        row: dict[str, Any] = {"method": members[0].label, "runs": len(members)}
        row["params"] = members[0].metrics.get("params")
        for _, name, _ in METRICS:
            values = [metric_value(r.metrics, name, region) for r in members]
            values = [v for v in values if v is not None]
            row[name] = (
                (statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else None)
                if values
                else None
            )
        cost = bench.get(method) or {}
        row["fps"], row["peak_mb"] = cost.get("fps"), cost.get("peak_mb")
        rows.append(row)
    return rows


#: Config names whose benchmark variant has another name in `mattebench.bench`.
BENCH_NAMES = {
    "bgmv2": "bgmv2_resnet50_hd",
    "bgmv2_mobilenetv2": "bgmv2_mobilenetv2_hd",
    "bgmv2_resnet101": "bgmv2_resnet101_hd",
    "tiramisu": "tiramisu103",
}


def read_bench(path: Path | None) -> dict[str, dict]:
    """`mattebench.bench --json` results keyed by method: its fastest 512x512 setting (or
    fastest of any size when 512x512 was not run), FPS and peak memory."""
    if path is None:
        return {}
    data = json.loads(path.read_text())
    records = data.get("results", []) if isinstance(data, dict) else data
    best: dict[str, dict] = {}
    for record in records:
        method, fps = record.get("method"), record.get("fps")
        if method is None or fps is None:
            continue
        rank = (record.get("size", "512x512") == "512x512", fps)
        if method not in best or rank > best[method]["rank"]:
            peak = record.get("peak_mem_mib", record.get("peak_mb"))
            best[method] = {"fps": fps, "peak_mb": peak, "rank": rank}
    for name, bench_name in BENCH_NAMES.items():
        if bench_name in best:
            best.setdefault(name, best[bench_name])
    return best


def _cell(value: Any, fmt: str) -> str:
    if value is None:
        return "—"
    mean, std = value
    return fmt.format(mean) + ("" if std is None else " ± " + fmt.format(std))


def table(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    header = ["method", "runs", "params (M)", *(label for label, _, _ in METRICS)]
    header += ["FPS", "peak MB"]
    body = []
    for row in rows:
        params = "—" if row["params"] is None else f"{row['params'] / 1e6:.2f}"
        cells = [row["method"], str(row["runs"]), params]
        cells += [_cell(row[name], fmt) for _, name, fmt in METRICS]
        cells += ["—" if row[k] is None else f"{row[k]:.1f}" for k in ("fps", "peak_mb")]
        body.append(cells)
    return header, body


def markdown_table(header: list[str], body: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in body])


def scatter(rows: list[dict[str, Any]], path: Path) -> Path:
    """SAD against FPS (or parameters when no benchmark was given): quality vs cost."""
    use_fps = any(r["fps"] for r in rows)
    fig, ax = plt.subplots(figsize=(5, 4))
    for row in rows:
        x = row["fps"] if use_fps else (row["params"] or 0) / 1e6
        if row["sad"] is None or x is None:
            continue
        mean, std = row["sad"]
        ax.errorbar(x, mean, yerr=std or 0, fmt="o", capsize=3)
        ax.annotate(row["method"], (x, mean), textcoords="offset points", xytext=(4, 4))
    ax.set_xlabel("inference FPS" if use_fps else "parameters (M)")
    ax.set_ylabel("SAD (lower is better)")
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


def write_report(
    runs: list[Run], out: Path, region: str = "unknown", bench: Path | None = None
) -> Path:
    """Writes `report.md`, `report.html` and the figures into `out`; returns the Markdown."""
    out.mkdir(parents=True, exist_ok=True)
    rows = summarise(runs, region, read_bench(bench))
    header, body = table(rows)
    figures = [
        ("Quality vs speed", scatter(rows, out / "quality_vs_speed.png")),
        ("Per-sample distributions", distributions(runs, region, out / "per_sample_sad.png")),
        ("The same test samples across methods", image_grid(runs, out / "samples.png")),
    ]
    failed = [r for r in runs if r.metrics is None]
    datasets = sorted({r.dataset for r in runs if r.dataset})
    intro = (
        f"{len(runs) - len(failed)} finished run(s) of {len(rows)} method(s) on "
        f"{', '.join(datasets) or 'unknown data'}; SAD/MSE/Grad/Conn/MAD on the trimap's "
        f"{region} region" + (" (unknown band)" if region == "unknown" else "") + ", IoU of "
        "alpha > 0.5 and dtSSD (clips) on whole frames; mean ± std over seeds. FPS and peak "
        "memory from the benchmark file" + (f" `{bench.name}`." if bench else " (none given).")
    )
    md = ["# Method comparison", "", intro, "", markdown_table(header, body), ""]
    for title, figure in figures:
        if figure is not None:
            md += [f"## {title}", "", f"![{title}]({figure.name})", ""]
    if failed:
        md += ["## Runs without results", ""]
        md += [f"- `{r.path}`: {' '.join(r.overrides) or 'no overrides'}" for r in failed]
    (out / "report.md").write_text("\n".join(md) + "\n")
    (out / "report.html").write_text(_html(intro, header, body, figures, failed))
    return out / "report.md"


def _html(intro, header, body, figures, failed) -> str:
    esc = html.escape
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    rows = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>" for r in body)
    parts = [
        "<!doctype html><meta charset='utf-8'><title>mattebench report</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}</style>",
        f"<h1>Method comparison</h1><p>{esc(intro)}</p>",
        f"<table><tr>{head}</tr>{rows}</table>",
    ]
    for title, figure in figures:
        if figure is not None:
            parts.append(f"<h2>{esc(title)}</h2><img src='{esc(figure.name)}'>")
    if failed:
        items = "".join(
            f"<li>{esc(str(r.path))}: {esc(' '.join(r.overrides))}</li>" for r in failed
        )
        parts.append(f"<h2>Runs without results</h2><ul>{items}</ul>")
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="run or multirun directories")
    parser.add_argument("--bench", type=Path, help="JSON from python -m mattebench.bench --json")
    parser.add_argument("--region", default="unknown", choices=("unknown", "image"))
    parser.add_argument("--out", type=Path, help="default: the first directory given")
    args = parser.parse_args(argv)
    runs = find_runs(args.runs)
    report = write_report(runs, args.out or args.runs[0], args.region, args.bench)
    print(report.read_text())
    print(f"Report written to {report} and {report.with_suffix('.html')}")


if __name__ == "__main__":
    main()
