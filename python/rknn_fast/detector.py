"""Detection pipeline: letterbox a frame straight into the model's input buffer, run, decode.

:class:`Detector` wraps a :class:`~rknn_fast.Model` whose first input is an image
(NHWC uint8 ``(1, H, W, 3)``) and whose outputs are a YOLO head that
:func:`rknn_fast.postprocess.decode` understands (YOLOv8/YOLO11 split, Ultralytics flat,
YOLOv5, YOLOX). Boxes come back in the pixels of the frame passed in.
"""

from __future__ import annotations

import os
from typing import Any, Optional, Sequence, Union

import numpy as np

from .model import Model
from .postprocess.detection import decode, detect_head_from_shapes
from .preprocess import letterbox
from .results import Detections, LetterboxTransform

_HEADS = ("auto", "yolov8", "flat", "yolov5", "yolox")


class Detector:
    """``Detector(model)(frame) -> Detections`` in the frame's coordinates.

    Args:
        model: a :class:`Model`, or a path / bytes of a .rknn file (then opened with
            ``runtime`` and ``zero_copy``, and closed by :meth:`close`).
        head: ``"auto"`` (from the output shapes) or one of ``"yolov8"``, ``"flat"``,
            ``"yolov5"``, ``"yolox"``.
        conf, iou, names, max_detections, class_agnostic: see
            :func:`rknn_fast.postprocess.decode_yolov8`.
        runtime, zero_copy: used when ``model`` is a path. Zero-copy (default) letterboxes
            into the runtime's input buffer and decodes the NPU-native outputs in place.
        rgb: frames are RGB (default False: BGR as OpenCV reads them). The model is fed RGB,
            as the model-zoo and ultralytics exports expect.
        convention, pad_value: letterbox convention (``"ultralytics"`` or ``"vendor"``) and
            border value, see :func:`rknn_fast.letterbox`.
        decode_kwargs: further keyword arguments of the decoder (``scores``, ``anchors``,
            ``strides``, ``num_classes``, ...).

    Not thread-safe: one Detector owns one input buffer; use one per thread.
    """

    def __init__(
        self,
        model: Union[Model, str, "os.PathLike[str]", bytes],
        head: str = "auto",
        conf: float = 0.25,
        iou: float = 0.45,
        names: Optional[Sequence[str]] = None,
        *,
        max_detections: int = 300,
        class_agnostic: bool = False,
        runtime: Optional[str] = None,
        zero_copy: bool = True,
        rgb: bool = False,
        convention: str = "ultralytics",
        pad_value: int = 114,
        **decode_kwargs: Any,
    ) -> None:
        if head not in _HEADS:
            raise ValueError(f"expected head in {_HEADS}, got {head!r}")
        self._owns = not isinstance(model, Model)
        self.model: Model = model if isinstance(model, Model) else Model(model, runtime=runtime,
                                                                          zero_copy=zero_copy)
        try:
            inp = self.model.inputs[0]
            if len(self.model.inputs) != 1 or len(inp.shape) != 4 or inp.shape[0] != 1 or inp.shape[3] not in (1, 3):
                raise ValueError(f"expected one NHWC image input (1, H, W, 3), got "
                                 f"{[i.shape for i in self.model.inputs]}")
            self.input_size = (int(inp.shape[1]), int(inp.shape[2]))
            self.head = detect_head_from_shapes([o.shape for o in self.model.outputs]) if head == "auto" else head
            if self.model.zero_copy:
                self._buffer = self.model.input_view(0)
            else:
                self._buffer = np.empty((1,) + self.input_size + (int(inp.shape[3]),), np.uint8)
        except Exception:
            if self._owns:
                self.model.close()
            raise
        self.conf, self.iou, self.names = float(conf), float(iou), names
        self.max_detections, self.class_agnostic = int(max_detections), bool(class_agnostic)
        self.rgb, self.convention, self.pad_value = bool(rgb), convention, int(pad_value)
        self.decode_kwargs = dict(decode_kwargs)
        #: The letterbox transform of the last frame.
        self.last_transform: Optional[LetterboxTransform] = None

    def preprocess(self, image: np.ndarray) -> LetterboxTransform:
        """Letterbox ``image`` into the model's input buffer; returns the transform."""
        _, t = letterbox(image, dst=self._buffer, convention=self.convention,
                         pad_value=self.pad_value, bgr_to_rgb=not self.rgb and image.ndim == 3)
        self.last_transform = t
        return t

    def __call__(self, image: np.ndarray) -> Detections:
        """Detect objects in a uint8 (h, w, 3) frame; boxes in the frame's pixels."""
        t = self.preprocess(image)
        outs = self.model.run() if self.model.zero_copy else self.model.run(self._buffer)
        # Outputs are the model's reused buffers: decoded right away, before the next run.
        kw = dict(self.decode_kwargs)
        if self.head != "flat":  # the flat head's boxes are pixels already
            kw.setdefault("input_size", self.input_size)
        return decode(outs, self.model.outputs, head=self.head, conf=self.conf, iou=self.iou,
                      max_detections=self.max_detections, class_agnostic=self.class_agnostic,
                      transform=t, names=self.names, **kw)

    def close(self) -> None:
        """Close the model if this Detector opened it."""
        if self._owns:
            self.model.close()

    def __enter__(self) -> "Detector":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"Detector(head={self.head!r}, input={self.input_size}, conf={self.conf}, "
                f"iou={self.iou}, zero_copy={self.model.zero_copy})")
