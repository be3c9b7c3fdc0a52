"""`report.md` and `report.html`: one section per test set, its table, what the numbers are,
and figures; then the runs without results. Both files are rendered (`render`) from one list
of blocks, so they say the same thing."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from mattebench.report.bootstrap import BOOTSTRAP_RESAMPLES, Comparison
from mattebench.report.figures import distributions, image_grid, scatter
from mattebench.report.references import PLATE_THRESHOLD, reference_runs
from mattebench.report.render import markdown, to_html
from mattebench.report.rows import NOT_THE_EXPERIMENT
from mattebench.report.runs import Run, read_bench
from mattebench.report.stats import METRICS, REGIONS, WHOLE_IMAGE, summarise

#: Short names of the ranking regions, as in the column labels.
SHORT = {region: short for short, region in REGIONS}


def _cell(value: Any, fmt: str) -> str:
    if value is None:
        return "—"
    mean, std = value
    return fmt.format(mean) + ("" if std is None else " ± " + fmt.format(std))


def table(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """Header and body; a bold row opens each family and names what it is ranked on. dtSSD
    only when a run has it (clips)."""
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
    header += ["ranked SAD per seed", "FPS", "peak MB", "ΔSAD vs family best [95% CI]",
               "ΔSAD img vs best overall [95% CI]", "vs best reference [95% CI]"]  # fmt: skip
    body, family = [], None
    for row in rows:
        if row["family"] != family:
            family = row["family"]
            ranked = f"**{family}** (ranked on SAD {SHORT[row['ranked_on']]})"
            body.append([ranked] + [""] * (len(header) - 1))
        params = "—" if row["params"] is None else f"{row['params'] / 1e6:.2f}"
        steps = "/".join(str(n) for n in row["steps"]) or "—"  # trained steps, per seed if unequal
        runs = "—" if row["reference"] else str(row["runs"])
        cells = [row["method"], row["inputs"], runs, params, steps]
        cells += [_cell(row[key], fmt) for _, key, fmt in columns]
        cells.append(_seeds(row["per_seed"]))
        cells += ["—" if row[k] is None else f"{row[k]:.1f}" for k in ("fps", "peak_mb")]
        cells += [_versus(row.get("versus_family")), _versus(row.get("versus_all"))]
        cells.append("reference" if row["reference"] else _reference(row.get("versus_reference")))
        body.append(cells)
    return header, body


def _seeds(values: dict[str, tuple[float, int]]) -> str:
    """`s1 10.21 · s2 10.60`, and how many runs a seed averages when more than one."""
    return " · ".join(
        f"s{seed} {mean:.2f}" + (f" ({runs} runs)" if runs > 1 else "")
        for seed, (mean, runs) in values.items()
    ) or "—"  # fmt: skip


def _versus(versus: Comparison | str | None) -> str:
    if versus is None or versus == "best":
        return versus or "—"
    text = f"{versus.delta:+.2f}"
    if versus.interval is None:
        text += " (one unit: no interval)"
    else:
        low, high = versus.interval
        noise = " within noise" if versus.noise else ""
        text += f" [{low:+.2f}, {high:+.2f}]{noise} ({_basis(versus)})"
    if not versus.units_known:
        text += " (units unknown: samples treated as independent)"
    return text


def _basis(versus: Comparison) -> str:
    """What an interval rests on, e.g. `5 clips × 2 seeds, paired`, and what it leaves out."""
    units = f"{versus.units} {versus.noun if versus.units_known else 'samples'}"
    counts = [n for n in versus.seeds if n]  # references have no seeds
    if not counts:
        return f"{units}, no training"
    single = versus.paired_seeds or len(counts) == 1
    text = f"{units} × {counts[0] if single else ' vs '.join(map(str, counts))} "
    text += "seed" if max(counts) == 1 else "seeds"
    if versus.paired_seeds and counts[0] > 1:
        text += ", paired"
    if max(counts) == 1:
        text += ": training variance not covered"
    elif 1 in counts:
        text += ": a 1-seed row's training variance not covered"
    if versus.samples < versus.of_samples:
        text += f"; on the {versus.samples} of {versus.of_samples} samples every run scored"
    return text


def _reference(versus: tuple[str, Comparison | None, bool] | None) -> str:
    if versus is None:
        return "—"
    name, comparison, beaten = versus
    verdict = "beats" if beaten else "⚠ does not beat"
    return f"{verdict} {name}: {_versus(comparison)}"


def explanation(rows: list[dict[str, Any]], bench: Path | None) -> list[str]:
    """What each number is, under every table: one paragraph per subject."""
    splits = defaultdict(set)
    for row in rows:
        for key in row["split"]:
            splits[key].add(row["members"][0].label)
    paragraphs = [
        "**Rows.** A row is one method configuration: its runs differ in the seed alone "
        f"(config keys that never change a result are ignored: {', '.join(NOT_THE_EXPERIMENT)}; "
        "output paths are compared relative to the run's own directories). An eval.py run "
        "counts as the training run it evaluated (that run's seed and config). Runs of one "
        "seed (e.g. two evaluations of one checkpoint) are averaged; every metric is then the "
        "mean ± std over seeds, and `ranked SAD per seed` gives each seed's value. runs: the "
        "run directories in the row. steps: the optimiser steps trained (each method's recipe "
        "sets its own).",
        "**Metrics.** SAD/MSE/Grad/Conn/MAD at the ground truth's resolution on the whole "
        "image (img) and on the trimap's unknown band (unk); IoU of α > 0.5 on the whole "
        "image; dtSSD only on clip sets (every frame in order).",
        "**Ranking within a family**, on what its methods are given. Trimap-based methods copy "
        "the trimap's known pixels, so all their error lies in the band (their SAD img equals "
        "their SAD unk) and they are ranked on SAD unk, as DIM and Composition-1K report them. "
        "Plate-based, trimap-free and segmentation methods get no trimap: they are ranked on "
        "SAD img, the whole frame as BGMv2, RVM and MODNet report them; on the band alone an "
        "error outside it is never seen (a constant α = 0.5 scores there like a matting "
        "method), so SAD unk is only a diagnostic for them. **ΔSAD vs family best**: the mean "
        "per-sample difference in the family's ranking SAD to the family's best method "
        "(positive: worse). **ΔSAD img vs best overall**: across families, only on the whole "
        "image, to the best method of any family (families are given different inputs: "
        "trimap-based ones get the most).",
        "**Intervals** are 95 % percentile intervals of a hierarchical paired bootstrap "
        f"({BOOTSTRAP_RESAMPLES} resamples, fixed seed): per-sample differences on the same "
        "test files; the test set's independent units (a clip's frames, one foreground's "
        "composites are one unit) are resampled with replacement, the same units for both "
        "rows, and so are the seeds (training runs) of each row, as pairs when both rows have "
        "the same seeds. Each interval says what it rests on, e.g. `(5 clips × 2 seeds, "
        "paired)`; with one seed, training variance is not in it. 'within noise': the "
        "interval contains 0.",
        "**References** (rows `reference: …`, computed from the test set's own files with the "
        "metric code methods are scored with): the trimap alone (α = 0.5 in the band, known "
        "pixels copied) for trimap-based methods; the plate difference (α = 1 where the "
        f"largest channel of |image − plate| exceeds {PLATE_THRESHOLD}, a fixed rule, not "
        "tuned) for plate-based ones; an empty matte (α = 0) and a constant α = 0.5 for "
        "trimap-free methods and segmenters. A reference has no training: one run, no seed. "
        "`vs best reference`: the difference to the family's best reference in its ranking "
        "SAD; ⚠ when the method's mean does not beat it.",
        "FPS and peak memory from the benchmark file"
        + (f" `{bench.name}`." if bench else " (none given)."),
    ]
    if splits:
        named = "; ".join(f"{key} ({', '.join(sorted(m))})" for key, m in sorted(splits.items()))
        paragraphs.insert(1, f"**Rows split by:** {named}.")
    return paragraphs


def sections(runs: list[Run]) -> list[tuple[tuple[str, str], list[Run]]]:
    """Finished runs by test set (name, manifest hash), largest first."""
    by_set: dict[tuple[str, str], list[Run]] = defaultdict(list)
    for run in runs:
        if run.metrics is not None:
            by_set[run.testset].append(run)
    return sorted(by_set.items(), key=lambda item: (-len(item[1]), item[0]))


def write_report(runs: list[Run], out: Path, bench: Path | None = None) -> Path:
    """Writes `report.md`, `report.html` and the figures into `out` (references cached in
    `out/references/`); returns the Markdown."""
    out.mkdir(parents=True, exist_ok=True)
    costs = read_bench(bench)
    failed = [r for r in runs if r.metrics is None]
    parts = sections(runs)
    blocks: list[tuple] = [("h1", "Method comparison")]
    if len(parts) > 1:
        blocks.append(
            ("p", f"**Warning: these runs were tested on {len(parts)} different test sets.** "
             "Each has its own table; numbers from different tables are not comparable.")
        )  # fmt: skip
    for n, ((name, sha), members) in enumerate(parts):
        references, note = reference_runs(members, out / "references") if name else ([], None)
        rows = summarise(members + references, costs)
        methods = [row for row in rows if not row["reference"]]
        suffix = "" if len(parts) == 1 else f"_{n + 1}"
        datasets = sorted({r.dataset for r in members if r.dataset})
        blocks.append(
            ("h2", f"Test set `{name}` (manifest sha256 `{sha[:16]}`)" if name
             else "Test set unknown (runs without `testset` in metrics.json)")
        )  # fmt: skip
        blocks.append(
            ("p", f"{len(members)} run(s) of {len(methods)} method row(s), data "
             f"{', '.join(datasets) or 'unknown'}.")
        )  # fmt: skip
        blocks.append(("table", *table(rows)))
        blocks += [("p", text) for text in explanation(rows, bench)]
        if note:
            blocks.append(("p", note))
        figures = [
            ("Quality vs speed (whole-image SAD)",
             scatter(methods, "image", out / f"quality_vs_speed{suffix}.png")),
            ("Per-sample distributions (whole-image SAD)",
             distributions(members, "image", out / f"per_sample_sad{suffix}.png")),
            ("The same test samples across methods",
             image_grid(members, out / f"samples{suffix}.png")),
        ]  # fmt: skip
        blocks += [("figure", caption, f.name) for caption, f in figures if f is not None]
    if failed:
        blocks.append(("h2", "Runs without results"))
        blocks.append(
            ("list", [f"`{r.path}`: {' '.join(r.overrides) or 'no overrides'}" for r in failed])
        )
    (out / "report.md").write_text(markdown(blocks))
    (out / "report.html").write_text(to_html(blocks))
    return out / "report.md"
