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
from .._checks import check_choice, check_flag, check_size
from ._common import check_count, check_dtype, check_number, check_transform, dequantize, int8_qparams

__all__ = ["decode_dbnet", "unclip_convex", "order_quad"]


def order_quad(pts: np.ndarray) -> np.ndarray:
    """The 4 corners of a rectangle ordered top-left, top-right, bottom-right, bottom-left
    (the DBNet ``get_mini_boxes`` order: by x, then each side's pair by y)."""
    p = pts[np.argsort(pts[:, 0], kind="stable")]
    left = p[:2][np.argsort(p[:2, 1], kind="stable")]
    right = p[2:][np.argsort(p[2:, 1], kind="stable")]
    return np.array([left[0], right[0], right[1], left[1]], np.float32)


def _min_area_quad(points: np.ndarray) -> Tuple[np.ndarray, float]:
    rect = cv2.minAreaRect(points.reshape(-1, 1, 2).astype(np.float32))
    return order_quad(cv2.boxPoints(rect)), float(min(rect[1]))


def unclip_convex(poly: np.ndarray, ratio: float) -> np.ndarray:
    """Offsets a convex polygon outwards by ``d = area * ratio / perimeter``.

    Each edge moves by ``d`` along its outward normal and consecutive edges are intersected
    (mitred corners). For the rectangles DBNet produces this is exactly the bounding
    rectangle of the round-joined offset (pyclipper ``JT_ROUND``) that PaddleOCR/rapidocr
    then pass to ``minAreaRect``, so the final boxes agree without pyclipper.
    """
    # ratio=nan returned NaN corners, a negative ratio shrank the polygon inside out
    ratio = check_number("ratio", ratio, 0.0, finite=True)
    p = np.asarray(poly, np.float64)
    if p.size == 0 or p.size % 2 or not np.isfinite(p).all():
        raise ValueError(f"poly: expected finite (N, 2) points, got shape {p.shape}")
    p = p.reshape(-1, 2)
    n = p.shape[0]
    x, y = p[:, 0], p[:, 1]
    signed = 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))
    area = abs(signed)
    edges = np.roll(p, -1, axis=0) - p
    lengths = np.hypot(edges[:, 0], edges[:, 1])
    perimeter = float(lengths.sum())
    if n < 3 or perimeter == 0 or area == 0:
        return p.astype(np.float32)
    d = area * ratio / perimeter
    # Outward normal: right-hand normal for counter-clockwise (positive signed area) order.
    sign = 1.0 if signed > 0 else -1.0
    normals = sign * np.stack([edges[:, 1], -edges[:, 0]], 1) / np.where(lengths > 0, lengths, 1)[:, None]
    a = p + d * normals  # a point on each offset edge
    out = np.empty_like(p)
    for i in range(n):
        j = (i - 1) % n  # previous edge ends at vertex i
        d1, d2 = edges[j], edges[i]
        den = d1[0] * d2[1] - d1[1] * d2[0]
        if abs(den) < 1e-12:  # collinear edges: shift the vertex along the normal
            out[i] = p[i] + d * normals[i]
            continue
        diff = a[i] - a[j]
        t = (diff[0] * d2[1] - diff[1] * d2[0]) / den
        out[i] = a[j] + t * d1
    return out.astype(np.float32)


def _mean_inside(prob: np.ndarray, poly: np.ndarray) -> float:
    h, w = prob.shape
    xmin = int(np.clip(np.floor(poly[:, 0].min()), 0, w - 1))
    xmax = int(np.clip(np.ceil(poly[:, 0].max()), 0, w - 1))
    ymin = int(np.clip(np.floor(poly[:, 1].min()), 0, h - 1))
    ymax = int(np.clip(np.ceil(poly[:, 1].max()), 0, h - 1))
    mask = np.zeros((ymax - ymin + 1, xmax - xmin + 1), np.uint8)
    shifted = (poly - np.array([xmin, ymin], np.float32)).astype(np.int32)
    cv2.fillPoly(mask, [shifted.reshape(-1, 1, 2)], 1)
    return float(cv2.mean(prob[ymin:ymax + 1, xmin:xmax + 1], mask)[0])


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
    unclip_ratio = check_number("unclip_ratio", unclip_ratio, 0.0, finite=True)
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
    if p.dtype == np.int8:
        p = dequantize(p, *int8_qparams("qparams", qparams))
    else:
        p = np.ascontiguousarray(p, dtype=np.float32)
    if score_mode not in ("fast", "slow"):
        raise ValueError(f"score_mode: expected 'fast' or 'slow', got {score_mode!r}")
    h, w = p.shape
    bitmap = (p > thresh).astype(np.uint8)
    if use_dilation:
        bitmap = np.asarray(cv2.dilate(bitmap, np.ones((2, 2), np.uint8)), dtype=np.uint8)
    found = cv2.findContours(bitmap * 255, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    contours = found[0] if len(found) == 2 else found[1]
    quads, scores = [], []
    for contour in contours[:max_candidates]:
        pts = contour.reshape(-1, 2).astype(np.float32)
        if pts.shape[0] < 1:
            continue
        quad, short = _min_area_quad(pts)
        if short < min_size:
            continue
        score = _mean_inside(p, quad if score_mode == "fast" else pts)
        if score < box_thresh:
            continue
        grown, short = _min_area_quad(unclip_convex(quad, unclip_ratio))
        if short < min_size + 2:
            continue
        quads.append(grown)
        scores.append(score)
    q = np.array(quads, np.float32).reshape(-1, 4, 2)
    if transform is not None:
        q[..., 0] = (q[..., 0] - transform.pad_x) / transform.scale
        q[..., 1] = (q[..., 1] - transform.pad_y) / transform.scale
        oh, ow = transform.src_shape[:2]
    elif image_shape is not None:
        oh, ow = (int(v) for v in image_shape[:2])
        q[..., 0] *= ow / w
        q[..., 1] *= oh / h
    else:
        oh, ow = h, w
    np.clip(q[..., 0], 0, ow, out=q[..., 0])
    np.clip(q[..., 1], 0, oh, out=q[..., 1])
    xyxy = np.concatenate([q.min(axis=1), q.max(axis=1)], axis=1).astype(np.float32)
    return TextBoxes(quads=q, xyxy=xyxy.reshape(-1, 4), scores=np.array(scores, np.float32))
