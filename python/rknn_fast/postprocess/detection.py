"""YOLO detection decoders and NMS over raw NPU outputs.

Every decoder takes the model's raw output arrays as the runtime returns them (int8/uint8,
float16 or float32; NCHW or NPU-native NC1HWC2, read in place, see
:mod:`rknn_fast.postprocess._tensors`) and returns :class:`~rknn_fast.Detections`.

Rules shared by all decoders (the C++ kernels implement exactly these; tests compare them
with the numpy references in ``tests/reference.py``):

* A cell is a candidate when its score ``>= conf`` (inclusive). Quantized outputs are
  compared in the integer domain with the exact integer threshold (the smallest ``q`` with
  ``(q - zp) * scale >= conf`` in float32), so int8 decoding keeps exactly what
  dequantize-then-compare keeps. (The vendor C demo truncates the threshold instead, which
  can differ by one LSB.)
* Logit scores (``scores="logit"``) are compared as ``logit >= log(conf / (1 - conf))`` and
  reported as ``sigmoid(logit)``.
* Class: first maximum wins (lowest id on ties). NaN class scores are ignored; a cell whose
  class scores are all NaN, or whose score_sum is NaN, is skipped; candidates whose box is
  not finite or degenerate (width or height <= 0) are dropped.
* Then NMS (:func:`nms`): class-aware unless ``class_agnostic``, suppress ``IoU > iou``,
  at most ``max_detections``, sorted by descending score (ties: lower anchor index first).
* ``run_nms=False`` skips NMS: every candidate is returned in anchor order (not sorted by
  score; ``max_detections`` and ``top_k`` do not apply), for callers with their own NMS.
* Boxes are xyxy float32 pixels of the model input, or of the original image when a
  :class:`~rknn_fast.LetterboxTransform` is passed as ``transform`` (then clipped to it).
* ``Detections.anchor_index`` is the flat index of each detection's source cell over all
  branches in output order: YOLOv8 ``offset + y * W + x`` (offsets 0, 6400, 8000 at 640);
  YOLOv5 ``offset + (a * H + y) * W + x``; flat and YOLOX heads: the column/row ``n``.
"""

from __future__ import annotations

import math
from typing import Any, Optional, Sequence, Tuple

import numpy as np

from .. import _core
from ..results import Detections, LetterboxTransform
from .._checks import MAX_SIDE, check_flag, check_int, check_size
from ._common import check_contiguous, check_fraction, check_number
from ._tensors import InfoLike, grid_view, infos_list, qparams, rows_view, spatial

#: Model-zoo YOLOv5 anchors (w, h) in pixels for strides 8, 16, 32.
YOLOV5_ANCHORS: Tuple[Tuple[Tuple[float, float], ...], ...] = (
    ((10, 13), (16, 30), (33, 23)),
    ((30, 61), (62, 45), (59, 119)),
    ((116, 90), (156, 198), (373, 326)),
)

_SCORES = ("auto", "prob", "logit")


