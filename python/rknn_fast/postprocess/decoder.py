"""Prepared detection decoders: validate once, then decode every frame with C++-side checks only.

:func:`~rknn_fast.postprocess.decode_yolov8` and friends validate their arguments on every call
(head, layouts, channel counts, quantisation, thresholds: tens of microseconds of Python for a
9-output head). A :class:`Decoder` does that once, builds a C++ plan (dtypes, shapes, views of
the outputs, thresholds in the quantised domain, the DFL exp tables, NMS settings) and then
each call only checks, in C++, that every array has the planned dtype, shape and C-contiguous
strides (a mismatch raises ValueError) and runs the kernel with the GIL released. Results are
the same as the matching ``decode_*`` function's, bit for bit.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from .. import _core
from ..info import TensorInfo
from ..results import Detections, LetterboxTransform
from ._tensors import InfoLike
from .detection import (
    _decode_yolov5_args,
    _decode_yolov8_args,
    _decode_yolov8_flat_args,
    _decode_yolox_args,
    detect_head_from_shapes,
)

_ARGS: Dict[str, Callable[..., Tuple[Any, ...]]] = {
    "yolov8": _decode_yolov8_args,
    "flat": _decode_yolov8_flat_args,
    "yolov5": _decode_yolov5_args,
    "yolox": _decode_yolox_args,
}
_PLANS: Dict[str, Callable[..., Any]] = {
    "yolov8": _core.DetectionPlan.yolov8,
    "flat": _core.DetectionPlan.flat,
    "yolov5": _core.DetectionPlan.yolov5,
    "yolox": _core.DetectionPlan.yolox,
}
_SINGLE = ("flat", "yolox")


class Decoder:
    """``Decoder(infos, head="auto", **decode_kwargs)(outputs, transform=None) -> Detections``.

    Args:
        infos: one :class:`~rknn_fast.TensorInfo` (e.g. ``model.outputs``) or
            ``(scale, zero_point)`` pair per output (None entries, or ``infos=None``, for float
            outputs).
        head: ``"auto"`` (from the TensorInfo shapes, else from the first call's arrays),
            ``"yolov8"`` (YOLOv8/YOLO11 split head, 6 or 9 outputs), ``"flat"``, ``"yolov5"``
            or ``"yolox"``.
        names: class names for the :class:`~rknn_fast.Detections`.
        decode_kwargs: the keyword arguments of the matching function
            (:func:`~rknn_fast.postprocess.decode_yolov8`, ``decode_yolov8_flat``,
            ``decode_yolov5``, ``decode_yolox``): ``conf``, ``iou``, ``input_size``,
            ``max_detections``, ``class_agnostic``, ``scores``, ``layout``, ``num_classes``,
            ``top_k``, ``plus_one``, ``run_nms``, ... (``transform`` is per call).

    Construction checks the keyword arguments, and with TensorInfos everything they describe
    (head, channel counts, quantisation), and plans for arrays of the TensorInfo shapes and
    dtypes. The outputs' layout is settled by the first call: when its arrays differ from the
    TensorInfo shapes (NPU-native NC1HWC2 outputs of a zero-copy Model), or when nothing was
    known in advance ((scale, zero_point) pairs, or ``scores="auto"`` on a head without
    score_sum, which looks at the values), the first call is validated as the ``decode_*``
    function would and the plan is fixed on its arrays. From then on every call must pass
    arrays of exactly the planned dtypes, shapes and C-contiguous strides; anything else raises
    ValueError (TypeError for non-arrays). Build one Decoder per model and output layout.

    A Decoder is immutable once planned and can be shared by threads.
    """

    def __init__(self, infos: Optional[Sequence[InfoLike]], head: str = "auto", *,
                 names: Optional[Sequence[str]] = None, **decode_kwargs: Any) -> None:
        if head != "auto" and head not in _ARGS:
            raise ValueError(f"expected head 'auto', 'yolov8', 'flat', 'yolov5' or 'yolox', got {head!r}")
        if "transform" in decode_kwargs:
            raise TypeError("transform is passed per call: decoder(outputs, transform)")
        self._infos: Optional[List[InfoLike]] = None if infos is None else list(infos)
        all_infos = self._infos is not None and len(self._infos) > 0 and all(
            isinstance(i, TensorInfo) for i in self._infos)
        if head == "auto" and all_infos:
            assert self._infos is not None
            head = detect_head_from_shapes([tuple(i.shape) for i in self._infos])  # type: ignore[union-attr]
        self.head: str = head
        self.names = names
        self.decode_kwargs: Dict[str, Any] = dict(decode_kwargs)
        self._plan: Any = None
        self._confirmed = False  # a call succeeded: the plan is final
        if head != "auto":
            try:  # unknown keywords -> TypeError now rather than at the first frame
                inspect.signature(_ARGS[head]).bind_partial(**self.decode_kwargs)
            except TypeError as e:
                raise TypeError(f"Decoder(head={head!r}): {e}") from None
        if all_infos and head != "auto":
            assert self._infos is not None
            dummies = [np.zeros(tuple(i.shape), np.dtype(i.dtype)) for i in self._infos]  # type: ignore[union-attr]
            data_dependent = self.decode_kwargs.get("scores", "auto" if head == "yolov8" else "prob") == "auto" and (
                head == "flat" or (head == "yolov8" and len(dummies) == 6))
            # Validates everything the infos describe; plans unless a choice depends on values.
            plan = self._build(dummies)
            if not data_dependent:
                self._plan = plan

    def _build(self, outputs: Sequence[np.ndarray]) -> Any:
        head = self.head
        if head == "auto":
            head = detect_head_from_shapes([np.shape(a) for a in outputs])
            inspect.signature(_ARGS[head]).bind_partial(**self.decode_kwargs)
        if head in _SINGLE:
            if len(outputs) != 1:
                raise ValueError(f"expected one output for head {head!r}, got {len(outputs)}")
            info = None if self._infos is None else self._infos[0]
            if self._infos is not None and len(self._infos) != 1:
                raise ValueError(f"expected one TensorInfo/qparams entry for head {head!r}, got {len(self._infos)}")
            args = _ARGS[head](outputs[0], info, **self.decode_kwargs)
        else:
            args = _ARGS[head](list(outputs), self._infos, **self.decode_kwargs)
        plan = _PLANS[head](*args)
        self.head = head
        return plan

    def __call__(self, outputs: Sequence[np.ndarray], transform: Optional[LetterboxTransform] = None) -> Detections:
        """Decode one frame's raw outputs (list or tuple, in output order).

        ``transform``: the frame's :class:`~rknn_fast.LetterboxTransform` to map boxes back to
        its pixels (clipped to it), as the ``decode_*`` functions do.
        """
        lb = None
        if transform is not None:
            if not isinstance(transform, LetterboxTransform):
                raise TypeError(f"transform: expected a LetterboxTransform, got {type(transform).__name__}")
            lb = (transform.pad_x, transform.pad_y, transform.scale, transform.src_shape[1], transform.src_shape[0])
        plan = self._plan
        if plan is None or not self._confirmed:
            plan = self._first_call(outputs, lb)
        boxes, scores, class_ids, anchor = plan(outputs, lb)
        return Detections(xyxy=boxes, scores=scores, class_ids=class_ids, names=self.names, anchor_index=anchor)

    def _first_call(self, outputs: Sequence[np.ndarray], lb: Any) -> Any:
        if not isinstance(outputs, (list, tuple)):
            raise TypeError(f"expected the outputs as a list or tuple of numpy arrays, got {type(outputs).__name__}")
        plan = self._plan
        if plan is not None:
            try:
                plan(outputs, lb)
            except ValueError:
                plan = None  # another layout than the TensorInfos describe: plan on these arrays
        if plan is None:
            plan = self._build(outputs)
        self._plan, self._confirmed = plan, True
        return plan

    @property
    def planned(self) -> List[Tuple[str, Tuple[int, ...]]]:
        """(dtype, shape) of every array the plan expects (empty before it is planned)."""
        return [] if self._plan is None else [(d, tuple(s)) for d, s in self._plan.describe()]

    def __repr__(self) -> str:
        return f"Decoder(head={self.head!r}, outputs={len(self.planned) or '?'}, {self.decode_kwargs})"


__all__ = ["Decoder"]
