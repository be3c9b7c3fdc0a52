"""Released BGMv2 weights <-> this package's modules.

The official files `pytorch_{resnet50,resnet101,mobilenetv2}.pth` (release v1.0.0) are plain
MattingRefine state dicts with torchvision parameter names under `backbone.`, then `aspp.`,
`decoder.` and `refiner.` (official `model/model.py`; spec §1.9). Our backbone is a timm model
under `backbone.body.`:
- ResNet: timm uses torchvision's names (`conv1`, `bn1`, `layer1.0.conv1`, `...downsample.0`),
  so only the `body.` level differs.
- MobileNetV2: timm names its modules `conv_stem`, `bn1`, `blocks.{stage}.{block}.conv_pw` ...;
  torchvision numbers them `features.{i}.conv.{j}`. `official_names` builds the table from the
  model's own blocks (a depthwise-separable block for `features.1`, inverted residuals after).
ASPP, decoder and refiner are the official modules, so their keys match one to one.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from torch import Tensor, nn

from mattebench.errors import CheckpointError
from mattebench.models.checkpoints import describe, mismatch_summary, read_checkpoint, unwrap

logger = logging.getLogger(__name__)

OURS_BACKBONE = "backbone.body."
OFFICIAL_BACKBONE = "backbone."
PREFIXES = ("backbone.", "aspp.", "decoder.", "refiner.")

MNV2_STEM = {"conv_stem": "features.0.0", "bn1": "features.0.1"}
MNV2_DEPTHWISE_SEPARABLE = {  # torchvision InvertedResidual with expand_ratio 1
    "conv_dw": "conv.0.0",
    "bn1": "conv.0.1",
    "conv_pw": "conv.1",
    "bn2": "conv.2",
}
MNV2_INVERTED_RESIDUAL = {
    "conv_pw": "conv.0.0",
    "bn1": "conv.0.1",
    "conv_dw": "conv.1.0",
    "bn2": "conv.1.1",
    "conv_pwl": "conv.2",
    "bn3": "conv.3",
}


@dataclass
class LoadReport:
    """What `load_official_weights` did. `missing`, `unexpected` and `mismatched` can only be
    non-empty with `strict=False`; with `strict=True` they raise instead."""

    loaded: int = 0
    ignored: list[str] = field(default_factory=list)  # checkpoint keys not meant for this model
    left_at_init: list[str] = field(default_factory=list)  # refiner keys a base checkpoint lacks
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)


def official_names(model: nn.Module) -> dict[str, str]:
    """Our state-dict key -> the official key, for every key of a MattingBase/MattingRefine."""
    modules = mobilenetv2_names(model.backbone.body) if model.backbone.name == "mobilenetv2" else {}
    names = {}
    for key in model.state_dict():
        if key.startswith(OURS_BACKBONE):
            module, _, param = key[len(OURS_BACKBONE) :].rpartition(".")
            if modules:
                module = modules[module]
            names[key] = f"{OFFICIAL_BACKBONE}{module}.{param}"
        else:
            names[key] = key
    return names


def mobilenetv2_names(body: nn.Module) -> dict[str, str]:
    """timm module path -> torchvision module path, for timm's `mobilenetv2_100` features."""
    names = dict(MNV2_STEM)
    index = 1
    for s, stage in enumerate(body.blocks):
        for b, block in enumerate(stage):
            parts = (
                MNV2_INVERTED_RESIDUAL if hasattr(block, "conv_pwl") else MNV2_DEPTHWISE_SEPARABLE
            )
            for ours, theirs in parts.items():
                names[f"blocks.{s}.{b}.{ours}"] = f"features.{index}.{theirs}"
            index += 1
    return names


def to_official_state_dict(model: nn.Module) -> dict[str, Tensor]:
    """The state dict the official code would hold for the same weights (for export and tests)."""
    names = official_names(model)
    return {names[key]: value for key, value in model.state_dict().items()}


