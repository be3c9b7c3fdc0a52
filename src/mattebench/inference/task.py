"""`python infer.py ...`: the Hydra config -> method, frame source, guides, output folder; then
the run, and for a video input the encoding of the written frames into videos."""

from __future__ import annotations

import logging

from omegaconf import DictConfig

from mattebench.inference.compose import Background
from mattebench.inference.guides import Guide
from mattebench.inference.io import FrameSource, encode_video, mux_audio, require_ffmpeg
from mattebench.inference.load import load_method, require_weights
from mattebench.inference.onnx import OnnxPredictor, check_runtime
from mattebench.inference.progress import OutputFolder
from mattebench.inference.runner import KINDS, Options, Runner, run

log = logging.getLogger(__name__)


def infer(cfg: DictConfig) -> OutputFolder:
    unknown = sorted(set(cfg.outputs) - set(KINDS))
    if unknown:
        raise ValueError(f"outputs={list(cfg.outputs)}: unknown {unknown}; choose from {KINDS}.")
    source = FrameSource(cfg.input)
    if cfg.keep_audio and source.is_video:
        require_ffmpeg()
    folder = OutputFolder(
        cfg.output, source.path, list(cfg.outputs), cfg.overwrite, source.names, source.is_video
    )
    background = Background(cfg.background)
    guides = {
        key: Guide(cfg[key], key, cfg.trimap_from_mask, cfg.trimap_band)
        for key in ("bgr", "trimap")
        if cfg.get(key)
    }
    check_runtime(cfg)
    if cfg.runtime == "onnx":  # the exported graph holds the method and its weights
        method = OnnxPredictor(cfg.onnx)
    else:
        method = load_method(cfg.model, cfg.get("ckpt_path"), cfg.get("weights"))
        require_weights(cfg, method, "run")
    options = Options(cfg.batch_size, cfg.device, cfg.precision, cfg.ofd)
    run(Runner(method, options), source, folder, guides, background)
    if source.is_video:
        encode_outputs(source, folder, cfg.keep_audio, cfg.keep_frames)
    folder.finish()
    log.info("Outputs in %s", folder.root)
    return folder


def encode_outputs(
    source: FrameSource, folder: OutputFolder, keep_audio: bool, keep_frames: bool
) -> None:
    """`<output>/<kind>.mp4` at the input's frame rate, with its audio if asked; the per-frame
    PNGs (the resume state) are deleted afterwards unless `keep_frames`."""
    for kind in folder.kinds:
        frames = [folder.frame_path(kind, name) for name in source.names]
        frames = [frame for frame in frames if frame.is_file()]  # a short-read tail is absent
        video = folder.root / f"{kind}.mp4"
        if keep_audio:
            silent = folder.root / f".{kind}.noaudio.mp4"
            encode_video(frames, silent, source.fps)
            mux_audio(silent, source.path, video)
            silent.unlink()
        else:
            encode_video(frames, video, source.fps)
        if not keep_frames:
            folder.remove_frames(kind)
