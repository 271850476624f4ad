"""YOLOv8-pose decode (rknn_model_zoo split heads)."""

from __future__ import annotations

import math
from typing import Optional, Sequence, Tuple

import numpy as np

from .. import _core
from ..results import Detections, LetterboxTransform
from .._checks import check_real, check_size
from ._common import (check_dtype, check_fraction, check_transform, dequantize, int8_qparams, planes, unletterbox_boxes,
                      unletterbox_points)
from .detection import nms

__all__ = ["decode_yolov8_pose"]


def decode_yolov8_pose(
    heads: Sequence[np.ndarray],
    keypoints: np.ndarray,
    *,
    qparams: Optional[Sequence[Tuple[float, int]]] = None,
    keypoint_qparams: Optional[Tuple[float, int]] = None,
    layout: str = "NCHW",
    conf: float = 0.5,
    iou: float = 0.4,
    max_detections: int = 300,
    transform: Optional[LetterboxTransform] = None,
    model_shape: Optional[Tuple[int, int]] = None,
    reg_max: int = 16,
) -> Detections:
    """Persons with 17 keypoints.

    * ``heads``: one (1, 4*reg_max+1, H, W) tensor per stride (8, 16, 32) in ``layout``
      ("NCHW", "NHWC" or native "NC1HWC2"), int8 (``qparams`` per head), float16 or float32.
      Channels 0..63 are DFL logits (l, t, r, b x 16 bins), channel 64 the person logit.
    * ``keypoints``: (1, K, 3, N) with N = total cells, (x, y, visibility) in model pixels,
      float16/float32 (int8 with ``keypoint_qparams``).
    * Kept: ``sigmoid(logit) >= conf`` (tested as ``logit >= log(conf / (1 - conf))``), then
      class-agnostic NMS at ``iou`` (IoU > iou suppresses), at most ``max_detections``.
    * Model size: ``transform.dst_shape``, else ``model_shape``, else 8x the first head.

    Returns Detections in image pixels (class 0) with ``keypoints`` (N, K, 3).
    """
    conf = check_real("conf", conf)
    if not 0.0 < conf < 1.0:
        raise ValueError(f"conf: expected 0 < conf < 1, got {conf}")
    if not isinstance(layout, str):  # None raised AttributeError
        raise TypeError(f"layout: expected 'NCHW', 'NHWC' or 'NC1HWC2', got {type(layout).__name__}")
    if isinstance(heads, (str, bytes, np.ndarray)) or not isinstance(heads, Sequence):
        raise TypeError(f"heads: expected a list of arrays, got {type(heads).__name__}")
    iou = check_fraction("iou", iou)
    if isinstance(reg_max, bool) or not isinstance(reg_max, int) or not 1 <= reg_max <= 64:
        raise ValueError(f"reg_max: expected an integer in 1..64, got {reg_max!r}")
    if len(heads) == 0:
        raise ValueError("heads: expected at least one head")
    if qparams is not None and len(qparams) != len(heads):
        raise ValueError(f"qparams: expected {len(heads)} (scale, zero_point) pairs, got {len(qparams)}")
    descs = []
    for i, h in enumerate(heads):
        arr, d = planes(h, layout, 4 * reg_max + 1 if layout.upper() == "NC1HWC2" else None)
        if d[0] != 4 * reg_max + 1:
            raise ValueError(f"heads[{i}]: expected {4 * reg_max + 1} channels, got {d[0]}")
        scale, zp = 1.0, 0
        if arr.dtype == np.int8:
            scale, zp = int8_qparams(f"qparams[{i}]", None if qparams is None else qparams[i])
        descs.append((arr, d[1], d[2], d[3], d[4], d[5], d[6], scale, zp))
    total = sum(d[1] * d[2] for d in descs)
    check_dtype("keypoints", keypoints)
    if keypoints.ndim != 4 or keypoints.shape[0] != 1 or keypoints.shape[2] != 3 or keypoints.shape[3] != total:
        raise ValueError(f"keypoints: expected (1, K, 3, {total}), got shape {keypoints.shape}")
    if transform is not None:
        check_transform(transform)
        mh, mw = (int(v) for v in transform.dst_shape[:2])
    elif model_shape is not None:
        mh, mw = check_size("model_shape", model_shape)
    else:
        mh, mw = 8 * descs[0][1], 8 * descs[0][2]
    logit_thr = math.log(conf / (1.0 - conf))
    boxes, scores, anchor, _ = _core.decode_yolov8_pose(descs, reg_max, mh, mw, logit_thr)
    keep = nms(boxes, scores, iou_threshold=iou, max_detections=max_detections)
    boxes, scores, anchor = boxes[keep], scores[keep], anchor[keep]
    kp_raw = keypoints[0][:, :, anchor]  # (K, 3, n): only the kept columns are converted
    if kp_raw.dtype == np.int8:
        kp = dequantize(kp_raw, *int8_qparams("keypoint_qparams", keypoint_qparams))
    else:
        kp = kp_raw.astype(np.float32)
    kp = np.ascontiguousarray(kp.transpose(2, 0, 1))  # (n, K, 3)
    kp[..., :2] = unletterbox_points(kp[..., :2], transform)
    return Detections(
        xyxy=unletterbox_boxes(boxes, transform),
        scores=scores.astype(np.float32),
        class_ids=np.zeros(len(scores), np.int32),
        names=["person"],
        keypoints=kp,
    )
