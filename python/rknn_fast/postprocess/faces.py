"""Face detectors: RetinaFace (rknn_model_zoo) and BlazeFace (MediaPipe front model)."""

from __future__ import annotations

from typing import Optional, Sequence, Tuple

import numpy as np

from .. import _core
from ..results import Detections, LetterboxTransform
from .._checks import check_int, check_number, check_side, check_size
from ._common import (check_dtype, check_fraction, degenerate_boxes, dequantize, int8_qparams, sigmoid,
                      unletterbox_boxes, unletterbox_points)
from .detection import _check_max_detections, nms

#: NMS rules of the face decoders: "plain" (greedy, the best box of each overlapping group
#: is kept as it is) and "weighted" (MediaPipe: the kept face is the score-weighted mean of
#: its group's boxes and keypoints).
NMS_METHODS = ("weighted", "plain")

__all__ = ["retinaface_priors", "decode_retinaface", "blazeface_anchors", "decode_blazeface"]


def retinaface_priors(model_shape: Tuple[int, int] = (320, 320)) -> np.ndarray:
    """(P, 4) priors (cx, cy, w, h) normalised to the input: steps 8/16/32, sizes
    (16, 32), (64, 128), (256, 512), order level -> row -> column -> size."""
    h, w = check_size("model_shape", model_shape)  # (1,) raised IndexError, (10**9, 10**9) ran out of memory
    return _core.retinaface_priors(h, w)


def _float_output(name: str, a: np.ndarray, width: int, qp: Optional[Tuple[float, int]]) -> np.ndarray:
    check_dtype(name, a)
    if a.ndim == 3 and a.shape[0] == 1:
        a = a[0]
    if a.ndim != 2 or a.shape[1] != width:
        raise ValueError(f"{name}: expected (1, P, {width}), got shape {a.shape}")
    if a.dtype == np.int8:
        return dequantize(a, *int8_qparams(f"{name} qparams", qp))
    return np.ascontiguousarray(a, dtype=np.float32)


