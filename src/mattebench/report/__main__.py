"""`python -m mattebench.report <run dirs> [--bench bench.json] [--out DIR]`.

No region option: what each family is ranked on is part of the protocol (the unknown band for
trimap-based methods, the whole image for the others), and both regions are always shown.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mattebench.report import __doc__ as description
from mattebench.report.document import write_report
from mattebench.report.runs import find_runs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m mattebench.report", description=description.split("\n\n")[0]
    )
    parser.add_argument("runs", nargs="+", type=Path, help="run or multirun directories")
    parser.add_argument("--bench", type=Path, help="JSON from python -m mattebench.bench --json")
    parser.add_argument("--out", type=Path, help="default: the first directory given")
    args = parser.parse_args(argv)
    runs = find_runs(args.runs)
    report = write_report(runs, args.out or args.runs[0], args.bench)
    print(report.read_text())
    print(f"Report written to {report} and {report.with_suffix('.html')}")


main()
