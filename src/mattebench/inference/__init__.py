"""Inference for any method: images, folders and videos in; alpha, foreground and composites out
(`python infer.py`, `task.infer`)."""
