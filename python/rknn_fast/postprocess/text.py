"""Text detection: DBNet probability map -> text boxes (rapidocr / PaddleOCR conventions).

Defaults follow rapidocr's documented ``Det`` config (config.yaml, RapidOCRDocs
"config.yaml参数解释"): ``thresh=0.3``, ``box_thresh=0.5``, ``max_candidates=1000``,
``unclip_ratio=1.6``, ``use_dilation=True``, ``score_mode="fast"``; ``min_size=3`` is the
DBNet post-processor's constant.
"""

from __future__ import annotations

from typing import Optional, Tuple

import cv2
import numpy as np

from ..results import LetterboxTransform, TextBoxes
from .. import _core
from .._checks import check_choice, check_flag, check_size
from ._common import check_count, check_dtype, check_number, check_transform, int8_qparams

__all__ = ["decode_dbnet", "unclip_convex", "order_quad"]

#: Largest accepted unclip ratio (rapidocr uses 1.6; 100 already grows a box by 25 times its
#: short side): larger ones only overflow the float32 corners.
MAX_UNCLIP_RATIO = 100.0


def order_quad(pts: np.ndarray) -> np.ndarray:
    """The 4 corners of a rectangle ordered top-left, top-right, bottom-right, bottom-left
    (the DBNet ``get_mini_boxes`` order: by x, then each side's pair by y)."""
    p = pts[np.argsort(pts[:, 0], kind="stable")]
    left = p[:2][np.argsort(p[:2, 1], kind="stable")]
    right = p[2:][np.argsort(p[2:, 1], kind="stable")]
    return np.array([left[0], right[0], right[1], left[1]], np.float32)


def unclip_convex(poly: np.ndarray, ratio: float) -> np.ndarray:
    """Offsets a convex polygon (n, 2) outwards by ``d = area * ratio / perimeter``; float32 (n, 2).

    Each edge moves by ``d`` along its outward normal and consecutive edges are intersected
    (mitred corners); polygons with no area or perimeter come back unchanged. For the
    rectangles DBNet produces this is exactly the bounding rectangle of the round-joined
    offset (pyclipper ``JT_ROUND``) that PaddleOCR/rapidocr then pass to ``minAreaRect``, so
    the final boxes agree without pyclipper. Runs the same C++ routine as decode_dbnet.
    """
    # ratio=nan returned NaN corners, a negative ratio shrank the polygon inside out
    ratio = check_number("ratio", ratio, 0.0, MAX_UNCLIP_RATIO)
    p = np.asarray(poly)
    if p.dtype.kind not in "iuf":  # complex would lose its imaginary part, objects anything
        raise TypeError(f"poly: expected real (N, 2) points, got {p.dtype}")
    p = p.astype(np.float64, copy=False)
    if p.size == 0 or p.size % 2 or not np.isfinite(p).all():
        raise ValueError(f"poly: expected finite (N, 2) points, got shape {p.shape}")
    p = np.ascontiguousarray(p.reshape(-1, 2))
    out = np.asarray(_core.unclip_convex(p, float(ratio)), np.float64)
    if not np.isfinite(out).all() or np.abs(out).max(initial=0.0) > np.finfo(np.float32).max:
        raise ValueError("poly: the offset polygon does not fit float32 (coordinates too large)")
    return out.astype(np.float32)


def decode_dbnet(
    prob: np.ndarray,
    *,
    image_shape: Optional[Tuple[int, int]] = None,
    transform: Optional[LetterboxTransform] = None,
    thresh: float = 0.3,
    box_thresh: float = 0.5,
    unclip_ratio: float = 1.6,
    max_candidates: int = 1000,
    min_size: float = 3.0,
    use_dilation: bool = True,
    score_mode: str = "fast",
    qparams: Optional[Tuple[float, int]] = None,
) -> TextBoxes:
    """Text boxes from a DBNet probability map (1, 1, H, W) (or (H, W)).

    float32/float16, or int8 with ``qparams=(scale, zero_point)``. Steps: pixels with
    prob > ``thresh`` (2x2 dilation when ``use_dilation``) -> external+internal contours
    (``cv2.RETR_LIST``, first ``max_candidates``) -> min-area rectangle (dropped when its
    short side < ``min_size``) -> score = mean prob inside the rectangle (``"fast"``) or the
    contour (``"slow"``), dropped when < ``box_thresh`` -> unclip by
    ``area * unclip_ratio / perimeter`` -> min-area rectangle again (dropped when its short
    side < ``min_size + 2``) -> image pixels.

    Image mapping: with ``transform`` ``(x - pad_x) / scale``; else the map is stretched over
    ``image_shape`` (rapidocr resizes without padding: ``x * W_img / W_map``); neither
    leaves map pixels. Coordinates are clipped to the image.
    """
    check_dtype("prob", prob)
    thresh = check_number("thresh", thresh)
    box_thresh = check_number("box_thresh", box_thresh)
    max_candidates = check_count("max_candidates", max_candidates)
    unclip_ratio = check_number("unclip_ratio", unclip_ratio, 0.0, MAX_UNCLIP_RATIO)
    min_size = check_number("min_size", min_size, 0.0, finite=True)
    use_dilation = check_flag("use_dilation", use_dilation)
    check_choice("score_mode", score_mode, ("fast", "slow"))
    if transform is not None:
        check_transform(transform)
    elif image_shape is not None:
        check_size("image_shape", image_shape, trailing=True)
    p = prob
    if p.ndim == 4 and p.shape[:2] == (1, 1):
        p = p[0, 0]
    if p.ndim != 2 or p.size == 0:
        raise ValueError(f"prob: expected (1, 1, H, W) or (H, W) with H, W >= 1, got shape {prob.shape}")
    scale, zero_point = 1.0, 0
    if p.dtype == np.int8:
        scale, zero_point = int8_qparams("qparams", qparams)
    if score_mode not in ("fast", "slow"):
        raise ValueError(f"score_mode: expected 'fast' or 'slow', got {score_mode!r}")
    h, w = p.shape
    if p.strides[0] < 0 or p.strides[1] < 0:  # the kernels walk forwards through memory
        p = np.ascontiguousarray(p)
    bitmap = _core.dbnet_bitmap(p, scale, zero_point, thresh, bool(use_dilation))
    found = cv2.findContours(bitmap, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    contours = found[0] if len(found) == 2 else found[1]
    if transform is not None:
        gain_x = gain_y = 1.0 / transform.scale
        off_x, off_y = float(transform.pad_x), float(transform.pad_y)
        oh, ow = transform.src_shape[:2]
    elif image_shape is not None:
        oh, ow = (int(v) for v in image_shape[:2])
        gain_x, gain_y, off_x, off_y = ow / w, oh / h, 0.0, 0.0
    else:
        oh, ow = h, w
        gain_x, gain_y, off_x, off_y = 1.0, 1.0, 0.0, 0.0
    quads, xyxy, scores = _core.dbnet_boxes(
        p, scale, zero_point, contours, max_candidates, box_thresh, float(unclip_ratio), float(min_size),
        score_mode == "slow", gain_x, off_x, gain_y, off_y, float(ow), float(oh))
    return TextBoxes(quads=quads, xyxy=xyxy, scores=scores)
