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
Methods are named by their model config (`model=<name>`) in runs and benchmark alike.

Jobs: `runs` (reading run directories and the benchmark file), `stats` (means, stds, paired
bootstrap), `figures`, `document` (the Markdown and HTML), `__main__` (the command line).
"""

from mattebench.report.document import markdown_table, table, write_report
from mattebench.report.figures import distributions, image_grid, scatter
from mattebench.report.runs import Run, find_runs, read_bench, read_run
from mattebench.report.stats import bootstrap_interval, paired_differences, summarise

__all__ = [
    "Run", "bootstrap_interval", "distributions", "find_runs", "image_grid", "markdown_table",
    "paired_differences", "read_bench", "read_run", "scatter", "summarise", "table",
    "write_report",
]  # fmt: skip
