"""Tensor conversions used on NPU outputs, as C++ kernels running at memory speed.

* :func:`fp16_to_fp32`: float16 -> float32 (exact).
* :func:`dequantize`: int8/uint8 -> float32, ``real = (q - zero_point) * scale``.
* :func:`from_nc1hwc2`: NC1HWC2 ``(N, C1, H, W_stride, C2)`` -> NCHW ``(N, C, H, W)`` or NHWC
  ``(N, H, W, C)``, optionally fused with dequantisation / fp16 widening (one pass).

Inputs must be C-contiguous with the exact dtype (no hidden copies); ``out`` may be given
to reuse a destination array.
"""

from __future__ import annotations

import math
from typing import Optional, Tuple

import numpy as np

from . import _core


def _out(out: Optional[np.ndarray], shape: Tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    if out is None:
        return np.empty(shape, dtype=dtype)
    if not isinstance(out, np.ndarray) or out.dtype != dtype or out.shape != tuple(shape):
        got = f"{out.dtype} {out.shape}" if isinstance(out, np.ndarray) else type(out).__name__
        raise ValueError(f"expected out as {np.dtype(dtype)} {tuple(shape)}, got {got}")
    return out


def _check(a: np.ndarray, what: str) -> None:
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{what}: expected numpy.ndarray, got {type(a).__name__}")
    if not a.flags.c_contiguous:
        raise ValueError(f"{what}: expected a C-contiguous array, got a non-contiguous one")


def _check_qparams(scale: float, zero_point: int, what: str) -> None:
    if not (math.isfinite(scale) and scale > 0):
        raise ValueError(f"{what}: expected a positive finite scale, got {scale}")
    if isinstance(zero_point, bool) or not isinstance(zero_point, (int, np.integer)) or not -2**31 <= zero_point < 2**31:
        raise ValueError(f"{what}: expected an integer zero_point (int32), got {zero_point!r}")


def fp16_to_fp32(a: np.ndarray, out: Optional[np.ndarray] = None) -> np.ndarray:
    """float16 array -> float32 array of the same shape."""
    _check(a, "fp16_to_fp32")
    if a.dtype != np.float16:
        raise TypeError(f"fp16_to_fp32: expected float16, got {a.dtype}")
    o = _out(out, a.shape, np.dtype(np.float32))
    _core._fp16_to_fp32(a, o)
    return o


def dequantize(a: np.ndarray, scale: float, zero_point: int, out: Optional[np.ndarray] = None) -> np.ndarray:
    """int8/uint8 array -> float32 ``(a - zero_point) * scale``."""
    _check(a, "dequantize")
    if a.dtype not in (np.int8, np.uint8):
        raise TypeError(f"dequantize: expected int8 or uint8, got {a.dtype}")
    _check_qparams(scale, zero_point, "dequantize")
    o = _out(out, a.shape, np.dtype(np.float32))
    _core._dequantize(a, o, float(scale), int(zero_point))
    return o


def from_nc1hwc2(
    a: np.ndarray,
    channels: int,
    width: Optional[int] = None,
    *,
    layout: str = "nchw",
    float32: bool = False,
    scale: float = 1.0,
    zero_point: int = 0,
    out: Optional[np.ndarray] = None,
) -> np.ndarray:
    """NC1HWC2 ``(N, C1, H, W_stride, C2)`` -> ``layout`` ("nchw" or "nhwc").

    Args:
        a: the native tensor (any 1/2/4-byte dtype; int8/uint8/float16 when ``float32``).
        channels: the logical channel count C (``C1 * C2 >= C``; padding channels dropped).
        width: the logical width W (default: ``W_stride``; padding columns dropped).
        float32: dequantise (int8/uint8 with ``scale``/``zero_point``) or widen (float16)
            to float32 in the same pass.
    """
    _check(a, "from_nc1hwc2")
    if a.ndim != 5:
        raise ValueError(f"from_nc1hwc2: expected a 5-D (N, C1, H, W, C2) array, got shape {a.shape}")
    if layout not in ("nchw", "nhwc"):
        raise ValueError(f"from_nc1hwc2: expected layout 'nchw' or 'nhwc', got {layout!r}")
    n, c1, h, ws, c2 = (int(d) for d in a.shape)
    w = ws if width is None else int(width)
    c = int(channels)
    if not (0 < c <= c1 * c2) or not (0 < w <= ws):
        raise ValueError(f"from_nc1hwc2: expected 0 < channels <= {c1 * c2} and 0 < width <= {ws}, "
                         f"got channels={channels}, width={width}")
    shape = (n, c, h, w) if layout == "nchw" else (n, h, w, c)
    if float32:
        if a.dtype in (np.int8, np.uint8):
            _check_qparams(scale, zero_point, "from_nc1hwc2")
            mode = 1
        elif a.dtype == np.float16:
            mode = 2
        else:
            raise TypeError(f"from_nc1hwc2: float32=True needs int8, uint8 or float16, got {a.dtype}")
        o = _out(out, shape, np.dtype(np.float32))
    else:
        mode = 0
        o = _out(out, shape, a.dtype)
    _core._nc1hwc2_to(a, o, n, c, h, w, c1, c2, ws, layout == "nhwc", mode,
                      float(scale), int(zero_point))
    return o
