"""A local report comparing methods, from run directories alone (no W&B account needed).

    python -m mattebench.report logs/train/multiruns/<date>/ [more runs ...] \
        [--bench bench.json] [--out DIR]

Reads every run's `config.yaml`, `metrics.json`, `method.json` and `test_samples.csv` (what
`train.py` and `eval.py` write) and writes `report.md` and `report.html`. Each test set (name and
manifest hash, from `metrics.json["testset"]`) gets its own section: runs evaluated on different
files are never put in one table. A row is one experiment: runs keyed by their directory whose
configs differ in the seed alone (the keys that split a method's rows are named). Rows are
grouped by family (what a method is given: plate, trimap, image only, or a segmenter) and
ranked within it on the SAD its papers use (the trimap's unknown band for trimap-based methods,
the whole image for the others); across families only on the whole image. Every metric is the
mean +- std over seeds, with each seed's ranking SAD beside it. Differences come with 95 %
intervals of a hierarchical paired bootstrap that resamples the test set's independent units
(clips, source foregrounds) and the training seeds, and say how many of each they rest on.
Reference rows computed from the test set itself (the trimap alone, a thresholded plate
difference, an empty and a constant matte) are what each family must beat; a method that does
not is flagged. Then a quality-vs-speed scatter, per-sample distributions and an image grid of
the same test samples across methods. Runs without `metrics.json` (failed or unfinished) are
listed with their overrides, not dropped. Methods are named by their model config
(`model=<name>`) in runs and benchmark alike.

Jobs: `runs` (reading run directories and the benchmark file), `rows` (which runs share a
row), `units` (each sample's independent unit), `bootstrap` (the intervals), `references` (the
rows to beat), `stats` (the table's numbers and rankings), `figures`, `document` (the sections,
tables and their explanation), `render` (blocks as Markdown and HTML), `__main__` (the command
line).
"""

from mattebench.report.bootstrap import Comparison, compare, interval
from mattebench.report.document import table, write_report
from mattebench.report.figures import distributions, image_grid, scatter
from mattebench.report.references import REFERENCES, reference_runs
from mattebench.report.render import markdown_table
from mattebench.report.rows import NOT_THE_EXPERIMENT, group_rows, identity
from mattebench.report.runs import FAMILIES, Run, find_runs, read_bench, read_run
from mattebench.report.stats import summarise

__all__ = [
    "FAMILIES", "NOT_THE_EXPERIMENT", "REFERENCES", "Comparison", "Run", "compare",
    "distributions", "find_runs", "group_rows", "identity", "image_grid", "interval",
    "markdown_table", "read_bench", "read_run", "reference_runs", "scatter", "summarise",
    "table", "write_report",
]  # fmt: skip
