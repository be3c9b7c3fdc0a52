"""The output folder's record, which makes long jobs resumable and finished outputs safe.

Every frame is written as PNGs, `<output>/<kind>/<frame name>.png` (kind = alpha, fgr,
composite), before anything else; a video job encodes them into `<output>/<kind>.mp4` once all
frames exist. `<output>/progress.json` names the input and says whether the job finished. Running
the same command again resumes: frames whose PNGs all exist are skipped. An output folder that
holds a finished job, another input's job or foreign files is refused unless `overwrite=true`.
"""

from __future__ import annotations

import json
from pathlib import Path

RECORD = "progress.json"


class OutputFolder:
    def __init__(self, root: str | Path, input_path: Path, kinds: list[str], overwrite: bool):
        self.root = Path(root)
        self.kinds = kinds
        self.record = {"input": str(input_path.resolve()), "complete": False}
        self.resuming = self._check(overwrite)

    def frame_path(self, kind: str, name: str) -> Path:
        return self.root / kind / f"{name}.png"

    def done(self, names: list[str]) -> set[int]:
        """Indices of the frames whose every output exists (none when not resuming)."""
        if not self.resuming:
            return set()
        return {
            i
            for i, name in enumerate(names)
            if all(self.frame_path(kind, name).is_file() for kind in self.kinds)
        }

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self._write()

    def finish(self) -> None:
        self.record["complete"] = True
        self._write()

    def _write(self) -> None:
        (self.root / RECORD).write_text(json.dumps(self.record, indent=2) + "\n")

    def _check(self, overwrite: bool) -> bool:
        """True when resuming an unfinished job of the same input."""
        if not self.root.exists() or not any(self.root.iterdir()):
            return False
        if overwrite:
            return False
        record_file = self.root / RECORD
        previous = json.loads(record_file.read_text()) if record_file.is_file() else None
        if previous and previous["input"] == self.record["input"] and not previous["complete"]:
            return True
        if previous is None:
            why = "is not empty and was not written by infer.py"
        elif previous["complete"]:
            why = f"holds a finished job (input {previous['input']})"
        else:
            why = f"holds an unfinished job of another input ({previous['input']})"
        raise FileExistsError(
            f"output={self.root} {why}. Choose another output folder, or set overwrite=true "
            "to write over it."
        )