def load_official_weights(
    model: nn.Module,
    path_or_state_dict: str | Path | Mapping[str, Tensor],
    strict: bool = True,
    *,
    weights_only: bool = True,
) -> LoadReport:
    """Loads released BGMv2 weights, or our own checkpoints, into a MattingBase/MattingRefine.

    Accepts a file or a mapping; a `{"state_dict": ...}` wrapper (Lightning); keys prefixed with
    `model.` / `module.` (keys outside that prefix are ignored and reported); official or our own
    key names. A refine checkpoint loads into MattingBase (its `refiner.*` keys ignored, as the
    official inference scripts do with `strict=False`); a base checkpoint loads into MattingRefine
    with the refiner left at its initialisation (reported in `left_at_init`).

    With `strict=True`, any other missing or unexpected key or shape mismatch raises a
    `CheckpointError` (a RuntimeError) naming them; with `strict=False` matching keys load and
    the rest is reported, but a file that does not provide the whole backbone is still an error:
    it is not weights for this model, and training would go on from random weights unnoticed.
    `weights_only=False` loads a trusted file holding Python objects (`read_checkpoint`).
    """
    state = path_or_state_dict
    if not isinstance(state, Mapping):
        state = read_checkpoint(state, trust=not weights_only, flag="model.trust_weights=true")
    state, ignored = unwrap(state, PREFIXES)
    report = LoadReport(ignored=ignored)

    own = model.state_dict()
    names = official_names(model)
    to_ours = {official: ours for ours, official in names.items()}
    has_refiner = any(key.startswith("refiner.") for key in own)
    source_has_refiner = any(key.startswith("refiner.") for key in state)
    loaded: dict[str, Tensor] = {}
    seen: set[str] = set()  # model keys the checkpoint provides, whatever their shape
    for key, value in state.items():
        if key.startswith("refiner.") and not has_refiner:
            report.ignored.append(key)
            continue
        target = key if key in own else to_ours.get(key)
        if target is None:
            report.unexpected.append(key)
            continue
        seen.add(target)
        if tuple(value.shape) != tuple(own[target].shape):
            report.mismatched.append(
                f"{key}: checkpoint {tuple(value.shape)}, model {tuple(own[target].shape)}"
            )
        else:
            loaded[target] = value
    # Name missing keys as the checkpoint would have: official names unless it used ours.
    official = not any(key in own for key in state if key.startswith("backbone."))
    for key in own:
        if key in seen:
            continue
        name = names[key] if official else key
        if key.startswith("refiner.") and not source_has_refiner:
            report.left_at_init.append(name)
        else:
            report.missing.append(name)

    if strict and (report.missing or report.unexpected or report.mismatched):
        raise CheckpointError(mismatch_message(model, report, state))
    backbone = [key for key in own if key.startswith(OURS_BACKBONE)]
    if not all(key in loaded for key in backbone):
        absent = sum(key not in loaded for key in backbone)
        raise CheckpointError(
            f"{mismatch_message(model, report, state, strict=False)} {absent} of the "
            f"{len(backbone)} backbone tensors did not load, so these are not weights for this "
            "model."
        )
    model.load_state_dict({**own, **loaded})
    report.loaded = len(loaded)
    if report.left_at_init:
        logger.warning("base checkpoint: %s refiner tensors left at init", len(report.left_at_init))
    return report


def mismatch_message(
    model: nn.Module, report: LoadReport, state: Mapping, strict: bool = True
) -> str:
    name = f"{type(model).__name__}({model.backbone.name!r})"
    looks = describe(state)
    guess = guess_backbone(state) if looks.startswith("a BGMv2") else None
    if guess and guess != model.backbone.name:
        looks = f"{looks}: the checkpoint looks like a {guess!r} model"
    summary = mismatch_summary(report.missing, report.unexpected, report.mismatched)
    advice = " Pass strict=False to load the keys that match." if strict else ""
    return f"cannot load BGMv2 weights into {name}, given {looks}; {summary}.{advice}"


def guess_backbone(state: Mapping) -> str | None:
    keys = list(state)
    if any(".features." in k or k.startswith(OURS_BACKBONE + "blocks.") for k in keys):
        return "mobilenetv2"
    if any(".layer3.22." in k for k in keys):
        return "resnet101"
    if any(".layer3.5." in k for k in keys):
        return "resnet50"
    return None
