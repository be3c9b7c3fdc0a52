"""The report's inputs: run directories (what `train.py` and `eval.py` write) and a benchmark
file (`python -m mattebench.bench --json`), both keyed by the method's model config name."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

#: How a method's evaluation inputs are named in the `inputs` column.
INPUT_LABELS = {"trimap": "+trimap", "bgr": "+plate", "prev_alpha": "+previous alpha"}


@dataclass(frozen=True)
class Family:
    """Methods given the same inputs, ranked among themselves on `ranked_on` (the region of
    the SAD that decides their order: what their own papers score them on)."""

    name: str
    ranked_on: str
    member: Callable[[Run], bool]


#: Families, in table order; a run belongs to the first whose test it passes.
FAMILIES = (
    Family("background matting (image + plate)", "image", lambda run: "bgr" in (run.inputs or ())),
    Family("trimap-based matting (image + trimap)", "unknown",
           lambda run: "trimap" in (run.inputs or ())),
    Family("segmentation", "image", lambda run: run.segmentation),
    Family("trimap-free matting (image only)", "image", lambda run: run.inputs is not None),
    Family("inputs unknown (no method.json)", "image", lambda run: True),
)  # fmt: skip


@dataclass
class Run:
    """One run directory (or a reference computed from a test set): what it ran, the config
    that defines its experiment and, if it finished, its metrics and per-sample rows."""

    path: Path
    method: str
    backbone: str
    dataset: str
    seed: Any
    metrics: dict[str, Any] | None
    overrides: list[str] = field(default_factory=list)
    samples: list[dict[str, str]] = field(default_factory=list)
    inputs: tuple[str, ...] | None = None
    segmentation: bool = False
    #: The resolved config of the training run (an eval run's `run.trained_in` when that
    #: directory is still there, else its own): what decides which runs share a row.
    config: dict[str, Any] = field(default_factory=dict)
    #: A reference rule scored on the test set itself (`report.references`), not a method.
    reference: bool = False

    @property
    def testset(self) -> tuple[str, str]:
        """(name, manifest sha256) of the files the run was tested on; ("", "") if unknown."""
        info = (self.metrics or {}).get("testset") or {}
        return str(info.get("name", "")), str(info.get("manifest_sha256", ""))

    @property
    def family(self) -> Family:
        return next(family for family in FAMILIES if family.member(self))

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

    @property
    def seed_label(self) -> str:
        """The training run's seed; a run of unknown seed (a checkpoint from elsewhere) is its
        own training run, named by its directory, never merged with another."""
        return str(self.seed) if self.seed is not None else f"? ({self.path.name})"


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
    """A run directory. An eval run (`metrics.json["run"]`) is the training run it evaluated:
    that run's seed, and its config when its directory is still there."""
    cfg = _config(path)
    overrides_file = path / ".hydra" / "overrides.yaml"
    overrides = list(OmegaConf.load(overrides_file)) if overrides_file.is_file() else []
    choices = dict(o.split("=", 1) for o in overrides if "=" in o)
    method = _plain(cfg.get("method")) or choices.get("model") or _target_name(cfg.get("model"))
    net = (cfg.get("model") or {}).get("net") or {}
    backbone = _plain(net.get("backbone")) or ""
    metrics_file = path / "metrics.json"
    metrics = json.loads(metrics_file.read_text()) if metrics_file.is_file() else None
    trained = (metrics or {}).get("run")
    seed = trained.get("seed") if trained else cfg.get("seed", choices.get("seed"))
    source = Path(trained["trained_in"]) if trained and trained.get("trained_in") else None
    samples = []
    for table in sorted(path.glob("**/test_samples.csv")):
        with table.open() as f:
            samples += list(csv.DictReader(f))
    method_file = next(iter(sorted(path.glob("**/method.json"))), None)
    declared = json.loads(method_file.read_text()) if method_file else {}
    inputs = tuple(declared["inputs"]) if "inputs" in declared else None
    return Run(
        path=path,
        method=method or path.name,
        backbone=backbone,
        dataset=_plain(cfg.get("dataset")) or choices.get("data", ""),
        seed=seed,
        metrics=metrics,
        overrides=overrides,
        samples=samples,
        inputs=inputs,
        segmentation=bool(declared.get("segmentation")),
        config=_config(source) if source and (source / "config.yaml").is_file() else cfg,
    )


def _config(path: Path) -> dict[str, Any]:
    """A run's resolved `config.yaml`, else Hydra's copy (a run that failed before writing its
    own), else nothing."""
    for file in (path / "config.yaml", path / ".hydra" / "config.yaml"):
        if file.is_file():
            return OmegaConf.to_container(OmegaConf.load(file))
    return {}


def _plain(value: Any) -> str | None:
    """A config value, unless it is an unresolved interpolation (Hydra's own config copy)."""
    return None if value is None or "${" in str(value) else str(value)


def _target_name(section: Any) -> str | None:
    target = section.get("_target_") if isinstance(section, dict) else None
    return target.rsplit(".", 1)[-1] if target else None


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
    return best
