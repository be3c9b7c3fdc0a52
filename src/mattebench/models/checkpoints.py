"""What loading any method's checkpoint shares: unwrapping training wrappers, and error text."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

#: DataParallel/DDP (`module.`) and LightningModule attributes (`net.`, `model.`).
WRAPPER_PREFIXES = ("module.", "net.", "model.")


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
