"""`manifest.json`: what a built test set holds, and the hash that names it.

A manifest records the protocol, the generator version, the seed, the data config's identity
and every sample (its id, files by role, size, unit and where it came from); `files` maps each
file (relative path) to its sha256. The set's hash (`set_hash`) covers both: the sample list
and the `path sha256` line of every file the samples name, so a changed byte, a sample taken
out of the list or an edited label all change it, and two sets with the same samples and files
have the same hash wherever they were built. `verify_files` checks a set on disk against its
manifest (changed, missing and extra files, and the hash), keeping what it has hashed in
`.verified.json` so that checking it again before every evaluation costs a directory listing
and a `stat` per file.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from mattebench.data.sources.base import listed

MANIFEST = "manifest.json"
#: The verification cache beside the manifest: relative path -> [size, mtime_ns, sha256].
CACHE = ".verified.json"

#: Bumped whenever the generated files or the hash's meaning change for the same protocol,
#: seed and data (2: the hash covers the sample list; samples record their `unit`).
GENERATOR_VERSION = 2

_FIX = (
    "Restore the set's files (and manifest.json) as they were built, or build the set again "
    "into another folder (data.testset_root=...) and compare the hashes"
)


class TestSetError(RuntimeError):
    """A built test set that does not match its manifest or the requested protocol."""

    __test__ = False  # not a pytest class


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sample_files(samples: Iterable[Mapping[str, Any]]) -> set[str]:
    """The files the samples name (several samples can share one, e.g. a clip's plate)."""
    return {name for sample in samples for name in sample["files"].values()}


def set_hash(samples: list[Mapping[str, Any]], files: Mapping[str, str]) -> str:
    """The hash of a set, or of the part of it that was read: sha256 of the samples as JSON
    (sorted keys, compact) followed by `path sha256` lines of the files they name, sorted."""
    listing = json.dumps(samples, sort_keys=True, separators=(",", ":"))
    lines = "".join(f"{name} {files[name]}\n" for name in sorted(sample_files(samples)))
    return hashlib.sha256(f"{listing}\n{lines}".encode()).hexdigest()


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


def verify_files(folder: Path, manifest: dict[str, Any], rehash: bool = False) -> str:
    """Check the set on disk against its manifest; returns its (verified) hash.

    Fails on a manifest whose samples and files do not hash to its `sha256` (a sample was
    edited or taken out), a listed file that is missing, a file in the folder that is not
    listed (only `manifest.json` and the cache are not) and a file whose sha256 differs. A
    file is re-hashed unless the cache holds it with the same size and mtime (`rehash`:
    always, ignoring the cache).
    """
    actual = _check_manifest(folder, manifest)
    files = manifest["files"]
    present = _present(folder)
    _fail_if(folder, set(files) - present, "listed in manifest.json but missing")
    _fail_if(
        folder,
        present - set(files),
        "not part of the set (not listed in manifest.json; move it out of the folder)",
    )
    hashes = _hashes(folder, sorted(files), {} if rehash else _read_cache(folder))
    changed = {name for name in files if hashes[name] != files[name]}
    _fail_if(folder, changed, "changed since the set was built (sha256 differs from manifest.json)")
    return actual


def _check_manifest(folder: Path, manifest: dict[str, Any]) -> str:
    """The manifest as built: its samples and files hash to its `sha256`, and the file list is
    the samples' files, no more and no less (so the hash covers every file)."""
    named, files = sample_files(manifest["samples"]), manifest["files"]
    _fail_if(folder, named - set(files), "named by a sample but not listed in manifest.json")
    actual = set_hash(manifest["samples"], files)
    if actual != manifest["sha256"]:
        raise TestSetError(
            f"test set {folder.name} ({folder}): {MANIFEST}'s samples and files do not hash to "
            f"its sha256 (a sample was added, removed or edited after the set was built). {_FIX}."
        )
    _fail_if(folder, set(files) - named, "listed in manifest.json but named by no sample")
    return actual


def _fail_if(folder: Path, names: set[str], problem: str) -> None:
    """One message for every file with this problem: the set, the files, what, and the fix."""
    if names:
        raise TestSetError(
            f"test set {folder.name} ({folder}): {problem}: {listed(names)}. {_FIX}."
        )


def _present(folder: Path) -> set[str]:
    """Every file under the set's folder but its manifest and its cache (and the cache's
    temporary copies while another process, e.g. another DDP rank, writes it)."""
    names = {path.relative_to(folder).as_posix() for path in folder.rglob("*")}
    return {
        name
        for name in names
        if name != MANIFEST and not name.startswith(CACHE) and not (folder / name).is_dir()
    }


def write_cache(folder: Path, hashes: Mapping[str, str]) -> None:
    """Record `hashes` (path -> sha256, just computed from the files on disk, e.g. while
    building) with each file's size and mtime, so that verifying them next costs a `stat`."""
    _store_cache(folder, {name: [*_stamp(folder / name), sha] for name, sha in hashes.items()})


def _hashes(folder: Path, names: list[str], cache: Mapping[str, list]) -> dict[str, str]:
    """Each file's sha256: the cached one while its size and mtime are those it was hashed
    with (stamped before hashing, so a file written meanwhile is hashed again next time)."""
    entries, hashed = {}, False
    for name in names:
        stamp, entry = _stamp(folder / name), cache.get(name)
        if entry is None or entry[:2] != stamp:
            entry, hashed = [*stamp, file_hash(folder / name)], True
        entries[name] = entry
    if hashed or entries.keys() != cache.keys():
        _store_cache(folder, entries)
    return {name: entry[2] for name, entry in entries.items()}


def _stamp(path: Path) -> list[int]:
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns]


def _read_cache(folder: Path) -> dict[str, list]:
    """The cache's entries; an unreadable or malformed cache is no cache (all re-hashed)."""
    try:
        cache = json.loads((folder / CACHE).read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(cache, dict):
        return {}
    return {k: v for k, v in cache.items() if isinstance(v, list) and len(v) == 3}


def _store_cache(folder: Path, entries: Mapping[str, list]) -> None:
    """Written to a temporary file renamed over the cache, so no reader sees half of it; a set
    that cannot be written to (read-only) is verified all the same, only not cached."""
    try:
        handle, tmp = tempfile.mkstemp(dir=folder, prefix=f"{CACHE}.")
    except OSError:
        return
    try:
        with os.fdopen(handle, "w") as f:
            json.dump(entries, f, sort_keys=True)
        os.replace(tmp, folder / CACHE)
    finally:
        Path(tmp).unlink(missing_ok=True)


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
