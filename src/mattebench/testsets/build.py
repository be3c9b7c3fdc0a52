"""Materialise a protocol's samples as PNG files plus `manifest.json`, once.

A set is written into a temporary folder beside its final place and renamed into place when
complete, so a killed build leaves no half-set under the real name, and two processes (DDP
ranks) building the same set end with one. The hashes computed while writing seed the
verification cache, so the first evaluation of a new set re-hashes nothing. An existing set is
never rewritten: its settings must match the request, and `verify=True` re-hashes every file
(what `python -m mattebench.testsets verify` does; evaluation verifies through the cache).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from mattebench.testsets.manifest import (
    GENERATOR_VERSION,
    MANIFEST,
    TestSetError,
    check_settings,
    file_hash,
    read_manifest,
    set_hash,
    verify_files,
    write_cache,
    write_manifest,
)
from mattebench.testsets.protocols import Protocol

log = logging.getLogger(__name__)

#: Fixed so that the same pixels give the same bytes (and hashes) on every build.
PNG_OPTIONS = [cv2.IMWRITE_PNG_COMPRESSION, 3]


def settings(protocol: Protocol, foregrounds, backgrounds, seed: int) -> dict[str, Any]:
    """What a set on disk must have been built with to be reused."""
    return {
        "name": protocol.name,
        "protocol": protocol.protocol,
        "generator_version": GENERATOR_VERSION,
        "seed": int(seed),
        "params": protocol.params(),
        "data": {"foregrounds": _identity(foregrounds), "backgrounds": _identity(backgrounds)},
    }


def ensure(
    protocol: Protocol, foregrounds, backgrounds, root: str | Path, seed: int, verify: bool = False
) -> Path:
    """The set's folder `<root>/<name>`, built if absent; an existing one is checked against
    the requested settings (and with `verify`, re-hashing every file: `verify_files`)."""
    folder = Path(root) / protocol.name
    wanted = settings(protocol, foregrounds, backgrounds, seed)
    if (folder / MANIFEST).is_file():
        manifest = read_manifest(folder)
        check_settings(folder, manifest, wanted)
        if verify:
            verify_files(folder, manifest, rehash=True)
        return folder
    if folder.exists() and any(folder.iterdir()):
        raise TestSetError(
            f"{folder} exists without a {MANIFEST}: not a test set this platform wrote, so it is "
            "left alone; move it away or set data.testset_root to another folder"
        )
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.building-", dir=folder.parent))
    try:
        manifest = _write(protocol, foregrounds, backgrounds, seed, tmp, wanted)
        try:
            tmp.rename(folder)
        except OSError:  # another process finished first: it must have built the same files
            theirs = read_manifest(folder)
            if theirs["sha256"] != manifest["sha256"]:
                raise TestSetError(f"{folder} was built concurrently with other files") from None
        else:
            log.info("Built test set %s (%d samples)", folder, len(manifest["samples"]))
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)  # only ever our own temporary folder
    return folder


def _write(
    protocol: Protocol, foregrounds, backgrounds, seed: int, folder: Path, wanted: dict
) -> dict[str, Any]:
    files: dict[str, str] = {}
    samples = []
    for built in protocol.samples(foregrounds, backgrounds, seed):
        entry: dict[str, Any] = {"id": built.id, "files": {}, **built.meta}
        for role, (stem, array) in built.files.items():
            name = f"{role}/{stem}.png"
            if name not in files:
                files[name] = _write_png(folder / name, array)
            entry["files"][role] = name
        entry["size"] = list(built.files["alpha"][1].shape[:2])
        samples.append(entry)
    _check_samples(protocol.name, samples)
    manifest = {**wanted, "samples": samples, "files": files, "sha256": set_hash(samples, files)}
    write_manifest(folder, manifest)
    write_cache(folder, files)
    return manifest


def _check_samples(name: str, samples: list[dict[str, Any]]) -> None:
    """Some samples, unique ids, and each with the independent unit intervals resample."""
    if not samples:
        raise TestSetError(f"test set {name!r} has no samples (empty source?)")
    ids = [s["id"] for s in samples]
    if len(set(ids)) != len(ids):
        raise TestSetError(f"test set {name!r}: sample ids are not unique")
    if any("unit" not in s for s in samples):
        raise TestSetError(f"test set {name!r}: its protocol gives samples without a unit")


def _write_png(path: Path, array: np.ndarray) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = cv2.cvtColor(array, cv2.COLOR_RGB2BGR) if array.ndim == 3 else array
    if not cv2.imwrite(str(path), np.ascontiguousarray(data), PNG_OPTIONS):
        raise OSError(f"could not write {path}")
    return file_hash(path)


def _identity(source) -> dict[str, Any] | None:
    """The data a set was built from, without machine-specific paths."""
    if source is None:
        return None
    return {"class": type(source).__name__, "name": source.name, "items": len(source)}
