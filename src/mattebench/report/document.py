"""`report.md` and `report.html`: one section per test set, its table, explanation and figures;
then the runs without results."""

from __future__ import annotations

import html
from collections import defaultdict
from pathlib import Path
from typing import Any

from mattebench.report.figures import distributions, image_grid, scatter
from mattebench.report.runs import Run, read_bench
from mattebench.report.stats import BOOTSTRAP_RESAMPLES, METRICS, REGIONS, WHOLE_IMAGE, summarise


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
    header = ["method", "inputs", "runs", "params (M)", "steps"]
    header += [label for label, _, _ in columns]
    header += ["FPS", "peak MB", f"ΔSAD {region[:3]} vs best [95% CI]"]
    body, family = [], None
    for row in rows:
        if row["family"] != family:
            family = row["family"]
            body.append([f"**{family}**"] + [""] * (len(header) - 1))
        params = "—" if row["params"] is None else f"{row['params'] / 1e6:.2f}"
        steps = "/".join(str(n) for n in row["steps"]) or "—"  # trained steps, per seed if unequal
        cells = [row["method"], row["inputs"], str(row["runs"]), params, steps]
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


def explanation(region: str, bench: Path | None) -> str:
    """What each number is, under every table."""
    return (
        "steps: the optimiser steps each method trained for (runs of one comparison may differ: "
        "each method's recipe sets its own). "
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
