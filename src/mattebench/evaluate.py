"""Score a folder of predicted alpha mattes against ground truth, without running any model.

For predictions produced elsewhere (another code base, a released set of results): files are
matched by name without extension, each image is scored with the definitions of `mattebench.metrics`
under the chosen convention, and the per-image values and their plain mean over images (as the
official evaluation codes average) go to a table, ``<out>.json`` and ``<out>.csv``.

Usage::

    python -m mattebench.evaluate --pred results/mymethod --alpha data/comp1k/alpha \\
        --trimap data/comp1k/trimaps --convention dim
    # -> results/mymethod/evaluation.json and results/mymethod/evaluation.csv

``--convention mmagic`` reproduces mmagic 1.x numbers (needs ``--trimap``; no MAD). Without a
trimap, ``--region auto`` scores the whole image. The exit status is 2 on any error.

Against a built test set (`mattebench.testsets`), the ground truth and trimaps are the set's
files, matched by sample id, and the report names the set and its hash::

    python -m mattebench.evaluate --testset data/testsets/photomatte85 --pred out/alpha
    # a clip set, one `infer.py input=<set>/image/<clip> output=out/<clip>` per clip:
    python -m mattebench.evaluate --testset <set> --pred out --pred-kind alpha
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mattebench.evaluation.cases import EvaluationError
from mattebench.evaluation.score import evaluate_folder, metric_names

__all__ = ["EvaluationError", "evaluate_folder", "main", "write_reports"]


def write_reports(results: dict[str, Any], prefix: str | Path) -> tuple[Path, Path]:
    """Write ``<prefix>.json`` and ``<prefix>.csv`` (one row per image, then ``mean``)."""
    prefix = Path(prefix)
    json_path = prefix.parent / f"{prefix.name}.json"
    csv_path = prefix.parent / f"{prefix.name}.csv"
    names = list(results["mean"])
    try:
        prefix.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        with csv_path.open("w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            writer.writerow(["name", *names])
            for image, scores in results["images"].items():
                writer.writerow([image, *(scores[name] for name in names)])
            writer.writerow(["mean", *(results["mean"][name] for name in names)])
    except OSError as exc:
        raise EvaluationError(f"cannot write the reports: {exc}") from exc
    return json_path, csv_path


def format_row(label: str, scores: dict[str, float], names: Sequence[str]) -> str:
    """Fixed-width values first and the name last, so rows can be printed as they come."""
    return "".join(f"{scores[name]:>12.5g}" for name in names) + f"  {label}"


def format_header(names: Sequence[str]) -> str:
    return "".join(f"{name:>12}" for name in names) + "  name"


def _row_printer(names: Sequence[str]) -> Callable[[str, dict[str, float]], None]:
    """Print the header with the first row: an error before any image prints no table."""
    started = False

    def print_row(label: str, scores: dict[str, float]) -> None:
        nonlocal started
        if not started:
            print(format_header(names), flush=True)
            started = True
        print(format_row(label, scores, names), flush=True)

    return print_row


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="mattebench-evaluate",
        description="Score predicted alpha mattes against ground truth, matched by file name.",
    )
    parser.add_argument("--pred", type=Path, required=True, help="folder of predicted alphas")
    parser.add_argument("--alpha", type=Path, help="folder of ground-truth alphas")
    parser.add_argument(
        "--testset",
        type=Path,
        help="a built test set's folder instead of --alpha/--trimap (predictions by sample id)",
    )
    parser.add_argument(
        "--pred-kind",
        help="with --testset: read infer.py outputs <pred>/<clip>/<kind>/<frame>.png (e.g. alpha)",
    )
    parser.add_argument("--trimap", type=Path, help="folder of trimaps (0/128/255)")
    parser.add_argument(
        "--convention",
        choices=("dim", "mmagic"),
        default="dim",
        help="official DIM MATLAB code (default) or mmagic 1.x",
    )
    parser.add_argument(
        "--region",
        choices=("auto", "unknown", "image"),
        default="auto",
        help="pixels scored; auto: the trimap's unknown region with --trimap, else the image",
    )
    parser.add_argument(
        "--force-known",
        action="store_true",
        help="set predictions to the trimap's known values first (always on under mmagic)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="report path without extension (default: <pred>/evaluation -> .json and .csv)",
    )
    parser.add_argument(
        "--allow-missing",
        action="store_true",
        help="skip ground-truth alphas without a prediction instead of failing",
    )
    parser.add_argument(
        "--keep-going",
        action="store_true",
        help="score the other images when one cannot be read or scored, list the failures "
        "(exit status 1 if any)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (2 on any input error)."""
    args = parse_args(argv)
    out = args.out if args.out is not None else args.pred / "evaluation"
    print_row = _row_printer(metric_names(args.convention))
    try:
        results = evaluate_folder(
            args.pred,
            args.alpha,
            args.trimap,
            convention=args.convention,
            region=args.region,
            force_known=True if args.force_known else None,
            allow_missing=args.allow_missing,
            on_image=print_row,
            testset=args.testset,
            pred_kind=args.pred_kind,
            keep_going=args.keep_going,
        )
        names = list(results["mean"])
        print("-" * (12 * len(names) + 6))
        print(format_row("mean", results["mean"], names))
        json_path, csv_path = write_reports(results, out)
    except EvaluationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"{results['count']} image(s), convention={results['convention']}, "
        f"region={results['region']}, force_known={results['force_known']}"
    )
    print(f"wrote {json_path} and {csv_path}")
    failures = results.get("failures", {})
    for name, reason in failures.items():
        print(f"failed: {name}: {reason}", file=sys.stderr)
    if failures:
        print(f"{len(failures)} image(s) could not be scored (listed above)", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
