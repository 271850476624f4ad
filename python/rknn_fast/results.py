"""Result types shared by the post-processing decoders and pipelines.

Coordinates are pixels in ``xyxy`` order (x1, y1, x2, y2), float32, in the image the
caller passed (after the letterbox is undone) unless a docstring says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np


@dataclass
class Detections:
    """Detected objects.

    * ``xyxy``: float32 (N, 4) boxes in pixels.
    * ``scores``: float32 (N,) confidences in [0, 1], sorted descending.
    * ``class_ids``: int32 (N,).
    * ``names``: optional class names indexed by class id.
    * ``masks``: optional bool (N, H, W) instance masks in image coordinates.
    * ``keypoints``: optional float32 (N, K, 2) or (N, K, 3) (x, y[, visibility/score]).
    """

    xyxy: np.ndarray
    scores: np.ndarray
    class_ids: np.ndarray
    names: Optional[Sequence[str]] = None
    masks: Optional[np.ndarray] = None
    keypoints: Optional[np.ndarray] = None

    def __len__(self) -> int:
        return int(self.scores.shape[0])


@dataclass(frozen=True)
class LetterboxTransform:
    """How an image of ``src_shape`` (h, w) was placed into a model input of ``dst_shape``.

    Model coordinates relate to image coordinates by ``x_model = x_img * scale + pad_x``
    and ``y_model = y_img * scale + pad_y`` (one scale for both axes).
    """

    src_shape: tuple  # (h, w) of the original image
    dst_shape: tuple  # (h, w) of the model input
    scale: float
    pad_x: float
    pad_y: float


@dataclass
class Classification:
    """Top-k classes of one image.

    * ``class_ids``: int32 (k,), most probable first (ties: lower class id first).
    * ``scores``: float32 (k,) probabilities (softmax of the logits) or raw scores when the
      decoder was asked not to apply a softmax.
    * ``names``: the class names of ``class_ids`` when names were given, else None.
    """

    class_ids: np.ndarray
    scores: np.ndarray
    names: Optional[Sequence[str]] = None

    def __len__(self) -> int:
        return int(self.class_ids.shape[0])


@dataclass
class TextBoxes:
    """Detected text regions in image pixels.

    * ``quads``: float32 (N, 4, 2) rotated rectangles, corners clockwise from top-left
      (x, y).
    * ``xyxy``: float32 (N, 4) axis-aligned bounds of the quads (clipped to the image).
    * ``scores``: float32 (N,) mean probability inside the region before unclipping.
    """

    quads: np.ndarray
    xyxy: np.ndarray
    scores: np.ndarray

    def __len__(self) -> int:
        return int(self.scores.shape[0])
