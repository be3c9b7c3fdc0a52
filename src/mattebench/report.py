"""A local report comparing methods, from run directories alone (no W&B account needed).

    python -m mattebench.report logs/train/multiruns/<date>/ [more runs ...] \
        [--bench bench.json] [--region unknown|image] [--out DIR]

Reads every run's `config.yaml`, `metrics.json`, `method.json` and `test_samples.csv` (what
`train.py` and `eval.py` write) and writes `report.md` and `report.html`. Each test set (name and
manifest hash, from `metrics.json["testset"]`) gets its own section: runs evaluated on different
files are never put in one table. A section's table has a row per method, grouped by family,
with the inputs the method saw (RGB, +trimap, +plate, +previous alpha), parameters,
SAD/MSE/Grad/Conn/MAD on the whole image and on the trimap's unknown band side by side, IoU,
dtSSD (clip sets only), mean +- std over seeds, inference FPS and peak memory from a
`python -m mattebench.bench --json` file, and, against the best method, the paired bootstrap 95 %
interval of the mean difference in per-sample SAD (same test files, seeds pooled as samples x
seeds); a row whose interval contains 0 is flagged as within noise. Then a quality-vs-speed
scatter, per-sample distributions and an image grid of the same test samples across methods.
Runs without `metrics.json` (failed or unfinished) are listed with their overrides, not dropped.
"""

from __future__ import annotations

import argparse
import csv
import html
import json
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
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
#: Regions shown side by side for the region metrics: (column suffix, metric suffix).
REGIONS = (("img", "image"), ("unk", "unknown"))
#: How a method's evaluation inputs are named in the `inputs` column.
INPUT_LABELS = {"trimap": "+trimap", "bgr": "+plate", "prev_alpha": "+previous alpha"}
#: Families, in table order: (name, test on a run).
FAMILIES = (
    ("background matting (image + plate)", lambda run: "bgr" in (run.inputs or ())),
    ("trimap-based matting (image + trimap)", lambda run: "trimap" in (run.inputs or ())),
    ("segmentation", lambda run: run.method.startswith("tiramisu")),
    ("trimap-free matting (image only)", lambda run: run.inputs is not None),
    ("inputs unknown (no method.json)", lambda run: True),
)
#: Paired bootstrap: resamples, and the seed of its generator (the report is reproducible).
BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED = 2000, 0


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
    inputs: tuple[str, ...] | None = None

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.backbone

    @property
    def testset(self) -> tuple[str, str]:
        """(name, manifest sha256) of the files the run was tested on; ("", "") if unknown."""
        info = (self.metrics or {}).get("testset") or {}
        return str(info.get("name", "")), str(info.get("manifest_sha256", ""))

    @property
    def family(self) -> str:
        return next(name for name, member in FAMILIES if member(self))

    @property
    def inputs_label(self) -> str:
        if self.inputs is None:
            return "?"
        return " ".join(["RGB", *(INPUT_LABELS[k] for k in self.inputs if k in INPUT_LABELS)])

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
    method_file = next(iter(sorted(path.glob("**/method.json"))), None)
    inputs = tuple(json.loads(method_file.read_text())["inputs"]) if method_file else None
    return Run(
        path=path,
        method=method or path.name,
        backbone=backbone,
        dataset=_plain(cfg.get("dataset")) or choices.get("data", ""),
        seed=cfg.get("seed", choices.get("seed")),
        metrics=metrics,
        overrides=overrides,
        samples=samples,
        inputs=inputs,
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


def table(rows: list[dict[str, Any]], region: str) -> tuple[list[str], list[list[str]]]:
    """Header and body; a bold row opens each family. dtSSD only when a run has it (clips)."""
    clips = any(row.get("dtssd") is not None for row in rows)
    columns = []  # (label, row key, format)
    for label, name, fmt in METRICS:
        if name == "dtssd" and not clips:
            continue
        if name in WHOLE_IMAGE:
            columns.append((label, name, fmt))
        else:
            columns += [(f"{label} {short}", f"{name}_{reg}", fmt) for short, reg in REGIONS]
    header = ["method", "inputs", "runs", "params (M)", *(label for label, _, _ in columns)]
    header += ["FPS", "peak MB", f"ΔSAD {region[:3]} vs best [95% CI]"]
    body, family = [], None
    for row in rows:
        if row["family"] != family:
            family = row["family"]
            body.append([f"**{family}**"] + [""] * (len(header) - 1))
        params = "—" if row["params"] is None else f"{row['params'] / 1e6:.2f}"
        cells = [row["method"], row["inputs"], str(row["runs"]), params]
        cells += [_cell(row[key], fmt) for _, key, fmt in columns]
        cells += ["—" if row[k] is None else f"{row[k]:.1f}" for k in ("fps", "peak_mb")]
        cells.append(_versus_best(row))
        body.append(cells)
    return header, body


def _versus_best(row: dict[str, Any]) -> str:
    if row.get("best"):
        return "best"
    if "delta" not in row:
        return "—"
    if row["interval"] is None:
        return f"{row['delta']:+.2f} (one pair)"
    low, high = row["interval"]
    flag = " within noise" if row["noise"] else ""
    return f"{row['delta']:+.2f} [{low:+.2f}, {high:+.2f}]{flag}"


def markdown_table(header: list[str], body: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in body])


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


