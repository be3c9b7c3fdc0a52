"""`manifest.json`: what a built test set holds, and the hash that names its files.

A manifest records the protocol, the generator version, the seed, the data config's identity
and every sample with its files; `files` maps each file (relative path) to its sha256, and the
test set's hash is the sha256 of that list (`list_hash`), so two sets with the same files have
the same hash wherever they were built, and any changed file changes it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"

#: Bumped whenever the generated files change for the same protocol, seed and data.
GENERATOR_VERSION = 1


class TestSetError(RuntimeError):
    """A built test set that does not match its manifest or the requested protocol."""

    __test__ = False  # not a pytest class


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def list_hash(files: Mapping[str, str], names: Iterable[str] | None = None) -> str:
    """sha256 of the `path sha256` lines of `names` (default: all files), sorted by path."""
    names = sorted(files if names is None else set(names))
    lines = "".join(f"{name} {files[name]}\n" for name in names)
    return hashlib.sha256(lines.encode()).hexdigest()


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    if not path.is_file():
        raise TestSetError(
            f"no test set at {folder} ({MANIFEST} missing); build it with "
            "`python -m mattebench.testsets build data=<config>` or let the datamodule build it"
        )
    return json.loads(path.read_text())


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")


def verify_files(folder: Path, manifest: dict[str, Any]) -> None:
    """Every listed file is present with its sha256, and the list hashes to `sha256`."""
    for name, expected in sorted(manifest["files"].items()):
        path = folder / name
        if not path.is_file():
            raise TestSetError(f"test set {folder}: {name} is listed in {MANIFEST} but missing")
        if file_hash(path) != expected:
            raise TestSetError(
                f"test set {folder}: {name} does not match the sha256 in {MANIFEST} (the file "
                "was changed after the set was built); restore it, or build the set into "
                "another folder (data.testset_root=...) and compare"
            )
    if list_hash(manifest["files"]) != manifest["sha256"]:
        raise TestSetError(f"test set {folder}: {MANIFEST}'s file list does not hash to sha256")


def check_settings(folder: Path, manifest: dict[str, Any], settings: dict[str, Any]) -> None:
    """The set on disk was built with the requested protocol, version, seed and data."""
    stored = {key: manifest.get(key) for key in settings}
    wanted = json.loads(json.dumps(settings))  # tuples -> lists, as stored
    if stored != wanted:
        diff = [k for k in settings if stored[k] != wanted[k]]
        raise TestSetError(
            f"test set {folder} was built with other settings ({', '.join(diff)} differ: "
            f"on disk {[stored[k] for k in diff]}, requested {[wanted[k] for k in diff]}). "
            "It is not rebuilt (its hash names the numbers computed on it): give the new set "
            "another name, or another data.testset_root"
        )
