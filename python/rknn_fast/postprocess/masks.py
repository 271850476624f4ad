"""Instance masks for YOLOv8-seg / YOLOv5-seg heads.

The mask logit of an instance is ``coefficients · proto`` (K = 32 prototypes). Only the
prototype cells under each box are computed; int8 prototypes are used as they are (zero
points folded into the dot product, scales dropped because they are positive and do not
change a sign). Each image pixel inside the box samples the logits bilinearly
(align_corners=False) at its centre mapped through the transform, and is foreground when
the logit is > 0 (sigmoid > 0.5). Crop: pixel (x, y) with ``x1 <= x < x2``, ``y1 <= y < y2``
of the box in image pixels.
"""

from __future__ import annotations

from typing import Any, List, Optional, Sequence, Tuple, Union

import numpy as np

from .. import _core
from ..results import Detections, LetterboxTransform
from .._checks import MAX_SIDE, check_array, check_flag, check_size
from ._common import check_contiguous, check_dtype, check_transform
from ._tensors import InfoLike, infos_list, qparams

__all__ = ["instance_masks", "gather_coefficients", "decode_yolov8_seg", "decode_yolov5_seg"]


def _check_int8_zero_point(name: str, zp: Any) -> None:
    # The int8 kernel accumulates (q - zp) products in int32: a zero point outside the int8
    # range is meaningless and could overflow.
    if isinstance(zp, bool) or not isinstance(zp, (int, np.integer)) or not -128 <= zp <= 127:
        raise ValueError(f"{name}: expected an int8 zero point in -128..127, got {zp!r}")


def instance_masks(
    proto: np.ndarray,
    coefficients: np.ndarray,
    boxes: np.ndarray,
    *,
    transform: Optional[LetterboxTransform] = None,
    model_shape: Optional[Tuple[int, int]] = None,
    proto_zero_point: int = 0,
    coefficient_zero_points: Optional[np.ndarray] = None,
    class_ids: Optional[np.ndarray] = None,
    class_map: bool = False,
) -> Union[np.ndarray, Tuple[np.ndarray, np.ndarray]]:
    """Binary instance masks in image pixels.

    * ``proto``: (1, K, Hp, Wp) or (K, Hp, Wp), int8 (with ``proto_zero_point``) or float32;
      it covers the model input (``transform.dst_shape``, else ``model_shape``, else 4*Hp x 4*Wp).
    * ``coefficients``: (N, K) float32, or int8 with ``coefficient_zero_points`` (N,) —
      one zero point per instance since each stride has its own quantisation.
    * ``boxes``: (N, 4) xyxy in model-input pixels.
    * ``transform``: maps model pixels to the image (``transform.src_shape``); without it
      masks are in model pixels.
    * ``class_map=True`` also returns the merged (H, W) uint8 map of the C demo: in the given
      order (highest score first), each still-empty pixel of an instance's mask gets
      ``class_id + 1`` (needs ``class_ids``, all < 255).

    Returns ``masks`` (N, H, W) bool, or ``(masks, class_map)``.
    """
    check_dtype("proto", proto, (np.int8, np.float32))
    class_map = check_flag("class_map", class_map)
    if proto.ndim == 4:
        if proto.shape[0] != 1:
            raise ValueError(f"proto: expected batch 1, got shape {proto.shape}")
        proto = proto[0]
    if proto.ndim != 3:
        raise ValueError(f"proto: expected (1, K, H, W) or (K, H, W), got shape {proto.shape}")
    check_contiguous("proto", proto)
    check_dtype("coefficients", coefficients, (np.int8, np.float32))
    k = proto.shape[0]
    check_dtype("boxes", boxes, (np.float32,))
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"boxes: expected (N, 4), got shape {boxes.shape}")
    check_contiguous("boxes", boxes)
    n = boxes.shape[0]
    if coefficients.shape != (n, k):
        raise ValueError(f"coefficients: expected shape {(n, k)}, got {coefficients.shape}")
    _check_int8_zero_point("proto_zero_point", proto_zero_point)
    zps = None
    if coefficients.dtype == np.int8:
        if coefficient_zero_points is None:
            raise ValueError("coefficient_zero_points: expected (N,) zero points for int8 coefficients, got None")
        zp_arr = np.asarray(coefficient_zero_points)
        if zp_arr.dtype.kind not in "iu":
            raise TypeError(f"coefficient_zero_points: expected integers, got {zp_arr.dtype}")
        if zp_arr.size and (zp_arr.min() < -128 or zp_arr.max() > 127):
            raise ValueError("coefficient_zero_points: expected int8 zero points in -128..127, got "
                             f"{zp_arr.min()}..{zp_arr.max()}")
        zps = np.ascontiguousarray(np.broadcast_to(zp_arr, (n,)), dtype=np.int32)
    cls = None
    if class_ids is not None:
        cls_arr = np.asarray(class_ids)
        if cls_arr.dtype.kind not in "iu":
            raise TypeError(f"class_ids: expected integers, got {cls_arr.dtype}")
        if cls_arr.shape != (n,):
            raise ValueError(f"class_ids: expected shape {(n,)}, got {cls_arr.shape}")
        if n and (cls_arr.min() < 0 or cls_arr.max() >= 255):
            raise ValueError("class_ids: expected 0..254 for a uint8 class map")
        cls = np.ascontiguousarray(cls_arr, dtype=np.int32)
    elif class_map:
        raise ValueError("class_map=True needs class_ids")
    if transform is not None:
        check_transform(transform)
        mh, mw = (int(v) for v in transform.dst_shape[:2])
        oh, ow = (int(v) for v in transform.src_shape[:2])
        scale, px, py = float(transform.scale), float(transform.pad_x), float(transform.pad_y)
    else:
        # (10**9, 10**9) tried to allocate exabytes of masks
        mh, mw = check_size("model_shape", model_shape if model_shape is not None
                            else (min(4 * proto.shape[1], MAX_SIDE), min(4 * proto.shape[2], MAX_SIDE)))
        oh, ow, scale, px, py = mh, mw, 1.0, 0.0, 0.0
    masks, cmap = _core.instance_masks(
        proto, int(proto_zero_point), np.ascontiguousarray(coefficients), zps, boxes,
        int(mh), int(mw), scale, px, py, int(oh), int(ow), cls, bool(class_map),
    )
    if class_map:
        assert cmap is not None  # the kernel fills it when asked
        return masks, cmap
    return masks


