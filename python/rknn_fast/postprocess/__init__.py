"""Post-processing decoders: raw model outputs -> results in image coordinates.

Dense-output tasks (this block): semantic segmentation, instance masks, text (DBNet),
faces (RetinaFace, BlazeFace), pose (YOLOv8-pose) and classification.
"""

from __future__ import annotations

from .classification import classify, softmax
from .faces import blazeface_anchors, decode_blazeface, decode_retinaface, retinaface_priors
from .masks import gather_coefficients, instance_masks
from .pose import decode_yolov8_pose
from .segmentation import argmax_classes, default_palette, overlay, resample_class_map, segment
from .text import decode_dbnet, unclip_convex

__all__ = [
    "argmax_classes",
    "blazeface_anchors",
    "classify",
    "decode_blazeface",
    "decode_dbnet",
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
