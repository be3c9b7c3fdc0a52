"""The GPU numbers (issue 20) in one prepared run: speed, syncs, precision, memory, training.

    python -m benchmarks.gpu --out logs/gpu             # on a CUDA machine, about 7 minutes
    python -m benchmarks.gpu --tables benchmarks/results/gpu_h200.json   # the README tables again

GPU time is scarce, so the parts run in order of value and each is independent: a failing row or
part is recorded (`error`) and the next one runs, `--budget` seconds bound the whole run (a part
that would not fit is skipped), and `OUT/gpu.json` is rewritten after every row.

1. speed: BGMv2-ResNet-50 (HD variant at 1920x1080, 4K variant at 3840x2160), BGMv2-MobileNetV2,
   MODNet at 512x512, batch 1; fp32 / fp16 / bf16 (weights and inputs cast), channels_last,
   eager or replayed as a CUDA graph; BGMv2 with the refiner's static patch selection and with the
   official `nonzero` one (`Refiner.static_patches`).
2. syncs: host synchronisations in one BGMv2 forward (`torch.cuda.set_sync_debug_mode`).
3. precision: fp16 / bf16 (autocast, as `trainer=gpu` evaluates, and weights cast, as the speed
   rows run) against fp32 (TF32 off) on the sample's test frames, through `MattingMethod.infer`.
4. hdmatt: crop-and-stitch seconds and peak memory at 2048² and 5000² (`benchmarks.hdmatt_speed`).
5. train: training steps per second at batch 8 (the method's own loss and optimiser), fp32 and
   16-mixed / bf16-mixed (autocast + GradScaler, as Lightning's precision plugins).
6. fdr: `train.py trainer=gpu debug=fdr` (16-mixed fast-dev-run) of each trainable method,
   one subprocess each, in parallel.
7. compile: `torch.compile` (and a CUDA graph of the compiled network) for BGMv2-R50 and MODNet;
   last, because compiling takes the longest.

Networks have random weights (seeded: every setting runs the same ones), as in `mattebench.bench`,
whose timing and peak-memory helpers (`mattebench.bench.timing`, torch only) this reuses. Parts 1,
2 and 7 time bare networks from a short explicit list (`variants`), so they run on a CUDA machine
without Hydra or Lightning; `mattebench.bench` builds every method by its model config instead.
Parts 3, 5 and 6 compose the Hydra configs (carry hydra-core, omegaconf, antlr4 and kornia wheels
to a bare CUDA machine).

Jobs: `core` (the run, error rows, the bare networks), `speed` (parts 1, 2, 7), `training`
(parts 3-6, Hydra configs), `tables`, `__main__` (the command line).
"""

from benchmarks.gpu.core import Run, Variant, describe, variants
from benchmarks.gpu.speed import speed_row
from benchmarks.gpu.tables import merge, tables

__all__ = ["Run", "Variant", "describe", "merge", "speed_row", "tables", "variants"]
