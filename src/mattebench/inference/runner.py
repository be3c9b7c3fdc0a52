"""Frames -> batches -> `method.infer` -> alpha, foreground and composite PNGs.

Every method runs through `MattingMethod.infer`, the very call validation and test score: its
declared inputs only (`image`, and `bgr` or `trimap` where needed), its inference policy
(resolution, padding, per-size settings) with the prediction mapped back to the frame's size, and
for a temporal method its own previous alpha (zeros on the first frame), so it runs one frame at
a time. The same weights therefore give the same mattes here as in `eval.py`. With `ofd`, the
one-frame-delay fix is applied before frames are written.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor
from tqdm import tqdm

from mattebench.data.compose import composite
from mattebench.inference.compose import Background
from mattebench.inference.guides import Guide
from mattebench.inference.io import Frame, FrameSource, read_image, write_image
from mattebench.inference.progress import OutputFolder
from mattebench.methods.base import INPUT_KEYS, MattingMethod
from mattebench.postprocess import OneFrameDelay

log = logging.getLogger(__name__)

PRECISIONS = {"fp32": None, "fp16": torch.float16, "bf16": torch.bfloat16}
KINDS = ("alpha", "fgr", "composite")


@dataclass
class Options:
    """batch_size: frames per `predict` call (1 for temporal methods).
    device: "auto" (CUDA if available), "cpu", "cuda", "cuda:1", ...
    precision: "fp32", or "fp16" / "bf16" autocast.
    ofd: one-frame-delay fix of flickering alpha pixels (video, one frame of latency).
    """

    batch_size: int = 1
    device: str = "auto"
    precision: str = "fp32"
    ofd: bool = False


def network_inputs(method: MattingMethod) -> tuple[str, ...]:
    """`MattingMethod.inputs`, for anything that declares `required_keys` (also an exported
    graph, whose keys are its input names)."""
    return tuple(key for key in method.required_keys if key in INPUT_KEYS)


class Runner:
    """A method in eval mode on its device, predicting numpy frames."""

    def __init__(self, method: MattingMethod, options: Options) -> None:
        if options.precision not in PRECISIONS:
            raise ValueError(
                f"precision must be one of {sorted(PRECISIONS)}, got {options.precision!r}"
            )
        self.options = options
        self.device = resolve_device(options.device)
        self.method = method.to(self.device).eval()
        self.keys = network_inputs(method)
        self.temporal = "prev_alpha" in self.keys
        self.batch_size = options.batch_size
        if self.temporal and self.batch_size != 1:
            log.warning(
                "%s feeds its own previous alpha frame to frame: batch_size=1.",
                type(method).__name__,
            )
            self.batch_size = 1
        self.previous: Tensor | None = None

    @torch.no_grad()
    def predict(self, inputs: dict[str, np.ndarray]) -> tuple[Tensor, Tensor | None]:
        """Numpy B,H,W(,C) inputs -> alpha (B,1,H,W) and fgr (B,3,H,W) or None, float32, on
        the device."""
        batch = {key: to_tensor(value, self.device) for key, value in inputs.items()}
        dtype = PRECISIONS[self.options.precision]
        autocast = (
            torch.autocast(self.device.type, dtype=dtype) if dtype else contextlib.nullcontext()
        )
        with autocast:
            pred = self.method.infer(batch, self.previous)
        alpha = pred["alpha"].float().clamp(0, 1)
        fgr = pred.get("fgr")
        fgr = None if fgr is None else fgr.float().clamp(0, 1)
        if self.temporal:
            self.previous = alpha
        return alpha, fgr


def run(
    runner: Runner,
    source: FrameSource,
    folder: OutputFolder,
    guides: dict[str, Guide],
    background: Background,
) -> None:
    """Predicts every frame of `source` not already in `folder` and writes its outputs."""
    missing = [key for key in runner.keys if key not in ("image", "prev_alpha", *guides)]
    if missing:
        raise ValueError(
            f"{type(runner.method).__name__} needs {' and '.join(missing)} for every frame: set "
            + ", ".join(f"{key}=<image, folder or video>" for key in missing)
            + (" (or coarse masks with trimap_from_mask=true)" if "trimap" in missing else "")
        )
    for key, guide in guides.items():
        if key not in runner.keys:
            log.warning("%s does not read %s: %s=%s is ignored.", type(runner.method).__name__,
                        key, key, guide.source.path)  # fmt: skip
        guide.check_length(len(source))
    names = source.names
    skip = _finished(runner, folder, names)
    if skip:
        log.info("Resuming %s: %d of %d frames already done.", folder.root, len(skip), len(names))
    folder.start()
    writer = FrameWriter(folder, background)
    delay = OneFrameDelay() if runner.options.ofd else None
    if skip and (runner.temporal or delay):
        last = read_image(folder.frame_path("alpha", names[max(skip)]))[None, ..., 0]
        runner.previous = to_tensor(last, runner.device)
        if delay:
            delay.push(runner.previous)  # the shown frame before the resumed one; not rewritten
    pending: list[tuple[int, Frame]] = []
    with tqdm(total=len(names), initial=len(skip), unit="frame", desc="infer") as bar:
        for index, frame in enumerate(source.frames(skip)):
            if frame is None:
                continue
            pending.append((index, frame))
            if len(pending) == runner.batch_size:
                _predict_batch(runner, pending, guides, delay, writer)
                bar.update(len(pending))
                pending = []
        if pending:
            _predict_batch(runner, pending, guides, delay, writer)
            bar.update(len(pending))
    if delay:
        writer.write_ready(delay.flush())


def _finished(runner: Runner, folder: OutputFolder, names: list[str]) -> set[int]:
    """Frames to skip: every finished one, or for frame-to-frame state (temporal input, OFD)
    only the finished frames before the first unfinished one."""
    done = folder.done(names)
    if not (runner.temporal or runner.options.ofd):
        return done
    if "alpha" not in folder.kinds:  # the last alpha, needed to go on, was not saved
        return set()
    first_missing = next((i for i in range(len(names)) if i not in done), len(names))
    return set(range(first_missing))


def _predict_batch(
    runner: Runner,
    frames: list[tuple[int, Frame]],
    guides: dict[str, Guide],
    delay: OneFrameDelay | None,
    writer: FrameWriter,
) -> None:
    images = np.stack([frame.rgb for _, frame in frames])
    size = images.shape[2:0:-1]
    inputs = {"image": images}
    for key, guide in guides.items():
        if key in runner.keys:
            inputs[key] = np.stack([guide.at(index, size) for index, _ in frames])
    alpha, fgr = runner.predict(inputs)
    for n, (_, frame) in enumerate(frames):
        item = (alpha[n : n + 1], (frame, None if fgr is None else fgr[n : n + 1]))
        writer.write_ready(delay.push(*item) if delay else [item])


class FrameWriter:
    """Writes alpha, foreground colour (the input's where a method predicts none) and the
    composite of each shown frame."""

    def __init__(self, folder: OutputFolder, background: Background) -> None:
        self.folder, self.background = folder, background

    def write_ready(self, ready: list[tuple[Tensor, tuple[Frame, Tensor | None] | None]]) -> None:
        for alpha, payload in ready:
            if payload is not None:  # None: a frame written before a resume, pushed for OFD
                self.write(payload[0], alpha, payload[1])

    def write(self, frame: Frame, alpha: Tensor, fgr: Tensor | None) -> None:
        matte = alpha[0, 0].cpu().numpy()
        colour = frame.rgb if fgr is None else fgr[0].permute(1, 2, 0).cpu().numpy()
        outputs = {
            "alpha": lambda: matte,
            "fgr": lambda: colour,
            "composite": lambda: composite(
                colour, matte[..., None], self.background.behind(frame.rgb)
            ),
        }
        for kind in self.folder.kinds:
            write_image(self.folder.frame_path(kind, frame.name), outputs[kind]())


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device={name} but CUDA is not available here; use device=cpu.")
    return device


def to_tensor(array: np.ndarray, device: torch.device) -> Tensor:
    """B,H,W or B,H,W,C numpy -> B,C,H,W float tensor."""
    tensor = torch.from_numpy(np.ascontiguousarray(array, np.float32))
    tensor = tensor[:, None] if tensor.ndim == 3 else tensor.permute(0, 3, 1, 2)
    return tensor.to(device)
