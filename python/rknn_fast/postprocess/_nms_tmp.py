"""TEMPORARY greedy NMS, to be replaced by ``rknn_fast.nms`` from the detect branch.

Kept minimal on purpose: class-agnostic greedy suppression, stable for equal scores.
"""

from __future__ import annotations

import numpy as np


def nms_tmp(xyxy: np.ndarray, scores: np.ndarray, iou: float, max_det: int, plus_one: bool = False) -> np.ndarray:
    """Indices kept, in descending score order (ties: lower index first).

    A box is dropped when IoU with a kept box is > ``iou``. ``plus_one`` uses the legacy
    ``+1`` pixel extent of the C demos.
    """
    n = scores.shape[0]
    if n == 0:
        return np.zeros(0, np.int64)
    order = np.argsort(-scores, kind="stable")
    b = xyxy.astype(np.float64)
    one = 1.0 if plus_one else 0.0
    area = np.maximum(b[:, 2] - b[:, 0] + one, 0) * np.maximum(b[:, 3] - b[:, 1] + one, 0)
    keep = []
    alive = np.ones(n, bool)
    for pos, i in enumerate(order):
        if not alive[i]:
            continue
        keep.append(i)
        if len(keep) >= max_det:
            break
        rest = order[pos + 1:]
        rest = rest[alive[rest]]
        if rest.size == 0:
            continue
        iw = np.maximum(np.minimum(b[i, 2], b[rest, 2]) - np.maximum(b[i, 0], b[rest, 0]) + one, 0)
        ih = np.maximum(np.minimum(b[i, 3], b[rest, 3]) - np.maximum(b[i, 1], b[rest, 1]) + one, 0)
        inter = iw * ih
        union = area[i] + area[rest] - inter
        ratio = np.where(union > 0, inter / np.where(union > 0, union, 1), 0)
        alive[rest[ratio > iou]] = False
    return np.asarray(keep, np.int64)
