"""Result types shared by the post-processing decoders and pipelines.

Coordinates are pixels in ``xyxy`` order (x1, y1, x2, y2), float32, in the image the
caller passed (after the letterbox is undone) unless a docstring says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Sequence, Tuple

import numpy as np


@dataclass
class Detections:
    """Detected objects.

    * ``xyxy``: float32 (N, 4) boxes in pixels.
    * ``scores``: float32 (N,) confidences in [0, 1], sorted descending (decoders called with
      ``run_nms=False`` return candidates in anchor order instead).
    * ``class_ids``: int32 (N,).
    * ``names``: optional class names indexed by class id.
    * ``masks``: optional bool (N, H, W) instance masks in image coordinates.
    * ``keypoints``: optional float32 (N, K, 2) or (N, K, 3) (x, y[, visibility/score]).
    * ``anchor_index``: optional int64 (N,): flat index of the model output cell each
      detection came from (see :mod:`rknn_fast.postprocess.detection`), used to gather
      per-cell extras such as mask coefficients or keypoints.
    """

    xyxy: np.ndarray
    scores: np.ndarray
    class_ids: np.ndarray
    names: Optional[Sequence[str]] = None
    masks: Optional[np.ndarray] = None
    keypoints: Optional[np.ndarray] = None
    anchor_index: Optional[np.ndarray] = None

    def __len__(self) -> int:
        return int(self.scores.shape[0])

    @classmethod
    def empty(cls, names: Optional[Sequence[str]] = None) -> "Detections":
        """No detections (arrays of length 0 with the documented dtypes)."""
        return cls(
            xyxy=np.zeros((0, 4), np.float32),
            scores=np.zeros((0,), np.float32),
            class_ids=np.zeros((0,), np.int32),
            names=names,
            anchor_index=np.zeros((0,), np.int64),
        )

    def label(self, i: int) -> str:
        """Class name of detection ``i`` (the id as text when no name is known)."""
        c = int(self.class_ids[i])
        if self.names is not None and 0 <= c < len(self.names):
            return str(self.names[c])
        return str(c)

    def draw(
        self,
        image: np.ndarray,
        *,
        copy: bool = True,
        thickness: int = 2,
        font_scale: float = 0.5,
        color: Optional[Tuple[int, int, int]] = None,
        show_scores: bool = True,
        mask_alpha: float = 0.5,
        keypoint_threshold: float = 0.5,
    ) -> np.ndarray:
        """Draw boxes and labels on a uint8 (H, W, 3) image with OpenCV.

        Boxes are taken as pixels of ``image`` (so decode with the letterbox transform
        first). ``color`` is in the image's own channel order; by default each class gets
        a fixed color. ``masks`` (when present, (N, H, W) of the image's size) are blended
        in with ``mask_alpha`` (0 skips them); ``keypoints`` are drawn as dots, those with a
        third column (visibility/score) only when it is ``>= keypoint_threshold``.
        Returns the drawn image (a copy unless ``copy=False``).
        """
        import cv2

        check_bgr_image(image)
        out = image.copy() if copy else image
        if self.masks is not None and mask_alpha > 0:
            if self.masks.shape[1:] != image.shape[:2]:
                raise ValueError(f"expected masks of the image's size {image.shape[:2]}, got {self.masks.shape[1:]}")
            for i in range(len(self)):
                m = self.masks[i]
                col = color if color is not None else _class_color(int(self.class_ids[i]))
                blended = out[m].astype(np.float32) * (1 - mask_alpha) + np.float32(mask_alpha) * np.array(col, np.float32)
                out[m] = np.clip(np.rint(blended), 0, 255).astype(np.uint8)
        if self.keypoints is not None:
            for i in range(len(self)):
                col = color if color is not None else _class_color(int(self.class_ids[i]))
                for p in self.keypoints[i]:
                    if p.shape[0] > 2 and not p[2] >= keypoint_threshold:
                        continue
                    cv2.circle(out, (int(round(float(p[0]))), int(round(float(p[1])))), max(2, thickness + 1), col, -1)
        for i in range(len(self)):
            x1, y1, x2, y2 = (int(round(float(v))) for v in self.xyxy[i])
            c = int(self.class_ids[i])
            col = color if color is not None else _class_color(c)
            cv2.rectangle(out, (x1, y1), (x2, y2), col, thickness)
            text = self.label(i) + (f" {float(self.scores[i]):.2f}" if show_scores else "")
            (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, font_scale, 1)
            ty = max(y1, th + base)
            cv2.rectangle(out, (x1, ty - th - base), (x1 + tw, ty), col, -1)
            cv2.putText(out, text, (x1, ty - base), cv2.FONT_HERSHEY_SIMPLEX, font_scale,
                        (255, 255, 255), 1, cv2.LINE_AA)
        return out


def check_bgr_image(image: Any) -> None:
    """TypeError unless ``image`` is a uint8 (H, W, 3) array (what the draw helpers take)."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or (
        image.shape[2] != 3
    ):
        raise TypeError(
            "expected a uint8 (H, W, 3) image, got "
            + (f"{image.dtype} {image.shape}" if isinstance(image, np.ndarray) else type(image).__name__)
        )


