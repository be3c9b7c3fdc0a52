"""How every generated sample is written: atomically, once, and never over foreign data.

A generator writes into a temporary sibling folder (`generate`), adds a marker file holding its
parameters, and renames the folder into place (`publish`), so an interrupted run never looks
like a complete dataset and a folder the platform did not write is never replaced. `ensure`
regenerates only when the marker is missing or holds other parameters, which makes the
`ensure_*` functions the `*_sample` configs' `sample` callables (run in `prepare_data`).
"""

from __future__ import annotations

import inspect
import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path

import cv2
import numpy as np

#: The marker file of a complete generated copy (its generation parameters).
MARKER = ".mattebench_sample.json"
_JPEG = [cv2.IMWRITE_JPEG_QUALITY, 95]


def sample_params(generator: str, version: int, **kwargs) -> dict:
    """The marker's parameters: the generator, its version, and ints/bools/int lists."""
    out = {"generator": generator, "version": version}
    for key, value in kwargs.items():
        if isinstance(value, (tuple, list)):
            out[key] = [int(v) for v in value]
        elif isinstance(value, bool):
            out[key] = value
        else:
            out[key] = int(value)
    return out


def read_marker(root: Path) -> dict | None:
    """The parameters a complete generated copy at `root` was made with, else None."""
    try:
        return json.loads((Path(root) / MARKER).read_text())
    except (OSError, ValueError):
        return None


def generate(root: str | Path, params: dict, write: Callable[[Path], None]) -> Path:
    """Write a sample with `write(tmp)` and rename it into place (refusing foreign folders)."""
    root = Path(root)
    if root.exists() and not (root / MARKER).is_file() and any(root.iterdir()):
        raise FileExistsError(f"{root} exists and is not a generated sample; not overwriting it")
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = root.parent / f".{root.name}.partial-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        tmp.mkdir()
        write(tmp)
        (tmp / MARKER).write_text(json.dumps(params, indent=1) + "\n")
        publish(tmp, root, params)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return root


def publish(tmp: Path, root: Path, params: dict) -> None:
    """Rename the finished copy into place; a concurrent generator may have won the race."""
    if read_marker(root) == params:
        return
    old = None
    if root.exists():  # an earlier generated copy (other parameters), or an empty folder
        old = root.parent / f".{root.name}.old-{uuid.uuid4().hex[:8]}"
        root.rename(old)
    try:
        tmp.rename(root)
    except OSError:
        if read_marker(root) != params:
            raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def ensure(
    root: str | Path, generator: Callable, params: Callable[..., dict], kwargs: dict
) -> Path:
    """`generator(root, **kwargs)` unless a complete copy with the same parameters (the
    generator's defaults filled in, as `params(**all)` states them) is at `root`."""
    root = Path(root)
    defaults = {
        k: p.default
        for k, p in inspect.signature(generator).parameters.items()
        if p.default is not inspect.Parameter.empty
    }
    if read_marker(root) == params(**{**defaults, **kwargs}):
        return root
    return generator(root, **kwargs)


def ensure_all(samples: Iterable[Callable[[], object]]) -> None:
    """Run several `ensure_*` partials, e.g. a test set's sample and its training sample."""
    for sample in samples:
        sample()


def write_png(path: Path, image: np.ndarray) -> None:
    """An RGB(A) or gray uint8/uint16 image as PNG (parent folders created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if image.ndim == 3:
        code = cv2.COLOR_RGBA2BGRA if image.shape[2] == 4 else cv2.COLOR_RGB2BGR
        image = cv2.cvtColor(image, code)
    if not cv2.imwrite(str(path), image):
        raise OSError(f"cannot write {path}")


def write_jpg(path: Path, image: np.ndarray) -> None:
    """An RGB or gray uint8 image as JPEG, quality 95 (parent folders created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    if not cv2.imwrite(str(path), data, _JPEG):
        raise OSError(f"cannot write {path}")