def explanation(region: str, bench: Path | None) -> str:
    """What each number is, under every table."""
    return (
        "SAD/MSE/Grad/Conn/MAD on the whole image (img) and on the trimap's unknown band (unk), "
        "at the ground truth's resolution. Trimap-based methods (+trimap) copy the trimap's "
        "known pixels, so their error outside the band is 0 by construction: across families "
        "compare the unknown band. IoU of alpha > 0.5 on the whole image; dtSSD only on clip "
        "sets (every frame in order). Mean ± std over seeds. ΔSAD: the mean per-sample "
        f"difference in SAD ({region}) to the best method on the same test files, with the "
        f"paired bootstrap 95 % interval ({BOOTSTRAP_RESAMPLES} resamples of samples × seeds); "
        "'within noise' when it contains 0 (frames of a clip are resampled one by one, so on "
        "clip sets the interval is optimistic). FPS and peak memory from the benchmark file"
        + (f" `{bench.name}`." if bench else " (none given).")
    )


def sections(runs: list[Run]) -> list[tuple[tuple[str, str], list[Run]]]:
    """Finished runs by test set (name, manifest hash), largest first."""
    by_set: dict[tuple[str, str], list[Run]] = defaultdict(list)
    for run in runs:
        if run.metrics is not None:
            by_set[run.testset].append(run)
    return sorted(by_set.items(), key=lambda item: (-len(item[1]), item[0]))


def write_report(
    runs: list[Run], out: Path, region: str = "unknown", bench: Path | None = None
) -> Path:
    """Writes `report.md`, `report.html` and the figures into `out`; returns the Markdown."""
    out.mkdir(parents=True, exist_ok=True)
    costs = read_bench(bench)
    failed = [r for r in runs if r.metrics is None]
    parts = sections(runs)
    md = ["# Method comparison", ""]
    if len(parts) > 1:
        md += [
            f"> **Warning: these runs were tested on {len(parts)} different test sets.** Each "
            "has its own table; numbers from different tables are not comparable.",
            "",
        ]
    html_sections = []
    for n, ((name, sha), members) in enumerate(parts):
        rows = summarise(members, region, costs)
        header, body = table(rows, region)
        suffix = "" if len(parts) == 1 else f"_{n + 1}"
        figures = [
            ("Quality vs speed", scatter(rows, region, out / f"quality_vs_speed{suffix}.png")),
            ("Per-sample distributions",
             distributions(members, region, out / f"per_sample_sad{suffix}.png")),
            ("The same test samples across methods",
             image_grid(members, out / f"samples{suffix}.png")),
        ]  # fmt: skip
        datasets = sorted({r.dataset for r in members if r.dataset})
        title = (
            f"Test set `{name}` (manifest sha256 `{sha[:16]}`)"
            if name
            else "Test set unknown (runs without `testset` in metrics.json)"
        )
        intro = (
            f"{len(members)} run(s) of {len(rows)} method(s), data "
            f"{', '.join(datasets) or 'unknown'}. {explanation(region, bench)}"
        )
        md += [f"## {title}", "", intro, "", markdown_table(header, body), ""]
        for caption, figure in figures:
            if figure is not None:
                md += [f"### {caption}", "", f"![{caption}]({figure.name})", ""]
        html_sections.append((title, intro, header, body, figures))
    if failed:
        md += ["## Runs without results", ""]
        md += [f"- `{r.path}`: {' '.join(r.overrides) or 'no overrides'}" for r in failed]
    (out / "report.md").write_text("\n".join(md) + "\n")
    (out / "report.html").write_text(
        _html(md[2:3] if len(parts) > 1 else [], html_sections, failed)
    )
    return out / "report.md"


def _html(warnings, html_sections, failed) -> str:
    esc = html.escape
    parts = [
        "<!doctype html><meta charset='utf-8'><title>mattebench report</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}</style>",
        "<h1>Method comparison</h1>",
    ]
    parts += [f"<p><strong>{esc(w.strip('> *'))}</strong></p>" for w in warnings]
    for title, intro, header, body, figures in html_sections:
        head = "".join(f"<th>{esc(h)}</th>" for h in header)
        rows = "".join(
            "<tr>" + "".join(f"<td>{esc(c.strip('*'))}</td>" for c in r) + "</tr>" for r in body
        )
        parts += [
            f"<h2>{esc(title)}</h2><p>{esc(intro)}</p>",
            f"<table><tr>{head}</tr>{rows}</table>",
        ]
        for caption, figure in figures:
            if figure is not None:
                parts.append(f"<h3>{esc(caption)}</h3><img src='{esc(figure.name)}'>")
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
