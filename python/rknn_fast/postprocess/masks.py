"""Instance masks for YOLOv8-seg / YOLOv5-seg heads.

The mask logit of an instance is ``coefficients · proto`` (K = 32 prototypes). Only the
prototype cells under each box are computed; int8 prototypes are used as they are (zero
points folded into the dot product, scales dropped because they are positive and do not
change a sign). Each image pixel inside the box samples the logits bilinearly
(align_corners=False) at its centre mapped through the letterbox, and is foreground when
the logit is > 0 (sigmoid > 0.5). Crop: pixel (x, y) with ``x1 <= x < x2``, ``y1 <= y < y2``
of the box in image pixels.
"""

from __future__ import annotations

from typing import Optional, Sequence, Tuple, Union

import numpy as np

from .. import _core
from ..results import LetterboxTransform
from ._common import check_dtype

__all__ = ["instance_masks", "gather_coefficients"]


def instance_masks(
    proto: np.ndarray,
    coefficients: np.ndarray,
    boxes: np.ndarray,
    *,
    letterbox: Optional[LetterboxTransform] = None,
    model_shape: Optional[Tuple[int, int]] = None,
    proto_zero_point: int = 0,
    coefficient_zero_points: Optional[np.ndarray] = None,
    class_ids: Optional[np.ndarray] = None,
    class_map: bool = False,
) -> Union[np.ndarray, Tuple[np.ndarray, np.ndarray]]:
    """Binary instance masks in image pixels.

    * ``proto``: (1, K, Hp, Wp) or (K, Hp, Wp), int8 (with ``proto_zero_point``) or float32;
      it covers the model input (``letterbox.dst_shape``, else ``model_shape``, else 4*Hp x 4*Wp).
    * ``coefficients``: (N, K) float32, or int8 with ``coefficient_zero_points`` (N,) —
      one zero point per instance since each stride has its own quantisation.
    * ``boxes``: (N, 4) xyxy in model-input pixels.
    * ``letterbox``: maps model pixels to the image (``letterbox.src_shape``); without it
      masks are in model pixels.
    * ``class_map=True`` also returns the merged (H, W) uint8 map of the C demo: in the given
      order (highest score first), each still-empty pixel of an instance's mask gets
      ``class_id + 1`` (needs ``class_ids``, all < 255).

    Returns ``masks`` (N, H, W) bool, or ``(masks, class_map)``.
    """
    check_dtype("proto", proto, (np.int8, np.float32))
    if proto.ndim == 4:
        if proto.shape[0] != 1:
            raise ValueError(f"proto: expected batch 1, got shape {proto.shape}")
        proto = proto[0]
    if proto.ndim != 3:
        raise ValueError(f"proto: expected (1, K, H, W) or (K, H, W), got shape {proto.shape}")
    proto = np.ascontiguousarray(proto)
    check_dtype("coefficients", coefficients, (np.int8, np.float32))
    k = proto.shape[0]
    boxes = np.asarray(boxes)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"boxes: expected (N, 4), got shape {boxes.shape}")
    boxes = np.ascontiguousarray(boxes, dtype=np.float32)
    n = boxes.shape[0]
    if coefficients.shape != (n, k):
        raise ValueError(f"coefficients: expected shape {(n, k)}, got {coefficients.shape}")
    zps = None
    if coefficients.dtype == np.int8:
        if coefficient_zero_points is None:
            raise ValueError("coefficient_zero_points: expected (N,) zero points for int8 coefficients, got None")
        zps = np.ascontiguousarray(np.broadcast_to(np.asarray(coefficient_zero_points), (n,)), dtype=np.int32)
    cls = None
    if class_ids is not None:
        cls = np.ascontiguousarray(np.asarray(class_ids), dtype=np.int32)
        if cls.shape != (n,):
            raise ValueError(f"class_ids: expected shape {(n,)}, got {cls.shape}")
        if n and (cls.min() < 0 or cls.max() >= 255):
            raise ValueError("class_ids: expected 0..254 for a uint8 class map")
    elif class_map:
        raise ValueError("class_map=True needs class_ids")
    if letterbox is not None:
        mh, mw = (int(v) for v in letterbox.dst_shape[:2])
        oh, ow = (int(v) for v in letterbox.src_shape[:2])
        scale, px, py = float(letterbox.scale), float(letterbox.pad_x), float(letterbox.pad_y)
    else:
        mh, mw = model_shape if model_shape is not None else (4 * proto.shape[1], 4 * proto.shape[2])
        oh, ow, scale, px, py = mh, mw, 1.0, 0.0, 0.0
    masks, cmap = _core.instance_masks(
        proto, int(proto_zero_point), np.ascontiguousarray(coefficients), zps, boxes,
        int(mh), int(mw), scale, px, py, int(oh), int(ow), cls, bool(class_map),
    )
    return (masks, cmap) if class_map else masks


def gather_coefficients(
    tensors: Sequence[np.ndarray],
    anchor_index: np.ndarray,
    zero_points: Optional[Sequence[int]] = None,
) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """Mask coefficients of the cells ``anchor_index`` (flat index across levels, level by level,
    row-major within a level) from per-stride NCHW tensors (1, K, H, W).

    Returns (N, K) coefficients in the tensors' dtype (float16 is widened to float32) and, for
    int8 tensors, the (N,) zero point of each instance's level (``zero_points`` per tensor).
    """
    if len(tensors) == 0:
        raise ValueError("tensors: expected at least one coefficient tensor")
    flats = []
    for i, t in enumerate(tensors):
        check_dtype(f"tensors[{i}]", t)
        if t.ndim != 4 or t.shape[0] != 1:
            raise ValueError(f"tensors[{i}]: expected (1, K, H, W), got shape {t.shape}")
        flats.append(t.reshape(t.shape[1], -1))
    if len({f.shape[0] for f in flats}) != 1 or len({f.dtype for f in flats}) != 1:
        raise ValueError("tensors: expected the same K and dtype for every level")
    sizes = np.array([f.shape[1] for f in flats])
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    idx = np.asarray(anchor_index, np.int64).reshape(-1)
    if idx.size and (idx.min() < 0 or idx.max() >= offsets[-1]):
        raise ValueError(f"anchor_index: expected 0..{offsets[-1] - 1}, got {idx.min()}..{idx.max()}")
    level = np.searchsorted(offsets, idx, side="right") - 1
    out = np.empty((idx.size, flats[0].shape[0]), flats[0].dtype if flats[0].dtype != np.float16 else np.float32)
    for lv, f in enumerate(flats):
        sel = level == lv
        out[sel] = f[:, idx[sel] - offsets[lv]].T
    zps = None
    if flats[0].dtype == np.int8:
        if zero_points is None or len(zero_points) != len(flats):
            raise ValueError("zero_points: expected one zero point per int8 tensor")
        zps = np.asarray(zero_points, np.int32)[level]
    return out, zps
