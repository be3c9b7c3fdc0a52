"""The output folder's record, which makes long jobs resumable and finished outputs safe.

Every frame is written as PNGs, `<output>/<kind>/<frame name>.png` (kind = alpha, fgr,
composite), before anything else; a video job encodes them into `<output>/<kind>.mp4` once all
frames exist. `<output>/progress.json` names the input, says whether the job finished and lists
every file the job writes (`files`, relative to the output folder). Running the same command
again resumes: frames whose PNGs all exist are skipped. An output folder that holds a finished
job, another input's job or foreign files is refused unless `overwrite=true`, and even then only
files listed in an earlier record are replaced or deleted: a file of the user's where an output
would go is an error, never overwritten.
"""

from __future__ import annotations

import json
from pathlib import Path

RECORD = "progress.json"


class OutputFolder:
    """Args:
    root: the output folder.
    input_path: the input (image, folder or video), recorded to recognise a resumable job.
    kinds: the outputs written per frame (alpha, fgr, composite).
    overwrite: allow replacing an earlier job's files (only those its record lists).
    names: the frame names of the input.
    video: the job also writes `<kind>.mp4`.
    """

    def __init__(
        self,
        root: str | Path,
        input_path: Path,
        kinds: list[str],
        overwrite: bool,
        names: list[str],
        video: bool = False,
    ):
        self.root = Path(root)
        self.kinds, self.names = kinds, names
        planned = [f"{kind}/{name}.png" for kind in kinds for name in names]
        planned += [f"{kind}.mp4" for kind in kinds] if video else []
        self.record = {"input": str(input_path.resolve()), "complete": False, "files": planned}
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

    def remove_frames(self, kind: str) -> None:
        """Deletes this job's PNGs of `kind` (after encoding them into a video), and the folder
        if nothing else is in it."""
        for name in self.names:
            self.frame_path(kind, name).unlink(missing_ok=True)
        folder = self.root / kind
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()

    def _write(self) -> None:
        (self.root / RECORD).write_text(json.dumps(self.record, indent=2) + "\n")

    def _check(self, overwrite: bool) -> bool:
        """True when resuming an unfinished job of the same input."""
        if not self.root.exists() or not any(self.root.iterdir()):
            return False
        record_file = self.root / RECORD
        previous = json.loads(record_file.read_text()) if record_file.is_file() else None
        ours = set(previous.get("files", [])) if previous else set()
        if overwrite:
            self._refuse_foreign(ours)
            self.record["files"] += sorted(ours - set(self.record["files"]))
            return False
        if previous and previous["input"] == self.record["input"] and not previous["complete"]:
            self._refuse_foreign(ours)
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

    def _refuse_foreign(self, ours: set[str]) -> None:
        """A file where this job writes that no earlier job of infer.py wrote is the user's."""
        foreign = [f for f in self.record["files"] if f not in ours and (self.root / f).exists()]
        if foreign:
            shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
            raise FileExistsError(
                f"output={self.root} holds {len(foreign)} file(s) that infer.py did not write "
                f"where it would write its outputs ({shown}); they are never overwritten. Move "
                "them or choose another output folder."
            )
