"""A line-by-line NumPy/SciPy transcription of the official evaluation codes, kept as the oracle.

Written from the MATLAB files (`compute_*.m`, `gaussgradient.m`, `evaluate.m`) and mmagic 1.x
(`sad.py`, `matting_mse.py`, `gradient_error.py`, `connectivity_error.py`, `gaussian_funcs.py`,
`BaseMattor.postprocess`) as summarised in specs/metrics.md, deliberately naive: full 9x9
kernels, SciPy labelling, whole-image level maps. It shares no code with `mattebench.metrics`.
Inputs are single H,W arrays: uint8 mattes and trimaps, or float64 mattes in [0, 1].
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

FOUR_CONNECTED = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]])


def _unit(x: np.ndarray) -> np.ndarray:
    return x.astype(np.float64) / 255.0 if x.dtype == np.uint8 else x.astype(np.float64)


def _gauss(x, sigma):
    return np.exp(-(x**2) / (2 * sigma**2)) / (sigma * np.sqrt(2 * np.pi))


def _dgauss(x, sigma):
    return -x * _gauss(x, sigma) / sigma**2


def dim_kernel(sigma: float = 1.4) -> np.ndarray:
    """`gaussgradient.m`: hx(i,j) = gauss(i) * dgauss(j), unit Frobenius norm."""
    epsilon = 1e-2
    halfsize = int(np.ceil(sigma * np.sqrt(-2 * np.log(np.sqrt(2 * np.pi) * sigma * epsilon))))
    size = 2 * halfsize + 1
    hx = np.zeros((size, size))
    for i in range(size):
        for j in range(size):
            hx[i, j] = _gauss(i - halfsize, sigma) * _dgauss(j - halfsize, sigma)
    return hx / np.sqrt(np.sum(np.abs(hx) * np.abs(hx)))


def _gradient_amplitude(img: np.ndarray) -> np.ndarray:
    hx = dim_kernel()
    gx = ndimage.correlate(img, hx, mode="nearest")
    gy = ndimage.correlate(img, hx.T, mode="nearest")
    return np.sqrt(gx**2 + gy**2)


def _min_max(img: np.ndarray) -> np.ndarray:
    """`cv2.normalize(NORM_MINMAX)`: a constant image becomes zeros."""
    lo, hi = img.min(), img.max()
    if hi - lo <= np.finfo(np.float64).eps:
        return np.zeros_like(img)
    return (img - lo) / (hi - lo)


def _levels(p, g, thresholds, column_major: bool) -> np.ndarray:
    """`compute_connectivity_error.m` l.10-38: the level map over the whole image."""
    l_map = -np.ones_like(p)
    for ii in range(1, len(thresholds)):
        alpha_thresh = (p >= thresholds[ii]) & (g >= thresholds[ii])
        if column_major:  # bwconncomp numbers components in column-major order
            labels, _ = ndimage.label(alpha_thresh.T, structure=FOUR_CONNECTED)
            labels = labels.T
        else:
            labels, _ = ndimage.label(alpha_thresh, structure=FOUR_CONNECTED)
        sizes = np.bincount(labels.ravel())[1:]
        omega = labels == np.argmax(sizes) + 1 if len(sizes) else np.zeros_like(alpha_thresh)
        flag = (l_map == -1) & ~omega
        l_map[flag] = thresholds[ii - 1]
    l_map[l_map == -1] = 1
    return l_map


def _conn_sum(p, g, region, thresholds, column_major: bool) -> float:
    l_map = _levels(p, g, thresholds, column_major)
    pred_d, target_d = p - l_map, g - l_map
    pred_phi = 1 - pred_d * (pred_d >= 0.15)
    target_phi = 1 - target_d * (target_d >= 0.15)
    return float(np.sum(np.abs(pred_phi - target_phi)[region]))


def _errors(pred, target):
    return _unit(pred) - _unit(target)


def dim_sad(pred, target, region) -> float:
    """`compute_sad_loss.m`: sum over the region of |P - G| / 255, / 1000."""
    return float(np.sum(np.abs(_errors(pred, target))[region])) / 1000


def dim_mse(pred, target, region) -> float:
    """`compute_mse_loss.m` (0 for an empty region instead of MATLAB's division by zero)."""
    n = region.sum()
    return float(np.sum((_errors(pred, target) ** 2)[region]) / n) if n else 0.0


def dim_mad(pred, target, region) -> float:
    n = region.sum()
    return float(np.sum(np.abs(_errors(pred, target))[region]) / n) if n else 0.0


def dim_grad(pred, target, region) -> float:
    """`compute_gradient_loss.m` with the driver's / 1000."""
    amp_p = _gradient_amplitude(_min_max(_unit(pred)))
    amp_g = _gradient_amplitude(_min_max(_unit(target)))
    return float(np.sum(((amp_p - amp_g) ** 2)[region])) / 1000


def dim_conn(pred, target, region) -> float:
    """`compute_connectivity_error.m` (MATLAB colon thresholds, column-major ties), / 1000."""
    thresholds = [k / 10 for k in range(11)]
    return _conn_sum(_unit(pred), _unit(target), region, thresholds, column_major=True) / 1000


DIM = {"sad": dim_sad, "mse": dim_mse, "mad": dim_mad, "grad": dim_grad, "conn": dim_conn}


def dim_metrics(pred, target, region) -> dict[str, float]:
    """The MATLAB definitions over a boolean region (trimap == 128 in the official code)."""
    return {name: metric(pred, target, region) for name, metric in DIM.items()}


def mmagic_postprocess(pred: np.ndarray, trimap: np.ndarray) -> np.ndarray:
    """`BaseMattor.postprocess`: clamp, force known values, x255, round half to even, uint8."""
    if pred.dtype == np.uint8:
        pred = pred.astype(np.float32) / 255
    out = np.clip(pred.astype(np.float32), 0, 1)
    out[trimap == 255] = 1
    out[trimap == 0] = 0
    return np.round(out * np.float32(255)).astype(np.uint8)


def mmagic_metrics(pred, target, trimap) -> dict[str, float]:
    """mmagic 1.x: postprocessed prediction, whole-image SAD/MSE sums, np.arange thresholds."""
    p = mmagic_postprocess(pred, trimap) / 255.0
    g = _unit(target)
    unknown = trimap == 128
    n = unknown.sum()
    return {
        "sad": float(np.abs(p - g).sum()) / 1000,
        "mse": float(((p - g) ** 2).sum() / n) if n else 0.0,
        "grad": float(
            np.sum(
                ((_gradient_amplitude(_min_max(g)) - _gradient_amplitude(_min_max(p))) ** 2)[
                    unknown
                ]
            )
        )
        / 1000,
        "conn": _conn_sum(p, g, unknown, np.arange(0, 1 + 0.1, 0.1), column_major=False) / 1000,
    }


def rvm_dtssd(preds: np.ndarray, targets: np.ndarray) -> float:
    """RVM `evaluate_lr.py`: per-frame sqrt(mean(dt^2)) x 100, frame 0 scoring 0, clip mean."""
    scores = [0.0]
    for t in range(1, len(preds)):
        dp = _unit(preds[t]) - _unit(preds[t - 1])
        dg = _unit(targets[t]) - _unit(targets[t - 1])
        scores.append(float(np.sqrt(np.mean((dp - dg) ** 2)) * 100))
    return float(np.mean(scores))