def gather_coefficients(
    tensors: Sequence[np.ndarray],
    anchor_index: np.ndarray,
    zero_points: Optional[Sequence[int]] = None,
    *,
    k: int = 32,
    anchors_per_cell: int = 1,
) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """Mask coefficients of the cells/anchors ``anchor_index`` from per-stride tensors.

    ``tensors``: (1, A*k, H, W) NCHW or (1, C1, H, W, C2) NC1HWC2, one per stride, with
    ``A = anchors_per_cell`` (YOLOv8-seg: A = 1, ``anchor_index = offset + y*W + x``;
    YOLOv5-seg: A = 3, ``anchor_index = offset + (a*H + y)*W + x``, coefficient ``k`` of
    anchor ``a`` in channel ``32*a + k``), offsets = cumulative A*H*W of earlier strides.
    Only the N selected vectors are read. Returns (N, k) coefficients (int8 kept raw,
    float16 widened to float32) and, for int8, the (N,) zero point of each instance's
    stride (``zero_points``: one per tensor).
    """
    if len(tensors) == 0:
        raise ValueError("tensors: expected at least one coefficient tensor")
    dtypes = set()
    sizes = []
    for i, t in enumerate(tensors):
        check_dtype(f"tensors[{i}]", t)
        if t.ndim not in (4, 5) or t.shape[0] != 1:
            raise ValueError(f"tensors[{i}]: expected (1, C, H, W) or (1, C1, H, W, C2), got shape {t.shape}")
        c = t.shape[1] if t.ndim == 4 else t.shape[1] * t.shape[4]
        if c < anchors_per_cell * k or (t.ndim == 4 and c != anchors_per_cell * k):
            raise ValueError(f"tensors[{i}]: expected {anchors_per_cell * k} channels, got shape {t.shape}")
        dtypes.add(t.dtype)
        sizes.append(anchors_per_cell * t.shape[2] * t.shape[3])
    if len(dtypes) != 1:
        raise ValueError(f"tensors: expected one dtype for every stride, got {sorted(str(d) for d in dtypes)}")
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    idx = np.asarray(anchor_index, np.int64).reshape(-1)
    if idx.size and (idx.min() < 0 or idx.max() >= offsets[-1]):
        raise ValueError(f"anchor_index: expected 0..{offsets[-1] - 1}, got {idx.min()}..{idx.max()}")
    level = np.searchsorted(offsets, idx, side="right") - 1
    dtype = next(iter(dtypes))
    out = np.empty((idx.size, k), np.float32 if dtype == np.float16 else dtype)
    ks = np.arange(k)
    for lv, t in enumerate(tensors):
        sel = np.flatnonzero(level == lv)
        if sel.size == 0:
            continue
        h, w = t.shape[2], t.shape[3]
        r = idx[sel] - offsets[lv]
        a, cell = r // (h * w), r % (h * w)
        y, x = cell // w, cell % w
        ch = a[:, None] * k + ks[None, :]  # (n, k) logical channels
        if t.ndim == 4:
            vals = t[0][ch, y[:, None], x[:, None]]
        else:
            c2 = t.shape[4]
            vals = t[0][ch // c2, y[:, None], x[:, None], ch % c2]
        out[sel] = vals
    zps = None
    if dtype == np.int8:
        if zero_points is None or len(zero_points) != len(tensors):
            raise ValueError("zero_points: expected one zero point per int8 tensor")
        zps = np.asarray(zero_points, np.int32)[level]
    return out, zps


def _proto_nchw(proto: np.ndarray, info: InfoLike, k: int) -> np.ndarray:
    """(K, Hp, Wp) int8 or float32 prototypes; NC1HWC2 and float16 are converted (a copy)."""
    check_dtype("proto", proto)
    if proto.ndim == 5:
        h, w = proto.shape[2], proto.shape[3]
        proto = proto[0].transpose(0, 3, 1, 2).reshape(-1, h, w)[:k]
    elif proto.ndim == 4 and proto.shape[0] == 1:
        proto = proto[0]
    else:
        raise ValueError(f"proto: expected (1, K, H, W) or (1, C1, H, W, C2), got shape {proto.shape}")
    if proto.dtype == np.float16:
        proto = proto.astype(np.float32)
    return np.ascontiguousarray(proto)


def _seg_outputs(
    outputs: Sequence[np.ndarray],
    infos_or_qparams: Optional[Sequence[InfoLike]],
    expected: int,
    what: str,
    transform: Optional[LetterboxTransform],
    input_size: Optional[Tuple[int, int]],
) -> Tuple[List[np.ndarray], Sequence[InfoLike], Tuple[int, int]]:
    """Outputs as a list of ``expected`` arrays, one info each, and the model input (h, w):
    ``input_size``, else the letterbox destination, else 8 x the first (stride 8) grid."""
    if isinstance(outputs, np.ndarray) or not isinstance(outputs, (list, tuple)):
        # None raised AttributeError, one flattened array IndexError
        raise TypeError(f"expected a list of {expected} {what}, got {type(outputs).__name__}")
    outputs = list(outputs)
    if len(outputs) != expected:
        raise ValueError(f"expected {expected} {what}, got {len(outputs)}")
    for i, a in enumerate(outputs):
        check_array(f"output {i}", a)
        if a.ndim not in (4, 5) or a.shape[0] != 1:
            raise ValueError(f"output {i}: expected (1, C, H, W) or (1, C1, H, W, C2), got shape {a.shape}")
    infos = infos_list(infos_or_qparams, expected)
    if transform is not None:
        check_transform(transform)
    if input_size is None:
        input_size = transform.dst_shape[:2] if transform is not None else (8 * outputs[0].shape[2], 8 * outputs[0].shape[3])
    return outputs, infos, check_size("input_size", input_size)


def _seg_finish(
    det: Detections,
    coeff_tensors: Sequence[np.ndarray],
    coeff_infos: Sequence[InfoLike],
    proto: np.ndarray,
    proto_info: InfoLike,
    anchors_per_cell: int,
    transform: Optional[LetterboxTransform],
    input_size: Tuple[int, int],
    class_map: bool,
) -> Union[Detections, Tuple[Detections, np.ndarray]]:
    k = proto.shape[1] if proto.ndim == 4 else None
    p = _proto_nchw(proto, proto_info, k if k is not None else 32)
    k = p.shape[0]
    zps = [qparams(t, info, f"coefficients {i}")[1] for i, (t, info) in enumerate(zip(coeff_tensors, coeff_infos))]
    if det.anchor_index is None:
        raise ValueError("the detection decoder returned no anchor_index")
    coeffs, czp = gather_coefficients(coeff_tensors, det.anchor_index, zps, k=k, anchors_per_cell=anchors_per_cell)
    proto_zp = qparams(proto, proto_info, "proto")[1] if p.dtype == np.int8 else 0
    model_boxes = det.xyxy
    res = instance_masks(
        p, coeffs, model_boxes, transform=transform, model_shape=input_size,
        proto_zero_point=proto_zp, coefficient_zero_points=czp,
        class_ids=det.class_ids if class_map else None, class_map=class_map,
    )
    if transform is not None:
        det.xyxy = transform.boxes_to_image(model_boxes)
    if isinstance(res, tuple):
        det.masks = res[0]
        return det, res[1]
    det.masks = res
    return det


def decode_yolov8_seg(
    outputs: Sequence[np.ndarray],
    infos_or_qparams: Optional[Sequence[InfoLike]] = None,
    *,
    conf: float = 0.25,
    iou: float = 0.45,
    max_detections: int = 300,
    transform: Optional[LetterboxTransform] = None,
    input_size: Optional[Tuple[int, int]] = None,
    names: Optional[Sequence[str]] = None,
    class_map: bool = False,
    **detect_options: object,
) -> Union[Detections, Tuple[Detections, np.ndarray]]:
    """YOLOv8-seg model-zoo head (13 outputs): per stride box, cls, score_sum,
    mask coefficients (1, 32, H, W), then the prototypes (1, 32, 160, 160).

    Boxes/scores: :func:`~rknn_fast.postprocess.decode_yolov8` on the 9 detection outputs
    (``detect_options`` are passed on). Masks: :func:`instance_masks` for the kept boxes
    (int8 prototypes and coefficients used raw), in image pixels when ``transform`` is given.
    ``class_map=True`` returns ``(detections, merged uint8 class map)``.
    """
    from .detection import decode_yolov8

    outputs, infos, hw = _seg_outputs(outputs, infos_or_qparams, 13,
                                      "YOLOv8-seg outputs (box, cls, score_sum, coeffs x 3 + proto)",
                                      transform, input_size)
    det_idx = [0, 1, 2, 4, 5, 6, 8, 9, 10]
    det = decode_yolov8(
        [outputs[i] for i in det_idx], [infos[i] for i in det_idx], conf=conf, iou=iou,
        max_detections=max_detections, input_size=hw, names=names, **detect_options,  # type: ignore[arg-type]
    )
    return _seg_finish(det, [outputs[3], outputs[7], outputs[11]], [infos[3], infos[7], infos[11]],
                       outputs[12], infos[12], 1, transform, hw, class_map)


def decode_yolov5_seg(
    outputs: Sequence[np.ndarray],
    infos_or_qparams: Optional[Sequence[InfoLike]] = None,
    *,
    conf: float = 0.25,
    iou: float = 0.45,
    max_detections: int = 300,
    transform: Optional[LetterboxTransform] = None,
    input_size: Optional[Tuple[int, int]] = None,
    names: Optional[Sequence[str]] = None,
    class_map: bool = False,
    **detect_options: object,
) -> Union[Detections, Tuple[Detections, np.ndarray]]:
    """YOLOv5-seg model-zoo head (7 outputs): per stride detection (1, 255, H, W)
    and coefficients (1, 96, H, W) (channel 32*a + k), then prototypes (1, 32, 160, 160).

    Boxes/scores: :func:`~rknn_fast.postprocess.decode_yolov5`; masks as in
    :func:`decode_yolov8_seg`.
    """
    from .detection import decode_yolov5

    outputs, infos, hw = _seg_outputs(outputs, infos_or_qparams, 7,
                                      "YOLOv5-seg outputs (det, coeffs x 3 + proto)", transform, input_size)
    det = decode_yolov5(
        [outputs[0], outputs[2], outputs[4]], [infos[0], infos[2], infos[4]], conf=conf, iou=iou,
        max_detections=max_detections, input_size=hw, names=names, **detect_options,  # type: ignore[arg-type]
    )
    coeff = [outputs[1], outputs[3], outputs[5]]
    na = coeff[0].shape[1] // 32 if coeff[0].ndim == 4 else 3
    return _seg_finish(det, coeff, [infos[1], infos[3], infos[5]], outputs[6], infos[6], na,
                       transform, hw, class_map)