def nms(
    boxes: np.ndarray,
    scores: np.ndarray,
    iou_threshold: float = 0.45,
    score_threshold: float = 0.0,
    class_ids: Optional[np.ndarray] = None,
    max_detections: int = 300,
    top_k: Optional[int] = None,
    plus_one: bool = False,
) -> np.ndarray:
    """Greedy non-maximum suppression; returns kept indices (int64) by descending score.

    * ``boxes``: float32 (N, 4) xyxy; ``scores``: float32 (N,); ``class_ids``: int32 (N,)
      for class-aware NMS (boxes only suppress boxes of their own class), None for agnostic.
    * A box takes part when ``score >= score_threshold``; NaN scores and boxes with a
      non-finite coordinate never take part.
    * Order: descending score, equal scores keep the lower index first.
    * ``top_k``: only the best ``top_k`` boxes enter suppression.
    * A box is suppressed when ``IoU > iou_threshold`` (strictly) with a kept box.
      ``plus_one`` uses the legacy pixel convention ``w = x2 - x1 + 1`` (vendor C demos).
    * At most ``max_detections`` indices are returned (``<= 0``: no limit).
    """
    for name, a, nd in (("boxes", boxes, 2), ("scores", scores, 1)):
        if not isinstance(a, np.ndarray):
            raise TypeError(f"expected {name} to be a numpy array, got {type(a).__name__}")
        if a.dtype != np.float32:
            raise TypeError(f"expected float32 {name}, got {a.dtype} (use .astype(np.float32))")
        if a.ndim != nd:
            raise ValueError(f"expected {name} with {nd} dimensions, got shape {a.shape}")
    if boxes.shape[1:] != (4,) or boxes.shape[0] != scores.shape[0]:
        raise ValueError(f"expected boxes (N, 4) and scores (N,), got {boxes.shape} and {scores.shape}")
    if class_ids is not None:
        if not isinstance(class_ids, np.ndarray) or class_ids.dtype != np.int32:
            got = class_ids.dtype if isinstance(class_ids, np.ndarray) else type(class_ids).__name__
            raise TypeError(f"expected int32 class_ids, got {got} (use .astype(np.int32))")
        if class_ids.shape != scores.shape:
            raise ValueError(f"expected class_ids of shape {scores.shape}, got {class_ids.shape}")
    check_contiguous("boxes", boxes)
    check_contiguous("scores", scores)
    if class_ids is not None:
        check_contiguous("class_ids", class_ids)
    _check_top_k(top_k)
    _check_max_detections(max_detections)
    iou_threshold = check_fraction("iou_threshold", iou_threshold)  # 2.5 and -1 were accepted
    score_threshold = check_number("score_threshold", score_threshold)
    plus_one = check_flag("plus_one", plus_one)
    return _core.nms(
        boxes, scores, class_ids,
        float(iou_threshold), float(score_threshold), int(max_detections),
        int(top_k or 0), bool(plus_one),
    )


