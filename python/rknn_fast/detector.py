"""Detection pipeline: letterbox a frame straight into the model's input buffer, run, decode.

:class:`Detector` wraps a :class:`~rknn_fast.Model` whose first input is an image
(NHWC uint8 ``(1, H, W, 3)``) and whose outputs are a YOLO head that
:func:`rknn_fast.postprocess.decode` understands (YOLOv8/YOLO11 split, Ultralytics flat,
YOLOv5, YOLOX). Boxes come back in the pixels of the frame passed in.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np

from .pipeline import ImagePipeline, ModelSource
from .postprocess.decoder import Decoder
from .postprocess.detection import decode_yolov5, decode_yolov8, decode_yolov8_flat, decode_yolox, detect_head_from_shapes
from .results import Detections, LetterboxTransform

_HEADS = ("auto", "yolov8", "flat", "yolov5", "yolox")
_DECODERS: Dict[str, Callable[..., Any]] = {"yolov8": decode_yolov8, "flat": decode_yolov8_flat, "yolov5": decode_yolov5, "yolox": decode_yolox}
# Decoder arguments the Detector sets itself.
_RESERVED = ("outputs", "output", "infos_or_qparams", "info", "conf", "iou", "max_detections", "class_agnostic",
             "transform", "names")


class Detector(ImagePipeline):
    """``Detector(model)(frame) -> Detections`` in the frame's coordinates.

    Args:
        model: a :class:`Model`, or a path / bytes of a .rknn file (then opened with
            ``runtime`` and ``zero_copy``, and closed by :meth:`close`).
        head: ``"auto"`` (from the output shapes) or one of ``"yolov8"``, ``"flat"``,
            ``"yolov5"``, ``"yolox"``.
        conf, iou, names, max_detections, class_agnostic: see
            :func:`rknn_fast.postprocess.decode_yolov8`.
        runtime, zero_copy, rgb, convention, pad_value, core_mask, priority, cores,
            contexts_per_core: the arguments of every pipeline, see
            :class:`rknn_fast.pipeline.ImagePipeline` (``cores="all"`` runs on every NPU core).
        kwargs: any other keyword goes to the head's decoder (``scores``, ``anchors``,
            ``strides``, ``num_classes``, ...), checked against its signature at construction.

    Without ``cores=`` calls are serialised by a lock (one input buffer); with it, use
    :meth:`map` / :meth:`submit` to keep every core busy.
    """

    def __init__(
        self,
        model: ModelSource,
        head: str = "auto",
        conf: float = 0.25,
        iou: float = 0.45,
        names: Optional[Sequence[str]] = None,
        *,
        max_detections: int = 300,
        class_agnostic: bool = False,
        **kwargs: Any,
    ) -> None:
        if head not in _HEADS:
            raise ValueError(f"expected head in {_HEADS}, got {head!r}")
        options, decode_kwargs = self._split_options(kwargs)
        super().__init__(model, **options)
        with self._closing_on_error():
            self.head = detect_head_from_shapes([o.shape for o in self.model.outputs]) if head == "auto" else head
            self._check_decode_kwargs(decode_kwargs, [_DECODERS[self.head]], _RESERVED)
        self.conf, self.iou, self.names = float(conf), float(iou), names
        self.max_detections, self.class_agnostic = int(max_detections), bool(class_agnostic)
        self.decode_kwargs = dict(decode_kwargs)
        with self._closing_on_error():  # prepared once: a frame only checks the arrays in C++
            self._decoder = Decoder(self.model.outputs, self.head, names=self.names, **self._decode_args())

    def __call__(self, image: np.ndarray) -> Detections:
        """Detect objects in a uint8 (h, w, 3) frame; boxes in the frame's pixels."""
        return self._process(image, self._decode)

    def _decode_args(self) -> Dict[str, Any]:
        kw = dict(self.decode_kwargs)
        if self.head != "flat":  # the flat head's boxes are pixels already
            kw.setdefault("input_size", self.input_size)
        return dict(conf=self.conf, iou=self.iou, max_detections=self.max_detections,
                    class_agnostic=self.class_agnostic, **kw)

    def _decode(self, outs: List[np.ndarray], t: LetterboxTransform) -> Detections:
        if getattr(self.model, "_output_layout", None) == "nhwc":  # the decoders read NCHW or NC1HWC2
            outs = self._nchw_or_native(outs)
        return self._decoder(outs, t)

    def _repr_fields(self) -> str:
        return f"head={self.head!r}, conf={self.conf}, iou={self.iou}"
