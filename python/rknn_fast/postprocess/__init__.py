"""Post-processing of raw model outputs (C++ kernels, numpy in and out).

Detection: :func:`decode` (head auto-detected), :func:`decode_yolov8`,
:func:`decode_yolov8_flat`, :func:`decode_yolov5`, :func:`decode_yolox` and :func:`nms`.
"""

from __future__ import annotations

from .detection import (
    YOLOV5_ANCHORS,
    decode,
    decode_yolov5,
    decode_yolov8,
    decode_yolov8_flat,
    decode_yolox,
    detect_head,
    nms,
)

__all__ = [
    "YOLOV5_ANCHORS",
    "decode",
    "decode_yolov5",
    "decode_yolov8",
    "decode_yolov8_flat",
    "decode_yolox",
    "detect_head",
    "nms",
]
