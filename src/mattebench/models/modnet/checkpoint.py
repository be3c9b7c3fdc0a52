"""Released MODNet weights <-> this package's modules (spec §1.9).

The official checkpoints (`modnet_photographic_portrait_matting.ckpt`,
`modnet_webcam_portrait_matting.ckpt`) were saved from `nn.DataParallel(MODNet)`: every key starts
with `module.`, and the backbone appears twice, as `backbone.model.features.*` and
`lr_branch.backbone.model.features.*` (the official `LRBranch` holds the same module), 312
entries each, 751 in all. Our module names are the official ones with the backbone registered
once, so the mapping is: strip `module.`, check the two copies are identical and drop the second.
The backbone-only `mobilenetv2_human_seg.ckpt` (keys `features.*`) loads with
`load_backbone_weights`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import Tensor, nn

from mattebench.errors import CheckpointError
from mattebench.models.checkpoints import describe, mismatch_summary, read_checkpoint, unwrap

OFFICIAL_PREFIX = "module."  # nn.DataParallel
BACKBONE = "backbone."
DUPLICATE_BACKBONE = "lr_branch.backbone."
STEM_WEIGHT = "backbone.model.features.0.0.weight"
PREFIXES = ("backbone.", "lr_branch.", "hr_branch.", "f_branch.")


@dataclass
class LoadReport:
    """What `load_official_weights` did. `missing`, `unexpected` and `mismatched` can only be
    non-empty with `strict=False`; with `strict=True` they raise instead."""

    loaded: int = 0
    ignored: list[str] = field(default_factory=list)  # keys outside the model's wrapper prefix
    duplicates_dropped: int = 0  # identical `lr_branch.backbone.*` copies of the backbone
    widened: list[str] = field(default_factory=list)  # 3-channel stem zero-padded for prev alpha
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)


def to_official_state_dict(model: nn.Module) -> dict[str, Tensor]:
    """The state dict the official `nn.DataParallel(MODNet)` holds for the same weights: `module.`
    prefix and the backbone a second time under `lr_branch.backbone.` (751 entries for a MODNet;
    the copies share storage, as in the official)."""
    state = model.state_dict()
    backbone = {k: v for k, v in state.items() if k.startswith(BACKBONE)}
    out = {OFFICIAL_PREFIX + k: v for k, v in backbone.items()}
    out.update({f"{OFFICIAL_PREFIX}lr_branch.{k}": v for k, v in backbone.items()})
    out.update({OFFICIAL_PREFIX + k: v for k, v in state.items() if k not in backbone})
    return out


def load_official_weights(
    model: nn.Module,
    path_or_state_dict: str | Path | Mapping[str, Tensor],
    strict: bool = True,
    *,
    weights_only: bool = True,
) -> LoadReport:
    """Loads released MODNet weights, or our own checkpoints, into a `MODNet`.

    Accepts a file or a mapping; a `{"state_dict": ...}` wrapper (Lightning); keys prefixed with
    `module.` (DataParallel), `net.` or `model.` (LightningModule attributes; keys outside the
    prefix, e.g. loss buffers, are ignored and reported); with or without the duplicated
    `lr_branch.backbone.*` copy (it must equal `backbone.*`, else ValueError). A 3-channel
    checkpoint loads into a `MODNet(prev_alpha=True)`: the previous-alpha input slice of the stem
    conv is set to zero (reported in `widened`), so the model reproduces the 3-channel one.

    With `strict=True`, any missing or unexpected key or shape mismatch raises a
    `CheckpointError` (a RuntimeError) naming them; with `strict=False` the matching keys load
    and the rest is reported, but a file that does not provide the whole backbone is still an
    error (it is not MODNet weights). `weights_only=False` loads a trusted file holding Python
    objects (`read_checkpoint`).
    """
    state = path_or_state_dict
    if not isinstance(state, Mapping):
        state = read_checkpoint(state, trust=not weights_only, flag="model.trust_weights=true")
    state, ignored = unwrap(state, PREFIXES)
    state, dropped = drop_duplicate_backbone(state)
    report = LoadReport(ignored=ignored, duplicates_dropped=dropped)

    own = model.state_dict()
    loaded: dict[str, Tensor] = {}
    for key, value in state.items():
        if key not in own:
            report.unexpected.append(key)
        elif value.shape == own[key].shape:
            loaded[key] = value
        elif key == STEM_WEIGHT and (widened := widen_stem(model, value)) is not None:
            loaded[key] = widened
            report.widened.append(key)
        else:
            report.mismatched.append(
                f"{key}: checkpoint {tuple(value.shape)}, model {tuple(own[key].shape)}"
            )
    report.missing = [key for key in own if key not in state]

    if strict and (report.missing or report.unexpected or report.mismatched):
        raise CheckpointError(mismatch_message(model, report, state))
    backbone = [key for key in own if key.startswith(BACKBONE)]
    absent = sum(key not in loaded for key in backbone)
    if absent:
        raise CheckpointError(
            f"{mismatch_message(model, report, state, strict=False)} {absent} of the "
            f"{len(backbone)} backbone tensors did not load, so these are not weights for this "
            "model."
        )
    model.load_state_dict({**own, **loaded})
    report.loaded = len(loaded)
    return report


def load_backbone_weights(
    model: nn.Module,
    path_or_state_dict: str | Path | Mapping[str, Tensor],
    *,
    weights_only: bool = True,
) -> LoadReport:
    """Loads the official backbone-only checkpoint (`pretrained/mobilenetv2_human_seg.ckpt`, keys
    `features.*`) strictly into `model.backbone.model`, as the official `backbone_pretrained=True`
    does; the rest of the model keeps its initialisation."""
    state = path_or_state_dict
    if not isinstance(state, Mapping):
        # Python only (no config loads it): its own argument is the option to name.
        state = read_checkpoint(state, trust=not weights_only, flag="weights_only=False")
    state = {f"{BACKBONE}model.{k}": v for k, v in state.items()}
    return load_official_weights(model, {**model.state_dict(), **state}, strict=True)


def drop_duplicate_backbone(state: dict[str, Tensor]) -> tuple[dict[str, Tensor], int]:
    """Removes the official `lr_branch.backbone.*` copy after checking it equals `backbone.*`; a
    copy without its twin is renamed to `backbone.*`."""
    out = {k: v for k, v in state.items() if not k.startswith(DUPLICATE_BACKBONE)}
    dropped = 0
    for key, value in state.items():
        if not key.startswith(DUPLICATE_BACKBONE):
            continue
        twin = BACKBONE + key[len(DUPLICATE_BACKBONE) :]
        if twin not in out:
            out[twin] = value
            continue
        if out[twin].shape != value.shape or not torch.equal(out[twin], value):
            raise ValueError(
                f"checkpoint holds two different backbones: {key} differs from {twin} "
                "(the official MODNet registers one backbone twice, so they must be identical)"
            )
        dropped += 1
    return out, dropped


def widen_stem(model: nn.Module, weight: Tensor) -> Tensor | None:
    """The stem conv weight of an image-only checkpoint, widened with a zero slice for the
    previous-alpha input of `MODNet(prev_alpha=True)`; None if the shapes do not fit that case."""
    target = model.state_dict()[STEM_WEIGHT]
    fits = (
        getattr(model, "prev_alpha", False)
        and weight.dim() == 4
        and weight.shape[1] == model.in_channels
        and target.shape[1] == model.in_channels + 1
        and weight.shape[:1] + weight.shape[2:] == target.shape[:1] + target.shape[2:]
    )
    if not fits:
        return None
    widened = weight.new_zeros(target.shape)
    widened[:, : weight.shape[1]] = weight
    return widened


def mismatch_message(
    model: nn.Module, report: LoadReport, state: Mapping, strict: bool = True
) -> str:
    name = (
        f"MODNet(in_channels={model.in_channels}, hr_channels={model.hr_channels}, "
        f"prev_alpha={model.prev_alpha})"
    )
    summary = mismatch_summary(report.missing, report.unexpected, report.mismatched)
    advice = " Pass strict=False to load the keys that match." if strict else ""
    return f"cannot load MODNet weights into {name}, given {describe(state)}; {summary}.{advice}"
