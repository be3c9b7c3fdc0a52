"""Inference speed of every method, by model config name: parameters, MACs, latency, FPS, peak
memory.

    python -m mattebench.bench [--device cpu|cuda] [--quick] [--methods NAME ...]
        [--sizes 512x512 1920x1080] [--runtimes torch onnx] [--json out.json]

`--methods` takes any `conf/model/*.yaml` name (default: all); each method is built from its
config as training builds it (`mattebench.registry`) and called as evaluation calls it
(`MattingMethod.infer`: its inputs, inference policy, normalisation), at the sizes it declares
(`MattingMethod.target_sizes`; `--quick`: the first), batch 1 and batched, on CUDA in fp32 /
fp16 / bf16 (weights and inputs cast) with channels_last and torch.compile off and on; on CPU
fp32 eager unless asked. `--runtimes onnx` adds ONNX Runtime rows (CPU fp32).

Weights are random, seeded so every setting runs the same ones. MACs = FLOPs / 2 of the torch
operators (`FlopCounterMode`) at batch 1 ("-" for NumPy solvers). Latency is the median of the
timed runs after warm-up (CUDA events on GPU). Peak memory: `torch.cuda.max_memory_allocated`
on GPU; on CPU the process RSS sampled every 5 ms, which includes what earlier settings left in
the allocator. Ctrl-C writes the rows finished so far.

Jobs: `timing` (how to measure; torch only, reused by `benchmarks/gpu.py` on a bare CUDA
machine), `subjects` (a method from its config, and its inputs), `measure` (one setting -> one
row), `cli` (arguments, the loop, the table and the JSON).
"""