def _class_color(c: int) -> Tuple[int, int, int]:
    # A fixed, well-spread color per class id (golden-ratio hue walk).
    import colorsys

    r, g, b = colorsys.hsv_to_rgb((c * 0.618033988749895) % 1.0, 0.75, 0.95)
    return int(b * 255), int(g * 255), int(r * 255)


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
    #: Integer placement of the resized pixels in the model input (left, top) and their
    #: size (h, w). For the ultralytics convention ``pad_x``/``pad_y`` are the unrounded
    #: half pads ``dw``/``dh`` the Python demos map back with, while ``offset_*`` are the
    #: rounded ``left``/``top`` borders; for the vendor C convention both are the same.
    offset_x: int = 0
    offset_y: int = 0
    resized_shape: tuple = ()
    #: ``"ultralytics"`` or ``"vendor"`` (see :func:`rknn_fast.letterbox`).
    convention: str = "ultralytics"

    def points_to_image(self, points: Any, clip: bool = True) -> np.ndarray:
        """Map model-input points (..., 2) (x, y pixels) to the original image.

        ``x_img = (x - pad_x) / scale``, ``y_img = (y - pad_y) / scale``; with ``clip``
        coordinates are clipped to ``[0, w]`` x ``[0, h]`` of the original image.
        Returns float32.
        """
        p = np.asarray(points, dtype=np.float32)
        if p.ndim < 1 or p.shape[-1] < 2:
            raise ValueError(f"expected points of shape (..., 2), got {p.shape}")
        out = p.copy()
        out[..., 0] = (p[..., 0] - np.float32(self.pad_x)) / np.float32(self.scale)
        out[..., 1] = (p[..., 1] - np.float32(self.pad_y)) / np.float32(self.scale)
        if clip:
            h, w = self.src_shape[:2]
            np.clip(out[..., 0], 0, w, out=out[..., 0])
            np.clip(out[..., 1], 0, h, out=out[..., 1])
        return out

    def boxes_to_image(self, xyxy: Any, clip: bool = True) -> np.ndarray:
        """Map model-input boxes (N, 4) xyxy to the original image (float32, clipped)."""
        b = np.asarray(xyxy, dtype=np.float32)
        if b.ndim != 2 or b.shape[1] != 4:
            raise ValueError(f"expected boxes of shape (N, 4), got {b.shape}")
        return self.points_to_image(b.reshape(-1, 2, 2), clip=clip).reshape(-1, 4)

    def boxes_to_model(self, xyxy: Any) -> np.ndarray:
        """Inverse of :meth:`boxes_to_image` without clipping: image -> model-input pixels."""
        b = np.asarray(xyxy, dtype=np.float32).reshape(-1, 4).copy()
        b[:, 0::2] = b[:, 0::2] * np.float32(self.scale) + np.float32(self.pad_x)
        b[:, 1::2] = b[:, 1::2] * np.float32(self.scale) + np.float32(self.pad_y)
        return b


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

    def draw(
        self,
        image: np.ndarray,
        *,
        copy: bool = True,
        color: Tuple[int, int, int] = (0, 255, 0),
        thickness: int = 2,
    ) -> np.ndarray:
        """Draw the quads (closed polygons) on a uint8 (H, W, 3) image; a copy unless ``copy=False``."""
        import cv2

        check_bgr_image(image)
        out = image.copy() if copy else image
        pts = [np.rint(q).astype(np.int32).reshape(-1, 1, 2) for q in self.quads]
        if pts:
            cv2.polylines(out, pts, True, color, thickness)
        return out
