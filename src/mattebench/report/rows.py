"""Which runs share a table row: runs of one method whose configs differ in the seed alone.

A row is one experiment repeated over training seeds. Runs are told apart by their directory,
never by their seed value: two evaluations of one checkpoint, or two checkpoints of one seed,
are two runs of the row (`stats` averages runs of one seed). Runs whose configs differ in
anything that changes the result (a learning rate, the epochs, the data) are separate rows,
and the table names the keys that split them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from mattebench.report.runs import Run

#: Config keys (and everything under them) that never define the experiment, so runs that
#: differ only in them share a row.
NOT_THE_EXPERIMENT = (
    "seed",  # the replicate a row repeats over
    "paths", "hydra",  # where the run was written
    "task_name", "train", "test", "ckpt_path", "resume_in_run_dir",  # entry point, resuming
    "run_name", "experiment_name", "tags", "logger",  # how the run is named and logged
    "callbacks.rich_progress_bar",  # console output
    "model.save_samples", "model.panel_every_n_epochs", "model.panel_samples",  # what is kept
    "trainer.accelerator", "trainer.log_every_n_steps", "trainer.enable_progress_bar",
    "trainer.default_root_dir",  # where and how verbosely it ran
    "data.num_workers",  # loader processes
)  # fmt: skip
#: Run directories referred to in a config, replaced by their key so that two runs writing to
#: different places have equal configs (`callbacks.model_checkpoint.dirpath`, data roots).
PATH_KEYS = ("output_dir", "log_dir", "data_dir", "root_dir")
QUOTE = '"'  # of a JSON string value, left out where a value is shown


@dataclass
class Row:
    """The runs of one row, the identity they share, and (when a method has several rows)
    the values of the keys that split them, e.g. {"model.lr": "0.01"}."""

    runs: list[Run]
    identity: dict[str, str]
    split: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        values = ", ".join(f"{key}={value.strip(QUOTE)}" for key, value in self.split.items())
        return self.runs[0].label + (f" [{values}]" if values else "")


def identity(config: dict[str, Any]) -> dict[str, str]:
    """The flattened config (`a.b.c` -> value as JSON) without `NOT_THE_EXPERIMENT`, with the
    run's own directories written as `${paths.<key>}`."""
    paths = config.get("paths") or {}
    places = sorted(
        ((str(paths[key]), f"${{paths.{key}}}") for key in PATH_KEYS if paths.get(key)),
        key=lambda place: -len(place[0]),
    )
    flat = {}
    for key, value in _flatten(config):
        if any(key == skip or key.startswith(skip + ".") for skip in NOT_THE_EXPERIMENT):
            continue
        text = json.dumps(value, sort_keys=True)
        for place, name in places:
            text = text.replace(place, name)
        flat[key] = text
    return flat


def _flatten(config: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if not isinstance(config, dict) or not config:
        return [(prefix, config)]
    return [
        item
        for key, value in config.items()
        for item in _flatten(value, f"{prefix}.{key}" if prefix else str(key))
    ]


def group_rows(runs: list[Run]) -> list[Row]:
    """Rows of `runs` (finished, one test set): per method, runs whose identities agree on every
    key both have (a key only one config has, e.g. an eval config's missing callbacks, splits
    nothing); then, where a method has several rows, the keys that split them."""
    rows: list[Row] = []
    for run in sorted(runs, key=lambda r: (r.label, str(r.path))):
        mine = identity(run.config)
        row = next((r for r in rows if r.runs[0].label == run.label and _agree(r.identity, mine)),
                   None)  # fmt: skip
        if row is None:
            rows.append(Row([run], mine))
        else:
            row.runs.append(run)
            row.identity = {**mine, **row.identity}
    for row in rows:
        siblings = [r for r in rows if r.runs[0].label == row.runs[0].label]
        keys = sorted(
            {k for a in siblings for b in siblings for k in a.identity
             if k in b.identity and a.identity[k] != b.identity[k]}
        )  # fmt: skip
        row.split = {key: row.identity.get(key, "—") for key in keys}
    return rows


def _agree(a: dict[str, str], b: dict[str, str]) -> bool:
    return all(a[key] == b[key] for key in a.keys() & b.keys())
