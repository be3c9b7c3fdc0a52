"""What loading any method's checkpoint shares: reading the file safely, unwrapping training
wrappers, telling what a checkpoint holds, and error text."""

from __future__ import annotations

import pickle
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from mattebench.errors import CheckpointError

#: DataParallel/DDP (`module.`) and LightningModule attributes (`net.`, `model.`).
WRAPPER_PREFIXES = ("module.", "net.", "model.")


#: Key fragments that identify a method's checkpoint, for "the file looks like ..." messages.
SIGNATURES = {
    "a MODNet checkpoint": ("hr_branch.", "lr_branch.", "f_branch."),
    "a BGMv2 checkpoint": ("aspp.", "refiner."),
    "an HDMatt checkpoint": ("cpc.",),
}


#: The advice where the entry point has no option that loads a file holding Python objects.
RESAVE = (
    "No option of this command loads such a file: if you trust where it came from, open it "
    "yourself with torch.load(path, weights_only=False), keep only its tensors and plain values "
    "(numbers, strings, lists, dicts) and torch.save them to a new file"
)


def read_checkpoint(path: str | Path, trust: bool = False, flag: str = "") -> Any:
    """`torch.load(path, weights_only=True)` on CPU, with errors that say what is wrong.

    A pickle that holds Python objects besides tensors could run code while it loads, so it is
    refused unless `trust`: `flag` is the option of the caller's entry point that sets it
    (`model.trust_weights=true`), named in the message; without one the message says how to
    re-save the file (`RESAVE`). `weights_only` is always passed, as
    `TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1` overrides only a call that leaves it out (torch 2.6+;
    older torch has no such variable). A file that is neither a zip nor a legacy torch pickle is
    "not a checkpoint"."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path} does not exist.")
    with path.open("rb") as f:
        legacy_pickle = f.read(1) == b"\x80"  # torch.save before 1.6: a pickle, protocol 2+
    if not (legacy_pickle or zipfile.is_zipfile(path)):
        raise CheckpointError(
            f"{path} is not a checkpoint (neither a torch.save zip nor a legacy torch pickle)."
        )
    try:
        return torch.load(path, map_location="cpu", weights_only=not trust)
    except pickle.UnpicklingError as error:
        if trust or "Weights only load failed" not in str(error):
            raise CheckpointError(f"{path} is not a readable checkpoint: {error}") from error
        advice = (
            f"If you trust where it came from, set {flag} to load it anyway" if flag else RESAVE
        )
        raise CheckpointError(
            f"{path} holds pickled Python objects besides tensors, and loading those could run "
            f"code from the file, so it was refused. {advice}."
        ) from None
    except Exception as error:
        raise CheckpointError(f"{path} is not a readable checkpoint: {error}") from error


def describe(state: Mapping) -> str:
    """What a state dict looks like: `a MODNet checkpoint (751 tensors)`, or its first keys."""
    keys = [str(key) for key in state]
    for kind, fragments in SIGNATURES.items():
        if any(fragment in key for key in keys for fragment in fragments):
            return f"{kind} ({len(keys)} tensors)"
    shown = ", ".join(keys[:4]) + (", ..." if len(keys) > 4 else "")
    return f"{len(keys)} entries ({shown})" if keys else "an empty state dict"


def unwrap(
    state: Mapping, own_prefixes: tuple[str, ...], wrappers: Sequence[str] = WRAPPER_PREFIXES
) -> tuple[dict, list[str]]:
    """Strips `{"state_dict": ...}` and wrapper prefixes until the keys start with one of the
    model's `own_prefixes`; returns the kept keys and the names of the keys left outside."""
    inner = state.get("state_dict")
    if isinstance(inner, Mapping):
        state = inner
    state, ignored = dict(state), []
    while not any(key.startswith(own_prefixes) for key in state):
        prefix = next((p for p in wrappers if any(k.startswith(p) for k in state)), None)
        if prefix is None:
            break
        ignored += [key for key in state if not key.startswith(prefix)]
        state = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
    return state, ignored


def mismatch_summary(missing: list[str], unexpected: list[str], mismatched: list[str]) -> str:
    """`3 missing keys (a, b, c); 0 unexpected keys; ...`, at most 8 names of each."""

    def listing(what: str, keys: list[str]) -> str:
        shown = ", ".join(keys[:8]) + (", ..." if len(keys) > 8 else "")
        return f"{len(keys)} {what}" + (f" ({shown})" if keys else "")

    return "; ".join(
        [
            listing("missing keys", missing),
            listing("unexpected keys", unexpected),
            listing("shape mismatches", mismatched),
        ]
    )