def weighted_nms(
    boxes: np.ndarray,
    scores: np.ndarray,
    iou_threshold: float = 0.3,
    score_threshold: float = 0.0,
    extra: Optional[np.ndarray] = None,
    max_detections: int = 100,
) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted (blending) NMS, MediaPipe's rule for its face detector.

    * ``boxes``: float32 (N, 4) xyxy; ``scores``: float32 (N,); ``extra``: float32 (N, M)
      values averaged like the boxes (e.g. keypoints flattened to (N, 2K)), or None.
    * Candidates and order as in :func:`nms`: ``score >= score_threshold``, finite boxes,
      descending score, lower index first on ties.
    * The best remaining candidate forms a cluster with every remaining candidate whose
      IoU with it is ``> iou_threshold`` (strictly); the cluster's box and ``extra`` are the
      score-weighted means over its members, ``sum(s_i * v_i) / sum(s_i)``, and its score is
      the best one's. Repeated until no candidate remains or ``max_detections`` clusters
      (``<= 0``: no limit).

    Returns ``(top, boxes, extra)``: int64 (K,) index of each cluster's best candidate (its
    score is ``scores[top]``), float32 (K, 4) blended boxes, float32 (K, M) blended extra
    ((K, 0) without ``extra``).
    """
    for name, a, nd in (("boxes", boxes, 2), ("scores", scores, 1), ("extra", extra, 2)):
        if a is None:
            continue
        if not isinstance(a, np.ndarray):
            raise TypeError(f"expected {name} to be a numpy array, got {type(a).__name__}")
        if a.dtype != np.float32:
            raise TypeError(f"expected float32 {name}, got {a.dtype} (use .astype(np.float32))")
        if a.ndim != nd:
            raise ValueError(f"expected {name} with {nd} dimensions, got shape {a.shape}")
        check_contiguous(name, a)
    if boxes.shape[1:] != (4,) or boxes.shape[0] != scores.shape[0]:
        raise ValueError(f"expected boxes (N, 4) and scores (N,), got {boxes.shape} and {scores.shape}")
    if extra is not None and extra.shape[0] != scores.shape[0]:
        raise ValueError(f"expected extra (N, M) with N = {scores.shape[0]}, got {extra.shape}")
    _check_max_detections(max_detections)
    iou_threshold = check_fraction("iou_threshold", iou_threshold)  # an IoU is in [0, 1]
    score_threshold = check_number("score_threshold", score_threshold)
    top, out_boxes, out_extra, _sizes = _core.weighted_nms(
        boxes, scores, extra, float(iou_threshold), float(score_threshold), int(max_detections))
    return top, out_boxes, out_extra


def _check_max_detections(max_detections: Any) -> None:
    # An int (<= 0: no limit); int(inf) raised OverflowError and 2.5 passed as 2.
    if isinstance(max_detections, bool) or not isinstance(max_detections, (int, np.integer)):
        raise ValueError(f"expected an integer max_detections, got {max_detections!r}")


def _check_common(conf: float, iou: float, max_detections: int, scores: str) -> None:
    check_fraction("conf", conf)
    check_fraction("iou", iou)
    _check_max_detections(max_detections)
    if scores not in _SCORES:
        raise ValueError(f"expected scores in {_SCORES}, got {scores!r}")


def _check_layout(outputs: Sequence[np.ndarray], layout: str) -> None:
    want = {"auto": None, "nchw": 4, "nc1hwc2": 5}
    if layout not in want:
        raise ValueError(f"expected layout 'auto', 'nchw' or 'nc1hwc2', got {layout!r}")
    nd = want[layout]
    for i, a in enumerate(outputs):
        if not isinstance(a, np.ndarray):
            raise TypeError(f"expected output {i} to be a numpy array, got {type(a).__name__}")
        if nd is not None and a.ndim != nd:
            raise ValueError(f"expected output {i} in {layout.upper()} ({nd}-D), got shape {a.shape}")


def _looks_like_logits(arrays: Sequence[np.ndarray], qps: Sequence[Tuple[float, int]]) -> bool:
    # Probabilities live in [0, 1]; logits of a real head go negative on background cells.
    for a, (scale, zp) in zip(arrays, qps):
        if a.size == 0:
            continue
        if a.dtype.kind in "iu":
            lo, hi = (float(a.min()) - zp) * scale, (float(a.max()) - zp) * scale
        else:
            lo, hi = float(np.nanmin(a)), float(np.nanmax(a))
        if lo < -1e-3 or hi > 1.0 + 1e-3:
            return True
    return False


def _check_head_3d(output: Any, shape_hint: str, what: str) -> None:
    """A single-output head must be a (1, a, b) numpy array."""
    if not isinstance(output, np.ndarray):
        raise TypeError(f"expected a numpy array, got {type(output).__name__}")
    if output.ndim != 3 or output.shape[0] != 1:
        raise ValueError(f"expected {what} as {shape_hint}, got shape {output.shape}")


def _input_hw(input_size: Optional[Tuple[int, int]], outputs: Sequence[np.ndarray]) -> Tuple[int, int]:
    """(h, w) of the model input; default 8 x the first (stride 8) grid."""
    if input_size is None:
        h0, w0 = spatial(outputs[0])
        input_size = (h0 * 8, w0 * 8)
    # 0 or negative sizes scaled every box to 0 or mirrored it; 639.5 was truncated
    return check_size("input_size", input_size)


def _finish(
    raw: Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    transform: Optional[LetterboxTransform],
    names: Optional[Sequence[str]],
) -> Detections:
    boxes, scores, class_ids, anchor = raw
    if transform is not None:
        boxes = transform.boxes_to_image(boxes)
    return Detections(xyxy=boxes, scores=scores, class_ids=class_ids, names=names,
                      anchor_index=anchor)


def _check_top_k(top_k: Optional[int]) -> None:
    # The kernel reads top_k <= 0 as "no limit": 0 or -1 must not silently mean that here.
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or top_k < 1):
        raise ValueError(f"expected top_k as an integer >= 1 or None (no limit), got {top_k!r}")


def _nms_args(iou: float, max_detections: int, class_agnostic: bool, top_k: Optional[int],
              plus_one: bool, run_nms: bool) -> Tuple[Any, ...]:
    _check_top_k(top_k)
    return (float(iou), int(max_detections), check_flag("class_agnostic", class_agnostic), int(top_k or 0),
            check_flag("plus_one", plus_one), check_flag("run_nms", run_nms))


def _decode_yolov8_args(
    outputs: Sequence[np.ndarray],
    infos_or_qparams: Optional[Sequence[InfoLike]] = None,
    *,
    conf: float = 0.25,
    iou: float = 0.45,
    input_size: Optional[Tuple[int, int]] = None,
    max_detections: int = 300,
    class_agnostic: bool = False,
    scores: str = "auto",
    layout: str = "auto",
    num_classes: Optional[int] = None,
    reg_max: Optional[int] = None,
    use_score_sum: bool = True,
    top_k: Optional[int] = None,
    plus_one: bool = False,
    run_nms: bool = True,
) -> Tuple[Any, ...]:
    """Validated arguments of ``_core.decode_yolov8`` / ``_core.DetectionPlan`` for :func:`decode_yolov8`."""
    _check_common(conf, iou, max_detections, scores)
    outputs = list(outputs)
    _check_layout(outputs, layout)
    n = len(outputs)
    if n not in (6, 9):
        raise ValueError(f"expected 6 or 9 YOLOv8 outputs (box, cls[, score_sum] x 3), got {n}")
    per = n // 3
    infos = infos_list(infos_or_qparams, n)
    box_channels = None if reg_max is None else 4 * int(reg_max)
    branches = []
    cls_arrays, cls_q = [], []
    nc_seen = None
    for b in range(3):
        i = b * per
        box = grid_view(outputs[i], infos[i], box_channels, f"output {i} (box)")
        cls = grid_view(outputs[i + 1], infos[i + 1], num_classes, f"output {i + 1} (cls)")
        hw = spatial(outputs[i])
        if spatial(outputs[i + 1]) != hw:
            raise ValueError(f"expected outputs {i} and {i + 1} on the same grid, got "
                             f"{outputs[i].shape} and {outputs[i + 1].shape}")
        if box[1][0] % 4 != 0:
            raise ValueError(f"expected box channels 4 * reg_max, got {box[1][0]}")
        if box_channels is None:
            box_channels = box[1][0]
        elif box[1][0] != box_channels:
            raise ValueError(f"expected {box_channels} box channels, got {box[1][0]} in output {i}")
        if nc_seen is None:
            nc_seen = cls[1][0]
        elif cls[1][0] != nc_seen:
            raise ValueError(f"expected {nc_seen} classes in every branch, got {cls[1][0]} in output {i + 1}")
        ssum = None
        if per == 3:
            ssum = grid_view(outputs[i + 2], infos[i + 2], 1, f"output {i + 2} (score_sum)")
            if spatial(outputs[i + 2]) != hw:
                raise ValueError(f"expected output {i + 2} on grid {hw}, got {outputs[i + 2].shape}")
        branches.append((box, cls, ssum))
        cls_arrays.append(outputs[i + 1])
        cls_q.append((cls[2], cls[3]))
    if scores == "auto":
        scores = "prob" if per == 3 else ("logit" if _looks_like_logits(cls_arrays, cls_q) else "prob")
    ih, iw = _input_hw(input_size, outputs)
    assert box_channels is not None
    return (
        branches, float(conf), scores == "logit", box_channels // 4, float(iw), float(ih),
        check_flag("use_score_sum", use_score_sum), *_nms_args(iou, max_detections, class_agnostic, top_k, plus_one, run_nms),
    )


def decode_yolov8(
    outputs: Sequence[np.ndarray],
    infos_or_qparams: Optional[Sequence[InfoLike]] = None,
    *,
    conf: float = 0.25,
    iou: float = 0.45,
    input_size: Optional[Tuple[int, int]] = None,
    max_detections: int = 300,
    class_agnostic: bool = False,
    scores: str = "auto",
    layout: str = "auto",
    num_classes: Optional[int] = None,
    reg_max: Optional[int] = None,
    use_score_sum: bool = True,
    top_k: Optional[int] = None,
    plus_one: bool = False,
    transform: Optional[LetterboxTransform] = None,
    names: Optional[Sequence[str]] = None,
    run_nms: bool = True,
) -> Detections:
    """Decode a YOLOv8/YOLO11 model-zoo split head (6 or 9 outputs, see docs/detection.md).

    ``outputs`` per stride (8, 16, 32, in that order): box DFL logits (1, 4*reg_max, H, W),
    class scores (1, nc, H, W) and, for 9 outputs, score_sum (1, 1, H, W); each may also be
    NC1HWC2 (1, C1, H, W, C2) (logical channels from the TensorInfo, ``num_classes`` or
    ``reg_max``). ``infos_or_qparams``: one TensorInfo or (scale, zero_point) per output
    (None for float outputs).

    ``scores``: ``"prob"`` (model-zoo export, sigmoid inside the model), ``"logit"`` (a head
    cut from a stock export) or ``"auto"``: ``"prob"`` when score_sum outputs exist, else
    ``"logit"`` if any dequantized class value is outside [0, 1] (one min/max scan of the
    raw buffers, padding lanes of NC1HWC2 included: pass ``scores`` explicitly when known).
    With ``use_score_sum`` cells whose score_sum < conf are skipped after reading one value
    (exact for probabilities, as sum >= max). DFL (max-subtracted softmax over reg_max bins,
    side order l, t, r, b) runs only for cells that pass; box
    ``((x + 0.5 -/+ d) * stride_x, (y + 0.5 -/+ d) * stride_y)`` with
    ``stride = input / grid`` per axis. ``input_size`` (h, w) defaults to 8 x the first grid.
    """
    args = _decode_yolov8_args(
        outputs, infos_or_qparams, conf=conf, iou=iou, input_size=input_size, max_detections=max_detections,
        class_agnostic=class_agnostic, scores=scores, layout=layout, num_classes=num_classes, reg_max=reg_max,
        use_score_sum=use_score_sum, top_k=top_k, plus_one=plus_one, run_nms=run_nms,
    )
    return _finish(_core.decode_yolov8(*args), transform, names)


def _decode_yolov8_flat_args(
    output: np.ndarray,
    info: InfoLike = None,
    *,
    conf: float = 0.25,
    iou: float = 0.45,
    max_detections: int = 300,
    class_agnostic: bool = False,
    scores: str = "prob",
    transposed: Optional[bool] = None,
    top_k: Optional[int] = None,
    plus_one: bool = False,
    run_nms: bool = True,
) -> Tuple[Any, ...]:
    """Validated arguments of ``_core.decode_flat`` / ``_core.DetectionPlan`` for :func:`decode_yolov8_flat`."""
    _check_common(conf, iou, max_detections, scores)
    _check_head_3d(output, "(1, 4+nc, N)", "the flat head")
    if transposed is None:
        transposed = output.shape[1] > output.shape[2]
    transposed = check_flag("transposed", transposed)
    view = rows_view(output, info, transposed, "output 0 (flat head)")
    if view[1][0] < 5:
        raise ValueError(f"expected at least 5 rows (4 box + classes), got {view[1][0]}")
    if scores == "auto":
        rows = output[0, :, 4:] if transposed else output[0, 4:]
        scores = "logit" if _looks_like_logits([rows], [(view[2], view[3])]) else "prob"
    return (view, float(conf), scores == "logit",
                            *_nms_args(iou, max_detections, class_agnostic, top_k, plus_one, run_nms))


def decode_yolov8_flat(
    output: np.ndarray,
    info: InfoLike = None,
    *,
    conf: float = 0.25,
    iou: float = 0.45,
    max_detections: int = 300,
    class_agnostic: bool = False,
    scores: str = "prob",
    transposed: Optional[bool] = None,
    top_k: Optional[int] = None,
    plus_one: bool = False,
    transform: Optional[LetterboxTransform] = None,
    names: Optional[Sequence[str]] = None,
    run_nms: bool = True,
) -> Detections:
    """Decode the Ultralytics flat head (1, 4+nc, N) (``format="rknn"`` export).

    Rows 0..3 are cx, cy, w, h in model-input pixels, rows 4.. class scores (probabilities
    by default; ``scores="logit"`` applies a sigmoid; ``"auto"`` inspects the values).
    ``transposed``: the array is (1, N, 4+nc); None guesses from the shape (more columns than
    rows means (1, 4+nc, N)). int8 outputs share one scale for boxes and scores.
    """
    args = _decode_yolov8_flat_args(
        output, info, conf=conf, iou=iou, max_detections=max_detections, class_agnostic=class_agnostic,
        scores=scores, transposed=transposed, top_k=top_k, plus_one=plus_one, run_nms=run_nms,
    )
    return _finish(_core.decode_flat(*args), transform, names)


def _decode_yolov5_args(
    outputs: Sequence[np.ndarray],
    infos_or_qparams: Optional[Sequence[InfoLike]] = None,
    *,
    conf: float = 0.25,
    iou: float = 0.45,
    input_size: Optional[Tuple[int, int]] = None,
    max_detections: int = 300,
    class_agnostic: bool = False,
    anchors: Optional[Sequence[Sequence[Sequence[float]]]] = None,
    scores: str = "prob",
    layout: str = "auto",
    num_classes: Optional[int] = None,
    top_k: Optional[int] = None,
    plus_one: bool = False,
    run_nms: bool = True,
) -> Tuple[Any, ...]:
    """Validated arguments of ``_core.decode_yolov5`` / ``_core.DetectionPlan`` for :func:`decode_yolov5`."""
    _check_common(conf, iou, max_detections, scores)
    if scores == "auto":
        scores = "prob"
    outputs = list(outputs)
    _check_layout(outputs, layout)
    if len(outputs) != 3:
        raise ValueError(f"expected 3 YOLOv5 outputs (strides 8, 16, 32), got {len(outputs)}")
    anc = np.asarray(YOLOV5_ANCHORS if anchors is None else anchors, dtype=np.float32)
    if anc.ndim != 3 or anc.shape[0] != 3 or anc.shape[2] != 2:
        raise ValueError(f"expected anchors of shape (3, na, 2), got {anc.shape}")
    na = int(anc.shape[1])
    infos = infos_list(infos_or_qparams, 3)
    channels = None if num_classes is None else na * (5 + int(num_classes))
    views = []
    for i, a in enumerate(outputs):
        v = grid_view(a, infos[i], channels, f"output {i}")
        if v[1][0] % na or v[1][0] // na < 6:
            raise ValueError(f"expected output {i} channels = {na} * (5 + nc), got {v[1][0]}")
        views.append(v)
    ih, iw = _input_hw(input_size, outputs)
    return (views, np.ascontiguousarray(anc.reshape(-1)), na, float(conf),
                              scores == "logit", float(iw), float(ih),
                              *_nms_args(iou, max_detections, class_agnostic, top_k, plus_one, run_nms))


def decode_yolov5(
    outputs: Sequence[np.ndarray],
    infos_or_qparams: Optional[Sequence[InfoLike]] = None,
    *,
    conf: float = 0.25,
    iou: float = 0.45,
    input_size: Optional[Tuple[int, int]] = None,
    max_detections: int = 300,
    class_agnostic: bool = False,
    anchors: Optional[Sequence[Sequence[Sequence[float]]]] = None,
    scores: str = "prob",
    layout: str = "auto",
    num_classes: Optional[int] = None,
    top_k: Optional[int] = None,
    plus_one: bool = False,
    transform: Optional[LetterboxTransform] = None,
    names: Optional[Sequence[str]] = None,
    run_nms: bool = True,
) -> Detections:
    """Decode a YOLOv5 anchor head: 3 outputs (1, na*(5+nc), H, W) at strides 8, 16, 32.

    Channel ``(5+nc)*a + k``: tx, ty, tw, th, objectness, class scores. ``scores="prob"``
    (model-zoo export, sigmoid inside the model) or ``"logit"`` (sigmoid applied here to
    every term). Objectness pre-gate ``obj >= conf`` (in int8 for quantized outputs; exact
    because class scores are <= 1), score = obj * best class, kept when ``>= conf``. Box
    centre ``(2 t - 0.5 + cell) * stride``, size ``(2 t)^2 * anchor``. ``anchors``: per
    branch, per anchor (w, h) pixels, default :data:`YOLOV5_ANCHORS`.
    """
    args = _decode_yolov5_args(
        outputs, infos_or_qparams, conf=conf, iou=iou, input_size=input_size, max_detections=max_detections,
        class_agnostic=class_agnostic, anchors=anchors, scores=scores, layout=layout, num_classes=num_classes,
        top_k=top_k, plus_one=plus_one, run_nms=run_nms,
    )
    return _finish(_core.decode_yolov5(*args), transform, names)


def _decode_yolox_args(
    output: np.ndarray,
    info: InfoLike = None,
    *,
    conf: float = 0.25,
    iou: float = 0.45,
    input_size: Optional[Tuple[int, int]] = None,
    max_detections: int = 300,
    class_agnostic: bool = False,
    grid_decode: bool = True,
    strides: Sequence[int] = (8, 16, 32),
    top_k: Optional[int] = None,
    plus_one: bool = False,
    run_nms: bool = True,
) -> Tuple[Any, ...]:
    """Validated arguments of ``_core.decode_yolox`` / ``_core.DetectionPlan`` for :func:`decode_yolox`."""
    _check_common(conf, iou, max_detections, "prob")
    _check_head_3d(output, "(1, N, 5+nc)", "the YOLOX head")
    grid_decode = check_flag("grid_decode", grid_decode)
    view = rows_view(output, info, True, "output 0 (YOLOX head)")
    if view[1][0] < 6:
        raise ValueError(f"expected at least 6 fields (5 + classes), got {view[1][0]}")
    n = int(output.shape[1])
    strides = [check_int(f"strides[{k}]", s, 1, MAX_SIDE) for k, s in enumerate(strides)]
    if grid_decode:
        if not strides:
            raise ValueError(f"expected positive strides, got {strides}")
        if input_size is None:
            side = math.sqrt(n / sum(1.0 / (s * s) for s in strides))
            input_size = (int(round(side)), int(round(side)))
        ih, iw = check_size("input_size", input_size)
        total = sum((ih // s) * (iw // s) for s in strides)
        if total != n:
            raise ValueError(f"expected {total} anchors for input {input_size} and strides "
                             f"{strides}, got N={n} (pass input_size)")
    else:
        ih, iw = (0, 0) if input_size is None else check_size("input_size", input_size)
    return (view, float(conf), bool(grid_decode), float(iw), float(ih), strides,
                             *_nms_args(iou, max_detections, class_agnostic, top_k, plus_one, run_nms))


def decode_yolox(
    output: np.ndarray,
    info: InfoLike = None,
    *,
    conf: float = 0.25,
    iou: float = 0.45,
    input_size: Optional[Tuple[int, int]] = None,
    max_detections: int = 300,
    class_agnostic: bool = False,
    grid_decode: bool = True,
    strides: Sequence[int] = (8, 16, 32),
    top_k: Optional[int] = None,
    plus_one: bool = False,
    transform: Optional[LetterboxTransform] = None,
    names: Optional[Sequence[str]] = None,
    run_nms: bool = True,
) -> Detections:
    """Decode a YOLOX-style head (1, N, 5+nc): cx, cy, w, h, objectness, class scores.

    Objectness and class scores are probabilities (YOLOX exports apply the sigmoid);
    score = obj * best class, kept when ``>= conf`` (pre-gate ``obj >= conf``).
    ``grid_decode=True`` (YOLOX ``decode_in_inference=False`` exports, e.g. ddddocr): the N
    anchors enumerate ``strides`` in order, each grid (input/stride) row-major, and
    ``cx = (tx + col) * s``, ``cy = (ty + row) * s``, ``w = exp(tw) * s``, ``h = exp(th) * s``.
    ``grid_decode=False``: the first four fields are already pixels. ``input_size`` (h, w)
    defaults to the square size whose grids add up to N.
    """
    args = _decode_yolox_args(
        output, info, conf=conf, iou=iou, input_size=input_size, max_detections=max_detections,
        class_agnostic=class_agnostic, grid_decode=grid_decode, strides=strides, top_k=top_k, plus_one=plus_one,
        run_nms=run_nms,
    )
    return _finish(_core.decode_yolox(*args), transform, names)


def detect_head(outputs: Sequence[np.ndarray]) -> str:
    """Guess the head from output shapes: ``"yolov8"``, ``"flat"``, ``"yolov5"`` or ``"yolox"``.

    One 3-D output: ``"flat"`` when it has more columns than rows (1, 4+nc, N), else
    ``"yolox"`` (1, N, 5+nc). Three 4-D/5-D outputs: ``"yolov5"``. Six or nine: ``"yolov8"``.
    """
    if not all(isinstance(a, np.ndarray) for a in outputs):
        raise TypeError("expected numpy arrays as outputs")
    return detect_head_from_shapes([a.shape for a in outputs])


def detect_head_from_shapes(shapes: Sequence[Tuple[int, ...]]) -> str:
    """:func:`detect_head` from output shapes alone (e.g. ``TensorInfo.shape``)."""
    shapes = [tuple(s) for s in shapes]
    if len(shapes) == 1 and len(shapes[0]) == 3:
        return "flat" if shapes[0][1] < shapes[0][2] else "yolox"
    if len(shapes) == 3 and all(len(s) in (4, 5) for s in shapes):
        return "yolov5"
    if len(shapes) in (6, 9) and all(len(s) in (4, 5) for s in shapes):
        return "yolov8"
    raise ValueError(f"cannot tell the detection head from output shapes {shapes}: not a detector this "
                     "package decodes by itself; pass head='yolov8' (6 or 9 outputs), 'flat' "
                     "(one (1, 4+nc, N) output), 'yolov5' (3 anchor outputs) or 'yolox' (one "
                     "(1, N, 5+nc) output) if it is one of those")


def decode(
    outputs: Sequence[np.ndarray],
    infos: Optional[Sequence[InfoLike]] = None,
    head: str = "auto",
    **kwargs: Any,
) -> Detections:
    """Decode with the decoder of ``head`` (``"auto"``: :func:`detect_head`).

    Keyword arguments go to the decoder (conf, iou, input_size, max_detections, ...).
    """
    outputs = list(outputs)
    if head == "auto":
        head = detect_head(outputs)
    if head == "yolov8":
        return decode_yolov8(outputs, infos, **kwargs)
    if head in ("yolov5",):
        return decode_yolov5(outputs, infos, **kwargs)
    single = ("flat", "yolox")
    if head in single:
        if len(outputs) != 1:
            raise ValueError(f"expected one output for head {head!r}, got {len(outputs)}")
        info = None if infos is None else list(infos)[0]
        fn = decode_yolov8_flat if head == "flat" else decode_yolox
        return fn(outputs[0], info, **kwargs)
    raise ValueError(f"expected head 'auto', 'yolov8', 'flat', 'yolov5' or 'yolox', got {head!r}")


__all__ = [
    "YOLOV5_ANCHORS", "decode", "decode_yolov5", "decode_yolov8", "decode_yolov8_flat",
    "decode_yolox", "detect_head", "detect_head_from_shapes", "nms", "qparams", "weighted_nms",
]
