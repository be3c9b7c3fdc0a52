"""Per-sample test records, so methods can be compared sample by sample, not only on means.

Every test image gets a row (its id, its unit, and the value of every metric in the
collection, read from the metrics' latest update, so nothing is computed twice). The `unit` is
the independent unit a paired bootstrap resamples (`meta["unit"]`: the source clip or source
foreground the sample was made from; several rows share one), so the report can cluster by it.
It is the source's own id, not prefixed like `id`: a run tests on one set, whose units are
unique within it; empty for an item that names none (not guessed here: the report says when it
has to treat a sample as its own unit). The first `save_samples` images also keep their input
and predicted alpha. At the end of the test the rows go to `test_samples.csv` in the run
directory, the kept alphas to `predictions/`, and the kept rows to a W&B table
(`test/samples`) whose `id` column joins the same samples across runs.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from torchvision.utils import save_image

from mattebench.metrics import MattingMetrics
from mattebench.metrics.image import MattingMetric


def sample_id(meta: dict[str, Any]) -> str:
    """The item's `meta["id"]` (unique within a test set; `source/id` where the item names its
    source), so the same sample gets the same id in every run and rows pair across methods."""
    name = str(meta.get("id", meta.get("index", "?")))
    return f"{meta['source']}/{name}" if "source" in meta else name


class SampleRecords:
    def __init__(self, save_samples: int = 8) -> None:
        self.save_samples = save_samples
        self.rows: list[dict[str, Any]] = []
        self.kept: list[tuple[str, Tensor, Tensor, Tensor]] = []  # id, image, alpha, GT

    def add(self, batch: dict[str, Any], alpha: Tensor, metrics: MattingMetrics) -> None:
        """Record the batch just scored by `metrics.update`."""
        values = {
            name.rsplit("/", 1)[-1]: metric.last_values
            for name, metric in metrics.items(keep_base=False, copy_state=False)
            if isinstance(metric, MattingMetric) and metric.last_values is not None
        }
        metas = batch.get("meta") or [{"index": len(self.rows) + n} for n in range(len(alpha))]
        for n, meta in enumerate(metas):
            row = {"id": sample_id(meta), "unit": str(meta.get("unit", ""))}
            row.update({k: float(v[n]) for k, v in values.items()})
            self.rows.append(row)
            if len(self.kept) < self.save_samples:
                self.kept.append(
                    (
                        row["id"],
                        *(x[n].float().cpu() for x in (batch["image"], alpha, batch["alpha"])),
                    )
                )

    def write(self, folder: Path) -> Path:
        """`test_samples.csv`, and for the kept samples `predictions/<id>.png` with the input
        (`<id>.input.jpg`) and ground truth (`<id>.gt.png`) beside it, for image grids across
        runs (slashes of ids become `__`)."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "test_samples.csv"
        with path.open("w", newline="") as f:
            header = list(self.rows[0]) if self.rows else ["id", "unit"]
            writer = csv.DictWriter(f, fieldnames=header)
            writer.writeheader()
            writer.writerows(self.rows)
        predictions = folder / "predictions"
        predictions.mkdir(exist_ok=True)
        for name, image, alpha, target in self.kept:
            stem = name.replace("/", "__")
            save_image(alpha, predictions / f"{stem}.png")
            save_image(image, predictions / f"{stem}.input.jpg")
            save_image(target, predictions / f"{stem}.gt.png")
        return path

    def wandb_table(self) -> Any:
        """The kept samples as a `wandb.Table`: id, input, predicted alpha, unit and metrics."""
        import wandb

        rows = {row["id"]: row for row in self.rows}
        columns = [k for k in (self.rows[0] if self.rows else {}) if k != "id"]
        table = wandb.Table(columns=["id", "image", "alpha", *columns])
        for name, image, alpha, _ in self.kept:
            table.add_data(
                name,
                wandb.Image(_hwc(image)),
                wandb.Image(_hwc(alpha)),
                *(rows[name][k] for k in columns),
            )
        return table


def _hwc(x: Tensor) -> Any:
    return (x.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).squeeze(-1).numpy()