def _retinaface_model_shape(n: int) -> Tuple[int, int]:
    for s in (320, 640):
        if n == 2 * sum((-(-s // st)) ** 2 for st in (8, 16, 32)):
            return (s, s)
    raise ValueError(f"expected 4200 (320) or 16800 (640) priors, got {n}: pass model_shape or a letterbox")


def _check_nms_method(method: str) -> str:
    if not isinstance(method, str) or method not in NMS_METHODS:
        raise ValueError(f"nms: expected 'weighted' or 'plain', got {method!r}")
    return method


def _faces_after_nms(
    boxes: np.ndarray,
    scores: np.ndarray,
    keypoints: np.ndarray,
    iou: float,
    max_detections: int,
    transform: Optional[LetterboxTransform],
    method: str,
) -> Detections:
    """Degenerate boxes dropped, NMS over the face candidates (model pixels), then the kept
    ones in image pixels."""
    iou = check_fraction("iou", iou)
    _check_max_detections(max_detections)
    bad = degenerate_boxes(boxes)
    if bad.any():
        ok = ~bad
        boxes, scores, keypoints = boxes[ok], scores[ok], keypoints[ok]
    boxes = np.ascontiguousarray(boxes, dtype=np.float32)
    scores = np.ascontiguousarray(scores, dtype=np.float32)
    if method == "weighted":
        n, k = keypoints.shape[0], keypoints.shape[1]
        flat = np.ascontiguousarray(keypoints.reshape(n, 2 * k), dtype=np.float32)
        top, xyxy, kp, _ = _core.weighted_nms(boxes, scores, flat, float(iou), -np.inf, int(max_detections))
        kept_scores, kept_kp = scores[top], kp.reshape(-1, k, 2)
    else:
        keep = nms(boxes, scores, iou_threshold=iou, max_detections=max_detections)
        xyxy, kept_scores, kept_kp = boxes[keep], scores[keep], keypoints[keep]
    return Detections(
        xyxy=unletterbox_boxes(xyxy, transform),
        scores=kept_scores,
        class_ids=np.zeros(len(kept_scores), np.int32),
        names=["face"],
        keypoints=unletterbox_points(kept_kp, transform),
    )


def decode_retinaface(
    loc: np.ndarray,
    scores: np.ndarray,
    landmarks: np.ndarray,
    *,
    conf: float = 0.5,
    iou: float = 0.4,
    max_detections: int = 128,
    transform: Optional[LetterboxTransform] = None,
    model_shape: Optional[Tuple[int, int]] = None,
    qparams: Optional[Sequence[Tuple[float, int]]] = None,
    nms: str = "plain",
) -> Detections:
    """Faces with 5 landmarks (eyes, nose, mouth corners).

    ``loc`` (1, P, 4), ``scores`` (1, P, 2) (softmax inside the model, face = column 1),
    ``landmarks`` (1, P, 10); float32/float16, or int8 with ``qparams`` (one pair per output).
    Kept: score > ``conf`` (strict, C demo default 0.5); boxes with width or height <= 0
    (or NaN) are dropped; class-agnostic NMS at ``iou`` (0.4), at most ``max_detections``.
    ``nms``: ``"plain"`` (greedy, the rknn_model_zoo C demo's) or ``"weighted"`` (see
    :func:`decode_blazeface`). Variances 0.1 (centre, landmarks) and 0.2 (size).
    Returns Detections in image pixels, class 0 "face", keypoints (N, 5, 2).
    """
    conf = check_fraction("conf", conf)
    method = _check_nms_method(nms)
    qp = list(qparams) if qparams is not None else [None, None, None]
    if len(qp) != 3:
        raise ValueError(f"qparams: expected 3 (scale, zero_point) pairs, got {len(qp)}")
    l = _float_output("loc", loc, 4, qp[0])
    c = _float_output("scores", scores, 2, qp[1])
    m = _float_output("landmarks", landmarks, 10, qp[2])
    if not l.shape[0] == c.shape[0] == m.shape[0]:
        raise ValueError(f"expected the same P in loc, scores, landmarks, got {l.shape[0]}, {c.shape[0]}, {m.shape[0]}")
    if transform is not None:
        shape = (int(transform.dst_shape[0]), int(transform.dst_shape[1]))
    elif model_shape is not None:
        shape = check_size("model_shape", model_shape)
    else:
        shape = _retinaface_model_shape(l.shape[0])
    pri = retinaface_priors(shape)
    if pri.shape[0] != l.shape[0]:
        raise ValueError(f"expected {pri.shape[0]} priors for a {shape} input, got {l.shape[0]}")
    boxes, face_scores, _, kps = _core.decode_retinaface(l, c, m, pri, shape[0], shape[1], float(conf))
    return _faces_after_nms(boxes, face_scores, kps, iou, max_detections, transform, method)


def blazeface_anchors(
    input_size: int = 128, strides: Sequence[int] = (8, 16, 16, 16), anchor_offset: float = 0.5
) -> np.ndarray:
    """(A, 4) anchors (cx, cy, w, h), normalised, MediaPipe SSD-anchor conventions with
    ``fixed_anchor_size`` and one aspect ratio: consecutive layers of equal stride share a
    grid; each layer contributes 2 anchors per cell. Order: layer group -> row -> column ->
    anchor. The front model (128, strides 8/16/16/16) gives 16*16*2 + 8*8*6 = 896."""
    input_size = check_side("input_size", input_size)  # 2**31 tried to allocate exabytes
    if isinstance(strides, (str, bytes)) or not hasattr(strides, "__len__") or len(strides) == 0:
        raise TypeError(f"strides: expected a non-empty sequence of integers, got {strides!r}")
    strides = [check_int(f"strides[{k}]", s, 1, input_size) for k, s in enumerate(strides)]
    anchor_offset = check_number("anchor_offset", anchor_offset, 0.0, 1.0)
    out = []
    i = 0
    while i < len(strides):
        j = i
        while j < len(strides) and strides[j] == strides[i]:
            j += 1
        per_cell = 2 * (j - i)
        g = -(-input_size // strides[i])
        ys, xs = np.meshgrid((np.arange(g) + anchor_offset) / g, (np.arange(g) + anchor_offset) / g, indexing="ij")
        centres = np.stack([xs, ys], -1).reshape(-1, 1, 2).repeat(per_cell, axis=1).reshape(-1, 2)
        out.append(np.concatenate([centres, np.ones_like(centres)], axis=1))
        i = j
    return np.concatenate(out).astype(np.float32)


def decode_blazeface(
    regressors: np.ndarray,
    scores: np.ndarray,
    *,
    conf: float = 0.5,
    iou: float = 0.3,
    max_detections: int = 100,
    anchors: Optional[np.ndarray] = None,
    input_size: int = 128,
    transform: Optional[LetterboxTransform] = None,
    qparams: Optional[Sequence[Tuple[float, int]]] = None,
    nms: str = "weighted",
) -> Detections:
    """BlazeFace (MediaPipe short-range front model) faces with 6 keypoints, MediaPipe's rules.

    ``regressors`` (1, A, 16): (dx, dy, w, h) then 6 keypoints (x, y), in input pixels
    relative to the anchor (divided by ``input_size``); ``scores`` (1, A, 1) logits,
    clipped to +/-100 then a sigmoid that cannot overflow (no warning for any logit).
    Kept: score >= ``conf`` (0.5, MediaPipe's ``min_detection_confidence``); boxes with
    width or height <= 0 (or NaN) are dropped; then NMS at ``iou`` (0.3), at most
    ``max_detections``:

    * ``nms="weighted"`` (default, MediaPipe's): the best remaining face and every remaining
      candidate overlapping it with IoU > ``iou`` form a group; the kept face's box and
      keypoints are the score-weighted means over the group, its score the best one's.
    * ``nms="plain"``: greedy NMS, the best box of a group is kept as it is.

    Returns Detections in image pixels (model pixels without a transform), keypoints (N, 6, 2).
    """
    conf = check_fraction("conf", conf)
    input_size = check_side("input_size", input_size)
    method = _check_nms_method(nms)
    qp = list(qparams) if qparams is not None else [None, None]
    r = _float_output("regressors", regressors, 16, qp[0])
    s = _float_output("scores", scores, 1, qp[1])[:, 0]
    a = blazeface_anchors(input_size) if anchors is None else np.asarray(anchors, np.float32)
    if a.shape != (r.shape[0], 4) or s.shape[0] != r.shape[0]:
        raise ValueError(f"expected {a.shape[0]} anchors, regressors and scores, got {r.shape[0]} and {s.shape[0]}")
    prob = sigmoid(np.clip(s, -100.0, 100.0))
    sel = np.flatnonzero(prob >= conf)
    r, a, prob = r[sel], a[sel], prob[sel].astype(np.float32)
    inv = 1.0 / float(input_size)
    cx = r[:, 0] * inv * a[:, 2] + a[:, 0]
    cy = r[:, 1] * inv * a[:, 3] + a[:, 1]
    w = r[:, 2] * inv * a[:, 2]
    h = r[:, 3] * inv * a[:, 3]
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1) * input_size
    kp = r[:, 4:16].reshape(-1, 6, 2) * inv * a[:, None, 2:4] + a[:, None, 0:2]
    kp = kp * input_size
    return _faces_after_nms(boxes.astype(np.float32), prob, kp, iou, max_detections, transform, method)
