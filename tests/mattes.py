"""Realistic test mattes: a soft silhouette with hair strands, a trimap band, a flawed prediction.

Used by the metric tests and by `benchmarks/metrics_speed.py`; everything is uint8 H,W, as the
official evaluation reads it from PNG files.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch


def portrait_case(
    height: int, width: int, seed: int = 0, band: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(pred, target, trimap) for a head-and-shoulders-like matte; `band` is the unknown width."""
    rng = np.random.default_rng(seed)
    band = band if band is not None else max(4, min(height, width) // 30)
    hard = np.zeros((height, width), np.uint8)
    cy, cx = int(height * rng.uniform(0.35, 0.45)), int(width * rng.uniform(0.4, 0.6))
    head = (int(width * 0.14), int(height * 0.22))
    cv2.ellipse(hard, (cx, cy), head, 0, 0, 360, 255, -1)
    shoulders = np.array(
        [
            [cx - width * 0.35, height],
            [cx - width * 0.2, cy + head[1] * 1.2],
            [cx + width * 0.2, cy + head[1] * 1.2],
            [cx + width * 0.35, height],
        ],
        np.int32,
    )
    cv2.fillPoly(hard, [shoulders], 255)
    target = cv2.GaussianBlur(hard.astype(np.float32), (0, 0), band / 4)
    strands = np.zeros_like(target)
    for _ in range(60):  # thin, semi-transparent hair strands around the head
        angle = rng.uniform(np.pi, 2 * np.pi)
        r0 = rng.uniform(0.8, 1.0) * head[1]
        r1 = r0 + rng.uniform(0.1, 0.4) * head[1]
        p0 = (int(cx + r0 * np.cos(angle)), int(cy + r0 * np.sin(angle)))
        p1 = (int(cx + r1 * np.cos(angle + rng.normal(0, 0.1))), int(cy + r1 * np.sin(angle)))
        cv2.line(strands, p0, p1, float(rng.uniform(80, 255)), 1, cv2.LINE_AA)
    target = np.clip(np.maximum(target, strands), 0, 255).round().astype(np.uint8)

    soft = ((target > 0) & (target < 255)).astype(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (band, band))
    unknown = cv2.dilate(soft, kernel) > 0
    trimap = np.where(target >= 128, 255, 0).astype(np.uint8)
    trimap[unknown] = 128

    error = cv2.GaussianBlur(rng.normal(0, 40, (height, width)).astype(np.float32), (0, 0), 3)
    pred = cv2.GaussianBlur(target.astype(np.float32), (0, 0), 1.5) + error * unknown
    pred = np.clip(pred, 0, 255).round().astype(np.uint8)
    pred[trimap == 0], pred[trimap == 255] = 0, 255
    return pred, target, trimap


def random_case(
    height: int, width: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(pred, target, trimap) of unstructured noise: many small components and ties."""
    rng = np.random.default_rng(seed)
    target = rng.integers(0, 256, (height, width), dtype=np.uint8)
    pred = rng.integers(0, 256, (height, width), dtype=np.uint8)
    trimap = rng.choice(np.array([0, 128, 255], np.uint8), (height, width), p=[0.25, 0.5, 0.25])
    return pred, target, trimap


def mmagic_fixture() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """mmagic's unit-test case (specs/metrics.md §2.3): 32x32, GT all 255."""
    target = np.full((32, 32), 255, np.uint8)
    trimap = np.zeros((32, 32), np.uint8)
    trimap[:16, :16] = 128
    trimap[16:, 16:] = 255
    pred = np.where(trimap == 255, 255, 0).astype(np.uint8)
    return pred, target, trimap


def stack_cases(cases) -> list[torch.Tensor]:
    """[(pred, target, trimap), ...] -> [preds, targets, trimaps], each N,1,H,W uint8."""
    return [torch.from_numpy(np.stack(x))[:, None] for x in zip(*cases, strict=True)]
