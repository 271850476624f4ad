"""Pure-numpy references for the runtime conversions (slow on purpose, written from the
layout definitions in ../shared/rknn/API_FACTS.md §6.3)."""

from __future__ import annotations

import numpy as np


def to_nc1hwc2(x: np.ndarray, c2: int, w_stride: int | None = None, pad_value: int = 0) -> np.ndarray:
    """NCHW (N, C, H, W) -> NC1HWC2 (N, C1, H, W_stride, C2), padding with ``pad_value``."""
    n, c, h, w = x.shape
    ws = w if w_stride is None else w_stride
    c1 = -(-c // c2)
    out = np.full((n, c1, h, ws, c2), pad_value, dtype=x.dtype)
    for ci in range(c):
        out[:, ci // c2, :, :w, ci % c2] = x[:, ci]
    return out


def nc1hwc2_to_nchw(native: np.ndarray, c: int, w: int) -> np.ndarray:
    """Element (n, c, h, w) at [n, c // C2, h, w, c % C2]."""
    n, c1, h, ws, c2 = native.shape
    out = np.empty((n, c, h, w), dtype=native.dtype)
    for ci in range(c):
        out[:, ci] = native[:, ci // c2, :, :w, ci % c2]
    return out


def dequantize(q: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    return ((q.astype(np.float64) - zero_point) * scale).astype(np.float32)
