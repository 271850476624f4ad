"""Tensor conversions used on NPU outputs, as C++ kernels running at memory speed.

* :func:`fp16_to_fp32`: float16 -> float32 (exact).
* :func:`dequantize`: int8/uint8 -> float32, ``real = (q - zero_point) * scale``.
* :func:`from_nc1hwc2`: NC1HWC2 ``(N, C1, H, W_stride, C2)`` -> NCHW ``(N, C, H, W)`` or NHWC
  ``(N, H, W, C)``, optionally fused with dequantisation / fp16 widening (one pass).

Inputs must be C-contiguous with the exact dtype (no hidden copies); ``out`` may be given
to reuse a destination array.
"""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from . import _core
from ._checks import check_array, check_choice, check_flag, check_int, check_qparams


def _out(out: Optional[np.ndarray], shape: Tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    if out is None:
        return np.empty(shape, dtype=dtype)
    if not isinstance(out, np.ndarray) or out.dtype != dtype or out.shape != tuple(shape):
        got = f"{out.dtype} {out.shape}" if isinstance(out, np.ndarray) else type(out).__name__
        raise ValueError(f"expected out as {np.dtype(dtype)} {tuple(shape)}, got {got}")
    return out


def _check(a: np.ndarray, what: str) -> None:
    check_array(what, a)
    if not a.flags.c_contiguous:
        raise ValueError(f"{what}: expected a C-contiguous array, got a non-contiguous one")


def _check_qparams(scale: float, zero_point: int, what: str) -> None:
    check_qparams(what, scale, zero_point, -2**31, 2**31 - 1)  # the kernels take an int32 zero point


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
    check_choice("from_nc1hwc2: layout", layout, ("nchw", "nhwc"))
    float32 = check_flag("from_nc1hwc2: float32", float32)
    n, c1, h, ws, c2 = (int(d) for d in a.shape)
    # channels=2.5 was truncated to 2, width=-inf raised OverflowError, channels=True was 1
    c = check_int("from_nc1hwc2: channels", channels)
    w = ws if width is None else check_int("from_nc1hwc2: width", width)
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
