"""Helpers shared by the dense decoders: layout descriptions and argument checks."""

from __future__ import annotations

from typing import Any, Optional, Tuple

import numpy as np

from .._checks import (check_contiguous, check_count, check_fraction, check_int, check_number,
                       check_qparams, check_size)
from .._checks import check_dtype as _check_dtype
from ..results import LetterboxTransform

__all__ = ["check_contiguous", "check_count", "check_dtype", "check_fraction", "check_number",
           "check_transform", "int8_qparams"]

_SCORE_DTYPES = (np.int8, np.float16, np.float32)


def check_dtype(name: str, a: Any, allowed: Any = _SCORE_DTYPES) -> np.ndarray:
    """:func:`rknn_fast._checks.check_dtype` defaulting to the score dtypes of the decoders."""
    return _check_dtype(name, a, allowed)


def check_transform(transform: Any) -> None:
    """TypeError unless ``transform`` is a :class:`~rknn_fast.LetterboxTransform`."""
    if not isinstance(transform, LetterboxTransform):
        raise TypeError(f"transform: expected a LetterboxTransform (from rknn_fast.letterbox), "
                        f"got {type(transform).__name__}")
    # A hand-made transform is bounded like letterbox's own output (no exabyte masks/maps).
    check_size("transform.src_shape", transform.src_shape, trailing=True)
    check_size("transform.dst_shape", transform.dst_shape, trailing=True)
    check_number("transform.scale", transform.scale, finite=True)
    check_number("transform.pad_x", transform.pad_x, finite=True)
    check_number("transform.pad_y", transform.pad_y, finite=True)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function in float64 that never overflows or warns: ``exp`` only ever sees
    ``-|x|`` (so it lies in (0, 1]), ``1 / (1 + e)`` for ``x >= 0`` and ``e / (1 + e)``
    otherwise; +/-inf give 1/0 and NaN stays NaN, silently."""
    v = np.asarray(x, dtype=np.float64)
    with np.errstate(under="ignore"):  # exp(-|x|) may underflow to 0 for |x| > ~745: exact enough
        e = np.exp(-np.abs(v))
        return np.where(v >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def degenerate_boxes(xyxy: np.ndarray) -> np.ndarray:
    """Mask of boxes that cannot be a detection: width or height <= 0, or a NaN coordinate
    (``x2 > x1`` and ``y2 > y1`` are both false for NaN). Decoders drop them before NMS."""
    with np.errstate(invalid="ignore"):
        return ~((xyxy[:, 2] > xyxy[:, 0]) & (xyxy[:, 3] > xyxy[:, 1]))


def int8_qparams(name: str, qp: Any) -> Tuple[float, int]:
    """The (scale, zero_point) of an int8 tensor: a positive finite scale and a zero point in
    -128..127. ValueError naming ``name`` otherwise (None included: int8 needs them)."""
    if qp is None:
        raise ValueError(f"{name}: expected (scale, zero_point) for int8 values, got None")
    try:
        scale, zp = qp
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected (scale, zero_point), got {qp!r}") from None
    return check_qparams(name, scale, zp, -128, 127)


def planes(
    scores: np.ndarray, layout: str, classes: Optional[int] = None, width: Optional[int] = None
) -> Tuple[np.ndarray, Tuple[int, int, int, int, int, int, int]]:
    """Describes ``scores`` as (classes, height, width) planes read in place.

    Returns the C-contiguous array and (classes, height, width, c2, stride_c1, stride_h,
    stride_w) in elements. Layouts: ``"NCHW"`` (1, C, H, W) or (C, H, W); ``"NHWC"``
    (1, H, W, C) or (H, W, C); ``"NC1HWC2"`` (1, C1, H, W', C2) with ``classes`` <= C1*C2
    (default C1*C2) and ``width`` <= W' (default W', for row-padded native buffers).
    """
    check_dtype("scores", scores)
    if not scores.flags.c_contiguous:
        raise ValueError("scores: expected a C-contiguous array (native output buffers are)")
    if not isinstance(layout, str):
        raise TypeError(f"layout: expected 'NCHW', 'NHWC' or 'NC1HWC2', got {type(layout).__name__}")
    layout = layout.upper()
    shape = scores.shape
    classes = None if classes is None else check_int("classes", classes, 1)  # 2.5 was truncated
    width = None if width is None else check_int("width", width, 1)
    if layout in ("NCHW", "NHWC"):
        if scores.ndim == 4:
            if shape[0] != 1:
                raise ValueError(f"scores: expected batch 1, got shape {shape}")
            shape = shape[1:]
        if len(shape) != 3:
            raise ValueError(f"scores: expected a 3-D or 4-D {layout} array, got shape {scores.shape}")
        if layout == "NCHW":
            c, h, w = shape
            desc = (c, h, w, 1, h * w, w, 1)
        else:
            h, w, c = shape
            desc = (c, h, w, c, 0, w * c, c)
        if classes is not None and classes != c:
            raise ValueError(f"classes: expected {c} for a {layout} array of shape {scores.shape}, got {classes}")
        if width is not None and width != w:
            raise ValueError(f"width: expected {w}, got {width}")
    elif layout == "NC1HWC2":
        if scores.ndim != 5 or shape[0] != 1:
            raise ValueError(f"scores: expected (1, C1, H, W, C2) for NC1HWC2, got shape {shape}")
        _, c1, h, wp, c2 = shape
        c = c1 * c2 if classes is None else int(classes)
        if not (c1 - 1) * c2 < c <= c1 * c2:
            raise ValueError(f"classes: expected {(c1 - 1) * c2 + 1}..{c1 * c2} for C1={c1}, C2={c2}, got {c}")
        w = wp if width is None else int(width)
        if not 0 < w <= wp:
            raise ValueError(f"width: expected 1..{wp}, got {w}")
        desc = (c, h, w, c2, h * wp * c2, wp * c2, c2)
    else:
        raise ValueError(f"layout: expected 'NCHW', 'NHWC' or 'NC1HWC2', got {layout!r}")
    if desc[0] < 1:
        raise ValueError(f"scores: expected at least one class, got shape {scores.shape}")
    return scores, desc


def map_affine(
    map_hw: Tuple[int, int],
    transform: Optional[LetterboxTransform],
    image_shape: Optional[Tuple[int, int]],
) -> Tuple[Tuple[float, float, float, float], Tuple[int, int]]:
    """Affine from image pixel centres to map coordinates and the output (h, w).

    With a letterbox the map covers ``transform.dst_shape`` and the output is
    ``transform.src_shape``; without one the map is stretched over ``image_shape``.
    """
    mh, mw = map_hw
    if transform is not None:
        check_transform(transform)
        dh, dw = (int(v) for v in transform.dst_shape[:2])
        oh, ow = (int(v) for v in transform.src_shape[:2])
        if image_shape is not None and tuple(image_shape[:2]) != (oh, ow):
            raise ValueError(f"image_shape: expected {(oh, ow)} (transform.src_shape), got {tuple(image_shape[:2])}")
        s = float(transform.scale)
        if not s > 0:
            raise ValueError(f"transform.scale: expected > 0, got {s}")
        return (s * mw / dw, transform.pad_x * mw / dw, s * mh / dh, transform.pad_y * mh / dh), (oh, ow)
    if image_shape is None:
        raise ValueError("expected a letterbox or an image_shape to resample to")
    oh, ow = check_size("image_shape", image_shape, 0, trailing=True)
    return (mw / max(ow, 1), 0.0, mh / max(oh, 1), 0.0), (oh, ow)


def unletterbox_points(xy: np.ndarray, transform: Optional[LetterboxTransform]) -> np.ndarray:
    """(..., 2) model pixels -> image pixels (``(x - pad_x) / scale``, clipped to the image),
    float32; a float32 copy without a transform."""
    if transform is None:
        return np.array(xy, dtype=np.float32)
    return transform.points_to_image(xy, clip=True)


def unletterbox_boxes(xyxy: np.ndarray, transform: Optional[LetterboxTransform]) -> np.ndarray:
    """(N, 4) xyxy model pixels -> image pixels, clipped to the image."""
    if transform is None:
        return np.array(xyxy, dtype=np.float32).reshape(-1, 4)
    return transform.boxes_to_image(np.asarray(xyxy, np.float32).reshape(-1, 4), clip=True)


def dequantize(a: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """int8 -> float32 ``(q - zero_point) * scale``; float16/float32 -> float32."""
    if a.dtype == np.int8:
        return ((a.astype(np.float32) - np.float32(zero_point)) * np.float32(scale)).astype(np.float32)
    return a.astype(np.float32)
