"""Post-processing of raw model outputs (C++ kernels, numpy in and out).

Detection: :class:`Decoder` (prepared once per model, for video), :func:`decode` (head
auto-detected), :func:`decode_yolov8`, :func:`decode_yolov8_flat`, :func:`decode_yolov5`,
:func:`decode_yolox`, :func:`nms` and :func:`weighted_nms`.

Dense-output tasks: semantic segmentation (:func:`segment`, :func:`argmax_classes`,
:func:`overlay`), instance masks (:func:`instance_masks`, :func:`decode_yolov8_seg`,
:func:`decode_yolov5_seg`), text (:func:`decode_dbnet`), faces (:func:`decode_retinaface`,
:func:`decode_blazeface`), pose (:func:`decode_yolov8_pose`) and classification
(:func:`classify`).
"""

from __future__ import annotations

from .decoder import Decoder
from .detection import (
    YOLOV5_ANCHORS,
    decode,
    decode_yolov5,
    decode_yolov8,
    decode_yolov8_flat,
    decode_yolox,
    detect_head,
    nms,
    weighted_nms,
)

__all__ = [
    "Decoder",
    "YOLOV5_ANCHORS",
    "decode",
    "decode_yolov5",
    "decode_yolov8",
    "decode_yolov8_flat",
    "decode_yolox",
    "detect_head",
    "nms",
    "weighted_nms",
]

# --- dense-output decoders (segmentation, masks, text, faces, pose, classification) ---
from .classification import classify, softmax  # noqa: E402
from .faces import blazeface_anchors, decode_blazeface, decode_retinaface, retinaface_priors  # noqa: E402
from .masks import decode_yolov5_seg, decode_yolov8_seg, gather_coefficients, instance_masks  # noqa: E402
from .pose import decode_yolov8_pose  # noqa: E402
from .segmentation import argmax_classes, default_palette, overlay, resample_class_map, segment  # noqa: E402
from .text import decode_dbnet, unclip_convex  # noqa: E402

__all__ += [
    "argmax_classes",
    "blazeface_anchors",
    "classify",
    "decode_blazeface",
    "decode_dbnet",
    "decode_yolov5_seg",
    "decode_yolov8_seg",
    "decode_retinaface",
    "decode_yolov8_pose",
    "default_palette",
    "gather_coefficients",
    "instance_masks",
    "overlay",
    "resample_class_map",
    "retinaface_priors",
    "segment",
    "softmax",
    "unclip_convex",
]
